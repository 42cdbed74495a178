"""Autograde every submission of a class: in parallel, resumable, one writer for the gradebook.

    run(course, assignments, jobs=2)

Each submission is graded by nbgrader's own Autograde converter (so nbgrader_config.py
applies: sandbox, hidden-check verdicts), in a worker process of a pool. A worker works on
a private copy of the gradebook and a staged copy of the submission, and returns the
scores nbgrader computed. Only this process writes them into the real gradebook, one
submission at a time, and then appends a line to the journal (autograded/.journal.jsonl).

A rerun skips every submission whose files are unchanged since the journal recorded it, so
after Ctrl-C or kill -9 nothing is lost and nothing finished is graded again. A submission
that cannot be graded (invalid JSON, no notebook, a crash) gets zero and a recorded reason;
the others are graded as usual.
"""

import ctypes
import datetime as dt
import json
import multiprocessing
import os
import re
import resource
import shutil
import signal
import tempfile
import time
import warnings
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from traitlets import Float, Integer
from traitlets.config import LoggingConfigurable

from .course import gradebook_url, load_config
from .limits import SubmissionLimits, SubmissionTooLarge
from .preflight import preflight, released_marks_of, source_cells_of
from .sandbox import Sandbox, reap_orphans
from .staging import fingerprint, shown, stage

JOURNAL = ".journal.jsonl"
#: A reason or a note is cut to this many characters, and a submission keeps at most MAX_NOTES notes.
MAX_REASON, MAX_NOTES = 600, 20

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


@dataclass
class Outcome:
    """What grading one submission of one assignment produced."""

    assignment: str
    student: str
    fingerprint: str
    scores: dict[str, float] = field(default_factory=dict)  # grade_id -> auto score
    max_scores: dict[str, float] = field(default_factory=dict)
    manual: dict[str, bool] = field(default_factory=dict)  # grade_id -> needs manual grading
    late_penalty: dict[str, float] = field(default_factory=dict)  # notebook -> penalty
    seconds: float = 0.0
    failure: str | None = None  # why the submission could not be graded normally
    notes: list[str] = field(default_factory=list)  # what was noticed and worked around
    hidden_failures: dict[str, list[str]] = field(default_factory=dict)  # grade_id -> problems
    infrastructure: bool = False  # the failure is the grading machine's (a kernel that never started): retry
    timestamp: str | None = None  # timestamp.txt, checked in the worker (ISO format, UTC)

    def bounded(self) -> "Outcome":
        """This outcome with its text cut to size: it comes from a submission and goes to the journal and reports."""
        if self.failure:
            self.failure = _cut(self.failure, MAX_REASON)
            self.notes = [note for note in self.notes if _cut(note, MAX_REASON) != self.failure]  # said once
        if len(self.notes) > MAX_NOTES:
            self.notes = self.notes[:MAX_NOTES] + [f"... and {len(self.notes) - MAX_NOTES} more notes"]
        self.notes = [_cut(note, MAX_REASON) for note in self.notes]
        self.hidden_failures = {_cut(cell, 100): [_cut(p, MAX_REASON) for p in problems[:5]]
                                for cell, problems in list(self.hidden_failures.items())[:50]}
        return self

    @property
    def total(self) -> float:
        return float(sum(self.scores.values()))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


# -- what to grade -----------------------------------------------------------------------------

def submissions(course: Path, assignment: str) -> list[tuple[str, Path]]:
    """(student, folder) of every submission of `assignment` in submitted/, sorted by student."""
    root = course / "submitted"
    if not root.is_dir():
        return []
    return [(student.name, student / assignment) for student in sorted(root.iterdir())
            if (student / assignment).is_dir() or (student / assignment).is_symlink()]


def read_journal(course: Path) -> dict[tuple[str, str], dict]:
    """The last journal entry of each (assignment, student); a torn last line is ignored."""
    path = course / "autograded" / JOURNAL
    entries = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # the run was killed while writing this line
            entries[(entry["assignment"], entry["student"])] = entry
    return entries


def _append_journal(course: Path, outcome: Outcome) -> None:
    path = course / "autograded" / JOURNAL
    path.parent.mkdir(exist_ok=True)
    with open(path, "a") as handle:
        handle.write(json.dumps(asdict(outcome), sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


# -- the worker side ----------------------------------------------------------------------------

_worker: dict = {}


def _init_worker(counter, course: str, snapshot: str, memory_bytes: int) -> None:
    """Runs once in each worker: die with the grader, limit its memory, take a worker number, copy the gradebook."""
    libc = ctypes.CDLL(None)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: if the grader is killed, so are we (and our kernels)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the grader's to handle
    # Only the soft limit: the sandbox launcher sets the kernel's own limits, up to the hard one.
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if memory_bytes and (hard == resource.RLIM_INFINITY or memory_bytes <= hard):
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, hard))
    with counter.get_lock():
        slot = counter.value
        counter.value += 1
    os.environ["IDNN_WORKER"] = str(slot)
    scratch = Path(tempfile.mkdtemp(prefix=f"idnn-worker{slot}-pid{os.getpid()}-"))
    private = scratch / "gradebook.db"
    shutil.copy(snapshot, private)
    _worker.update(course=Path(course), scratch=scratch, db_url=f"sqlite:///{private}")


def grade_one(assignment: str, student: str, fingerprint_: str, config_overrides: dict,
              feedback: bool = False) -> Outcome:
    """Grade one submission in this worker with nbgrader's Autograde; never raises for a bad submission.

    Every step that reads the submission runs here, under the worker's memory limit: staging within the
    submission limits, the checks and repairs before nbgrader (preflight.py), nbgrader, and the feedback page.
    """
    from .preprocessors import kernel_start_failures

    course, scratch = _worker["course"], _worker["scratch"]
    outcome = Outcome(assignment, student, fingerprint_)
    start = time.perf_counter()
    staged_root = scratch / "submitted"
    shutil.rmtree(staged_root, ignore_errors=True)
    staged = staged_root / student / assignment
    kernel_start_failures.clear()
    try:
        config = load_config(course, config_overrides)
        limits = SubmissionLimits(config=config)
        with Gradebook(_worker["db_url"]) as gb:
            source_notebooks = gb.find_assignment(assignment).notebooks
            outcome.max_scores = {cell.name: cell.max_score for nb in source_notebooks for cell in nb.grade_cells}
            source_cells = source_cells_of(gb, assignment)
        refusals, problem = _stage(course / "submitted" / student / assignment, staged, limits,
                                   frozenset(source_cells), outcome)
        if problem is None:
            checked = preflight(staged, source_cells, refusals, limits,
                                released_marks_of(config, assignment, source_cells))
            outcome.notes += checked.notes
            outcome.timestamp = checked.timestamp.isoformat() if checked.timestamp else None
            problem = checked.failure
        if problem is None:
            _run_nbgrader(config, staged_root, assignment, student, outcome)
        if problem is None and outcome.failure is None and feedback and not kernel_start_failures:
            _write_feedback(config, assignment, student, outcome)
    except Exception as error:  # a grader bug or an unforeseen input: record it, keep grading the class
        outcome.failure = f"the grader failed on this submission: {type(error).__name__}: {error}"
    else:
        if problem is not None:
            outcome.failure = problem
    if kernel_start_failures:  # the machine's fault: the caller tries again, and never records a zero for it
        outcome.failure, outcome.infrastructure = kernel_start_failures[-1], True
    if outcome.failure:
        outcome.scores = {name: 0.0 for name in outcome.max_scores}
        outcome.manual = {name: False for name in outcome.max_scores}
    outcome.seconds = time.perf_counter() - start
    return outcome.bounded()


def _stage(submitted: Path, staged: Path, limits: SubmissionLimits, notebooks: frozenset[str], outcome: Outcome):
    """Copy the submission's regular files and folders into `staged` (staging.py) within the limits.

    Returns (what was refused, a failure or None); the refusals also become notes.
    """
    try:
        refusals = stage(submitted, staged, limits=limits, notebooks=notebooks)
    except SubmissionTooLarge as error:
        return [], str(error)
    except OSError as error:
        return [], (f"the submission folder could not be read ({type(error).__name__}: {error.strerror}); it must "
                    f"be a folder of regular files, not a link")
    outcome.notes += [str(refusal) for refusal in refusals]
    return refusals, None


def _run_nbgrader(config, staged_root: Path, assignment: str, student: str, outcome: Outcome) -> None:
    from nbgrader.converters import Autograde

    problem = _convert(Autograde, config, assignment, student, submitted=staged_root, create_student=True)
    if problem:
        outcome.failure = f"nbgrader could not autograde this submission: {problem}"
        return
    course = Path(config.CourseDirectory.root)
    with Gradebook(_worker["db_url"]) as gb:
        submission = gb.find_submission(assignment, student)
        for notebook in submission.notebooks:
            outcome.late_penalty[notebook.name] = float(notebook.late_submission_penalty or 0.0)
            for grade in notebook.grades:
                outcome.scores[grade.name] = float(grade.auto_score or 0.0)
                outcome.manual[grade.name] = bool(grade.needs_manual_grade)
    for path in (course / "autograded" / student / assignment).glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        failure = nb.metadata.get("idnn", {}).get("failure")
        if failure:
            outcome.notes.append(f"{path.stem}: {failure}")
        for cell in nb.cells:  # the verdicts ApplyVerdicts wrote into the test cells (preflight removed any other)
            info, grade_id = cell.metadata.get("idnn"), (cell.metadata.get("nbgrader") or {}).get("grade_id")
            if not isinstance(info, dict) or not isinstance(grade_id, str):
                continue
            problems = [str(p) for p in (info.get("problems") or [])[:3]]
            problems += [str(p) for p in (info.get("kernel_errors") or [])[:2]]
            if problems:
                outcome.hidden_failures[grade_id] = problems


def _nbgrader_reason(result: dict) -> str:
    """The error that stopped nbgrader, from what capture_log() caught: its last exception line, not the closing
    "Please see the above traceback" of nbgrader's own exception."""
    lines = [line.strip() for line in f"{result.get('log') or ''}\n{result.get('error') or ''}".splitlines()
             if line.strip()]
    errors = [line for line in lines if re.match(r"[\w.]*(Error|Exception|Interrupt)\b.*", line)
              and "NbGraderException" not in line]
    return (errors or lines or ["nbgrader failed"])[-1]


def _convert(converter_class, config, assignment: str, student: str, submitted: Path | None = None,
             **settings) -> str | None:
    """Run one of nbgrader's converters on one submission, against this worker's private gradebook (and staged
    submissions); returns why it failed, or None."""
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log

    config = config.copy()
    config.CourseDirectory.db_url = _worker["db_url"]
    if submitted is not None:
        config.CourseDirectory.submitted_directory = str(submitted)
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id, coursedir.student_id = assignment, student
    converter = converter_class(coursedir=coursedir, config=config)
    converter.force = True
    for name, value in settings.items():
        setattr(converter, name, value)
    result = capture_log(converter)
    return None if result["success"] else _nbgrader_reason(result)


def _write_feedback(config, assignment: str, student: str, outcome: Outcome) -> None:
    """The student's feedback page, from the autograded notebook and this worker's gradebook (nbgrader's
    GenerateFeedback, configured by nbgrader_config.py: hidden checks removed, outputs sanitised)."""
    from nbgrader.converters import GenerateFeedback

    problem = _convert(GenerateFeedback, config, assignment, student)
    if problem:
        outcome.notes.append(f"the feedback page could not be generated: {problem}")


# -- the writer side ----------------------------------------------------------------------------

def commit(course: Path, db_url: str, outcome: Outcome) -> None:
    """Write one outcome into the gradebook, then record it in the journal.

    The timestamp is the one the worker checked (preflight.py); the student's file is not read again here.
    """
    timestamp = dt.datetime.fromisoformat(outcome.timestamp) if outcome.timestamp else None
    with Gradebook(db_url) as gb:
        gb.update_or_create_student(outcome.student)
        submission = gb.update_or_create_submission(outcome.assignment, outcome.student, timestamp=timestamp)
        for notebook in submission.notebooks:
            notebook.late_submission_penalty = outcome.late_penalty.get(notebook.name, 0.0) or None
            for grade in notebook.grades:
                grade.auto_score = outcome.scores.get(grade.name, 0.0)
                grade.needs_manual_grade = outcome.manual.get(grade.name, False)
        gb.db.commit()
    _append_journal(course, outcome)


def commit_or_explain(course: Path, db_url: str, outcome: Outcome) -> str | None:
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

    @property
    def failed(self) -> list[Outcome]:
        """Recorded, but as a failure: zero with a reason (a broken submission)."""
        return [outcome for outcome in self.outcomes if outcome.failure]


def run(course: Path, assignments: list[str], jobs: int | None = None, force: bool = False,
        config_overrides: dict | None = None, progress=None, feedback: bool = False) -> RunSummary:
    """Grade every new or changed submission of `assignments`; see the module docstring.

    With `feedback`, each worker also writes the feedback page of each submission it graded.
    """
    course = course.resolve()
    db_url = gradebook_url(course)
    _check_assignments(db_url, assignments)
    config = load_config(course, config_overrides)
    settings, limits = Grader(config=config), SubmissionLimits(config=config)
    journal = {} if force else read_journal(course)
    summary = RunSummary([], 0, False, 0.0)
    todo = []
    for assignment in assignments:
        notebooks = notebooks_of(db_url, assignment)
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
        snapshot = Path(scratch) / "gradebook-snapshot.db"
        shutil.copy(course / "gradebook.db", snapshot)
        pool = _Pool(jobs, (str(course), str(snapshot), settings.worker_memory_bytes))
        try:
            _grade_all(course, db_url, pool, todo, (config_overrides or {}, feedback), settings, summary, progress)
        except KeyboardInterrupt:
            summary.interrupted = True
        finally:
            pool.shutdown()
            sandbox = Sandbox(config=config)
            reap_orphans(sandbox.uid, sandbox.uids)  # a sandbox whose worker died as it started (see UidLease)
    if progress:
        progress.finish(summary.interrupted)
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


class _Pool:
    """Worker processes that grade submissions; a crashed pool is replaced, one of `size` or of one."""

    def __init__(self, size: int, initargs: tuple):
        self.size, self.initargs = size, initargs
        self.context = multiprocessing.get_context("spawn")
        self.counter = self.context.Value("i", 0)
        self.executors: dict[int, ProcessPoolExecutor] = {}

    def get(self, size: int) -> ProcessPoolExecutor:
        if size not in self.executors:
            self.executors[size] = ProcessPoolExecutor(size, mp_context=self.context, initializer=_init_worker,
                                                       initargs=(self.counter, *self.initargs))
        return self.executors[size]

    def discard(self, size: int, wait: bool = False) -> None:
        executor = self.executors.pop(size, None)
        if executor is not None:
            executor.shutdown(wait=wait, cancel_futures=True)

    def kill(self, size: int) -> None:
        """Stop the workers of one executor now (their futures fail with BrokenProcessPool)."""
        if size in self.executors:
            _stop_workers(self.executors[size])

    def shutdown(self, kill: bool = False) -> None:
        for size in list(self.executors):
            if kill:
                _stop_workers(self.executors[size])
            self.discard(size, wait=not kill)


def _grade_all(course, db_url, pool: _Pool, todo, task_args, settings: Grader, summary, progress) -> None:
    """Grade `todo`, at most pool.size at a time, committing each outcome as it arrives.

    When a worker dies (killed, out of memory) every submission in flight fails with BrokenProcessPool,
    and nobody can tell which one killed it. Those submissions become suspects and are graded again one
    at a time, alone in a pool of one worker: a suspect that crashes that pool too is the culprit, and
    only it is recorded as failed. A submission still in a worker after settings.submission_seconds is
    stopped with its worker (its classmates in flight become suspects) and recorded as failed. A kernel
    that never started is the machine's fault: tried again, and if it still fails, reported as not graded
    (neither recorded as a zero nor journaled, so a rerun grades it).
    """
    queue = list(todo)
    suspects: list[tuple[str, str, str]] = []
    attempts: dict[tuple[str, str], int] = {}
    in_flight: dict = {}  # future -> (item, when it was handed to a worker)
    overdue: set[tuple[str, str, str]] = set()

    def settle(item, outcome: Outcome) -> None:
        """Record an outcome (or retry a machine failure, or list it as not graded)."""
        if outcome.infrastructure:
            attempts[item[:2]] = attempts.get(item[:2], 0) + 1
            if attempts[item[:2]] < settings.attempts:
                queue.append(item)
                return
            summary.not_graded.append(outcome)
        else:
            problem = commit_or_explain(course, db_url, outcome)
            if problem:
                outcome.failure = problem
                summary.not_graded.append(outcome)
            else:
                summary.outcomes.append(outcome)
        if progress:
            progress.advance(outcome)

    def lost(item, alone: bool) -> None:
        """A submission whose worker died: over time, the culprit, or (with classmates in flight) a suspect."""
        if item in overdue:
            settle(item, Outcome(*item, failure=(
                f"grading this submission took longer than {settings.submission_seconds:g} s, the most one "
                f"submission may take (c.Grader.submission_seconds): it was stopped")))
        elif alone:
            settle(item, Outcome(*item, failure=(
                "the grading worker crashed while grading this submission alone (it ran out of memory or was "
                "killed): nothing of it could be graded")))
        else:
            suspects.append(item)  # maybe it, maybe a classmate in flight: find out alone

    try:
        while queue or suspects or in_flight:
            alone = bool(suspects) and not in_flight
            size = 1 if alone else pool.size
            if not alone and size != 1:
                pool.discard(1, wait=True)  # the suspects are done: no idle worker kept for them
            executor = pool.get(size)
            while (suspects if alone else queue) and len(in_flight) < size:
                item = (suspects if alone else queue).pop(0)
                in_flight[executor.submit(grade_one, *item, *task_args)] = (item, time.monotonic())
            if not in_flight:
                continue
            deadline = min(started for _, started in in_flight.values()) + settings.submission_seconds
            done, _ = wait(in_flight, timeout=max(0.0, deadline - time.monotonic()) + 0.1,
                           return_when=FIRST_COMPLETED)
            if not done:  # someone is over time: stop the workers; every future in flight then fails as broken
                now = time.monotonic()
                overdue |= {item for item, started in in_flight.values()
                            if now - started >= settings.submission_seconds}
                pool.kill(size)
                done, _ = wait(in_flight)
            broken = False
            for future in done:
                item, _ = in_flight.pop(future)
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    broken = True
                    lost(item, alone)
                    continue
                settle(item, outcome)
            if broken:
                # The other futures of a broken pool fail the same way.
                for future in list(in_flight):
                    item, _ = in_flight.pop(future)
                    lost(item, alone)
                pool.discard(size)
    except KeyboardInterrupt:
        for future in in_flight:
            future.cancel()
        pool.shutdown(kill=True)
        raise


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    for process in list(getattr(pool, "_processes", {}).values()):
        if process.is_alive():
            process.kill()


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
