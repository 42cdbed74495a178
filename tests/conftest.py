"""Shared fixtures: a throwaway copy of the course, released, populated with the samples and autograded."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ASSIGNMENTS = ["setting_up", "initialization", "regularization", "gradient_checking", "optimization"]
# The quickest notebooks to grade, with every kind of sample (broken and adversarial ones included): enough for the
# tests of the grader's own machinery (parallel runs, resuming), which need not wait for the longer notebooks.
QUICK_ASSIGNMENTS = ["setting_up", "initialization", "gradient_checking"]


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


def released_course_with_samples(root: Path, config: str | None = None,
                                 assignments: list[str] = ASSIGNMENTS) -> Path:
    course = make_course(root, config)
    for assignment in assignments:
        nbgrader("generate_assignment", assignment, "--force", cwd=course)
    write_samples(course, assignments)
    return course


def scores_of(course: Path, assignment: str = "initialization") -> dict:
    from idnn.autograde.course import gradebook_url
    from idnn.autograde.gradebook_table import cell_scores

    return cell_scores(gradebook_url(course), assignment)


@pytest.fixture(scope="session")
def graded_course(tmp_path_factory) -> Path:
    """Every sample graded by idnn-grade on two workers (sandboxed), with reports and feedback."""
    course = released_course_with_samples(tmp_path_factory.mktemp("graded") / "course")
    result = idnn_grade("--jobs", "2", cwd=course)
    (course / "idnn-grade.log").write_text(result.stdout + result.stderr)  # what the instructor's terminal showed
    return course


# Full marks, partial marks and a cheat: what plain `nbgrader autograde` must score exactly as idnn-grade does.
PLAIN_SAMPLES = ("perfect", "partial", "cheater")


@pytest.fixture(scope="session")
def nbgrader_course(tmp_path_factory) -> Path:
    """PLAIN_SAMPLES of every assignment graded by plain `nbgrader autograde`, which nbgrader_config.py configures."""
    course = released_course_with_samples(tmp_path_factory.mktemp("plain") / "course")
    for folder in (course / "submitted").iterdir():
        if folder.name not in PLAIN_SAMPLES:
            shutil.rmtree(folder)
    for assignment in ASSIGNMENTS:
        nbgrader("autograde", assignment, "--force", cwd=course)
    return course


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
    """Execute a source notebook and return its `lesson` dict (the figures its tests assert on)."""
    nb, seconds = execute(path, "import json\nprint(json.dumps(lesson))")
    print(f"{path.name} executed in {seconds:.1f} s")
    return json.loads(nb.cells[-1].outputs[0]["text"])


def functions(code: str, base: dict | None = None) -> dict:
    """The namespace after running `code` on top of `base` (np is always there)."""
    namespace = {"np": np, **(base or {})}
    exec(code, namespace)
    return namespace


def notebook_functions(path: Path, base: dict | None = None) -> dict:
    """Every import and definition of a notebook's code cells (the solution, for a source notebook)."""
    from idnn.autograde.reference import definitions

    return functions("\n".join(definitions(c.source) for c in read_notebook(path).cells if c.cell_type == "code"), base)
