"""The grader under stress: graders side by side, a worker that dies, a kernel that never starts."""

import json
import multiprocessing
import re
import os
import resource
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from idnn.autograde.runner import read_journal
from idnn.autograde.sandbox import Sandbox, kernel_cgroups

from .conftest import BIN, COURSE_CONFIG, idnn_grade, read_notebook, released_course, scores_of, tool_env
from .samples import initialization as samples
from .test_class_grading import _sandbox_processes
from .samples.generate import build

pytestmark = pytest.mark.grading

BY_NAME = {sample.student: sample for sample in samples.SAMPLES}


def expected(student: str) -> dict[str, float]:
    return {test: float(BY_NAME[student].expected.get(test, 0)) for test in samples.ALL_TESTS}


def course_with(root: Path, students: list[str], config_extra: str = "") -> Path:
    course = released_course(root, COURSE_CONFIG + config_extra, assignments=["initialization"])
    build(course, "initialization", samples=[BY_NAME[name] for name in students])
    return course


@pytest.mark.slow
def test_two_graders_at_once_grade_every_sample_exactly(tmp_path):
    """Two idnn-grade runs on two course copies at the same time (four kernels at once): every score exact."""
    students = ["perfect", "blank", "alternative", "partial", "cheater", "kernel_exit", "linker"]
    courses = [course_with(tmp_path / f"course{i}", students) for i in (1, 2)]
    runs = [subprocess.Popen([str(BIN / "idnn-grade"), "--jobs", "2", "--no-feedback"], cwd=course, env=tool_env(),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for course in courses]
    outputs = [run.communicate(timeout=900)[0] for run in runs]
    for course, run, output in zip(courses, runs, outputs):
        assert run.returncode == 0, output
        scores = scores_of(course)
        for student in students:
            assert scores[student] == expected(student), f"{course.name}/{student}\n{output}"


def _kill_workers_grading(student: str, stop: threading.Event, kills: list[int]) -> None:
    """Like an out-of-memory killer that always picks the worker grading `student`: SIGKILL it whenever seen.

    Only workers of this run: a scratch folder left by an earlier run (a killed worker never removes its own) names
    a pid that may since belong to anything, a kernel of this run included.
    """
    root = Path(tempfile.gettempdir())
    pattern = f"idnn-worker*-pid*-*/submitted/{student}"
    earlier = set(root.glob(pattern))
    while not stop.is_set():
        for staged in set(root.glob(pattern)) - earlier:
            pid = int(staged.parent.parent.name.split("-pid")[1].split("-")[0])
            try:
                is_worker = b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                is_worker = False
            if pid not in kills and is_worker:
                try:
                    os.kill(pid, signal.SIGKILL)
                    kills.append(pid)
                except ProcessLookupError:
                    pass
        time.sleep(0.02)


@pytest.mark.slow
def test_a_worker_that_dies_costs_only_the_submission_it_was_grading(tmp_path):
    course = course_with(tmp_path / "course", ["perfect", "partial", "kernel_exit", "alternative"])
    culprit = course / "submitted" / "culprit"
    shutil.copytree(course / "submitted" / "perfect", culprit)
    stop, kills = threading.Event(), []
    killer = threading.Thread(target=_kill_workers_grading, args=("culprit", stop, kills), daemon=True)
    killer.start()
    try:
        result = idnn_grade("--jobs", "2", "--no-feedback", cwd=course, check=False)
    finally:
        stop.set()
        killer.join()
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(kills) >= 2, "the worker grading the culprit should have been killed in the pool and alone"
    journal = read_journal(course)
    assert "crashed while grading this submission alone" in journal[("initialization", "culprit")]["failure"]
    scores = scores_of(course)
    assert sum(scores["culprit"].values()) == 0
    for student in ("perfect", "partial", "kernel_exit", "alternative"):
        assert scores[student] == expected(student), student
        assert not (journal[("initialization", student)]["failure"] or "").startswith("the grading worker")
    assert not _sandbox_processes(), "a killed worker's sandbox outlived the run"


def test_a_pool_found_broken_when_handing_out_work_is_replaced(tmp_path):
    """A worker can die between two hand-outs (seen under load, when the worker killer above struck between them):
    the submission not yet handed out is neither lost nor a reason to stop the class."""
    from concurrent.futures.process import BrokenProcessPool

    from idnn.autograde.pool import Pool, _stop_workers, grade_all

    (tmp_path / "gradebook.db").write_bytes(b"")
    pool = Pool(2, (str(tmp_path), str(tmp_path / "gradebook.db"), 0))
    try:
        executor = pool.get(2)
        executor.submit(os.getpid).result(timeout=60)  # the workers are up
        _stop_workers(executor)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until the executor knows it is broken
            try:
                executor.submit(os.getpid).result(timeout=60)
            except BrokenProcessPool:
                break
        todo = [("initialization", student, "fingerprint") for student in ("first", "second", "third")]
        outcomes = []
        grade_all(pool, todo, ({}, False), seconds=120, attempts=2, record=lambda outcome, graded=True:
                  outcomes.append(outcome))
    finally:
        pool.shutdown(kill=True)
    # No such course here: each is recorded as a grader failure, which is all this test needs.
    assert sorted(outcome.student for outcome in outcomes) == ["first", "second", "third"]
    assert all("the grader failed on this submission" in outcome.failure for outcome in outcomes)


FLAKY_BWRAP = """#!/bin/sh
# bubblewrap that fails to start while the counter file holds a positive number (then counts down).
counter={counter}
n=$(cat "$counter")
if [ "$n" -gt 0 ]; then
    echo $((n - 1)) > "$counter"
    exit 1
fi
exec {bwrap} "$@"
"""


def _flaky_bwrap(tmp_path: Path, failures: int) -> Path:
    counter = tmp_path / "failures-left"
    counter.write_text(str(failures))
    script = tmp_path / "flaky-bwrap"
    script.write_text(FLAKY_BWRAP.format(counter=counter, bwrap=shutil.which("bwrap")))
    script.chmod(0o755)
    return script


@pytest.mark.slow
def test_a_kernel_that_fails_to_start_is_started_again(tmp_path):
    flaky = _flaky_bwrap(tmp_path, failures=2)
    course = course_with(tmp_path / "course", ["perfect", "partial"], f"\nc.Sandbox.bwrap = {str(flaky)!r}\n")
    idnn_grade("--jobs", "1", "--no-feedback", cwd=course)
    assert (tmp_path / "failures-left").read_text().strip() == "0", "the flaky start was not exercised"
    scores = scores_of(course)
    assert scores["perfect"] == expected("perfect") and scores["partial"] == expected("partial")


@pytest.mark.slow
def test_a_kernel_that_never_starts_is_never_a_silent_zero(tmp_path):
    flaky = _flaky_bwrap(tmp_path, failures=10**6)
    config = f"\nc.Sandbox.bwrap = {str(flaky)!r}\n"
    course = course_with(tmp_path / "course", ["perfect"], config)
    result = idnn_grade("--jobs", "1", "--no-feedback", cwd=course, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "could NOT be graded" in result.stderr and "problem of the grading machine" in result.stderr
    assert ("initialization", "perfect") not in read_journal(course), "a machine failure must not be journaled"
    assert "perfect" not in scores_of(course), "a machine failure must not be recorded as a zero"
    # Plain nbgrader autograde fails loudly too, rather than recording zeros.
    plain = subprocess.run([str(BIN / "nbgrader"), "autograde", "initialization", "--force"], cwd=course,
                           env=tool_env(), capture_output=True, text=True, timeout=600)
    assert "could not be started" in plain.stdout + plain.stderr
    # Once the machine is mended, a rerun grades it.
    (course / "nbgrader_config.py").write_text((course / "nbgrader_config.py").read_text().replace(config, ""))
    idnn_grade("--jobs", "1", "--no-feedback", cwd=course)
    assert scores_of(course)["perfect"] == expected("perfect")


def _worker_limit(snapshot: str, queue) -> None:
    import resource

    from idnn.autograde.worker import init_worker

    init_worker(multiprocessing.get_context("spawn").Value("i", 0), "/nonexistent", snapshot, 3 * 2**30)
    queue.put(resource.getrlimit(resource.RLIMIT_AS))


@pytest.mark.slow
def test_grading_workers_run_under_a_memory_limit_of_their_own(tmp_path):
    (tmp_path / "gradebook.db").write_bytes(b"")
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    worker = context.Process(target=_worker_limit, args=(str(tmp_path / "gradebook.db"), queue))
    worker.start()
    soft, hard = queue.get(timeout=60)
    worker.join(timeout=60)
    assert soft == 3 * 2**30, "a worker's address space is limited"
    assert hard == resource.getrlimit(resource.RLIMIT_AS)[1], "only the soft limit: the kernel's launcher sets its own"


SUBMISSION_SENSITIVE_BWRAP = """#!/bin/sh
# bubblewrap that fails to start whenever the folder bound at /submission holds a file named poison.txt
# (as if a file of the submission stopped every kernel start).
previous=""
for arg in "$@"; do
    if [ "$arg" = "/submission" ] && [ -e "$previous/poison.txt" ]; then exit 1; fi
    previous="$arg"
done
exec {bwrap} "$@"
"""


@pytest.mark.slow
def test_a_kernel_stopped_by_the_submission_is_the_submissions_zero_not_the_machines(tmp_path):
    script = tmp_path / "picky-bwrap"
    script.write_text(SUBMISSION_SENSITIVE_BWRAP.format(bwrap=shutil.which("bwrap")))
    script.chmod(0o755)
    # Every kernel starts when its notebook needs it, the submission's files already in its folder: a spare kernel
    # (started ahead, with an empty folder) would never meet the poison, and the poisoned notebook would score.
    course = course_with(tmp_path / "course", ["perfect"], f"\nc.Sandbox.bwrap = {str(script)!r}\n"
                         "c.ProbedExecute.spare_kernel = False\n")
    shutil.copytree(course / "submitted" / "perfect", course / "submitted" / "poisoned")
    (course / "submitted" / "poisoned" / "initialization" / "poison.txt").write_text("x")
    result = idnn_grade("--jobs", "1", "--no-feedback", cwd=course, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    scores = scores_of(course)
    assert scores["perfect"] == expected("perfect")
    assert sum(scores["poisoned"].values()) == 0
    notes = " ".join(read_journal(course)[("initialization", "poisoned")]["notes"])
    assert "did not start with this submission's files" in notes and "starts without them" in notes


def test_widget_state_from_the_kernel_is_never_kept(graded_course):
    """The widget_leak sample sends the hidden check's source over a widget comm: nothing of it is kept."""
    path = graded_course / "autograded" / "widget_leak" / "initialization" / "initialization.ipynb"
    nb = read_notebook(path)
    assert "widgets" not in nb.metadata
    assert "_hidden_checks" not in json.dumps(nb.metadata) + json.dumps([c.get("outputs", []) for c in nb.cells])


def test_the_sandboxs_tmp_is_sized(graded_course):
    """The tmp_filler sample writes 320 MiB into /tmp, which is memory: it is refused once 256 MiB are used."""
    path = graded_course / "autograded" / "tmp_filler" / "initialization" / "initialization.ipynb"
    assert "refused: ENOSPC" in json.dumps([c.get("outputs", []) for c in read_notebook(path).cells])


MEMORY_SPREAD = """
import subprocess, sys, time
hold = "import time; x = b'1' * (600 * 2**20); print('holding', flush=True); time.sleep(30)"
children = [subprocess.Popen([sys.executable, "-c", hold], stdout=subprocess.PIPE, text=True) for _ in range(3)]
for child in children:
    child.stdout.readline()  # holding, or '' once killed
time.sleep(1)
print("children holding 600 MiB each:", sum(child.poll() is None for child in children))
for child in children:
    child.kill()
"""


@pytest.mark.slow
@pytest.mark.skipif(not kernel_cgroups(61999, Sandbox()), reason="this machine offers no writable cgroup v1 controllers")
def test_the_whole_sandbox_shares_one_memory_limit(tmp_path):
    """Three processes of 600 MiB each stay under a 2 GiB address-space limit apiece, but not under 1 GiB together."""
    course = course_with(tmp_path / "course", [], "\nc.Sandbox.total_memory_bytes = 2**30\n")
    spread = samples.Sample("spread", "memory spread over processes",
                            answers={"init_zeros": MEMORY_SPREAD + samples.SOLUTION_PLACEHOLDER})
    build(course, "initialization", samples=[spread])
    idnn_grade("--jobs", "1", "--no-feedback", cwd=course)
    nb = read_notebook(course / "autograded" / "spread" / "initialization" / "initialization.ipynb")
    printed = json.dumps([c.get("outputs", []) for c in nb.cells])
    held = re.search(r"children holding 600 MiB each: (\d)", printed)
    assert held, printed[:2000]
    assert int(held.group(1)) < 3, "all three held their memory: the sandbox's total was not limited"
