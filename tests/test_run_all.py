"""What a student sees: Run All on a fresh student copy, and the messages of the visible checks.

Run All on a fresh notebook (nothing implemented) goes to the end: each check reports its exercise as not
implemented yet, in words, and every demonstration runs or says it skipped. nbclient stops at an error exactly as
JupyterLab's Run All does, except in cells tagged `raises-exception` (the check cells, tagged when the release is
generated), so executing the release with it is the student's Run All.

A check that fails shows the line that called it and its message, not the checker's code; a failure of the
student's own code inside a check keeps the student's frames.
"""

import re

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

from idnn.autograde.release import RUN_ALL_GOES_ON, is_check_cell
from idnn.checks import CheckFailed, ExerciseNotDone
from idnn.checks.initialization import check_initialize_parameters_zeros

from .conftest import ASSIGNMENTS, REPO, read_notebook

pytestmark = pytest.mark.course

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def errors_of(cell) -> list[dict]:
    return [output for output in cell.get("outputs", []) if output.output_type == "error"]


def traceback_text(error: dict) -> str:
    return ANSI.sub("", "\n".join(error["traceback"]))


def shows_only_the_cell(text: str) -> bool:
    """The traceback shows one frame, the notebook cell that called the check: no file of the checker's."""
    return text.count("Cell In[") == 1 and "File " not in text and "checks/" not in text


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_run_all_on_a_fresh_release_reaches_the_end(assignment):
    path = REPO / "release" / assignment / f"{assignment}.ipynb"
    nb = read_notebook(path)
    checks = [cell for cell in nb.cells if is_check_cell(cell)]
    assert checks and all(RUN_ALL_GOES_ON in cell.metadata.get("tags", []) for cell in checks), (
        "every check cell of the release must be tagged raises-exception (regenerate release/)")

    # Raises CellExecutionError at the first error outside a check cell, as Run All would stop there.
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()

    for cell in checks:
        errors = errors_of(cell)
        assert [error["ename"] for error in errors] == ["ExerciseNotDone"], (cell.metadata.nbgrader.grade_id, errors)
        assert "is not implemented yet" in errors[0]["evalue"]
        assert shows_only_the_cell(traceback_text(errors[0])), traceback_text(errors[0])
    assert all(not errors_of(cell) for cell in nb.cells if not is_check_cell(cell))
    last = [cell for cell in nb.cells if cell.cell_type == "code"][-1]
    assert last.get("execution_count"), "the last code cell did not run"


# -- the messages, in a real kernel ------------------------------------------------------------------------------

KERNEL_CELLS = [
    "import numpy as np\nfrom idnn.checks.initialization import check_initialize_parameters_zeros",
    # 1: the fresh stub
    "def initialize_parameters_zeros(layers_dims):\n    # YOUR CODE HERE\n    raise NotImplementedError()",
    "check_initialize_parameters_zeros(initialize_parameters_zeros)",
    # 3: a wrong answer (ones instead of zeros)
    "def initialize_parameters_zeros(layers_dims):\n"
    "    L = len(layers_dims) - 1\n"
    "    return {**{f'W{l}': np.ones((layers_dims[l], layers_dims[l - 1])) for l in range(1, L + 1)},\n"
    "            **{f'b{l}': np.zeros((layers_dims[l], 1)) for l in range(1, L + 1)}}",
    "check_initialize_parameters_zeros(initialize_parameters_zeros)",
    # 5: the student's code fails inside the check
    "def initialize_parameters_zeros(layers_dims):\n    return np.zeros(3) + np.zeros(2)",
    "check_initialize_parameters_zeros(initialize_parameters_zeros)",
]


@pytest.fixture(scope="module")
def kernel_outputs():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code, metadata={"tags": [RUN_ALL_GOES_ON]})
                                         for code in KERNEL_CELLS])
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    return [errors_of(cell) for cell in nb.cells]


def test_an_unfinished_exercise_is_reported_in_words_without_the_checkers_code(kernel_outputs):
    [error] = kernel_outputs[2]
    text = traceback_text(error)
    assert error["ename"] == "ExerciseNotDone"
    assert error["evalue"].startswith("initialize_parameters_zeros is not implemented yet")
    assert "check_initialize_parameters_zeros(initialize_parameters_zeros)" in text  # the student's line
    assert shows_only_the_cell(text) and "raise NotImplementedError" not in text.split("ExerciseNotDone:")[0]


def test_a_wrong_answer_shows_its_message_not_the_messages_for_other_mistakes(kernel_outputs):
    [error] = kernel_outputs[4]
    text = traceback_text(error)
    assert error["ename"] == "CheckFailed"
    assert "W1 has non-zero entries" in error["evalue"]
    # The checker's source (and the sentences it keeps for other mistakes) stays out of the page.
    assert "should have shape" not in text and "assert " not in text
    assert shows_only_the_cell(text), text


def test_an_error_in_the_students_code_keeps_the_students_frames(kernel_outputs):
    [error] = kernel_outputs[6]
    text = traceback_text(error)
    assert error["ename"] == "ValueError"
    assert "return np.zeros(3) + np.zeros(2)" in text  # the student's line is shown
    assert "checks/" not in text  # the checker's frames are not


# -- the same, outside IPython (plain exceptions) ------------------------------------------------------------------

def test_check_failures_are_assertion_errors_and_name_the_unfinished_function():
    def initialize_parameters_zeros(layers_dims):
        raise NotImplementedError()

    with pytest.raises(ExerciseNotDone, match="initialize_parameters_zeros is not implemented yet"):
        check_initialize_parameters_zeros(initialize_parameters_zeros)

    def ones(layers_dims):
        return {**{f"W{l}": np.ones((layers_dims[l], layers_dims[l - 1])) for l in range(1, len(layers_dims))},
                **{f"b{l}": np.zeros((layers_dims[l], 1)) for l in range(1, len(layers_dims))}}

    with pytest.raises(CheckFailed, match="non-zero entries") as failure:
        check_initialize_parameters_zeros(ones)
    assert isinstance(failure.value, AssertionError)

    def own_assert(layers_dims):
        assert False, "the student's own assert"

    with pytest.raises(AssertionError, match="the student's own assert") as failure:
        check_initialize_parameters_zeros(own_assert)
    assert not isinstance(failure.value, CheckFailed)
