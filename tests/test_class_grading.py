"""Grading a whole class: the sandbox holds, parallel equals sequential, interruptions lose nothing."""

import csv
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from idnn.autograde.runner import JOURNAL, read_journal
from idnn.autograde.sandbox import bwrap_command

from .conftest import (BIN, COURSE_CONFIG, QUICK_ASSIGNMENTS, REPO, idnn_grade, own_temporary_folder,
                       released_course, released_course_with_samples, scores_of, tool_env)
from .samples import initialization as samples
from .samples.generate import assignment_module, build

pytestmark = pytest.mark.grading

TIGHT_LIMITS = """
# Small limits, so that the attacks end quickly.
c.Execute.timeout = 30
c.Sandbox.notebook_seconds = 240
c.Sandbox.output_bytes = 2**20
"""


def expected_scores(sample) -> dict[str, float]:
    return {test: float(sample.expected.get(test, 0)) for test in samples.ALL_TESTS}


def tree_digest(root: Path, skip: tuple[str, ...]) -> dict[str, str]:
    """sha256 of every file under root, except under the top-level names in `skip`."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.relative_to(root).parts[0] not in skip}


def cell_text(course: Path, student: str, grade_id: str) -> str:
    nb = nbformat.read(course / "autograded" / student / "initialization" / "initialization.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    return "".join(o.get("text", "") + o.get("ename", "") + ": " * ("ename" in o) + o.get("evalue", "")
                   for o in cell.outputs)


# -- the sandbox ------------------------------------------------------------------------------------

@pytest.mark.slow
def test_attacks_are_contained_and_scored(tmp_path):
    course = released_course(tmp_path / "course", COURSE_CONFIG + TIGHT_LIMITS, assignments=["initialization"])
    build(course, "initialization", samples=[s for s in samples.SAMPLES if s.student == "perfect"])
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)
    attacks = samples.adversarial_samples(course, listener.getsockname()[1])
    build(course, "initialization", samples=attacks)
    outside = tree_digest(course, skip=("autograded", "feedback", "reports", "gradebook.db"))
    helpers = tree_digest(REPO / "utils", skip=("__pycache__",))

    idnn_grade("--jobs", "2", "--no-feedback", cwd=course)

    scores = scores_of(course)
    for sample in attacks:
        assert scores[sample.student] == expected_scores(sample), sample.why
    assert scores["perfect"] == expected_scores(samples.SAMPLES[0]), "an attack disturbed another submission"

    printed = cell_text(course, "snoop", "init_zeros")
    assert "LEAKED" not in printed, printed
    assert printed.count("blocked:") == 6, printed
    with pytest.raises(BlockingIOError):
        listener.accept()  # nobody connected
    listener.close()
    assert tree_digest(course, skip=("autograded", "feedback", "reports", "gradebook.db")) == outside
    assert tree_digest(REPO / "utils", skip=("__pycache__",)) == helpers

    journal = read_journal(course)
    notes = " ".join(journal[("initialization", "output_flood")]["notes"])
    assert "printed more than" in notes
    assert "output truncated" in cell_text(course, "output_flood", "init_glorot")
    # Each limit stopped its attack in the answer cell; the exercise's test cell then failed for want of it.
    assert "MemoryError" in cell_text(course, "memory_hog", "init_random")
    assert "CellTimeoutError" in cell_text(course, "infinite_loop", "init_he")
    assert "BlockingIOError" in cell_text(course, "fork_bomb", "init_zeros")
    assert "File too large" in cell_text(course, "file_hog", "init_xavier")
    assert not _sandbox_processes(), "sandboxed processes outlived grading"


def _sandbox_processes(grace: float = 15.0) -> list[str]:
    """Sandboxed processes still running after up to `grace` seconds (a killed sandbox takes a moment to go)."""
    deadline = time.monotonic() + grace
    while (found := _sandbox_processes_now()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return found


def _sandbox_processes_now() -> list[str]:
    """Sandboxes started by this test process's graders, and what runs in them (another grader on the machine,
    another test process's included, has its own). bubblewrap's command line names the submission's folder, under
    this test process's temporary folder; the processes inside are its children or theirs."""
    commands, parents = {}, {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            commands[proc.name] = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            status = (proc / "status").read_text()
            parents[proc.name] = next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:"))
        except (OSError, StopIteration):
            continue
    ours = own_temporary_folder()

    def in_our_sandbox(pid: str, depth: int = 0) -> bool:
        command = commands.get(pid, "")
        if "--unshare-pid" in command and ours in command:
            return True
        return depth < 8 and pid in parents and in_our_sandbox(parents[pid], depth + 1)

    return [commands[pid][:200] for pid in commands if in_our_sandbox(pid)]


def test_the_sandbox_binds_nothing_of_the_course_but_the_helpers(tmp_path):
    args = " ".join(bwrap_command("bwrap", tmp_path / "work", tmp_path / "probe", tmp_path / "sock", {}))
    for hidden in ("source", "submitted", "autograded", "gradebook.db", "release", "tests"):
        assert str(REPO / hidden) not in args
    assert "--unshare-net" in args and "--unshare-pid" in args and "--die-with-parent" in args
    assert f"--ro-bind {REPO / 'utils'} {REPO / 'utils'}" in args


@pytest.mark.slow
def test_grading_refuses_without_bubblewrap_unless_told(tmp_path):
    config = (REPO / "nbgrader_config.py").read_text() + '\nc.Sandbox.bwrap = "/nonexistent/bwrap"\n'
    course = released_course_with_samples(tmp_path / "course", config=config, assignments=["initialization"])
    refused = idnn_grade("--no-feedback", cwd=course, check=False)
    assert refused.returncode == 2
    assert "apt-get install bubblewrap" in refused.stderr and "--unsandboxed" in refused.stderr
    assert not (course / "autograded").exists()

    for folder in (course / "submitted").iterdir():
        if folder.name != "blank":
            subprocess.run(["rm", "-r", str(folder)], check=True)
    allowed = idnn_grade("--unsandboxed", "--no-feedback", cwd=course)
    assert "WITHOUT a sandbox" in allowed.stderr + allowed.stdout
    assert sum(scores_of(course)["blank"].values()) == 0


# -- parallel, resumable ---------------------------------------------------------------------------

def test_parallel_grades_equal_sequential_grades(tmp_path, graded_course):
    course = released_course_with_samples(tmp_path / "course", assignments=QUICK_ASSIGNMENTS)
    idnn_grade("--jobs", "1", "--no-feedback", cwd=course)
    for assignment in QUICK_ASSIGNMENTS:
        assert scores_of(course, assignment) == scores_of(graded_course, assignment)


def test_an_interrupted_run_resumes_without_losing_or_regrading(tmp_path, graded_course):
    course = released_course_with_samples(tmp_path / "course", assignments=QUICK_ASSIGNMENTS)
    everyone = sorted((a, s.student) for a in QUICK_ASSIGNMENTS for s in assignment_module(a).SAMPLES)
    total = len(everyone)

    _interrupt_after(course, committed=2, sig=signal.SIGINT)
    after_ctrl_c = _journal_lines(course)
    assert 2 <= len(after_ctrl_c) < total
    _interrupt_after(course, committed=len(after_ctrl_c) + 2, sig=signal.SIGKILL)
    after_kill = _journal_lines(course)
    assert len(after_kill) < total
    assert not _sandbox_processes(), "kill -9 of the grader left sandboxed kernels running"

    finished = idnn_grade("--jobs", "2", "--no-feedback", cwd=course)
    assert f"{len(after_kill)} unchanged since the last run, skipped" in finished.stderr
    graded = sorted((entry["assignment"], entry["student"]) for entry in _journal_lines(course))
    assert graded == everyone, "a submission was lost or graded twice"
    for assignment in QUICK_ASSIGNMENTS:
        assert scores_of(course, assignment) == scores_of(graded_course, assignment)


def _interrupt_after(course: Path, committed: int, sig: int) -> None:
    """Start idnn-grade and send it `sig` once `committed` submissions are in the journal."""
    # Start the grader with Ctrl-C handled as in a terminal, even when this test runs in a background job
    # (a shell starts those with SIGINT ignored, and the grader would inherit that).
    process = subprocess.Popen([str(BIN / "idnn-grade"), "--jobs", "2", "--no-feedback"], cwd=course,
                               env=tool_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 300
    while len(_journal_lines(course)) < committed and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert process.poll() is None, f"idnn-grade finished before it could be interrupted:\n{process.stderr.read()}"
    os.kill(process.pid, sig)
    _, err = process.communicate(timeout=120)
    if sig == signal.SIGINT:
        assert process.returncode == 130 and "rerun the same command" in err, err


def _journal_lines(course: Path) -> list[dict]:
    path = course / "autograded" / JOURNAL
    if not path.exists():
        return []
    entries = []
    for line in path.read_text().splitlines():
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    return entries


def test_each_kernel_boots_while_the_previous_notebook_is_recorded(graded_course):
    """A worker starts the next notebook's sandboxed kernel once a notebook has run (SpareKernel): every notebook
    but the first of each worker (and of a worker started again after a crash) runs in a kernel started ahead."""
    notebooks = list((graded_course / "autograded").glob("*/*/*.ipynb"))
    ahead = [path for path in notebooks
             if nbformat.read(path, as_version=4).metadata.get("idnn", {}).get("kernel_started_ahead")]
    assert len(notebooks) > 60
    assert len(notebooks) - 12 <= len(ahead) < len(notebooks)


# -- reports ---------------------------------------------------------------------------------------

def test_reports_hold_every_score_and_every_failure(graded_course):
    with open(graded_course / "reports" / "initialization-grades.csv") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    for sample in samples.SAMPLES:
        assert float(rows[sample.student]["total"]) == sample.expected_total
        if sample.failure:
            assert sample.failure in rows[sample.student]["failure"]
    page = (graded_course / "reports" / "initialization.html").read_text()
    assert page.count("data:image/png;base64,") == 3
    for phrase in ("score distribution", "pass rate per exercise", "slowest submissions", "not a readable notebook",
                   "kernel stopped"):
        assert phrase in page
