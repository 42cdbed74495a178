"""What the instructor sees: assignments travel through the course's exchange, and the formgrader lists what the
report lists.

The exchange route is nbgrader's own: `nbgrader release_assignment`, a student's `fetch_assignment` and `submit`
(run here as the same user, with the student's settings on the command line, as nbgrader's documentation does),
`nbgrader collect`, then `idnn-grade`, and the feedback back through `release_feedback` / `fetch_feedback`.
The formgrader is asked through its own web API, served by a Jupyter server started in the graded course.
"""

import csv
import json
import subprocess
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

from idnn.autograde.course import load_config
from idnn.autograde.formgrader import (NOT_GRADED_CODE, NOT_GRADED_TEXT, not_graded_comment,
                                       read_timestamps_as_the_grader_does, write_not_graded)
from idnn.autograde.runner import name_students, read_journal

from .conftest import ASSIGNMENTS, BIN, REPO, idnn_grade, make_course, nbgrader, scores_of, tool_env
from .samples.generate import solution_code
from .samples.setting_up import POINTS as SETTING_UP_POINTS
from .test_browser_pages import jupyter_server  # noqa: F401 (a fixture)

pytestmark = pytest.mark.grading

ASSIGNMENT = "setting_up"


def course_id() -> str:
    return load_config(REPO).CourseDirectory.course_id


def as_student(student: str, home: Path, exchange: Path, *args: str) -> subprocess.CompletedProcess:
    """An nbgrader exchange command run by `student` from their own folder `home`: their settings on the command
    line (a student's account has no nbgrader_config.py of the course)."""
    command = [str(BIN / "nbgrader"), *args, f"--course={course_id()}", f"--student={student}",
               f"--Exchange.root={exchange}", f"--Exchange.cache={home / '.nbgrader_cache'}", "--log-level=WARN"]
    result = subprocess.run(command, cwd=home, env=tool_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{' '.join(args)} as {student}:\n{result.stdout}\n{result.stderr}"
    return result


def solved(notebook: Path, source: Path) -> None:
    """Write the reference solution into every answer cell of a fetched notebook, as a student who solved it."""
    solutions = {cell.metadata["nbgrader"]["grade_id"]: solution_code(cell.source)
                 for cell in nbformat.read(source, as_version=4).cells
                 if cell.metadata.get("nbgrader", {}).get("solution")}
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in solutions:
            cell.source = solutions[grade_id]
    nbformat.write(nb, notebook)


# -- the exchange -------------------------------------------------------------------------------------

@pytest.mark.slow
def test_release_fetch_submit_collect_grade_and_feedback(tmp_path):
    course = make_course(tmp_path / "course")
    nbgrader("generate_assignment", ASSIGNMENT, "--force", cwd=course)
    exchange = course / "exchange"
    assert exchange.is_dir() and exchange.stat().st_mode & 0o777 == 0o777, "the configuration makes the exchange"

    nbgrader("release_assignment", ASSIGNMENT, cwd=course)
    notebook = f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
    homes = {student: tmp_path / student for student in ("ada", "bob")}
    for student, home in homes.items():
        home.mkdir()
        as_student(student, home, exchange, "fetch_assignment", ASSIGNMENT)
        assert (home / notebook).is_file()
    solved(homes["ada"] / notebook, course / "source" / notebook)
    (homes["bob"] / notebook).write_text('{"cells": [')  # saved half-way: not a notebook nbgrader can read
    for student, home in homes.items():
        as_student(student, home, exchange, "submit", ASSIGNMENT)

    nbgrader("collect", ASSIGNMENT, cwd=course)
    for student, home in homes.items():
        collected = course / "submitted" / student / ASSIGNMENT
        assert (collected / f"{ASSIGNMENT}.ipynb").read_bytes() == (home / notebook).read_bytes()
        assert (collected / "timestamp.txt").is_file() and (collected / "submission_secret.txt").is_file()

    idnn_grade(ASSIGNMENT, "--jobs", "2", cwd=course)
    scores = scores_of(course, ASSIGNMENT)
    assert scores["ada"] == {test: float(points) for test, points in SETTING_UP_POINTS.items()}
    assert set(scores["bob"].values()) == {0.0}
    assert "not a readable notebook" in read_journal(course)[(ASSIGNMENT, "bob")]["failure"]

    # Feedback goes back the same way: bob's page says why, and his page does not stop ada's.
    nbgrader("release_feedback", ASSIGNMENT, cwd=course)
    for student, home in homes.items():
        as_student(student, home, exchange, "fetch_feedback", ASSIGNMENT)
        pages = list((home / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html"))
        assert len(pages) == 1, student
        assert ("could not be graded" in pages[0].read_text()) == (student == "bob")


# -- the formgrader against the report, on the graded course ----------------------------------------

@pytest.fixture(scope="module")
def formgrader(jupyter_server):
    """The formgrader's web API in the graded course: a function from a path to its JSON (or page)."""
    base, token = jupyter_server

    def get(path: str, page: bool = False):
        with urllib.request.urlopen(f"{base}{path}{'&' if '?' in path else '?'}token={token}", timeout=120) as reply:
            text = reply.read().decode()
        return text if page else json.loads(text)

    return get


def reported_students(course: Path, assignment: str) -> list[str]:
    """The students reports/<assignment>-grades.csv lists (what idnn-grade wrote), in its order."""
    with open(course / "reports" / f"{assignment}-grades.csv", newline="") as handle:
        return [row["student"] for row in csv.DictReader(handle)]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_formgrader_lists_what_the_report_lists(graded_course, formgrader, assignment):
    reported = reported_students(graded_course, assignment)
    assert reported and len(set(reported)) == len(reported)
    submissions = formgrader(f"/formgrader/api/submissions/{assignment}")
    listed = {s["student"]: s for s in submissions}
    assert sorted(listed) == sorted(reported)
    assert formgrader(f"/formgrader/api/assignment/{assignment}")["num_submissions"] == len(reported)
    not_autograded = [student for student, s in listed.items() if not s["autograded"]]
    assert not_autograded == [], "the formgrader would offer to autograde these again"
    for notebook in formgrader(f"/formgrader/api/notebooks/{assignment}"):
        graded = formgrader(f"/formgrader/api/submitted_notebooks/{assignment}/{notebook['name']}")
        assert sorted(n["student"] for n in graded) == sorted(reported), notebook["name"]

    # The scores agree, and a submission that could not be graded shows its zero and why.
    scores = scores_of(graded_course, assignment)
    for student, submission in listed.items():
        assert submission["score"] == pytest.approx(sum(v or 0 for v in scores[student].values())), student
    failures = {student: entry["failure"] for (name, student), entry in read_journal(graded_course).items()
                if name == assignment and entry.get("failure")}
    for student, reason in failures.items():
        assert listed[student]["score"] == 0
        for notebook in formgrader(f"/formgrader/api/student_notebook_submissions/{student}/{assignment}"):
            comments = formgrader(f"/formgrader/api/comments?submission_id={notebook['id']}")
            assert comments and {c["auto_comment"] for c in comments} == {not_graded_comment(reason)}, student
            page = formgrader(f"/formgrader/submissions/{notebook['id']}/", page=True)
            assert "Not graded: this submission scored 0" in page, student


def test_every_student_has_a_name_and_the_exchange_works(graded_course, formgrader):
    students = formgrader("/formgrader/api/students")
    assert students and all(s["last_name"] is not None and s["first_name"] is not None for s in students)
    assert {s["id"]: s["last_name"] for s in students} == {s["id"]: s["id"] for s in students}
    page = formgrader("/formgrader/manage_assignments", page=True)
    assert "warning-exchange" not in page, "the formgrader hides Release and Collect without an exchange"


# -- the pieces, quickly --------------------------------------------------------------------------------

def test_the_formgrader_reads_timestamps_as_the_grader_does(tmp_path, monkeypatch):
    """A timestamp.txt that is not a date stopped the formgrader's pages (error 500); a link is not followed."""
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    monkeypatch.setattr(NbGraderAPI, "get_submitted_timestamp", NbGraderAPI.get_submitted_timestamp)  # restored after
    read_timestamps_as_the_grader_does()
    api = NbGraderAPI(CourseDirectory(root=str(tmp_path)))
    written = {"exchange": "2026-12-01 10:00:00.123456 UTC", "garbled": "vm", "far": "99999999999-01-01 00:00:00",
               "zone": "2026-11-30 12:00:00 " + "Z" * 300, "empty": ""}
    for student, text in written.items():
        folder = tmp_path / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        (folder / "timestamp.txt").write_text(text)
    linked = tmp_path / "submitted" / "linker" / ASSIGNMENT
    linked.mkdir(parents=True)
    (linked / "timestamp.txt").symlink_to(tmp_path / "submitted" / "exchange" / ASSIGNMENT / "timestamp.txt")
    found = {student: api.get_submitted_timestamp(ASSIGNMENT, student) for student in [*written, "linker", "none"]}
    assert str(found.pop("exchange")) == "2026-12-01 10:00:00.123456"
    assert found == dict.fromkeys(found)


def test_a_submission_that_could_not_be_graded_gets_a_notebook_saying_why(tmp_path):
    released = REPO / "release" / ASSIGNMENT
    folder = tmp_path / "autograded" / "bob" / ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / "stale.txt").write_text("from an earlier grading")
    reason = "setting_up.ipynb is not a readable notebook (<script>alert(1)</script>\x1b[2J)"
    write_not_graded(folder, released, reason, [ASSIGNMENT])
    assert sorted(p.name for p in folder.iterdir()) == [f"{ASSIGNMENT}.ipynb"]
    nb = nbformat.read(folder / f"{ASSIGNMENT}.ipynb", as_version=4)
    assert nb.metadata.idnn == {"not_graded": True}
    why = "".join(output["text"] for output in nb.cells[1].outputs)
    assert "<script>" in why and "\x1b" not in why and "\\x1b[2J" in why  # plain text, escapes made visible
    release = nbformat.read(released / f"{ASSIGNMENT}.ipynb", as_version=4)
    graded = [c for c in release.cells if c.metadata.get("nbgrader", {}).get("grade")]
    kept = {c.metadata.nbgrader.grade_id: c for c in nb.cells if c.metadata.get("nbgrader")}
    assert {c.metadata.nbgrader.grade_id for c in graded} <= set(kept)
    for cell in kept.values():
        if cell.metadata.nbgrader.get("solution"):
            assert cell.source in (NOT_GRADED_CODE, NOT_GRADED_TEXT)
    for cell in graded:
        if not cell.metadata.nbgrader.get("solution"):
            assert kept[cell.metadata.nbgrader.grade_id].source == cell.source  # the visible tests, as released


def test_students_get_a_name_and_roster_names_are_kept():
    students = [SimpleNamespace(id="ada", first_name=None, last_name=None),
                SimpleNamespace(id="grace", first_name="Grace", last_name="Hopper"),  # `nbgrader db student import`
                SimpleNamespace(id="alan", first_name=None, last_name="Turing")]
    name_students(students)
    assert [(s.last_name, s.first_name) for s in students] == [("ada", ""), ("Hopper", "Grace"), ("Turing", "")]
