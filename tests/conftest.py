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
ASSIGNMENTS = ["initialization"]


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


def write_samples(course: Path) -> None:
    run([sys.executable, "-m", "tests.samples", "--course-dir", str(course)], cwd=REPO)


@pytest.fixture(scope="session")
def graded_course(tmp_path_factory) -> Path:
    """The course, released and autograded with the project's configuration, feedback generated."""
    course = make_course(tmp_path_factory.mktemp("graded") / "course")
    for assignment in ASSIGNMENTS:
        nbgrader("generate_assignment", assignment, "--force", cwd=course)
    write_samples(course)
    for assignment in ASSIGNMENTS:
        nbgrader("autograde", assignment, "--force", cwd=course)
        nbgrader("generate_feedback", assignment, "--force", cwd=course)
    return course


def read_notebook(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def code_cells(nb) -> list:
    return [cell for cell in nb.cells if cell.cell_type == "code"]
