"""One submission never stops the class, exhausts the grader, or writes to the instructor's terminal (issue 11).

The attack samples themselves (tests/samples/attacks_on_files.py) are graded with everything else in the
`graded_course` fixture, and tests/test_samples.py checks each one's exact points and reasons; here are the
pieces underneath, and what only a run of the whole class shows.
"""

import json
import os
import re
import shutil
import time
import tracemalloc
from pathlib import Path

import nbformat
import pytest

from idnn.autograde.gradebook_table import format_table
from idnn.autograde.limits import SubmissionLimits, SubmissionTooLarge
from idnn.autograde.preflight import preflight, repair_cells
from idnn.autograde.runner import Outcome, commit_or_explain, read_journal, student_id_problem
from idnn.autograde.staging import fingerprint, stage

from .conftest import PLAIN_REPAIRS, idnn_grade, released_course_with_samples, scores_of
from .samples import gradient_checking  # noqa: F401 (defines the answers the attack samples build on)
from .samples.attacks_on_files import ESCAPED_NAME

pytestmark = pytest.mark.grading

HW = frozenset({"hw"})  # the assignment's notebooks in these tests
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # what a terminal acts on (tab and newline aside)


def small_limits(**changes) -> SubmissionLimits:
    limits = SubmissionLimits(max_entries=20, max_bytes=1000, max_notebook_bytes=2000, max_cells=10)
    for name, value in changes.items():
        setattr(limits, name, value)
    return limits


@pytest.fixture
def submission(tmp_path) -> Path:
    folder = tmp_path / "submitted" / "student" / "hw"
    folder.mkdir(parents=True)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    nbformat.write(nb, folder / "hw.ipynb")
    return folder


# -- staging and the fingerprint within the limits -----------------------------------------------------------

def test_too_many_entries_stop_the_submission_while_they_are_listed(submission, tmp_path):
    for i in range(30):
        (submission / f"f{i}").write_text("x")
    with pytest.raises(SubmissionTooLarge, match="more than 20 files and folders"):
        stage(submission, tmp_path / "staged", limits=small_limits(), notebooks=HW)
    with pytest.raises(SubmissionTooLarge):
        fingerprint(submission, small_limits())
    assert not any((tmp_path / "staged").glob("f*")), "nothing was copied"


def test_files_past_the_byte_budget_are_left_out_unread_with_a_note(submission, tmp_path):
    (submission / "a_small.txt").write_text("x" * 600)
    (submission / "b_second.txt").write_text("x" * 600)  # 1200 > 1000 together: left out
    with open(submission / "c_huge.bin", "wb") as handle:
        handle.truncate(4 * 2**30)  # 4 GiB, sparse: reading it would take seconds
    start = time.monotonic()
    refusals = stage(submission, tmp_path / "staged", limits=small_limits(), notebooks=HW)
    assert time.monotonic() - start < 2, "the 4 GiB file was read"
    why = {str(r.path): r.why for r in refusals}
    assert set(why) == {"b_second.txt", "c_huge.bin"}
    assert "4.0 GiB" in why["c_huge.bin"] and "1000 bytes" in why["c_huge.bin"]
    assert sorted(p.name for p in (tmp_path / "staged").iterdir()) == ["a_small.txt", "hw.ipynb"]


def test_a_notebook_over_its_limit_is_refused_unread(submission, tmp_path):
    (submission / "hw.ipynb").write_text(" " * 3000)
    refusals = stage(submission, tmp_path / "staged", limits=small_limits(), notebooks=HW)
    assert [str(r.path) for r in refusals] == ["hw.ipynb"] and "a notebook may have at most" in refusals[0].why
    checked = preflight(tmp_path / "staged", {"hw": set()}, refusals, small_limits())
    assert checked.failure == str(refusals[0]), "the reason names the size, not a missing notebook"


def test_other_notebooks_share_the_byte_budget(submission, tmp_path):
    """Only the assignment's own notebooks have a limit each: any other .ipynb is one more file of the budget."""
    for i in range(3):
        with open(submission / f"extra{i}.ipynb", "wb") as handle:
            handle.truncate(1500)  # within a notebook's limit (2000), but not within the budget (1000)
    start = time.monotonic()
    refusals = stage(submission, tmp_path / "staged", limits=small_limits(), notebooks=HW)
    assert time.monotonic() - start < 2
    assert sorted(str(r.path) for r in refusals) == ["extra0.ipynb", "extra1.ipynb", "extra2.ipynb"]
    assert all("more than is left" in r.why for r in refusals)


def test_the_fingerprint_reads_nothing_past_the_limits_but_sees_every_change(submission):
    limits = SubmissionLimits()
    huge = submission / "weights.bin"
    with open(huge, "wb") as handle:
        handle.truncate(4 * 2**30)
    tracemalloc.start()
    start = time.monotonic()
    before = fingerprint(submission, limits, HW)
    seconds, peak = time.monotonic() - start, tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert seconds < 2 and peak < 8 * 2**20, (seconds, peak)
    with open(huge, "r+b") as handle:
        handle.truncate(4 * 2**30 + 1)
    assert fingerprint(submission, limits, HW) != before


def test_a_file_that_grows_while_it_is_copied_is_refused(submission, tmp_path):
    from idnn.autograde.staging import _copy

    path = submission / "growing.txt"
    path.write_text("abc")
    fd = os.open(path, os.O_RDONLY)
    path.write_text("abcdef")  # more than the 3 bytes it had when it was checked
    with pytest.raises(OSError, match="grew"):
        _copy(fd, tmp_path / "copy.txt", 3)


# -- the checks and repairs before nbgrader --------------------------------------------------------------------

def graded_marks(grade_id: str, points: float = 1) -> dict:
    return {"grade": True, "grade_id": grade_id, "locked": True, "points": points, "schema_version": 3,
            "solution": False, "task": False}


def test_copied_and_invented_graded_cells_become_ordinary_cells():
    test_cell = nbformat.v4.new_code_cell("assert f() == 1", metadata={"nbgrader": graded_marks("test_f")})
    copy = nbformat.v4.new_code_cell("assert f() == 1", metadata={"nbgrader": graded_marks("test_f")})
    invented = nbformat.v4.new_code_cell("pass", metadata={"nbgrader": graded_marks("\x1b[2Jbonus", 100)})
    emptied = nbformat.v4.new_code_cell("pass", metadata={"nbgrader": {}})
    nb = nbformat.v4.new_notebook(cells=[test_cell, copy, invented, emptied])
    nb.cells[2].metadata["idnn"] = {"problems": ["planted"]}
    notes = repair_cells(nb, {"test_f"})
    assert "nbgrader" not in nb.cells[3].metadata, "empty marks (nbgrader looks for their grade_id) are removed"
    assert nb.cells[1].metadata["nbgrader"]["grade_id"] == "test_f", "the last copy (after the answer) is graded"
    assert "nbgrader" not in nb.cells[0].metadata and "nbgrader" not in nb.cells[2].metadata
    assert "idnn" not in nb.cells[2].metadata, "only the grader writes its own metadata"
    assert "another copy of the cell 'test_f'" in notes[0] and "worth no points" in notes[1]
    assert not CONTROL.search(" ".join(notes))
    assert repair_cells(nb, {"test_f"}) == [], "a repaired notebook needs nothing more"


def test_marks_an_editor_dropped_are_put_back_by_cell_id():
    answer = nbformat.v4.new_code_cell("def f(): return 1")
    test_cell = nbformat.v4.new_code_cell("assert f() == 1")
    released = {answer.id: {"grade": False, "grade_id": "f", "solution": True, "locked": False},
                test_cell.id: graded_marks("test_f")}
    nb = nbformat.v4.new_notebook(cells=[answer, test_cell, nbformat.v4.new_code_cell("extra")])
    notes = repair_cells(nb, {"f", "test_f"}, released)
    assert nb.cells[0].metadata.nbgrader["grade_id"] == "f" and nb.cells[1].metadata.nbgrader["grade_id"] == "test_f"
    assert "nbgrader" not in nb.cells[2].metadata and "2 cells (cell 1 first) had lost" in notes[0]


def test_a_notebook_of_too_many_cells_is_refused_with_the_reason(submission, tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("") for _ in range(11)])
    nbformat.write(nb, submission / "hw.ipynb")
    staged = tmp_path / "staged"
    refusals = stage(submission, staged, limits=small_limits(max_notebook_bytes=10**6), notebooks=HW)
    checked = preflight(staged, {"hw": set()}, refusals, small_limits(max_notebook_bytes=10**6))
    assert "hw.ipynb has 11 cells, and a notebook may have at most 10" in checked.failure


def test_a_renamed_notebook_is_named_with_its_controls_visible(submission, tmp_path):
    (submission / "hw.ipynb").rename(submission / ESCAPED_NAME)
    staged = tmp_path / "staged"
    checked = preflight(staged, {"hw": set()}, stage(submission, staged, limits=SubmissionLimits(), notebooks=HW),
                        SubmissionLimits())
    assert checked.failure is None and (staged / "hw.ipynb").is_file()
    assert "\\x1b[2J" in checked.notes[0] and not CONTROL.search(checked.notes[0])


def test_student_folders_that_cannot_be_student_ids_are_named_as_such():
    for name in ("ada", "Ada Lovelace-2", "a.b@uni.edu", "Zoë_3", "results_bomb_link", "9lives"):
        assert student_id_problem(name) is None, name
    for name in (os.fsdecode(b"caf\xe9"), "\x1b[2Jmallory", ".hidden", "x" * 200, "*", "a?", "[ab]", " ada", "ada ",
                 "x$^$", "-rf", "a/b", "\u202eevil"):
        problem = student_id_problem(name)
        assert problem and "rename the folder" in problem and not CONTROL.search(problem), name


def test_the_report_plots_names_as_text():
    """A "$" in a name the journal holds must not start matplotlib's mathtext (a parse error stopped the reports)."""
    from idnn.autograde.report import _figure_slowest

    alt, png = _figure_slowest([(3.0, "x$^$"), (2.0, "\x1b[2Jeve"), (1.0, "ada")], "hw")
    assert alt == "slowest submissions" and len(png) > 100


def test_tables_show_control_characters_visibly():
    table = format_table("hw", {"\x1b]0;title\x07eve": {"test_f": 1.0}}, {"test_f": 1.0})
    assert "\\x1b]0;title\\x07eve" in table and not CONTROL.search(table)


# -- recording grades ------------------------------------------------------------------------------------------

@pytest.fixture
def gradebook(tmp_path) -> str:
    from nbgrader.api import Gradebook

    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url) as gb:
        gb.add_assignment("hw")
        gb.add_notebook("hw", "hw")
        gb.add_grade_cell("test_f", "hw", "hw", max_score=2, cell_type="code")
    return url


@pytest.mark.slow
def test_a_grade_that_cannot_be_recorded_is_recorded_as_a_failure(tmp_path, gradebook):
    outcome = Outcome("hw", "ada", "digest", scores={"test_f": 2.0}, max_scores={"test_f": 2.0},
                      timestamp="not a time")  # as if the worker had let a bad value through
    assert commit_or_explain(tmp_path, gradebook, outcome) is None
    entry = read_journal(tmp_path)[("hw", "ada")]
    assert "could not be recorded" in entry["failure"] and entry["scores"] == {"test_f": 0.0}
    assert scores_of(tmp_path, "hw") == {"ada": {"test_f": 0.0}}


@pytest.mark.slow
def test_a_grade_that_cannot_be_recorded_at_all_is_explained_and_nothing_is_written(tmp_path, gradebook):
    outcome = Outcome("no_such_assignment", "ada", "digest")
    problem = commit_or_explain(tmp_path, gradebook, outcome)
    assert problem and "could not be recorded" in problem
    assert read_journal(tmp_path) == {}


# -- a whole class ---------------------------------------------------------------------------------------------

def test_the_class_output_holds_no_terminal_controls(graded_course):
    """idnn-grade's whole output for every sample (escape_names among them) shows control characters visibly."""
    output = (graded_course / "idnn-grade.log").read_text()
    assert "\\x1b[2J\\x1b[H\\x1b]0;all graded OK\\x07" in output, "the renamed notebook is named, visibly"
    assert not CONTROL.search(output)


def test_the_graders_own_process_reads_no_submission_whole(graded_course):
    """The main process only writes grades: its peak memory stays small with a 37 MiB notebook and a 4 GiB file
    in the class (grading and feedback for them in the main process took 5 GB before)."""
    output = (graded_course / "idnn-grade.log").read_text()
    peak = float(re.search(r"Memory at its peak: (\d+) MiB in this process", output).group(1))
    assert peak < 400, f"the grader's own process peaked at {peak} MiB"


@pytest.mark.slow
def test_bad_student_folders_and_slow_submissions_never_stop_the_class(tmp_path):
    """Folder names that cannot be student ids are listed as not graded (exit 1); a submission over
    c.Grader.submission_seconds is stopped and scores zero with the reason; the others are graded."""
    config = (Path(__file__).resolve().parent.parent / "nbgrader_config.py").read_text()
    course = released_course_with_samples(tmp_path / "course", config + "\nc.Grader.submission_seconds = 25\n",
                                          assignments=["gradient_checking"])
    submitted = course / "submitted"
    for student in list(submitted.iterdir()):
        if student.name != "perfect":
            shutil.rmtree(student)
    perfect = submitted / "perfect" / "gradient_checking"
    for name in (os.fsdecode(b"caf\xe9"), "\x1b[2J\x1b]0;owned\x07mallory", "*"):  # "*": nbgrader's file patterns
        shutil.copytree(perfect, submitted / name / "gradient_checking")
    sleeper = submitted / "sleeper" / "gradient_checking"
    shutil.copytree(perfect, sleeper)
    nb = json.loads((sleeper / "gradient_checking.ipynb").read_text())
    nb["cells"].insert(1, nbformat.v4.new_code_cell("import time\ntime.sleep(600)"))
    (sleeper / "gradient_checking.ipynb").write_text(json.dumps(nb))

    result = idnn_grade("--jobs", "2", cwd=course, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "3 submissions could NOT be graded" in result.stderr
    assert result.stderr.count("not a usable student id") == 3 and not CONTROL.search(output)
    assert (course / "feedback" / "perfect" / "gradient_checking" / "gradient_checking.html").is_file()
    scores = scores_of(course, "gradient_checking")
    assert set(scores) == {"perfect", "sleeper"}
    assert sum(scores["perfect"].values()) == 9 and sum(scores["sleeper"].values()) == 0
    failure = read_journal(course)[("gradient_checking", "sleeper")]["failure"]
    assert "took longer than 25 s" in failure


def test_plain_nbgrader_autograde_repairs_pasted_and_invented_cells(nbgrader_course):
    """Without idnn-grade, RepairCells keeps a pasted test cell or an invented graded cell from zeroing a notebook."""
    scores = scores_of(nbgrader_course, "gradient_checking")
    assert {student: sum(scores[student].values()) for student in PLAIN_REPAIRS} == {
        "copied_test_cell": 9, "invented_grade_cell": 9}
