"""Grading skips the source notebooks' demonstration cells, and that changes no grade.

The demonstrations (training runs, plots, summaries) are most of a notebook's running time and earn nothing;
which cells they are comes from the trusted source notebook (utils/autograde/demonstrations.py).
"""

import json
import shutil

import nbformat
import pytest

from idnn.autograde.demonstrations import NOT_RUN, TAG, dependency_problems, names_of, to_skip
from idnn.autograde.runner import read_journal

from .conftest import ASSIGNMENTS, REPO, idnn_grade, released_course_with_samples, scores_of, shared
from .samples.attacks_on_files import FILE_ATTACKS
from .samples.attacks_on_pages import PAGE_ATTACKS
from .samples.generate import assignment_module

pytestmark = pytest.mark.grading


# -- which names a cell binds and reads ------------------------------------------------------------------

def test_a_cell_reads_what_it_uses_before_binding_it():
    names = names_of("x = 1\nprint(x, y)\nfor a in b:\n    print(a, c)\nx += q\n")
    assert names.defines == {"x", "a"}
    assert names.reads == {"print", "y", "b", "c", "q"}  # x and a are its own


def test_a_function_reads_only_its_global_names():
    names = names_of("def f(a=d):\n    X = a + 1\n    return [z for z in X if z > w] + [train_X]\n")
    assert names.defines == {"f"}
    assert names.reads == {"d", "w", "train_X"}  # its own X, a and z are local


def test_a_name_bound_only_under_a_condition_is_still_read_after_it():
    assert "x" in names_of("if flag:\n    x = 1\nprint(x)\n").reads


def test_magics_and_dynamic_access_are_recognised():
    assert names_of("%matplotlib inline\nimport numpy as np\n").dynamic  # get_ipython()
    assert names_of("print(globals()['train_X'])").dynamic
    assert names_of("print(_12)").dynamic
    assert not names_of("import numpy as np\nprint(np.pi)").dynamic


def test_a_cell_that_does_not_parse_binds_and_reads_nothing():
    names = names_of("def broken(:\n")
    assert not names.defines and not names.reads


# -- which cells are skipped -------------------------------------------------------------------------------

IMPORTS = "import numpy as np"
LOAD = "train_X = np.ones((2, 3))\nfig = None"
TRAIN = "costs = [float(np.sum(train_X))]"
PLOT = "print(costs, fig)"
MARKED = {LOAD: "load", TRAIN: "train", PLOT: "plot"}
TRUSTED = frozenset([IMPORTS, *MARKED])


def test_demonstrations_nothing_reads_are_skipped():
    sources = [IMPORTS, LOAD, "def f(x):\n    return x", TRAIN, None, PLOT]
    assert to_skip(sources, MARKED, TRUSTED) == {1, 3, 5}


def test_a_demonstration_runs_when_a_cell_that_runs_reads_it_and_so_do_its_own_needs():
    # the student's cell reads costs: the training runs, and the loading it reads runs too; the plot does not
    sources = [IMPORTS, LOAD, TRAIN, "print(len(costs))", PLOT]
    assert to_skip(sources, MARKED, TRUSTED) == {4}


def test_only_the_source_notebook_says_what_is_a_demonstration():
    sources = [IMPORTS, "import os\nos._exit(3)", TRAIN.replace("costs", "my_costs")]
    assert to_skip(sources, MARKED, TRUSTED) == set()  # neither the bomb nor an edited copy is the source's


def test_a_student_cell_that_reaches_names_dynamically_turns_skipping_off():
    sources = [IMPORTS, LOAD, "print(globals().get('costs'))", TRAIN]
    assert to_skip(sources, MARKED, TRUSTED) == set()
    # ...while the source's own magics (trusted) do not
    assert to_skip(["%matplotlib inline", LOAD, TRAIN], MARKED, TRUSTED | {"%matplotlib inline"}) == {1, 2}


# -- the source notebooks --------------------------------------------------------------------------------------

@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_cell_that_grading_runs_needs_a_demonstration(assignment):
    """Every marked demonstration of every source notebook is skipped when grading its own solution."""
    nb = nbformat.read(REPO / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    marked = [cell for cell in nb.cells if TAG in cell.metadata.get("tags", [])]
    assert marked, f"{assignment} marks no demonstration"
    assert dependency_problems(nb) == []


def test_a_graded_cell_that_reads_a_name_only_a_demonstration_defines_is_reported():
    nb = nbformat.read(REPO / "source" / "initialization" / "initialization.ipynb", as_version=4)
    he = next(cell for cell in nb.cells if cell.metadata.get("nbgrader", {}).get("grade_id") == "init_he")
    he.source = "m = train_X.shape[1]\n" + he.source
    problems = dependency_problems(nb)
    assert "demonstration cell 'load-data' (cell 4) would run while grading: 'init_he' (cell 14) reads train_X" in problems
    assert len(problems) == 2  # and the plotting set-up, which the data-loading cell reads


def test_marks_in_a_submission_are_not_trusted(graded_course):
    """The self_marked_demo sample tagged its own kernel-killing cell a demonstration: it ran."""
    scores = scores_of(graded_course, "initialization")["self_marked_demo"]
    assert sum(scores.values()) == 0


# -- what the student sees --------------------------------------------------------------------------------------

@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_feedback_says_the_demonstrations_were_not_run(graded_course, assignment):
    notebook = assignment_module(assignment).NOTEBOOK
    source = nbformat.read(REPO / "source" / assignment / f"{notebook}.ipynb", as_version=4)
    marked = {cell.metadata.nbgrader.grade_id for cell in source.cells if TAG in cell.metadata.get("tags", [])}
    graded = nbformat.read(graded_course / "autograded" / "perfect" / assignment / f"{notebook}.ipynb",
                           as_version=4)
    for cell in graded.cells:
        if cell.cell_type != "code":
            continue
        texts = [output.get("text", "") for output in cell.outputs]
        if cell.metadata.get("nbgrader", {}).get("grade_id") in marked:
            assert texts == [NOT_RUN], cell.metadata.nbgrader.grade_id
        else:
            assert NOT_RUN not in texts
    page = (graded_course / "feedback" / "perfect" / assignment / f"{notebook}.html").read_text()
    assert page.count("Not run while grading") == len(marked)
    assert "Hidden checks passed" in page


# -- the proof: the same grades without skipping -----------------------------------------------------------------

@pytest.fixture(scope="session")
def unskipped_course():
    """Every sample graded again, with the demonstrations run; but for the attacks on files and pages, which are
    correct answers (graded as `perfect` is) beside hostile files: what they test happens before any cell runs."""
    def build(folder):
        config = (REPO / "nbgrader_config.py").read_text() + "\nc.ProbedExecute.skip_demonstrations = False\n"
        course = released_course_with_samples(folder / "course", config=config)
        for sample in FILE_ATTACKS + PAGE_ATTACKS:
            shutil.rmtree(course / "submitted" / sample.student)
        idnn_grade("--jobs", "2", "--no-feedback", cwd=course)

    return shared("unskipped", build) / "course"


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_sample_gets_the_same_grades_and_verdicts_with_and_without_skipping(graded_course, unskipped_course,
                                                                                   assignment):
    stateful = {sample.student: set(sample.stateful) for sample in assignment_module(assignment).SAMPLES}
    skipped, unskipped = scores_of(graded_course, assignment), scores_of(unskipped_course, assignment)
    attacks = {sample.student for sample in FILE_ATTACKS + PAGE_ATTACKS}
    skipped = {student: cells for student, cells in skipped.items() if student not in attacks}
    assert skipped.keys() == unskipped.keys()
    with_skipping, without = read_journal(graded_course), read_journal(unskipped_course)
    for student in skipped:
        kept = lambda cells: {cell: value for cell, value in cells.items() if cell not in stateful[student]}
        assert kept(skipped[student]) == kept(unskipped[student]), student
        one, other = with_skipping[(assignment, student)], without[(assignment, student)]
        assert (one["failure"] is None) == (other["failure"] is None), student
        assert sorted(kept(one["hidden_failures"])) == sorted(kept(other["hidden_failures"])), student
    demo_outputs = json.dumps(nbformat.read(
        unskipped_course / "autograded" / "perfect" / assignment / f"{assignment_module(assignment).NOTEBOOK}.ipynb",
        as_version=4))
    assert NOT_RUN not in demo_outputs  # the demonstrations really ran there
