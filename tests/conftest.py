"""Shared fixtures: a throwaway copy of the course, released, populated with the samples and autograded."""

import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ASSIGNMENTS = ["setting_up", "initialization", "regularization", "gradient_checking", "optimization", "hyperparameter_search", "batch_norm", "softmax"]
# A quick notebook to grade, with every kind of sample (20: broken and adversarial ones included): enough for the
# tests of the grader's own machinery (parallel runs, resuming), which need not wait for the longer notebooks.
QUICK_ASSIGNMENTS = ["initialization"]


#: Fixtures that take minutes (a course graded whole, every assignment generated, a source notebook executed by a
#: module's `lesson` fixture): every test that uses one is marked slow.
SLOW_FIXTURES = {"graded_course", "nbgrader_course", "released_course_template", "lesson"}


def pytest_collection_modifyitems(items):
    """Mark slow the tests that use a slow fixture, so that `pytest -m "not slow"` runs the quick ones alone."""
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


def tool_env() -> dict[str, str]:
    """The environment for nbgrader subprocesses: the test interpreter's bin/ first on PATH."""
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def run(args: list[str], cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run a command, failing the test with its output if it exits non-zero."""
    result = subprocess.run(args, cwd=cwd, env=tool_env(), capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        pytest.fail(f"{' '.join(args)} exited {result.returncode}\n--- stdout\n{result.stdout[-4000:]}\n"
                    f"--- stderr\n{result.stderr[-4000:]}")
    return result


def nbgrader(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return run([str(BIN / "nbgrader"), *args, "--log-level=WARN"], cwd=cwd)


def make_course(root: Path, config: str | None = None) -> Path:
    """A course directory at root with source/ and nbgrader_config.py copied from the repository."""
    root.mkdir(parents=True)
    shutil.copytree(REPO / "source", root / "source")
    if config is None:
        shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    else:
        (root / "nbgrader_config.py").write_text(config)
    return root


def write_samples(course: Path, assignments: list[str] = ASSIGNMENTS) -> None:
    only = [arg for a in assignments for arg in ("--assignment", a)]
    run([sys.executable, "-m", "tests.samples", "--course-dir", str(course), *only], cwd=REPO)


def idnn_grade(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    """Run the class grader (`idnn-grade`) in a course directory."""
    command = [str(BIN / "idnn-grade"), *args]
    if check:
        return run(command, cwd=cwd)
    return subprocess.run(command, cwd=cwd, env=tool_env(), capture_output=True, text=True, timeout=900)


# -- released courses: generated once per session, then copied ---------------------------------------------

COURSE_CONFIG = (REPO / "nbgrader_config.py").read_text()
_session: dict = {}  # the session's tmp_path_factory and its released course, for the plain helpers below


@pytest.fixture(scope="session", autouse=True)
def _session_folder(tmp_path_factory):
    """Lets the course helpers, plain functions, build their template in the session's temporary folder; gives
    this test process a temporary folder of its own (TMPDIR, inherited by every grader it starts), so that its
    tests find the sandboxes and grading workers of their own runs, whatever another test process runs beside it
    (`pytest -n 2`). The folder's path is short: kernels' sockets live under it."""
    _session["tmp_path_factory"] = tmp_path_factory
    own = tempfile.mkdtemp(prefix="idnn-tests-", dir="/tmp")
    saved = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = own
    tempfile.tempdir = None  # tempfile reads TMPDIR again
    yield
    if saved is None:
        os.environ.pop("TMPDIR", None)
    else:
        os.environ["TMPDIR"] = saved
    tempfile.tempdir = None
    shutil.rmtree(own, ignore_errors=True)
    _session.clear()


def own_temporary_folder() -> str:
    """This test process's TMPDIR (see _session_folder)."""
    return os.environ["TMPDIR"]


def shared(name: str, build) -> Path:
    """The folder `name`, built by `build(folder)` once per test run, even when several test processes share the
    run (`pytest -n 2`): the first process to ask builds it under a lock while the others wait, then all read it.
    A build that failed is reported to every test that asks, not attempted again."""
    base = _session["tmp_path_factory"].getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder, done, failed = root / name, root / f"{name}.done", root / f"{name}.failed"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if failed.exists():
            pytest.fail(f"{name} could not be built (see the first test that needed it):\n{failed.read_text()}")
        if not done.exists():
            try:
                build(folder)
            except BaseException as error:
                failed.write_text(f"{type(error).__name__}: {error}"[-8000:])
                raise
            done.touch()
    return folder


def released_template() -> Path:
    """A course with every assignment generated by `nbgrader generate_assignment` (release/ and gradebook.db),
    built the first time a test asks for one. Tests copy it and must never change it."""
    def build(folder: Path) -> None:
        course = make_course(folder / "course")
        for assignment in ASSIGNMENTS:
            nbgrader("generate_assignment", assignment, "--force", cwd=course)

    return shared("released", build) / "course"


@pytest.fixture(scope="session")
def released_course_template() -> Path:
    """The session's released course (see released_template), for tests that only read it."""
    return released_template()


def released_course(root: Path, config: str | None = None, assignments: list[str] = ASSIGNMENTS) -> Path:
    """A course at root as `nbgrader generate_assignment` leaves it, for each of `assignments`.

    With the course's own configuration, or one that extends it (the tests append grading settings only, which
    generate_assignment does not read), it is a copy of the session's template, without the other assignments'
    release/ folders and gradebook entries. Any other configuration may generate differently (another course_id
    is written into the gradebook): the assignments are generated afresh with it.
    """
    if config is not None and not config.startswith(COURSE_CONFIG):
        course = make_course(root, config)
        for assignment in assignments:
            nbgrader("generate_assignment", assignment, "--force", cwd=course)
        return course
    shutil.copytree(released_template(), root)
    if config is not None:
        (root / "nbgrader_config.py").write_text(config)
    unreleased = [assignment for assignment in ASSIGNMENTS if assignment not in assignments]
    if unreleased:
        from nbgrader.api import Gradebook

        from idnn.autograde.course import gradebook_url

        with Gradebook(gradebook_url(root)) as gradebook:
            for assignment in unreleased:
                gradebook.remove_assignment(assignment)
                shutil.rmtree(root / "release" / assignment)
    return root


def released_course_with_samples(root: Path, config: str | None = None,
                                 assignments: list[str] = ASSIGNMENTS) -> Path:
    """A released course (see released_course) with the sample submissions of `assignments` in submitted/."""
    course = released_course(root, config, assignments)
    write_samples(course, assignments)
    return course


def scores_of(course: Path, assignment: str = "initialization") -> dict:
    from idnn.autograde.course import gradebook_url
    from idnn.autograde.gradebook_table import cell_scores

    return cell_scores(gradebook_url(course), assignment)


@pytest.fixture(scope="session")
def graded_course() -> Path:
    """Every sample graded by idnn-grade on two workers (sandboxed), with reports and feedback."""
    def build(folder: Path) -> None:
        course = released_course_with_samples(folder / "course")
        result = idnn_grade("--jobs", "2", cwd=course)
        (course / "idnn-grade.log").write_text(result.stdout + result.stderr)  # what the instructor's terminal showed

    return shared("graded", build) / "course"


# Full marks, partial marks and a cheat: what plain `nbgrader autograde` must score exactly as idnn-grade does.
PLAIN_SAMPLES = ("perfect", "partial", "cheater")
# Gradient checking's samples with a pasted test cell and an invented graded cell, which RepairCells must mend under
# plain `nbgrader autograde` too.
PLAIN_REPAIRS = ("copied_test_cell", "invented_grade_cell")


@pytest.fixture(scope="session")
def nbgrader_course() -> Path:
    """PLAIN_SAMPLES of every assignment, and PLAIN_REPAIRS, graded by plain `nbgrader autograde`, which
    nbgrader_config.py configures."""
    def build(folder: Path) -> None:
        course = released_course_with_samples(folder / "course")
        for student in (course / "submitted").iterdir():
            if student.name not in PLAIN_SAMPLES + PLAIN_REPAIRS:
                shutil.rmtree(student)
        for assignment in ASSIGNMENTS:
            nbgrader("autograde", assignment, "--force", cwd=course)

    return shared("plain", build) / "course"


def reference_of(check_id: str, body, seed: int = 7) -> list:
    """The probes that `body(probe)` records in the grader's reference mode, for grading seed `seed`."""
    from idnn import probe as probe_module

    probes = []
    with probe_module.reference_session(seed, probes.append):
        with probe_module.Probe(check_id) as probe:
            body(probe)
    return probes


def read_notebook(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def expected_results_cell(source: Path, grade_id: str) -> str:
    """The text of the source notebook's "Expected results" cell `grade_id` (the figures its lesson tests assert)."""
    cell = next(c for c in read_notebook(source).cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    assert cell.source.startswith("**Expected results.**")
    return cell.source


def code_cells(nb) -> list:
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def execute(path: Path, extra_code: str = "") -> tuple[nbformat.NotebookNode, float]:
    """Run a notebook top to bottom in a real kernel, from its own folder; return it and the seconds taken."""
    nb = read_notebook(path)
    if extra_code:
        nb.cells.append(nbformat.v4.new_code_cell(extra_code))
    start = time.perf_counter()
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb, time.perf_counter() - start


def run_lesson(path: Path) -> dict:
    """Execute a source notebook and return its `lesson` dict (the figures its tests assert on); once per test
    run, whichever test process asks first."""
    def build(folder: Path) -> None:
        nb, seconds = execute(path, "import json\nprint(json.dumps(lesson))")
        print(f"{path.name} executed in {seconds:.1f} s")
        folder.mkdir()
        (folder / "lesson.json").write_text(nb.cells[-1].outputs[0]["text"])

    return json.loads((shared(f"lesson-{path.parent.name}-{path.stem}", build) / "lesson.json").read_text())


def functions(code: str, base: dict | None = None) -> dict:
    """The namespace after running `code` on top of `base` (np is always there)."""
    namespace = {"np": np, **(base or {})}
    exec(code, namespace)
    return namespace


def notebook_functions(path: Path, base: dict | None = None) -> dict:
    """Every import and definition of a notebook's code cells (the solution, for a source notebook)."""
    from idnn.autograde.reference import definitions

    return functions("\n".join(definitions(c.source) for c in read_notebook(path).cells if c.cell_type == "code"), base)
