"""Autograde every submission of a class: in parallel, resumable, one writer for the gradebook.

    run(course, assignments, jobs=2)

The path of one submission, in order:

    runner.run            finds what to grade: every submission whose fingerprint (staging.py) differs from
                          its last journal line (journal.py)
    pool.grade_all        hands it to a worker process; survives workers that crash or overrun
    worker.grade_one      stages, checks and repairs it (staging.py, preflight.py), grades it with nbgrader's
                          Autograde converter against the worker's private copy of the gradebook, writes its
                          feedback page (feedback.py), and returns an Outcome (outcome.py)
    runner.commit         writes the Outcome's scores into the real gradebook, then appends it to the journal;
                          a submission that scored zero for a reason gets a page saying why (feedback.py), and
                          an autograded notebook saying why, for the formgrader (formgrader.py)

Only this process writes the gradebook and the journal, one submission at a time, so after Ctrl-C or
kill -9 nothing is lost and nothing finished is graded again. A submission that cannot be graded (invalid
JSON, no notebook, a crash) gets zero and a recorded reason; the others are graded as usual.
"""

import datetime as dt
import os
import re
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook, InvalidEntry, MissingEntry
from sqlalchemy.exc import IntegrityError, OperationalError
from traitlets import Float, Integer
from traitlets.config import LoggingConfigurable

from .course import gradebook_url, load_config
from .feedback import failure_page
from .formgrader import not_graded_comment, write_not_graded
from .gradebook_table import max_scores
from .journal import JOURNAL, append, read_journal  # noqa: F401 (JOURNAL, read_journal: the journal's API here too)
from .limits import SubmissionLimits
from .outcome import Outcome
from .pool import Pool, grade_all
from .preflight import timestamp_of
from .sandbox import Sandbox, reap_orphans
from .snapshot import snapshot
from .staging import fingerprint, shown

# nbgrader's add_submission trips SQLAlchemy 2's autoflush warning; harmless, and stock nbgrader hides it too.
warnings.filterwarnings("ignore", message=".*not in session.*", module="nbgrader")
# A test cell that nbgrader puts back (the student deleted it) has no cell id; nbformat warns about it.
warnings.filterwarnings("ignore", message="Cell is missing an id field")


class Grader(LoggingConfigurable):
    """Settings of the class grader's own processes (c.Grader.<name> in nbgrader_config.py)."""

    worker_memory_bytes = Integer(4 * 2**30, help="Address space of each grading worker (nbgrader, the "
                                  "reference run, reading results), in bytes. A worker past it fails the "
                                  "submission it was grading, not its classmates'.").tag(config=True)
    attempts = Integer(2, help="How many times a submission is tried when its worker crashed or its kernel "
                       "never started, before it is reported as not graded.").tag(config=True)
    submission_seconds = Float(1800, help="Wall-clock seconds a worker may spend on one submission (staging, "
                               "the checks before nbgrader, nbgrader, feedback); past it the worker is stopped and "
                               "the submission scores zero with the reason.").tag(config=True)


# -- what to grade -----------------------------------------------------------------------------

def submissions(course: Path, assignment: str) -> list[tuple[str, Path]]:
    """(student, folder) of every submission of `assignment` in submitted/, sorted by student."""
    root = course / "submitted"
    if not root.is_dir():
        return []
    return [(student.name, student / assignment) for student in sorted(root.iterdir())
            if (student / assignment).is_dir() or (student / assignment).is_symlink()]



# -- the writer side ----------------------------------------------------------------------------

class Writer:
    """The one writer's connection to the gradebook, kept open for a whole run: opening a Gradebook costs more than a
    write (nbgrader checks every table when it opens one, and a PostgreSQL server starts a connection)."""

    def __init__(self, db_url: str):
        self.db_url, self._gradebook = db_url, None

    def gradebook(self) -> Gradebook:
        if self._gradebook is None:
            self._gradebook = Gradebook(self.db_url)
        return self._gradebook

    def close(self) -> None:
        """Close the connection (a write that failed leaves it to be opened afresh)."""
        if self._gradebook is not None:
            gradebook, self._gradebook = self._gradebook, None
            try:
                gradebook.close()
            except Exception:  # noqa: BLE001 - a connection that broke cannot be closed cleanly, and need not be
                pass


def commit(course: Path, gradebook: "str | Writer", outcome: Outcome) -> None:
    """Write one outcome into the gradebook (a URL, or the run's Writer), then record it in the journal.

    The timestamp is the one the worker checked (preflight.py); the student's file is not read again here.
    Another writer may be at the same gradebook (a second instructor command, the formgrader): a write that
    collides with it (both adding the same student, a locked SQLite file) is rolled back and tried again. nbgrader
    commits a new student and a new submission's rows itself, before the grades: those may stay when a write fails,
    which is harmless, since every step is an update of what is there, and the submission, not yet in the journal,
    is written again by the retry or graded again by the next run.
    """
    writer = gradebook if isinstance(gradebook, Writer) else Writer(gradebook)
    try:
        for attempt in range(WRITE_ATTEMPTS):
            try:
                _write(writer.gradebook(), outcome)
                break
            except (IntegrityError, InvalidEntry, OperationalError):  # nbgrader reports a collision as InvalidEntry
                writer.close()
                if attempt == WRITE_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * 2**attempt)
    finally:
        if writer is not gradebook:
            writer.close()
    append(course, outcome)


#: How many times a gradebook write that collided with another writer is tried.
WRITE_ATTEMPTS = 6


def _write(gb: Gradebook, outcome: Outcome) -> None:
    """One outcome into the gradebook: the student and the submission (nbgrader commits each of those when it adds
    them), then the scores, comments and penalties, in one transaction."""
    timestamp = dt.datetime.fromisoformat(outcome.timestamp) if outcome.timestamp else None
    try:
        name_students([gb.update_or_create_student(outcome.student)])
        submission = gb.update_or_create_submission(outcome.assignment, outcome.student, timestamp=timestamp)
        for notebook in submission.notebooks:
            notebook.late_submission_penalty = outcome.late_penalty.get(notebook.name, 0.0) or None
            for grade in notebook.grades:
                grade.auto_score = outcome.scores.get(grade.name, 0.0)
                grade.needs_manual_grade = outcome.manual.get(grade.name, False)
            for comment in notebook.comments:  # what the formgrader shows in each answer's comment box
                comment.auto_comment = (not_graded_comment(outcome.failure) if outcome.failure
                                        else outcome.comments.get(comment.name))
        gb.db.commit()
    except BaseException:
        gb.db.rollback()
        raise


def name_students(students) -> None:
    """Give each student a name the formgrader can show: it shows "last name, first name", with "None" for a name
    that is not set, and idnn-grade and nbgrader add students by id alone. A missing last name becomes the id, a
    missing first name empty ("ada, "). Names from a roster (`nbgrader db student import`) or typed in the
    formgrader are kept. The caller commits."""
    for student in students:
        if student.last_name is None:
            student.last_name = student.id
        if student.first_name is None:
            student.first_name = ""


def commit_or_explain(course: Path, db_url: "str | Writer", outcome: Outcome) -> str | None:
    """commit(), and if that fails, commit the submission as failed (zero, with the reason) instead.

    Returns None when something was recorded, or why nothing could be (the run goes on either way).
    """
    try:
        commit(course, db_url, outcome)
        return None
    except Exception as error:  # noqa: BLE001 - one submission's values must not stop the class
        reason = f"its grades could not be recorded ({type(error).__name__}: {error})"
    failed = Outcome(outcome.assignment, outcome.student, outcome.fingerprint, max_scores=outcome.max_scores,
                     failure=reason, notes=outcome.notes, seconds=outcome.seconds).bounded()
    failed.scores = {name: 0.0 for name in outcome.max_scores}
    outcome.failure, outcome.scores = failed.failure, failed.scores
    try:
        commit(course, db_url, failed)
        return None
    except Exception as error:  # noqa: BLE001
        return f"{reason}; recording it as failed failed too ({type(error).__name__}: {error})"


# -- the run ------------------------------------------------------------------------------------

@dataclass
class RunSummary:
    outcomes: list[Outcome]  # committed to the gradebook and the journal
    skipped: int
    interrupted: bool
    seconds: float
    not_graded: list[Outcome] = field(default_factory=list)  # nothing recorded (the reason in .failure): rerun
    lost: str | None = None  # why a cluster run stopped before the end (the scheduler went away): rerun

    @property
    def failed(self) -> list[Outcome]:
        """Recorded, but as a failure: zero with a reason (a broken submission)."""
        return [outcome for outcome in self.outcomes if outcome.failure]


def run(course: Path, assignments: list[str], jobs: int | None = None, force: bool = False,
        config_overrides: dict | None = None, progress=None, feedback: bool = False, db_url: str | None = None,
        cluster=None) -> RunSummary:
    """Grade every new or changed submission of `assignments`; see the module docstring.

    With `feedback`, each submission gets its feedback page: a worker writes a graded one's, and this process
    the page of one that scored zero for a reason. `db_url`: the gradebook (default: the course's gradebook.db).
    `cluster`: a cluster.ClusterGrader to grade on instead of local worker processes (`jobs` is then ignored), whose
    workers the caller has checked (ClusterGrader.check).
    """
    course = course.resolve()
    db_url = db_url or gradebook_url(course)
    _check_assignments(db_url, assignments)
    config = load_config(course, config_overrides)
    settings, limits = Grader(config=config), SubmissionLimits(config=config)
    journal = {} if force else read_journal(course)
    summary = RunSummary([], 0, False, 0.0)
    todo, notebooks_by_assignment = [], {}
    for assignment in assignments:
        notebooks = notebooks_by_assignment[assignment] = notebooks_of(db_url, assignment)
        for student, folder in submissions(course, assignment):
            problem = student_id_problem(student)
            if problem:  # cannot even be named in the gradebook: listed as not graded, and the run goes on
                summary.not_graded.append(Outcome(assignment, shown(student), "", failure=problem))
                continue
            digest = _fingerprint(folder, limits, notebooks)
            if journal.get((assignment, student), {}).get("fingerprint") == digest:
                summary.skipped += 1
            else:
                todo.append((assignment, student, digest))
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo) or 1))
    start = time.perf_counter()
    if progress:
        progress.start(len(todo), summary.skipped)
    with tempfile.TemporaryDirectory(prefix="idnn-grading-") as scratch:
        snapshot_path = Path(scratch) / "gradebook-snapshot.db"
        snapshot(db_url, snapshot_path)  # what the workers read; only this process writes the real gradebook
        pool = None if cluster else Pool(jobs, (str(course), str(snapshot_path), settings.worker_memory_bytes))
        writer = Writer(db_url)

        def record(outcome: Outcome, graded: bool = True) -> None:
            """One submission's final outcome: into the gradebook and the journal, or onto the not-graded list."""
            if graded and outcome.failure and outcome.timestamp is None:
                # Nothing of it was graded, perhaps not even its timestamp read: the gradebook's must still be the
                # one the formgrader reads (formgrader.py), or it shows the submission as needing autograding.
                # A few bytes, read without following a link; the worker read the rest, or nothing.
                found = timestamp_of(course / "submitted" / outcome.student / outcome.assignment)
                outcome.timestamp = found.isoformat() if found else None
            problem = commit_or_explain(course, writer, outcome) if graded else outcome.failure
            if problem:
                outcome.failure = problem
                summary.not_graded.append(outcome)
            else:
                summary.outcomes.append(outcome)
                if outcome.failure:
                    _not_graded_notebooks(course, outcome, db_url)
                    if feedback:
                        _failure_page(course, outcome, db_url)
            if progress:
                progress.advance(outcome)

        try:
            if cluster is None:
                grade_all(pool, todo, (config_overrides or {}, feedback), settings.submission_seconds,
                          settings.attempts, record)
            else:
                from .cluster import grade_on_cluster

                summary.lost = grade_on_cluster(cluster, course, todo, snapshot_path, limits, notebooks_by_assignment,
                                                {a: max_scores(db_url, a) for a in assignments},
                                                config_overrides or {}, feedback, settings.attempts, record)
                summary.interrupted = summary.lost is not None
        except KeyboardInterrupt:
            summary.interrupted = True
        finally:
            writer.close()
            if pool is not None:
                pool.shutdown()
            sandbox = Sandbox(config=config)
            reap_orphans(sandbox.uid, sandbox.uids)  # a sandbox whose worker died as it started (see UidLease)
    if progress:
        progress.finish(summary.interrupted)
    with Gradebook(db_url) as gb:  # students added before idnn-grade named them (an older run, plain nbgrader)
        name_students(gb.students)
        gb.db.commit()
    summary.seconds = time.perf_counter() - start
    return summary


#: A student id: letters, digits, and _ . @ - and spaces inside. nbgrader puts the id into file patterns (a "*"
#: would match every classmate's folder) and strips its spaces (" ada" would be graded as "ada").
STUDENT_ID = re.compile(r"[^\W_.\-][\w.@\- ]{0,127}(?<! )")


def student_id_problem(student: str) -> str | None:
    """Why a folder name under submitted/ cannot be a student id in the gradebook, or None."""
    if not STUDENT_ID.fullmatch(student) or student != shown(student):
        return (f"the folder submitted/{shown(student)[:200]} is not a usable student id (letters, digits, _ . @ - "
                f"and inner spaces, at most 128 characters, starting with a letter or digit): rename the folder")
    return None


def _fingerprint(folder: Path, limits: SubmissionLimits, notebooks: frozenset[str]) -> str:
    """The submission's fingerprint, or a stand-in naming why it could not be taken (staging will say more)."""
    try:
        return fingerprint(folder, limits, notebooks)
    except Exception as error:  # noqa: BLE001 - a link for a folder, too many entries, an unreadable file...
        return f"unreadable: {type(error).__name__}: {str(error)[:200]}"


def _not_graded_notebooks(course: Path, outcome: Outcome, db_url: str) -> None:
    """The autograded notebooks of a submission that scored zero for a reason: why, for the formgrader
    (formgrader.py); a notebook that cannot be written is a warning, never a reason to stop the class."""
    try:
        write_not_graded(course / "autograded" / outcome.student / outcome.assignment,
                         course / "release" / outcome.assignment, outcome.failure,
                         sorted(notebooks_of(db_url, outcome.assignment)))
    except (OSError, ValueError) as error:
        print(f"warning: the autograded notebook of {shown(outcome.student)} saying why it was not graded could not "
              f"be written ({type(error).__name__}: {shown(str(error))})", file=sys.stderr)


def _failure_page(course: Path, outcome: Outcome, db_url: str) -> None:
    """The feedback page of a submission that scored zero for a reason; a page that cannot be written is a
    warning, never a reason to stop the class."""
    try:
        failure_page(course, outcome.assignment, outcome.student, outcome.failure, sorted(notebooks_of(
            db_url, outcome.assignment)), sum(outcome.max_scores.values()) or _possible(db_url, outcome.assignment),
            timestamp=outcome.timestamp)
    except (OSError, ValueError) as error:
        print(f"warning: the feedback page of {shown(outcome.student)} could not be written "
              f"({type(error).__name__}: {shown(str(error))})", file=sys.stderr)


def _possible(db_url: str, assignment: str) -> float:
    with Gradebook(db_url) as gb:
        return float(gb.find_assignment(assignment).max_score)


def notebooks_of(db_url: str, assignment: str) -> frozenset[str]:
    """The names of an assignment's notebooks, from the gradebook."""
    with Gradebook(db_url) as gb:
        return frozenset(nb.name for nb in gb.find_assignment(assignment).notebooks)


def _check_assignments(db_url: str, assignments: list[str]) -> None:
    with Gradebook(db_url) as gb:
        for assignment in assignments:
            try:
                gb.find_assignment(assignment)
            except MissingEntry:
                raise SystemExit(f"Assignment {assignment!r} is not in the gradebook. Run "
                                 f"`nbgrader generate_assignment {assignment}` (or `make release`) first.")
