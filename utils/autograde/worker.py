"""The worker side of a class run: grade one submission, from its folder to an Outcome, in a worker process.

    init_worker(...)                 once per worker process (runs in the pool's initializer)
    grade_one(assignment, student, fingerprint, overrides, feedback) -> Outcome

One line from a submission to its grades: stage its files within the limits (staging.py), check and
repair it (preflight.py), run nbgrader's Autograde converter on it (nbgrader_config.py: the sandboxed kernel,
verdicts from outside the kernel), read the scores nbgrader saved into this worker's private gradebook and the
verdicts' reasons from the autograded notebook, and write the feedback page (feedback.py). Everything that
reads the submission runs here, under the worker's memory limit; only the grader's own process writes the
real gradebook and the journal (runner.py).
"""

import ctypes
import os
import re
import resource
import shutil
import signal
import tempfile
import time
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

from .course import load_config
from .feedback import graded_page
from .limits import SubmissionLimits, SubmissionTooLarge
from .outcome import Outcome
from .preflight import preflight, released_marks_of, source_cells_of
from .shipping import unpack
from .staging import stage


_worker: dict = {}


def init_worker(counter, course: str, snapshot: str, memory_bytes: int) -> None:
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
              feedback: bool = False, more_to_come: bool = True, parcel=None) -> Outcome:
    """Grade one submission in this worker with nbgrader's Autograde; never raises for a bad submission.
    Without `more_to_come` (nothing else waits to be graded), no kernel is started ahead for a next one.
    With a `parcel` (shipping.py: the submission staged on another machine, as data), that is what is graded,
    not the course's submitted/ folder.

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
    if not more_to_come:
        config_overrides = {**config_overrides,
                            "ProbedExecute": {**config_overrides.get("ProbedExecute", {}), "spare_kernel": False}}
    try:
        config = load_config(course, config_overrides)
        limits = SubmissionLimits(config=config)
        with Gradebook(_worker["db_url"]) as gb:
            source_notebooks = gb.find_assignment(assignment).notebooks
            outcome.max_scores = {cell.name: cell.max_score for nb in source_notebooks for cell in nb.grade_cells}
            source_cells = source_cells_of(gb, assignment)
        if parcel is None:
            refusals, problem = _stage(course / "submitted" / student / assignment, staged, limits,
                                       frozenset(source_cells), outcome)
        else:
            refusals, problem = unpack(parcel, staged, limits, frozenset(source_cells)), None
            outcome.notes += [str(refusal) for refusal in refusals]
        if problem is None:
            checked = preflight(staged, source_cells, refusals, limits,
                                released_marks_of(config, assignment, source_cells))
            outcome.notes += checked.notes
            outcome.timestamp = checked.timestamp.isoformat() if checked.timestamp else None
            problem = checked.failure
        if problem is None:
            _run_nbgrader(config, staged_root, assignment, student, outcome)
        if problem is None and outcome.failure is None and feedback and not kernel_start_failures:
            problem_page = graded_page(config, _worker["db_url"], assignment, student)
            if problem_page:
                outcome.notes.append(f"the feedback page could not be generated: {problem_page}")
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

    problem = convert(Autograde, config, _worker["db_url"], assignment, student, submitted=staged_root,
                      create_student=True)
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
            for comment in notebook.comments:  # e.g. nbgrader's "No response." on an answer left as released
                outcome.comments[comment.name] = comment.auto_comment
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


def convert(converter_class, config, db_url: str, assignment: str, student: str, submitted: Path | None = None,
            **settings) -> str | None:
    """Run one of nbgrader's converters on one submission, against the gradebook at `db_url` (a worker's private
    copy) and the submissions in `submitted` (staged ones); returns why it failed, or None."""
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log

    config = config.copy()
    config.CourseDirectory.db_url = db_url
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
