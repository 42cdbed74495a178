"""What nbgrader's formgrader needs from idnn-grade, so that it lists every submission the report lists.

The formgrader (JupyterLab > Nbgrader > Formgrader) takes a submission for autograded only when three things agree:
the gradebook has it, autograded/<student>/<assignment>/ exists, and the timestamp in the gradebook equals the one
it reads itself from submitted/<student>/<assignment>/timestamp.txt. Each notebook of an assignment lists only the
submissions whose autograded/<student>/<assignment>/<notebook>.ipynb exists. Two helpers keep that true:

    write_not_graded(folder, released, reason, notebooks)
        for a submission that scored zero for a reason (nothing of it could be graded, so nbgrader wrote no
        autograded notebook): a notebook per assignment notebook saying why, with the released test cells, so that
        the formgrader shows it as graded, with its zeros, and lets the instructor give points by hand
    read_timestamps_as_the_grader_does()
        called by nbgrader_config.py: the formgrader reads timestamp.txt as idnn-grade does (preflight.timestamp_of),
        so that a value a student wrote that is not a date (or a link) neither stops its pages with an error nor
        makes a graded submission look ungraded
"""

import shutil
import sys
import textwrap
from pathlib import Path

import nbformat

from .preflight import timestamp_of
from .staging import shown

#: What stands in for a student's answer in the notebook of a submission that could not be graded.
NOT_GRADED_CODE = "# Not graded: the reason is at the top of this notebook."
NOT_GRADED_TEXT = "*Not graded: the reason is at the top of this notebook.*"


def not_graded_comment(reason: str) -> str:
    """The comment the gradebook keeps on each answer of a submission that could not be graded."""
    return f"Not graded, 0 points: {shown(reason)}"


def write_not_graded(folder: Path, released: Path, reason: str, notebooks: list[str]) -> None:
    """Replace `folder` (autograded/<student>/<assignment>/) by one notebook per name in `notebooks`, each saying
    that the submission could not be graded and why, followed by the graded and answer cells of the released
    notebook (`released`/<name>.ipynb; answers replaced by a note, visible tests as released)."""
    if folder.is_symlink() or folder.is_file():
        folder.unlink()
    elif folder.is_dir():
        shutil.rmtree(folder)  # what an earlier grading left there no longer matches the gradebook's zeros
    folder.mkdir(parents=True)
    for name in notebooks:
        nbformat.write(_not_graded_notebook(released / f"{name}.ipynb", reason), folder / f"{name}.ipynb")


def _not_graded_notebook(released: Path, reason: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(
            "## Not graded: this submission scored 0\n\n"
            "`idnn-grade` could not grade it, for the reason printed below (also each answer's comment, and the "
            "reports' list of submissions not graded normally). The files as submitted are in `submitted/`. "
            "Deal with the reason and run `idnn-grade` again (it regrades a changed submission; `--force` regrades "
            "all), or give points by hand in this form."),
        nbformat.v4.new_code_cell("# Why this submission could not be graded", outputs=[
            nbformat.v4.new_output("stream", name="stdout", text=textwrap.fill(shown(reason), 100) + "\n")]),
    ]
    nb.metadata["idnn"] = {"not_graded": True}  # idnn-grade's stand-in, not a notebook nbgrader graded
    try:
        release = nbformat.read(released, as_version=4)
    except (OSError, ValueError):  # no released copy (never generated): the reason alone
        return nb
    nb.metadata.update({key: value for key, value in release.metadata.items() if key != "idnn"})
    for cell in release.cells:
        marks = cell.metadata.get("nbgrader", {})
        if not (marks.get("grade") or marks.get("solution") or marks.get("task")):
            continue  # instructions and locked cells: not what the instructor grades here
        if marks.get("solution"):
            cell.source = NOT_GRADED_CODE if cell.cell_type == "code" else NOT_GRADED_TEXT
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        nb.cells.append(cell)
    return nb


def read_timestamps_as_the_grader_does() -> None:
    """Make nbgrader's formgrader read a submission's timestamp.txt as idnn-grade does (preflight.timestamp_of).

    Stock nbgrader parses the file with nbgrader.utils.parse_utc and lets its errors through: one timestamp.txt that
    is not a date (or is a link to some other file) stops every page that lists the assignment's submissions with an
    error 500, and one that is not a plausible time (which idnn-grade records as no timestamp) shows a graded
    submission as needing autograding. Only a process that has loaded nbgrader's API (the formgrader's Jupyter
    server, nbgrader's own commands) is changed: idnn-grade's processes do not use it, and this does not load it.
    """
    api = sys.modules.get("nbgrader.apps.api")
    if api is None:
        return

    def get_submitted_timestamp(self, assignment_id, student_id):
        """The timestamp of a submission, as idnn-grade recorded it: None when missing or not a plausible time."""
        folder = self.coursedir.format_path(self.coursedir.submitted_directory, student_id, assignment_id)
        return timestamp_of(Path(folder).absolute())

    api.NbGraderAPI.get_submitted_timestamp = get_submitted_timestamp
