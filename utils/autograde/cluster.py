"""Grading on a Dask cluster: many machines, no shared file system, one writer of the gradebook.

    idnn-grade --cluster local:2 ...              a LocalCluster of 2 worker processes on this machine
    idnn-grade --scheduler tcp://HOST:8786 ...    a running cluster (README.md, "Grading at scale")

The instructor's process (the client) does what it does for a local run (runner.py): it finds what to grade,
writes the gradebook, autograded/, feedback/ and the journal, one submission at a time. What changes is who grades:

    client   stages each submission (staging.py, within the course's limits) and packs it as data (shipping.py);
             sends it as one task, with the assignment's course version and the gradebook's definitions
             (snapshot.py, sent once and kept by the scheduler); places what comes back and records it
    worker   a `dask worker` started with this module as its preload (or, for --cluster local:N, given the plugin
             by the client): CourseWorker holds the worker's own copy of the course (nbgrader_config.py, source/,
             release/, the idnn package), refuses a task whose course version is not its own, and grades in a
             child process of its own (pool.py: memory limit, time limit, dies with the worker), exactly as a local
             worker does (worker.grade_one), in a private course folder; it returns the Outcome, the autograded
             folder and the feedback folder

A worker that dies mid-task (killed, out of memory) loses nothing: Dask gives the task to another worker. When a
task has killed `distributed.scheduler.allowed-failures` + 1 workers, Dask gives up on it and on every task queued
with it; each is then graded again alone on the cluster, and only one that kills its workers alone too scores zero
with the reason, as a local run's culprit does. A client that is interrupted, or whose scheduler goes away, stops; what it recorded
is kept, and the same command grades the rest.
"""

import hashlib
import logging
import multiprocessing
import os
import shutil
import sys
import tempfile
import threading
import uuid
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import click
import dask
from distributed import Client, KilledWorker, LocalCluster, as_completed, get_worker
from distributed.diagnostics.plugin import WorkerPlugin

from .course import load_config
from .limits import SubmissionLimits, SubmissionTooLarge
from .outcome import Outcome
from .pool import CRASHED_ALONE, Pool, over_time
from .shipping import BadParcel, Parcel, gather, pack, place
from .staging import shown

#: The name the worker plugin is registered under.
PLUGIN = "idnn-course"
#: What a task may wait in Dask's queue beyond the workers' threads: enough to keep them busy, few enough that
#: the client holds only a handful of parcels at once; and the most their bytes may come to (one parcel at least).
QUEUED_PER_THREAD = 2
MAX_QUEUED_BYTES = 512 * 2**20


class ClusterProblem(RuntimeError):
    """The cluster cannot grade for this course (no workers, no plugin, another course version); the message says
    what to do."""


# -- the course version ----------------------------------------------------------------------------------------

def course_version(course: Path, assignment: str) -> str:
    """sha256 of everything that decides an assignment's grades on a worker: nbgrader_config.py, the assignment's
    source and release folders, the idnn package (student and trusted side), the datasets' checksums, and the
    versions of Python, nbgrader and NumPy. Client and worker compute it each from their own copy."""
    import nbgrader._version
    import numpy

    from ..paths import datasets_dir

    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(f"python {sys.version_info[:2]} nbgrader {nbgrader._version.__version__} "
                            f"numpy {numpy.__version__}\0".encode())
    files = [("nbgrader_config.py", Path(course) / "nbgrader_config.py"),
             ("datasets/SHA256SUMS", datasets_dir() / "SHA256SUMS")]
    for label, root in ((f"source/{assignment}", Path(course) / "source" / assignment),
                        (f"release/{assignment}", Path(course) / "release" / assignment), ("idnn", package)):
        files += sorted((f"{label}/{path.relative_to(root)}", path) for path in root.rglob("*")
                        if path.is_file() and "__pycache__" not in path.parts and ".ipynb_checkpoints" not in path.parts)
    for label, path in files:
        digest.update(label.encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest() if path.is_file() else b"missing")
    return digest.hexdigest()


# -- the worker's side -----------------------------------------------------------------------------------------

@dataclass
class Task:
    """One submission to grade, as it travels to a worker."""

    assignment: str
    student: str
    fingerprint: str
    version: str  # course_version() of the assignment on the instructor's side
    parcel: Parcel
    overrides: dict
    feedback: bool


@dataclass
class Returned:
    """What a worker sends back: the outcome and the files grading wrote, or why it refused the task."""

    outcome: Outcome | None = None
    autograded: dict[str, bytes] | None = None
    feedback: dict[str, bytes] | None = None
    refused: str | None = None


class CourseWorker(WorkerPlugin):
    """A Dask worker's copy of the course, and the one child process that grades on it, one submission at a time.

    `course_dir` is on the worker's machine: a copy of the course (nbgrader_config.py, source/, release/), next to
    the installed idnn package and bubblewrap. Grading happens in a private course folder of the worker's (those
    three linked or copied in, and autograded/ and feedback/ of its own), so nothing is written into `course_dir`.
    """

    def __init__(self, course_dir: str):
        self.course_dir = str(Path(course_dir).resolve())

    def setup(self, worker=None) -> None:
        course = Path(self.course_dir)
        missing = [name for name in ("nbgrader_config.py", "source", "release") if not (course / name).exists()]
        if missing:
            raise ClusterProblem(f"{course} is not a course folder (it has no {', '.join(missing)}): start the "
                                 f"worker with --idnn-course-dir set to a copy of the course")
        # Dask's nanny starts each worker with OMP_NUM_THREADS=1 and the like (distributed.nanny.pre-spawn-environ);
        # a local worker's kernels have no such settings, and a submission is graded the same way everywhere.
        for name, value in (dask.config.get("distributed.nanny.pre-spawn-environ", None) or {}).items():
            if os.environ.get(name) == str(value):
                del os.environ[name]
        # Dask starts its worker processes as daemons, and multiprocessing lets no daemon have a child. The flag is
        # there so that a worker's children end with it; the grading child does anyway (PR_SET_PDEATHSIG, worker.py).
        multiprocessing.current_process()._config["daemon"] = False
        self.scratch = Path(tempfile.mkdtemp(prefix="idnn-dask-worker-"))
        self.private = self.scratch / "course"
        self.private.mkdir()
        shutil.copy(course / "nbgrader_config.py", self.private / "nbgrader_config.py")
        for name in ("source", "release"):
            (self.private / name).symlink_to(course / name)
        config = load_config(self.private)
        from .runner import Grader

        self.settings = Grader(config=config)
        self.lock = threading.Lock()
        self.pool, self.snapshot_key = None, None
        self.versions: dict[str, str] = {}
        self.address = getattr(worker, "address", "?")

    def teardown(self, worker=None) -> None:
        if self.pool is not None:
            self.pool.shutdown(kill=True)
        shutil.rmtree(self.scratch, ignore_errors=True)

    def version(self, assignment: str) -> str:
        if assignment not in self.versions:
            self.versions[assignment] = course_version(Path(self.course_dir), assignment)
        return self.versions[assignment]

    def grade(self, task: Task, snapshot: bytes) -> Returned:
        with self.lock:  # one submission at a time in this worker (start workers with --nthreads 1)
            mine = self.version(task.assignment)
            if mine != task.version:
                return Returned(refused=(
                    f"the worker {self.address} has another version of {task.assignment} ({mine[:12]}, the "
                    f"instructor's is {task.version[:12]}): give it the same course and idnn package, then rerun"))
            self._pool_for(snapshot)
            return self._grade(task)

    def _pool_for(self, snapshot: bytes) -> None:
        """The grading child, started on this gradebook snapshot (restarted when the snapshot changes)."""
        key = hashlib.sha256(snapshot).hexdigest()
        if key == self.snapshot_key and self.pool is not None:
            return
        if self.pool is not None:
            self.pool.shutdown(kill=True)
        path = self.scratch / f"gradebook-{key[:16]}.db"
        path.write_bytes(snapshot)
        self.pool = Pool(1, (str(self.private), str(path), self.settings.worker_memory_bytes))
        self.snapshot_key = key

    def _grade(self, task: Task) -> Returned:
        item = (task.assignment, task.student, task.fingerprint)
        executor = self.pool.get(1)
        future = executor.submit(grade_in_child, *item, task.overrides, task.feedback, task.parcel)
        try:
            return future.result(timeout=self.settings.submission_seconds)
        except FutureTimeout:
            self.pool.kill(1)
            self.pool.discard(1)
            reason = over_time(self.settings.submission_seconds)
        except BrokenProcessPool:
            self.pool.discard(1)
            reason = CRASHED_ALONE
        return Returned(outcome=Outcome(*item, failure=reason).bounded())


def grade_in_child(assignment: str, student: str, fingerprint: str, overrides: dict, feedback: bool,
                   parcel: Parcel) -> Returned:
    """In the grading child: grade the parcel (worker.grade_one) and take back what grading wrote."""
    from .worker import _worker, grade_one

    course = _worker["course"]
    written = [course / "autograded" / student / assignment, course / "feedback" / student / assignment]
    for folder in written:
        shutil.rmtree(folder, ignore_errors=True)
    outcome = grade_one(assignment, student, fingerprint, overrides, feedback, parcel=parcel)
    returned = Returned(outcome=outcome)
    try:
        returned.autograded, returned.feedback = gather(written[0]), gather(written[1])
    except (OSError, BadParcel) as error:
        outcome.notes.append(f"the graded files could not be sent back ({type(error).__name__}: {error})")
    for folder in written:
        shutil.rmtree(folder.parent, ignore_errors=True)
    return returned


def grade_task(task: Task, snapshot: bytes) -> Returned:
    """The Dask task: grade one submission on the worker running it."""
    plugin = get_worker().plugins.get(PLUGIN)
    if plugin is None:
        return Returned(refused=("this Dask worker has no course: start it with "
                                 "`--preload idnn.autograde.cluster --idnn-course-dir <its copy of the course>`"))
    return plugin.grade(task, snapshot)


def worker_versions(assignments: list[str], dask_worker=None) -> dict[str, str] | None:
    """On a worker: its course version of each assignment, or None if it has no course plugin."""
    plugin = dask_worker.plugins.get(PLUGIN)
    return None if plugin is None else {assignment: plugin.version(assignment) for assignment in assignments}


@click.command()
@click.option("--idnn-course-dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="This worker's copy of the course folder (nbgrader_config.py, source/, release/).")
async def dask_setup(worker, idnn_course_dir: str) -> None:
    """`dask worker --preload idnn.autograde.cluster --idnn-course-dir DIR`: give the worker its course."""
    await worker.plugin_add(CourseWorker(idnn_course_dir), name=PLUGIN)


# -- the client's side -----------------------------------------------------------------------------------------

class ClusterGrader:
    """A connection to a Dask cluster that grades this course: `local:N` starts a LocalCluster of N worker
    processes (one thread each) with the course plugin; a tcp:// address joins a running scheduler."""

    def __init__(self, course: Path, address: str):
        self.course, self.address, self.local = Path(course), address, None
        logging.getLogger("distributed").setLevel(logging.CRITICAL)  # what matters is said in our own words
        try:
            if address.startswith("local:"):
                workers = int(address.split(":", 1)[1])
                if workers < 1:
                    raise ValueError
                self.local = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                          dashboard_address=None, silence_logs=logging.ERROR)
                self.client = Client(self.local)
                self.client.register_plugin(CourseWorker(str(self.course)), name=PLUGIN)
            else:
                self.client = Client(address, timeout="10s")
        except ValueError:
            raise ClusterProblem(f"--cluster takes local:N, N a number of workers (1 or more), not {address!r}")
        except OSError as error:
            raise ClusterProblem(f"could not reach the Dask scheduler at {address} ({error}): is it running, and "
                                 f"is the address right?") from None

    @property
    def threads(self) -> int:
        return sum(self.client.nthreads().values())

    def check(self, assignments: list[str]) -> None:
        """Raise ClusterProblem unless every worker has the course plugin and this course's versions of
        `assignments`."""
        versions = {assignment: course_version(self.course, assignment) for assignment in assignments}
        found = self.client.run(worker_versions, list(versions))
        if not found:
            raise ClusterProblem(f"the scheduler at {self.address} has no workers: start some (README.md, "
                                 f"\"Grading at scale\")")
        problems = []
        for address, theirs in sorted(found.items()):
            if theirs is None:
                problems.append(f"{address} has no course: start it with --preload idnn.autograde.cluster "
                                f"--idnn-course-dir <its copy of the course>")
                continue
            problems += [f"{address} has another version of {assignment} ({theirs[assignment][:12]}, yours is "
                         f"{version[:12]})" for assignment, version in versions.items() if theirs[assignment] != version]
        if problems:
            raise ClusterProblem("the cluster cannot grade this course as it is:\n  " + "\n  ".join(problems)
                                 + "\nGive every worker the same course folder and idnn package as this one.")

    def close(self) -> None:
        try:
            self.client.close(timeout=10)
        except Exception:  # noqa: BLE001 - the scheduler may be gone already
            pass
        if self.local is not None:
            self.local.close(timeout=20)


def grade_on_cluster(grader: ClusterGrader, course: Path, todo: list, snapshot_path: Path, limits: SubmissionLimits,
                     notebooks: dict[str, frozenset[str]], max_scores: dict[str, dict[str, float]], overrides: dict,
                     feedback: bool, attempts: int, record) -> str | None:
    """Grade `todo` ((assignment, student, fingerprint) items) on the cluster; `record(outcome)` receives each final
    outcome as it arrives, after its files are in place, and `record(outcome, graded=False)` each one that could
    not be graded at all (see pool.grade_all, whose contract this keeps). Returns None when all is done, or why the
    run stopped before the end (the scheduler went away): what was recorded is kept, and a rerun grades the rest."""
    client = grader.client
    versions = {assignment: course_version(course, assignment) for assignment in {item[0] for item in todo}}
    snapshot = snapshot_path.read_bytes()
    key = hashlib.sha256(snapshot).hexdigest()[:16]
    # Kept by the scheduler as a task, so a worker that joins later (or replaces a dead one) can have it too.
    snapshot_future = client.submit(_same, snapshot, key=f"idnn-gradebook-snapshot-{key}", pure=False)
    queue, tries, in_flight = list(todo), {}, {}  # in_flight: future -> (item, parcel bytes)
    # A worker that dies takes the blame for every task it held, queued ones included: those become suspects, each
    # then graded alone on the cluster (nothing else in flight), and only one that kills its workers alone too is
    # recorded as the culprit (pool.grade_all does the same with its local workers).
    suspects: list = []
    tried_alone: set = set()
    running = as_completed()
    run = uuid.uuid4().hex  # task names never meet an earlier run's results that the scheduler still holds

    def failed_here(item, reason: str) -> Outcome:
        maxima = max_scores[item[0]]
        return Outcome(*item, max_scores=dict(maxima), scores={name: 0.0 for name in maxima},
                       manual={name: False for name in maxima}, failure=reason).bounded()

    def submit(item) -> None:
        """Pack one submission and hand it to the cluster (or record why it cannot be packed)."""
        assignment, student, _ = item
        try:
            parcel = pack(course / "submitted" / student / assignment, limits, notebooks[assignment])
        except SubmissionTooLarge as error:
            record(failed_here(item, str(error)))
            return
        except OSError as error:
            record(failed_here(item, f"the submission folder could not be read ({type(error).__name__}: "
                                     f"{error.strerror}); it must be a folder of regular files, not a link"))
            return
        task = Task(*item, versions[assignment], parcel, overrides, feedback)
        attempt = tries.get(item[:2], 0) + (item in tried_alone)
        name = hashlib.sha256(f"{run}\0{assignment}\0{student}\0{attempt}".encode()).hexdigest()
        future = client.submit(grade_task, task, snapshot_future, key=f"idnn-grade-{name[:24]}", pure=False)
        in_flight[future] = (item, parcel.nbytes)
        running.add(future)

    def send() -> None:
        if suspects:
            if not in_flight:  # the others are done: the next suspect, alone
                item = suspects.pop(0)
                tried_alone.add(item)
                submit(item)
            return
        window = max(1, grader.threads) * QUEUED_PER_THREAD
        while queue and len(in_flight) < window and (
                not in_flight or sum(nbytes for _, nbytes in in_flight.values()) < MAX_QUEUED_BYTES):
            submit(queue.pop(0))

    try:
        send()
        while in_flight or suspects:
            if not in_flight:
                send()
                continue
            future = next(running)
            item, _ = in_flight.pop(future)
            if future.status == "cancelled":
                return "the Dask scheduler went away (or cancelled the work) mid-run"
            if future.status == "error":
                error = future.exception()
                if isinstance(error, KilledWorker) and item in tried_alone:
                    record(failed_here(item, "the grading worker crashed every time it graded this submission, alone "
                                             "on the cluster (it ran out of memory or was killed): nothing of it "
                                             "could be graded"))
                elif isinstance(error, KilledWorker):
                    suspects.append(item)  # it, or a classmate queued on the same worker: find out alone
                else:
                    record(failed_here(item, f"the cluster could not grade it: {type(error).__name__}: "
                                             f"{shown(str(error))[:300]}"), graded=False)
            else:
                _settle(course, item, future.result(), queue, tries, attempts, record, failed_here)
            future.release()
            send()
    except KeyboardInterrupt:
        client.cancel(list(in_flight))
        raise
    except OSError as error:  # the connection to the scheduler broke (CommClosedError is one)
        return f"the connection to the Dask scheduler broke mid-run ({type(error).__name__}: {error})"
    finally:
        snapshot_future.release()


def _settle(course: Path, item, returned: Returned, queue: list, tries: dict, attempts: int, record,
            failed_here) -> None:
    """One task's result: retried (the machine's fault), refused (not graded), or its files placed and recorded."""
    if returned.refused:
        record(failed_here(item, returned.refused), graded=False)
        return
    outcome = returned.outcome
    if outcome.infrastructure:
        tries[item[:2]] = tries.get(item[:2], 0) + 1
        if tries[item[:2]] < attempts:
            queue.append(item)
        else:
            record(outcome, graded=False)
        return
    assignment, student = item[0], item[1]
    try:
        # As a local worker leaves them: a folder is replaced only by one that grading wrote.
        if returned.autograded:
            place(returned.autograded, course / "autograded" / student / assignment)
        if returned.feedback:
            place(returned.feedback, course / "feedback" / student / assignment)
    except (OSError, BadParcel) as error:  # nothing recorded: the gradebook never disagrees with autograded/
        outcome.failure = f"its graded files could not be written ({type(error).__name__}: {shown(str(error))[:300]})"
        record(outcome, graded=False)
        return
    record(outcome)


def _same(value):
    return value


