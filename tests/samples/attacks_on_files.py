"""Gradient checking samples that attack the grader through the submission's files and metadata (issue 11).

Students choose their file names, file kinds and sizes, the timestamp they write and the cells they copy or
mark. None of it may stop the class being graded, exhaust the grader's memory, print terminal escapes on the
instructor's screen, or cost the student the points their answers earned. Each sample has correct answers,
so any point it loses is the grader's fault; the submission-level limits (c.Submission in nbgrader_config.py)
decide the two that are refused.
"""

import json
import os
from pathlib import Path

import nbformat

from .gradient_checking import NOTEBOOK, POINTS, SOLVED
from .model import Sample


def _undecodable_name(folder: Path) -> None:
    """A file whose name is not valid UTF-8 (a Latin-1 name from another machine, say)."""
    fd = os.open(os.fsencode(folder) + b"/r\xe9sum\xe9-\xff.txt", os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, b"notes\n")
    os.close(fd)


def _named_pipe(folder: Path) -> None:
    """A named pipe: whoever opens it for reading waits for a writer that never comes."""
    os.mkfifo(folder / "results.fifo")


def _timestamps(value: str):
    def damage(folder: Path) -> None:
        (folder / "timestamp.txt").write_text(value)
    return damage


def _sparse_file(size: int):
    def damage(folder: Path) -> None:
        """A file of `size` bytes that takes no disk (sparse), but reads as `size` zero bytes."""
        with open(folder / "weights.bin", "wb") as handle:
            handle.truncate(size)
    return damage


def _empty_cells(count: int):
    def damage(folder: Path) -> None:
        """The notebook with `count` empty code cells appended, written compactly."""
        path = folder / f"{NOTEBOOK}.ipynb"
        nb = json.loads(path.read_text())
        empty = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": ""}
        nb["cells"] += [{**empty, "id": f"e{i}"} for i in range(count)]
        path.write_text(json.dumps(nb, separators=(",", ":")))
    return damage


ESCAPED_NAME = "\x1b[2J\x1b[H\x1b]0;all graded OK\x07All 40 submissions graded OK\x1b[8m.ipynb"


def _escape_sequences_in_name(folder: Path) -> None:
    """The notebook renamed to clear the screen, set the window title and print a fake success line."""
    (folder / f"{NOTEBOOK}.ipynb").rename(folder / ESCAPED_NAME)


def _copied_test_cell(folder: Path) -> None:
    """A test cell copied and pasted below itself: two cells with one grade_id."""
    path = folder / f"{NOTEBOOK}.ipynb"
    nb = nbformat.read(path, as_version=4)
    index = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "test_l2")
    copy = nbformat.from_dict(json.loads(json.dumps(nb.cells[index])))
    copy["id"] = "pasted-copy"
    nb.cells.insert(index + 1, copy)
    nbformat.write(nb, path)


def _invented_grade_cell(folder: Path) -> None:
    """A cell the student marked as autograded, worth 100 points, under a grade_id the source never had."""
    path = folder / f"{NOTEBOOK}.ipynb"
    nb = nbformat.read(path, as_version=4)
    cell = nbformat.v4.new_code_cell("assert True  # my bonus exercise")
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "my_bonus", "locked": False, "points": 100,
                                 "schema_version": 3, "solution": False, "task": False}
    nb.cells.append(cell)
    nbformat.write(nb, path)


def _extra_notebooks(folder: Path) -> None:
    """Five more notebooks of 200 MiB each (sparse): not the assignment's, so within the shared byte budget."""
    for i in range(5):
        with open(folder / f"extra{i}.ipynb", "wb") as handle:
            handle.truncate(200 * 2**20)


def _planted_metadata(folder: Path) -> None:
    """The grader's own metadata planted: fake verdicts on an answer cell, an extra cell and the notebook."""
    path = folder / f"{NOTEBOOK}.ipynb"
    nb = nbformat.read(path, as_version=4)
    fake = {"problems": ["the grader liked this"], "kernel_errors": [], "hidden_passed": True}
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "classify":
            cell.metadata["idnn"] = fake
    nb.cells.append(nbformat.v4.new_code_cell("pass", metadata={"idnn": fake}))
    nb.metadata["idnn"] = {"failure": "planted", "grading_seed": 1}
    nbformat.write(nb, path)


def _pasted_above(folder: Path) -> None:
    """The test cell of classify_difference copied and pasted above the answer it checks."""
    path = folder / f"{NOTEBOOK}.ipynb"
    nb = nbformat.read(path, as_version=4)
    grade_ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
    copy = nbformat.from_dict(json.loads(json.dumps(nb.cells[grade_ids.index("test_classify")])))
    copy["id"] = "pasted-above"
    nb.cells.insert(grade_ids.index("classify"), copy)
    nbformat.write(nb, path)


def _lost_marks(folder: Path) -> None:
    """Every cell's nbgrader marks gone (an editor that drops cell metadata); the cell ids remain."""
    path = folder / f"{NOTEBOOK}.ipynb"
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)
    nbformat.write(nb, path)


def _fresh_notebook(folder: Path) -> None:
    """The answers copied into a fresh notebook: no nbgrader marks, and every cell id new."""
    _lost_marks(folder)
    path = folder / f"{NOTEBOOK}.ipynb"
    nb = nbformat.read(path, as_version=4)
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"fresh-{index}"
    nbformat.write(nb, path)


FILE_ATTACKS = [
    Sample("undecodable_name", "correct answers beside a file whose name is not valid UTF-8: graded as usual",
           answers=SOLVED, expected=POINTS, damage=_undecodable_name),
    Sample("named_pipe", "correct answers beside a named pipe: the pipe is refused with a note, never opened",
           answers=SOLVED, expected=POINTS, damage=_named_pipe),
    Sample("timestamp_overflow", "correct answers with a timestamp.txt past the year 9999: no timestamp, a note",
           answers=SOLVED, expected=POINTS, damage=_timestamps("99999999999-01-01 00:00:00")),
    Sample("timestamp_zone", "correct answers with a timestamp.txt whose time zone is 300 characters long",
           answers=SOLVED, expected=POINTS, damage=_timestamps("2026-11-30 12:00:00 " + "Z" * 300)),
    Sample("huge_file", "correct answers beside a 4 GiB file (sparse): left out unread with a note, the rest graded",
           answers=SOLVED, expected=POINTS, damage=_sparse_file(4 * 2**30)),
    Sample("huge_notebook", "a 37 MiB notebook of 400,000 empty cells: refused before it is read, with a reason",
           answers=SOLVED, damage=_empty_cells(400_000), failure="a notebook may have at most"),
    Sample("many_cells", "a notebook of 30,000 empty cells, small enough to read: refused with a reason",
           answers=SOLVED, damage=_empty_cells(30_000), failure="a notebook may have at most"),
    Sample("escape_names", "correct answers in a notebook whose name holds terminal escapes: graded under its "
           "proper name, the escapes printed visibly", answers=SOLVED, expected=POINTS,
           damage=_escape_sequences_in_name),
    Sample("copied_test_cell", "correct answers and a test cell pasted twice: the copy is ignored with a note",
           answers=SOLVED, expected=POINTS, damage=_copied_test_cell),
    Sample("invented_grade_cell", "correct answers and a cell the student marked as graded (100 points, an unknown "
           "grade_id): ignored with a note, no points for it", answers=SOLVED, expected=POINTS,
           damage=_invented_grade_cell),
    Sample("extra_notebooks", "correct answers beside five more notebooks of 200 MiB each (sparse): they share the "
           "byte budget of other files, so they are left out unread", answers=SOLVED, expected=POINTS,
           damage=_extra_notebooks),
    Sample("planted_metadata", "correct answers with the grader's own metadata planted (fake verdicts and a fake "
           "failure): removed before grading", answers=SOLVED, expected=POINTS, damage=_planted_metadata),
    Sample("pasted_above", "correct answers and a test cell pasted above the answer it checks: the last copy, "
           "below the answer, is graded", answers=SOLVED, expected=POINTS, damage=_pasted_above),
    Sample("lost_marks", "correct answers in a notebook whose cells lost their nbgrader marks: put back from the "
           "released notebook by cell id", answers=SOLVED, expected=POINTS, damage=_lost_marks),
    Sample("fresh_notebook", "correct answers copied into a fresh notebook (no marks, new cell ids): the test cells "
           "are put back at the end, after every answer", answers=SOLVED, expected=POINTS, damage=_fresh_notebook),
]
