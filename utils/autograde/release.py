"""What `nbgrader generate_assignment` adds to the student copies, beyond nbgrader's own steps.

TagCheckCells: every visible check cell (a graded test cell) is tagged `raises-exception`. A check that fails
raises, as it must (the cell shows the message in red, nbgrader's Validate reports it). With the tag, JupyterLab's
Run All, and nbclient, go on past that cell instead of stopping there: a student who runs a fresh notebook sees each
unfinished exercise reported as not implemented yet, and every demonstration that can run (the demonstrations skip
what is unfinished, in words). Grading is not affected: it executes every cell whatever it raises.
"""

from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import is_grade, is_solution

RUN_ALL_GOES_ON = "raises-exception"


def is_check_cell(cell) -> bool:
    """A graded code cell the student does not write in: a test cell holding a visible check."""
    return cell.cell_type == "code" and is_grade(cell) and not is_solution(cell)


class TagCheckCells(NbGraderPreprocessor):
    """Tag every check cell `raises-exception`, so that Run All goes on past a failing check."""

    def preprocess_cell(self, cell, resources, index):
        if is_check_cell(cell):
            tags = cell.metadata.setdefault("tags", [])
            if RUN_ALL_GOES_ON not in tags:
                tags.append(RUN_ALL_GOES_ON)
        return cell, resources
