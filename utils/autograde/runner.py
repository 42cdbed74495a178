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
import hashlib
import json
import multiprocessing
import os
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

from .course import gradebook_url, load_config

JOURNAL = ".journal.jsonl"

# nbgrader's add_submission trips SQLAlchemy 2's autoflush warning; harmless, and stock nbgrader hides it too.
warnings.filterwarnings("ignore", message=".*not in session.*", module="nbgrader")
# A test cell that nbgrader puts back (the student deleted it) has no cell id; nbformat warns about it.
warnings.filterwarnings("ignore", message="Cell is missing an id field")


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

    @property
    def total(self) -> float:
        return float(sum(self.scores.values()))


# -- what to grade -----------------------------------------------------------------------------

def fingerprint(folder: Path) -> str:
    """sha256 over the names and bytes of every file of a submission."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def submissions(course: Path, assignment: str) -> list[tuple[str, Path]]:
    """(student, folder) of every submission of `assignment` in submitted/, sorted by student."""
    root = course / "submitted"
    if not root.is_dir():
        return []
    return [(student.name, student / assignment) for student in sorted(root.iterdir())
            if (student / assignment).is_dir()]


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


def _init_worker(counter, course: str, snapshot: str) -> None:
    """Runs once in each worker: die with the grader, take a worker number, copy the gradebook."""
    libc = ctypes.CDLL(None)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: if the grader is killed, so are we (and our kernels)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the grader's to handle
    with counter.get_lock():
        slot = counter.value
        counter.value += 1
    os.environ["IDNN_WORKER"] = str(slot)
    scratch = Path(tempfile.mkdtemp(prefix=f"idnn-worker{slot}-"))
    private = scratch / "gradebook.db"
    shutil.copy(snapshot, private)
    _worker.update(course=Path(course), scratch=scratch, db_url=f"sqlite:///{private}")


def grade_one(assignment: str, student: str, fingerprint_: str, config_overrides: dict) -> Outcome:
    """Grade one submission in this worker with nbgrader's Autograde; never raises for a bad submission."""
    course, scratch = _worker["course"], _worker["scratch"]
    outcome = Outcome(assignment, student, fingerprint_)
    start = time.perf_counter()
    staged_root = scratch / "submitted"
    shutil.rmtree(staged_root, ignore_errors=True)
    staged = staged_root / student / assignment
    shutil.copytree(course / "submitted" / student / assignment, staged)
    try:
        with Gradebook(_worker["db_url"]) as gb:
            source_notebooks = gb.find_assignment(assignment).notebooks
            notebooks = [nb.name for nb in source_notebooks]
            outcome.max_scores = {cell.name: cell.max_score for nb in source_notebooks for cell in nb.grade_cells}
        problem = _prepare(staged, notebooks, outcome)
        if problem is None:
            _run_nbgrader(course, staged_root, assignment, student, config_overrides, outcome)
    except Exception as error:  # a grader bug or an unforeseen input: record it, keep grading the class
        outcome.failure = f"the grader failed on this submission: {type(error).__name__}: {error}"
    else:
        if problem is not None:
            outcome.failure = problem
    if outcome.failure:
        outcome.scores = {name: 0.0 for name in outcome.max_scores}
        outcome.manual = {name: False for name in outcome.max_scores}
    outcome.seconds = time.perf_counter() - start
    return outcome


def _prepare(staged: Path, notebooks: list[str], outcome: Outcome) -> str | None:
    """Check the staged submission before nbgrader sees it; fix what can be fixed; return a failure or None."""
    present = {p.stem: p for p in staged.glob("*.ipynb")}
    for name in notebooks:
        if name in present:
            continue
        strays = [p for stem, p in present.items() if stem not in notebooks]
        if len(strays) == 1:
            strays[0].rename(staged / f"{name}.ipynb")
            outcome.notes.append(f"graded {strays[0].name} as {name}.ipynb (the notebook was renamed)")
            present = {p.stem: p for p in staged.glob("*.ipynb")}
        else:
            found = ", ".join(sorted(p.name for p in present.values())) or "no notebook at all"
            return f"{name}.ipynb is missing (found {found}); submit the notebook under its original name"
    for name in notebooks:
        path = staged / f"{name}.ipynb"
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception as error:
            return f"{name}.ipynb is not a readable notebook ({type(error).__name__}: {str(error)[:200]})"
        ids = [cell.get("id") for cell in nb.cells if cell.get("id")]
        if len(ids) != len(set(ids)):
            # nbgrader refuses duplicate cell ids; new ids lose nothing (grade ids live in the metadata)
            for index, cell in enumerate(nb.cells):
                cell["id"] = f"cell-{index}"
            nbformat.write(nb, path)
            outcome.notes.append(f"{name}.ipynb had duplicate cell ids; they were renumbered")
    return None


def _run_nbgrader(course: Path, staged_root: Path, assignment: str, student: str, overrides: dict,
                  outcome: Outcome) -> None:
    from nbgrader.converters import Autograde
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log

    config = load_config(course, overrides)
    config.CourseDirectory.db_url = _worker["db_url"]
    config.CourseDirectory.submitted_directory = str(staged_root)
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id, coursedir.student_id = assignment, student
    converter = Autograde(coursedir=coursedir, config=config)
    converter.force = True
    converter.create_student = True
    result = capture_log(converter)
    if not result["success"]:
        reason = (result.get("error") or result.get("log") or "nbgrader failed").strip().splitlines()[-1]
        outcome.failure = f"nbgrader could not autograde this submission: {reason}"
        return
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
        for cell in nb.cells:
            info = cell.metadata.get("idnn")
            if info and info.get("problems"):
                outcome.hidden_failures[cell.metadata["nbgrader"]["grade_id"]] = info["problems"][:3]
            if info and info.get("kernel_errors"):
                outcome.hidden_failures.setdefault(cell.metadata["nbgrader"]["grade_id"], []).extend(
                    info["kernel_errors"][:2])


# -- the writer side ----------------------------------------------------------------------------

def commit(course: Path, db_url: str, outcome: Outcome) -> None:
    """Write one outcome into the gradebook, then record it in the journal."""
    folder = course / "submitted" / outcome.student / outcome.assignment
    timestamp = _timestamp(folder)
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


def _timestamp(folder: Path):
    from nbgrader.utils import parse_utc

    path = folder / "timestamp.txt"
    if path.is_file():
        try:
            return parse_utc(path.read_text().strip())
        except ValueError:
            return None
    return None


# -- the run ------------------------------------------------------------------------------------

@dataclass
class RunSummary:
    outcomes: list[Outcome]
    skipped: int
    interrupted: bool
    seconds: float


def run(course: Path, assignments: list[str], jobs: int | None = None, force: bool = False,
        config_overrides: dict | None = None, progress=None) -> RunSummary:
    """Grade every new or changed submission of `assignments`; see the module docstring."""
    course = course.resolve()
    db_url = gradebook_url(course)
    _check_assignments(db_url, assignments)
    journal = {} if force else read_journal(course)
    todo, skipped = [], 0
    for assignment in assignments:
        for student, folder in submissions(course, assignment):
            digest = fingerprint(folder)
            if journal.get((assignment, student), {}).get("fingerprint") == digest:
                skipped += 1
            else:
                todo.append((assignment, student, digest))
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo) or 1))
    start = time.perf_counter()
    outcomes: list[Outcome] = []
    interrupted = False
    if progress:
        progress.start(len(todo), skipped)
    with tempfile.TemporaryDirectory(prefix="idnn-grading-") as scratch:
        snapshot = Path(scratch) / "gradebook-snapshot.db"
        shutil.copy(course / "gradebook.db", snapshot)
        try:
            _grade_all(course, db_url, snapshot, todo, jobs, config_overrides or {}, outcomes, progress)
        except KeyboardInterrupt:
            interrupted = True
    if progress:
        progress.finish(interrupted)
    return RunSummary(outcomes, skipped, interrupted, time.perf_counter() - start)


def _grade_all(course, db_url, snapshot, todo, jobs, overrides, outcomes, progress) -> None:
    context = multiprocessing.get_context("spawn")
    counter = context.Value("i", 0)
    pending = list(todo)
    attempts: dict[tuple[str, str], int] = {}
    while pending:
        with ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_worker,
                                 initargs=(counter, str(course), str(snapshot))) as pool:
            futures = {pool.submit(grade_one, a, s, d, overrides): (a, s, d) for a, s, d in pending}
            pending = []
            try:
                while futures:
                    done, _ = wait(futures, return_when=FIRST_COMPLETED)
                    for future in done:
                        assignment, student, digest = futures.pop(future)
                        try:
                            outcome = future.result()
                        except BrokenProcessPool:
                            # A worker died (not a kernel: the grader's own process). Try once more.
                            attempts[(assignment, student)] = attempts.get((assignment, student), 0) + 1
                            if attempts[(assignment, student)] < 2:
                                pending.append((assignment, student, digest))
                                continue
                            outcome = Outcome(assignment, student, digest, failure="the grading worker crashed twice")
                        commit(course, db_url, outcome)
                        outcomes.append(outcome)
                        if progress:
                            progress.advance(outcome)
            except KeyboardInterrupt:
                for future in futures:
                    future.cancel()
                _stop_workers(pool)
                raise


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    for process in list(getattr(pool, "_processes", {}).values()):
        if process.is_alive():
            process.kill()


def _check_assignments(db_url: str, assignments: list[str]) -> None:
    with Gradebook(db_url) as gb:
        for assignment in assignments:
            try:
                gb.find_assignment(assignment)
            except MissingEntry:
                raise SystemExit(f"Assignment {assignment!r} is not in the gradebook. Run "
                                 f"`nbgrader generate_assignment {assignment}` (or `make release`) first.")
