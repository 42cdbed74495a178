"""Shared fixtures: a throwaway copy of the course, released, populated with the samples and autograded."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ASSIGNMENTS = ["setting_up", "initialization", "gradient_checking"]


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


def released_course_with_samples(root: Path, config: str | None = None) -> Path:
    course = make_course(root, config)
    for assignment in ASSIGNMENTS:
        nbgrader("generate_assignment", assignment, "--force", cwd=course)
    write_samples(course)
    return course


def scores_of(course: Path, assignment: str = "initialization") -> dict:
    from idnn.autograde.gradebook_table import cell_scores

    return cell_scores(f"sqlite:///{course / 'gradebook.db'}", assignment)


@pytest.fixture(scope="session")
def graded_course(tmp_path_factory) -> Path:
    """Every sample graded by idnn-grade on two workers (sandboxed), with reports and feedback."""
    course = released_course_with_samples(tmp_path_factory.mktemp("graded") / "course")
    idnn_grade("--jobs", "2", cwd=course)
    return course


CORE_SAMPLES = ("perfect", "blank", "alternative", "partial", "cheater")


@pytest.fixture(scope="session")
def nbgrader_course(tmp_path_factory) -> Path:
    """The core samples graded by plain `nbgrader autograde`, which nbgrader_config.py configures."""
    course = released_course_with_samples(tmp_path_factory.mktemp("plain") / "course")
    for folder in (course / "submitted").iterdir():
        if folder.name not in CORE_SAMPLES:
            shutil.rmtree(folder)
    for assignment in ASSIGNMENTS:
        nbgrader("autograde", assignment, "--force", cwd=course)
    return course


def read_notebook(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def code_cells(nb) -> list:
    return [cell for cell in nb.cells if cell.cell_type == "code"]
