"""Grading at scale: a Dask cluster grades as the local pool does, a killed worker loses nothing, a PostgreSQL
gradebook holds what the SQLite one holds, and two writers at once never corrupt it. Real parts: a LocalCluster of
worker processes, a PostgreSQL server started here (tests/postgres.py)."""

import csv
import json
import multiprocessing
import os
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest
from nbgrader.api import Gradebook

import idnn.autograde.cluster as cluster_module
from idnn.autograde.cluster import ClusterGrader, ClusterProblem, CourseWorker, PLUGIN
from idnn.autograde.course import gradebook_url
from idnn.autograde.journal import JOURNAL, read_journal
from idnn.autograde.outcome import Outcome
from idnn.autograde.runner import commit
from idnn.autograde.snapshot import copy_definitions, snapshot

from .conftest import BIN, idnn_grade, released_course, tool_env, write_samples
from .postgres import postgres_server

pytestmark = pytest.mark.grading

#: Two quick assignments with every kind of sample between them (36 submissions, broken and hostile ones included).
SCALE_ASSIGNMENTS = ["setting_up", "gradient_checking"]


@pytest.fixture(scope="module")
def postgres():
    """A PostgreSQL server of this module's own, on a free port of 127.0.0.1, stopped after its tests."""
    with postgres_server() as server:
        yield server


def gradebook_rows(db_url: str, assignments: list[str]) -> dict:
    """Everything grading writes into a gradebook, by (assignment, student, ...): each grade's score and manual
    flag, each answer's comment, each notebook's late penalty, the submission's timestamp, the student's name."""
    rows = {}
    with Gradebook(db_url) as gb:
        for assignment in assignments:
            for submission in gb.find_assignment(assignment).submissions:
                key = (assignment, submission.student.id)
                rows[key + ("timestamp",)] = str(submission.timestamp)
                rows[key + ("name",)] = (submission.student.first_name, submission.student.last_name)
                for notebook in submission.notebooks:
                    rows[key + (notebook.name, "late")] = notebook.late_submission_penalty
                    for grade in notebook.grades:
                        rows[key + (grade.name,)] = (grade.auto_score, grade.needs_manual_grade)
                    for comment in notebook.comments:
                        rows[key + (comment.name, "comment")] = comment.auto_comment
    return rows


def report_rows(course: Path, assignment: str) -> list[dict]:
    """reports/<assignment>-grades.csv, without the seconds each submission took."""
    with open(course / "reports" / f"{assignment}-grades.csv", newline="") as handle:
        return [{key: value for key, value in row.items() if key != "seconds"} for row in csv.DictReader(handle)]


def journal_lines(course: Path) -> list[dict]:
    return [json.loads(line) for line in (course / "autograded" / JOURNAL).read_text().splitlines()]


def grading_workers(grader: psutil.Process) -> list[psutil.Process]:
    """The Dask worker processes under a running `idnn-grade --cluster` that are grading now: its children with a
    sandboxed kernel (bubblewrap) among their descendants."""
    found = []
    for child in grader.children():
        try:
            if any(Path((process.cmdline() or [""])[0]).name == "bwrap" for process in child.children(recursive=True)):
                found.append(child)
        except psutil.Error:
            continue
    return found


@pytest.mark.slow
def test_cluster_with_a_killed_worker_grades_into_postgres_as_the_local_run_does(graded_course, postgres, tmp_path):
    """Two assignments' samples, graded by `idnn-grade --cluster local:2 --db postgresql://...`, one Dask worker
    killed with SIGKILL while it grades: every submission is recorded once, with the grades, comments, timestamps
    and failure reasons the local pool wrote into the SQLite gradebook (the graded course), and the same files in
    autograded/ and feedback/. A rerun grades nothing again."""
    course = released_course(tmp_path / "course", assignments=SCALE_ASSIGNMENTS)
    write_samples(course, SCALE_ASSIGNMENTS)
    (course / "gradebook.db").unlink()  # the gradebook is PostgreSQL's alone: nothing may fall back to the file
    db_url = postgres.create_database("cluster_course")
    # The instructor's route to a PostgreSQL gradebook: nbgrader itself writes the assignments into it.
    for assignment in SCALE_ASSIGNMENTS:
        subprocess.run([str(BIN / "nbgrader"), "generate_assignment", assignment, "--force", "--log-level=WARN",
                        f"--CourseDirectory.db_url={db_url}"], cwd=course, env=tool_env(), check=True,
                       capture_output=True, timeout=300)
    journal = course / "autograded" / JOURNAL
    command = [str(BIN / "idnn-grade"), *SCALE_ASSIGNMENTS, "--cluster", "local:2", "--db", db_url]
    log = open(tmp_path / "idnn-grade.log", "w")
    grader = subprocess.Popen(command, cwd=course, env=tool_env(), stdout=log, stderr=subprocess.STDOUT)
    killed = None
    try:
        deadline = time.monotonic() + 300
        while killed is None and grader.poll() is None and time.monotonic() < deadline:
            recorded = len(journal.read_text().splitlines()) if journal.exists() else 0
            workers = grading_workers(psutil.Process(grader.pid)) if recorded >= 4 else []
            if workers:
                killed = workers[0].pid
                os.kill(killed, signal.SIGKILL)  # mid-run: it holds a submission, its grading child dies with it
            time.sleep(0.2)
        returncode = grader.wait(timeout=600)
    finally:
        if grader.poll() is None:
            grader.kill()
        log.close()
    output = (tmp_path / "idnn-grade.log").read_text()
    assert killed is not None, f"no Dask worker was seen grading:\n{output[-3000:]}"
    assert returncode == 0, output[-3000:]

    local = gradebook_rows(gradebook_url(graded_course), SCALE_ASSIGNMENTS)
    assert gradebook_rows(db_url, SCALE_ASSIGNMENTS) == local
    lines = journal_lines(course)
    assert len(lines) == len({(line["assignment"], line["student"]) for line in lines}) == 36
    local_journal = read_journal(graded_course)
    for line in lines:
        expected = local_journal[(line["assignment"], line["student"])]
        assert (line["failure"], line["scores"], line["notes"]) == \
            (expected["failure"], expected["scores"], expected["notes"]), line["student"]

    def files(root: Path, top: str) -> set[str]:
        return {str(path.relative_to(root)) for path in (root / top).rglob("*")
                if any(f"/{a}" in str(path) for a in SCALE_ASSIGNMENTS)}
    for top in ("autograded", "feedback"):
        assert files(course, top) == files(graded_course, top)
    for assignment in SCALE_ASSIGNMENTS:  # the report, read from PostgreSQL, says what the local one says
        assert report_rows(course, assignment) == report_rows(graded_course, assignment)

    again = idnn_grade(*SCALE_ASSIGNMENTS, "--cluster", "local:2", "--db", db_url, cwd=course)
    assert "Graded 0 submissions" in again.stdout and "36 unchanged and skipped" in again.stdout
    assert len(journal_lines(course)) == 36


def test_a_worker_without_the_course_or_with_another_version_is_refused(released_course_template, tmp_path):
    """Before anything is sent, the client asks each worker for its course versions: a worker with no course plugin,
    or whose copy of an assignment differs from the instructor's by one byte, is named, and nothing is graded."""
    grader = ClusterGrader(released_course_template, "local:1")
    try:
        grader.client.unregister_worker_plugin(PLUGIN)
        with pytest.raises(ClusterProblem, match="has no course: start it with --preload idnn.autograde.cluster"):
            grader.check(["setting_up"])
        other = released_course(tmp_path / "other", assignments=["setting_up"])
        source = other / "source" / "setting_up" / "setting_up.ipynb"
        source.write_text(source.read_text().replace("train", "trian", 1))
        grader.client.register_plugin(CourseWorker(str(other)), name=PLUGIN)
        with pytest.raises(ClusterProblem, match=r"has another version of setting_up \([0-9a-f]{12}, yours is"):
            grader.check(["setting_up"])
        grader.client.register_plugin(CourseWorker(str(released_course_template)), name=PLUGIN)
        grader.check(["setting_up"])  # the instructor's own copy: accepted
    finally:
        grader.close()


def test_cluster_and_database_mistakes_get_a_clear_message(tmp_path, released_course_template):
    """A scheduler that is not there, a local:N that is not a number, a gradebook server that is down: exit 2 with
    one sentence saying what was wrong, and no database password printed."""
    course = released_course_template
    for args, said in (
            (["--scheduler", "tcp://127.0.0.1:9"], "could not reach the Dask scheduler at tcp://127.0.0.1:9"),
            (["--cluster", "local:many"], "--cluster takes local:N"),
            (["--db", "postgresql://ada:secret@127.0.0.1:9/course"], "Could not open the gradebook "
                                                                     "postgresql://ada:***@127.0.0.1:9/course")):
        result = idnn_grade("setting_up", *args, "--report-dir", str(tmp_path), cwd=course, check=False)
        assert result.returncode == 2, (args, result.stdout[-2000:], result.stderr[-2000:])
        assert said in result.stderr, (args, result.stderr[-2000:])
        assert "secret" not in result.stdout + result.stderr
        assert "Traceback" not in result.stderr


def _commit_many(db_url: str, course: str, assignment: str, students: list[str], start) -> None:
    """One writer: wait for the start signal, then commit an outcome per student (as idnn-grade's client does)."""
    with Gradebook(db_url) as gb:
        maxima = {cell.name: cell.max_score for nb in gb.find_assignment(assignment).notebooks
                  for cell in nb.grade_cells}
    start.wait()
    for number, student in enumerate(students):
        scores = {name: float(min(maximum, number % 3)) for name, maximum in maxima.items()}
        commit(Path(course), db_url, Outcome(assignment, student, f"fp-{number}", scores=scores, max_scores=maxima,
                                             timestamp="2026-12-01T10:00:00+00:00"))


@pytest.mark.parametrize("database", ["postgresql", "sqlite"])
def test_two_instructor_commands_writing_at_once_never_corrupt_the_gradebook(database, postgres,
                                                                           released_course_template, tmp_path):
    """Two processes commit grades for the same 16 new students at the same moment (two assignments, so both add
    every student): each write that collides (the same student added twice, a locked SQLite file) is rolled back and
    tried again, and the gradebook ends with every student once and every grade as committed."""
    if database == "postgresql":
        db_url = postgres.create_database("two_writers")
        copy_definitions(gradebook_url(released_course_template), db_url)
    else:
        snapshot(gradebook_url(released_course_template), tmp_path / "gradebook.db")
        db_url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    students = [f"learner{number:02d}" for number in range(16)]
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    writers = [context.Process(target=_commit_many, args=(db_url, str(tmp_path), assignment, students, start))
               for assignment in SCALE_ASSIGNMENTS]
    for writer in writers:
        writer.start()
    time.sleep(1.0)  # both connected and waiting
    start.set()
    for writer in writers:
        writer.join(120)
    assert [writer.exitcode for writer in writers] == [0, 0]
    with Gradebook(db_url) as gb:
        assert sorted(student.id for student in gb.students) == students
        for assignment in SCALE_ASSIGNMENTS:
            submissions = gb.find_assignment(assignment).submissions
            assert sorted(s.student.id for s in submissions) == students
            for submission in submissions:
                number = students.index(submission.student.id)
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        assert grade.auto_score == min(grade.max_score, number % 3)
    assert len(journal_lines(tmp_path)) == 2 * len(students)


@pytest.mark.parametrize("database", ["postgresql", "sqlite"])
def test_a_write_that_collides_with_another_writer_is_tried_again(database, postgres, released_course_template,
                                                                  tmp_path):
    """Another writer holds the gradebook at the moment a grade is committed: on PostgreSQL it is adding the same new
    student (its insert not yet committed, so ours waits on it, then collides), on SQLite it holds the file locked
    past SQLite's own 5 s wait. The commit is rolled back and tried again, and the grade is recorded once."""
    import sqlite3
    import threading

    import psycopg

    with Gradebook(gradebook_url(released_course_template)) as gb:
        maxima = {cell.name: cell.max_score for nb in gb.find_assignment("setting_up").notebooks
                  for cell in nb.grade_cells}
    if database == "postgresql":
        db_url = postgres.create_database("collision")
        copy_definitions(gradebook_url(released_course_template), db_url)
        other = psycopg.connect(db_url)  # a transaction is open from the first statement
        other.execute("INSERT INTO student (id, first_name, last_name) VALUES ('ada', 'Ada', 'Lovelace')")
        hold = 1.5
    else:
        snapshot(gradebook_url(released_course_template), tmp_path / "gradebook.db")
        db_url = f"sqlite:///{tmp_path / 'gradebook.db'}"
        other = sqlite3.connect(tmp_path / "gradebook.db", isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        other.execute("INSERT INTO student (id, first_name, last_name) VALUES ('ada', 'Ada', 'Lovelace')")
        hold = 6.5
    failure: list[BaseException] = []

    def write() -> None:
        try:
            commit(tmp_path, db_url, Outcome("setting_up", "ada", "fp", scores=dict(maxima), max_scores=maxima))
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            failure.append(error)

    writer = threading.Thread(target=write)
    started = time.monotonic()
    writer.start()
    time.sleep(hold)
    assert writer.is_alive(), "the commit did not wait for the other writer"
    other.commit()
    other.close()
    writer.join(60)
    assert not failure, failure
    assert time.monotonic() - started >= hold
    rows = gradebook_rows(db_url, ["setting_up"])
    assert rows[("setting_up", "ada", "name")] == ("Ada", "Lovelace")  # the other writer's student, kept
    assert {key[2]: value for key, value in rows.items() if isinstance(value, tuple) and len(key) == 3
            and key[2] in maxima} == {name: (maximum, False) for name, maximum in maxima.items()}
    assert len(journal_lines(tmp_path)) == 1


def dies_for_the_culprit(task, snapshot):
    """A stand-in for cluster.grade_task: the Dask worker dies (as the kernel's OOM killer would end it) while it
    holds the submission of `culprit`; any other submission is graded, one point."""
    time.sleep(0.3)
    if task.student == "culprit":
        os._exit(1)
    time.sleep(0.3)
    return cluster_module.Returned(outcome=Outcome(task.assignment, task.student, task.fingerprint,
                                                   scores={"q": 1.0}, max_scores={"q": 1.0}))


def test_a_dying_worker_blames_only_the_submission_that_kills_it_alone(tmp_path, monkeypatch):
    """Dask gives up on every task queued on a worker that died too often, not only on the one it was running.
    Those are graded again one at a time, alone on the cluster: the classmates queued behind the culprit are graded
    as usual, and only the culprit, which kills its worker alone too, is recorded as a zero with the reason."""
    import dask

    from idnn.autograde.limits import SubmissionLimits
    from idnn.autograde.shipping import Parcel

    monkeypatch.setattr(cluster_module, "grade_task", dies_for_the_culprit)
    monkeypatch.setattr(cluster_module, "pack", lambda *args, **kwargs: Parcel())
    monkeypatch.setattr(cluster_module, "course_version", lambda *args, **kwargs: "v")
    (tmp_path / "snapshot.db").write_bytes(b"definitions")
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")  # a course folder, for the plugin
    (tmp_path / "source").mkdir()
    (tmp_path / "release").mkdir()
    recorded = []
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        grader = ClusterGrader(tmp_path, "local:1")
        try:
            todo = [("hw", student, "fp") for student in ("first", "culprit", "queued", "later")]
            cluster_module.grade_on_cluster(grader, tmp_path, todo, tmp_path / "snapshot.db", SubmissionLimits(),
                                            {"hw": frozenset()}, {"hw": {"q": 1.0}}, {}, False, 2,
                                            lambda outcome, graded=True: recorded.append((outcome, graded)))
        finally:
            grader.close()
    by_student = {outcome.student: (outcome, graded) for outcome, graded in recorded}
    assert sorted(by_student) == ["culprit", "first", "later", "queued"] and len(recorded) == 4
    for student in ("first", "queued", "later"):
        outcome, graded = by_student[student]
        assert graded and outcome.failure is None and outcome.total == 1.0, (student, outcome.failure)
    culprit, graded = by_student["culprit"]
    assert graded and culprit.total == 0 and "crashed every time it graded this submission, alone" in culprit.failure
