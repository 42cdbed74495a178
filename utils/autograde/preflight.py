"""A staged submission, checked and repaired before nbgrader sees it.

    checked = preflight(staged_folder, source_cells, refusals, limits)

    checked.failure    why the submission cannot be graded at all (a notebook missing, unreadable, too
                       large, with too many cells), or None
    checked.notes      what was repaired or ignored, one sentence each, for the report and the student
    checked.timestamp  timestamp.txt as a UTC datetime, or None

Ordinary accidents must not cost a student the points their answers earned, and nothing a student
writes may stop nbgrader for the whole notebook:

- a notebook under another name is graded under its proper name (when it is the only candidate);
- duplicate cell ids are renumbered (nbgrader refuses them);
- a cell that claims a grade_id the assignment does not have (a cell the student marked as graded),
  and every later copy of a cell whose grade_id was already seen (a test cell pasted twice), become
  ordinary cells: they still run, but are worth nothing, and the original keeps its points;
- a timestamp.txt that is not a plausible date and time is ignored (the submission has no timestamp).

The same cell repairs run under plain `nbgrader autograde` as the preprocessor RepairCells.
"""

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import NbGraderPreprocessor

from .limits import SubmissionLimits, size
from .staging import Refusal, read_small_text, shown

#: timestamp.txt outside these years is a mistake or a trick, never a real submission time.
PLAUSIBLE_YEARS = range(2000, 2200)
#: nbgrader writes e.g. "2026-12-01 10:00:00.123456 UTC"; anything much longer is not a timestamp.
MAX_TIMESTAMP_CHARS = 64


@dataclass
class Checked:
    failure: str | None = None
    notes: list[str] = field(default_factory=list)
    timestamp: dt.datetime | None = None


def preflight(staged: Path, source_cells: dict[str, set[str]], refusals: list[Refusal],
              limits: SubmissionLimits, released: dict[str, dict[str, dict]] | None = None) -> Checked:
    """Check and repair the staged submission in place (see the module docstring).

    source_cells: notebook name -> the grade_ids of its cells in the source (every cell nbgrader tracks).
    refusals: what staging left out (a notebook refused for its size is named as such, not as missing).
    released: notebook name -> released_marks() of its released copy.
    """
    checked = Checked()
    checked.failure = _find_notebooks(staged, list(source_cells), refusals, checked.notes)
    if checked.failure is None:
        for name, known in source_cells.items():
            checked.failure = _check_notebook(staged / f"{name}.ipynb", known, limits, checked.notes,
                                              (released or {}).get(name))
            if checked.failure:
                break
    checked.timestamp = _read_timestamp(staged / "timestamp.txt", checked.notes)
    return checked


def _find_notebooks(staged: Path, names: list[str], refusals: list[Refusal], notes: list[str]) -> str | None:
    """Make sure every notebook of the assignment is there under its own name; a failure otherwise."""
    refused = {str(r.path): r for r in refusals}
    present = {p.stem: p for p in staged.glob("*.ipynb")}
    for name in names:
        if name in present:
            continue
        if f"{name}.ipynb" in refused:
            return str(refused[f"{name}.ipynb"])
        strays = [p for stem, p in present.items() if stem not in names]
        if len(strays) == 1:
            strays[0].rename(staged / f"{name}.ipynb")
            notes.append(f"graded {shown(strays[0].name)} as {name}.ipynb (the notebook was renamed)")
            present = {p.stem: p for p in staged.glob("*.ipynb")}
        else:
            found = ", ".join(sorted(shown(p.name) for p in present.values())) or "no notebook at all"
            return f"{name}.ipynb is missing (found {found}); submit the notebook under its original name"
    return None


def _check_notebook(path: Path, known: set[str], limits: SubmissionLimits, notes: list[str],
                    released: dict[str, dict] | None) -> str | None:
    """Read one notebook within the limits and repair its cells; a failure if it cannot be graded."""
    nbytes = path.stat().st_size
    if nbytes > limits.max_notebook_bytes:  # staging refuses these already; never read one whole
        return (f"{path.name} is {size(nbytes)}, and a notebook may have at most {size(limits.max_notebook_bytes)}: "
                f"clear its outputs and submit it again")
    try:
        # Cells are counted on the plain JSON first (about 1 s and 300 MB for a 30 MiB notebook of 300,000 cells,
        # where nbformat's validation takes 9 s and 650 MB), and validated only when there are not too many.
        with open(path, "rb") as handle:
            cells = json.load(handle).get("cells")
        if isinstance(cells, list) and len(cells) > limits.max_cells:
            return (f"{path.name} has {len(cells)} cells, and a notebook may have at most {limits.max_cells}: "
                    f"delete the cells you added that hold nothing and submit it again")
        del cells
        nb = nbformat.read(path, as_version=4)
    except Exception as error:  # noqa: BLE001 - any way a notebook can be unreadable
        return f"{path.name} is not a readable notebook ({type(error).__name__}: {shown(str(error)[:200])})"
    repairs = repair_cells(nb, known, released)
    if repairs:
        nbformat.write(nb, path)
        notes += [f"{path.stem}: {repair}" for repair in repairs]
    return None


def repair_cells(nb, known: set[str], released: dict[str, dict] | None = None) -> list[str]:
    """Make the cells nbgrader grades exactly those of the source, each once. Returns notes.

    known: the grade_ids of the notebook's source cells. released: cell id -> nbgrader marks of the released
    notebook's cells, to put back marks an editor dropped (the cell id survives).

    - the grader's own metadata ("idnn") is removed from every cell: only the grader writes it;
    - a cell that lost its marks gets them back from the released cell with its id, if no other cell has them;
    - duplicate cell ids are renumbered (nbgrader refuses them);
    - of several cells with one grade_id (a pasted copy), the last is graded, as nbgrader's own DeduplicateIds
      would (it runs after the answer it checks, wherever the copy was pasted); the others become ordinary cells;
    - a cell claiming a grade_id the assignment does not have becomes an ordinary cell, worth nothing.
    """
    notes = []
    for cell in nb.cells:
        cell.metadata.pop("idnn", None)
    nb.metadata.pop("idnn", None)
    notes += _restore_marks(nb, released or {})
    ids = [cell.get("id") for cell in nb.cells if cell.get("id")]
    if len(ids) != len(set(ids)):
        # nbgrader refuses duplicate cell ids; new ids lose nothing (grade ids live in the metadata)
        for index, cell in enumerate(nb.cells):
            cell["id"] = f"cell-{index}"
        notes.append("the notebook had duplicate cell ids; they were renumbered")
    seen: set[str] = set()
    demoted = []  # notes, from the last cell up
    for index in range(len(nb.cells), 0, -1):  # from the last cell up: the last copy of a grade_id is kept
        cell = nb.cells[index - 1]
        if "nbgrader" not in cell.metadata:
            continue
        marks = cell.metadata["nbgrader"]
        if not marks:  # empty marks stop nbgrader (it looks for their grade_id): an ordinary cell
            del cell.metadata["nbgrader"]
            continue
        grade_id = marks.get("grade_id") if isinstance(marks, dict) else None
        if isinstance(grade_id, str) and grade_id in known and grade_id not in seen:
            seen.add(grade_id)
            continue
        del cell.metadata["nbgrader"]
        shown_id = shown(str(grade_id)[:60])
        if isinstance(grade_id, str) and grade_id in known:
            demoted.append(f"cell {index} is another copy of the cell {shown_id!r}: it was run as an ordinary cell, "
                           f"and only the last copy was graded")
        elif _claims_points(marks):
            demoted.append(f"cell {index} was marked as graded under {shown_id!r}, which this assignment does not "
                           f"have: it was run as an ordinary cell, worth no points")
        else:
            demoted.append(f"cell {index} carried nbgrader marks under {shown_id!r}, which this assignment does "
                           f"not have: they were removed")
    return notes + demoted[::-1]


def _restore_marks(nb, released: dict[str, dict]) -> list[str]:
    """Put back the released marks of cells that lost them (an editor that drops cell metadata)."""
    present = {cell.metadata["nbgrader"].get("grade_id") for cell in nb.cells
               if isinstance(cell.metadata.get("nbgrader"), dict)}
    restored = []
    for index, cell in enumerate(nb.cells, start=1):
        marks = released.get(cell.get("id"))
        if marks is None or cell.metadata.get("nbgrader") or marks.get("grade_id") in present:
            continue
        cell.metadata["nbgrader"] = json.loads(json.dumps(marks))
        present.add(marks.get("grade_id"))
        restored.append(index)
    if restored:
        return [f"{len(restored)} cells (cell {restored[0]} first) had lost their nbgrader marks; they were put "
                f"back from the released notebook (same cell ids)"]
    return []


def _claims_points(marks) -> bool:
    return isinstance(marks, dict) and bool(marks.get("grade") or marks.get("points") or marks.get("task"))


def timestamp_of(folder: Path) -> dt.datetime | None:
    """A submission's timestamp as idnn-grade records it in the gradebook: its timestamp.txt read without following
    a link, or None when that is missing or not a plausible time. Nothing is changed in `folder`. The formgrader
    reads timestamps this way too (formgrader.py), so that its timestamps and the gradebook's agree."""
    if folder.is_symlink():  # staging refuses a linked submission folder: it has no timestamp either
        return None
    return _read_timestamp(folder / "timestamp.txt", [], remove=False)


def _read_timestamp(path: Path, notes: list[str], remove: bool = True) -> dt.datetime | None:
    """timestamp.txt as a naive UTC datetime, or None; a value that is not a plausible time is removed (`remove`)."""
    from nbgrader.utils import parse_utc

    text = read_small_text(path, limit=MAX_TIMESTAMP_CHARS + 1)  # never follows a link
    if text is None or not text.strip():
        return None
    try:
        if len(text.strip()) > MAX_TIMESTAMP_CHARS:
            raise ValueError(f"more than {MAX_TIMESTAMP_CHARS} characters")
        timestamp = parse_utc(text.strip())
        if timestamp.year not in PLAUSIBLE_YEARS:
            raise ValueError(f"the year {timestamp.year} is not between {PLAUSIBLE_YEARS[0]} and "
                             f"{PLAUSIBLE_YEARS[-1]}")
    except Exception as error:  # noqa: BLE001 - the student wrote this file: any failure means no timestamp
        if remove:
            path.unlink(missing_ok=True)  # so that nbgrader does not try to read it either
        notes.append(f"timestamp.txt ({shown(text.strip()[:40])!r}) is not a date and time the grader can read "
                     f"({type(error).__name__}): the submission was graded as having no timestamp")
        return None
    return timestamp


def released_marks(path: Path) -> dict[str, dict]:
    """Cell id -> nbgrader marks of every marked cell of a released notebook (the instructor's file); {} if absent."""
    try:
        nb = nbformat.read(path, as_version=4)
    except (OSError, ValueError):
        return {}
    return {cell["id"]: dict(cell.metadata["nbgrader"]) for cell in nb.cells
            if cell.get("id") and isinstance(cell.metadata.get("nbgrader"), dict)}


def released_marks_of(config, assignment: str, notebooks) -> dict[str, dict[str, dict]]:
    """released_marks() of each notebook of an assignment, found where nbgrader releases it."""
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(config=config)
    folder = Path(coursedir.format_path(coursedir.release_directory, ".", assignment))
    return {name: released_marks(folder / f"{name}.ipynb") for name in notebooks}


def source_cells_of(gb: Gradebook, assignment: str) -> dict[str, set[str]]:
    """Notebook name -> grade_ids of its source cells, from the gradebook."""
    return {nb.name: {cell.name for cell in nb.source_cells} for nb in gb.find_assignment(assignment).notebooks}


class RepairCells(NbGraderPreprocessor):
    """Under plain `nbgrader autograde`: the cell repairs of `repair_cells` and the cell limit.

    Runs first among the sanitizing preprocessors, before nbgrader's DeduplicateIds (which empties the marks
    of all but the last copy, and the empty marks then stop nbgrader) and before the test cells are restored
    from the source, so that a pasted copy or an invented graded cell never stops nbgrader.
    """

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        limits = SubmissionLimits(parent=self)
        if len(nb.cells) > limits.max_cells:
            raise RuntimeError(f"{info['notebook']}.ipynb has {len(nb.cells)} cells, and a notebook may have "
                               f"at most {limits.max_cells}")
        with Gradebook(info["db_url"]) as gb:
            try:
                known = {cell.name for cell in gb.find_notebook(info["notebook"], info["assignment"]).source_cells}
            except MissingEntry:
                return nb, resources
        released = released_marks_of(self.config, info["assignment"], [info["notebook"]])[info["notebook"]]
        for note in repair_cells(nb, known, released):
            self.log.warning("%s", note)
        return nb, resources
