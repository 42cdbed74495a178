"""The student bundle: the folder a student receives, and `make lab`, which serves that folder and nothing else.

    python -m idnn.autograde.student_bundle build OUT [--assignment A ...]   # OUT/ and OUT.zip beside it
    python -m idnn.autograde.student_bundle scan OUT                        # what in OUT/ or OUT.zip gives away answers
    python -m idnn.autograde.student_bundle serve OUT [--port P]            # JupyterLab on OUT/notebooks

`make bundle` builds student/ (and student.zip) at the repository root; `make lab` builds it and serves it.

A bundle holds what students need and nothing of the instructor's:

    OUT/
      start                                     bash: makes .venv (first run only), installs, opens JupyterLab
      README.md                                 for students
      pyproject.toml                            the package idnn-student: idnn and what the notebooks need
      notebooks/<assignment>/<assignment>.ipynb the student copies, from release/
      idnn/                                     the student side of utils/, byte for byte (no autograde/,
                                                no build_datasets.py, which rebuilds datasets/ with scikit-learn)
      datasets/*.h5
    OUT.zip                                     the same files under OUT's name

idnn finds the datasets as it does in the repository: idnn/paths.py looks in the folder above the package, which
is OUT here (./start installs the package in editable mode, so that stays true inside .venv).

Building ends with `scan`, and a bundle that gives anything away is an error: see `scan_files`.

`serve` (lab_command) runs the repository's JupyterLab with nbgrader's instructor tools switched off for that server
(plugins and server extensions, through a config folder on JUPYTER_CONFIG_PATH), and its kernels in a small virtual
environment, OUT/.lab/venv, that sees the repository's installed packages and OUT/idnn but not the repository's
editable install of idnn. That install's import hook maps `idnn` to utils/, so with the bundle merely first on
sys.path `import idnn.autograde` would still find the grader in the repository: the hook is a .pth file, and the
packages of the repository's virtual environment reach OUT/.lab/venv as a plain path, whose .pth files Python does
not run.
"""

import argparse
import ast
import contextlib
import functools
import hashlib
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tokenize
import tomllib
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.preprocessors import ClearSolutions

from .reference import DEFAULT_MARKERS, is_test_cell

REPO = Path(__file__).resolve().parents[2]

#: The package's name in the bundle's pyproject.toml; build_bundle() deletes no folder whose pyproject.toml lacks it.
PACKAGE_NAME = "idnn-student"
#: Files of utils/ that stay with the instructor, and why.
INSTRUCTOR_ONLY = {"build_datasets.py": "rebuilds datasets/ from scikit-learn's copy of the digits"}
#: What the bundle's package needs, with the lower bounds of the repository's pyproject.toml.
DEPENDENCIES = ("jupyterlab", "nbgrader", "numpy", "matplotlib", "h5py")

#: nbgrader 0.9's instructor tools, as JupyterLab plugins and as server extensions, switched off for students.
#: Students keep Validate (@jupyter/nbgrader:validate-assignment, nbgrader.server_extensions.validate_assignment).
#: The menu goes too: it would list the three tools as blank entries, beside Assignment List, which fetches and
#: submits through the exchange folder of a shared nbgrader server (none on a student's own machine).
#: The ids are the ones in the installed labextension (@jupyter/nbgrader's static/*.js) and nbgrader's
#: jupyter_server_config.d/nbgrader.json; tests/test_student_bundle.py fails if an upgrade renames one.
INSTRUCTOR_LAB_PLUGINS = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                          "@jupyter/nbgrader:course-list", "@jupyter/nbgrader:menu")
INSTRUCTOR_SERVER_EXTENSIONS = ("nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list")

#: nbgrader's solution delimiters (the course keeps the defaults, as it does for the hidden tests': DEFAULT_MARKERS).
SOLUTION_BEGIN = ClearSolutions.begin_solution_delimeter.default_value
SOLUTION_END = ClearSolutions.end_solution_delimeter.default_value
#: Text that only the instructor's side holds: nbgrader's delimiters, the hidden checks' function and probe, the grader.
MARKERS = (SOLUTION_BEGIN, SOLUTION_END, DEFAULT_MARKERS.begin, DEFAULT_MARKERS.end, "_hidden_checks", "Probe(",
           "idnn.autograde")
#: In the package's Python files these are looked for in the code alone: docstrings of idnn, idnn.probe and two
#: checks mention the grader by name and show the shape of a hidden check (`with Probe("init_he") as probe:`).
CODE_ONLY_MARKERS = ("Probe(", "idnn.autograde")
#: Shorter lines of a solution ("m = X.shape[1]") are too common to mean anything when found elsewhere.
MIN_SECRET_LENGTH = 26
#: In a binary file, runs of printable characters as long as the shortest marker.
PRINTABLE_RUN = r"[^\x00-\x1f\x7f\ufffd]{%d,}" % min(map(len, MARKERS))
#: What ./start and `make lab` create inside a bundle; not part of it, and not scanned.
RUNTIME_FOLDERS = {".venv", ".lab", "__pycache__", ".ipynb_checkpoints"}


# -- what goes in ------------------------------------------------------------------------------------------------

def release_assignments(repo: Path = REPO) -> list[str]:
    """The assignments that have a student copy in release/."""
    return sorted(p.name for p in (repo / "release").iterdir() if (p / f"{p.name}.ipynb").is_file())


def student_package(repo: Path = REPO) -> dict[str, Path]:
    """{path in the bundle: file in utils/} for the student side of the helper package."""
    utils = repo / "utils"
    files = [p for p in sorted(utils.glob("*.py")) if p.name not in INSTRUCTOR_ONLY]
    files += sorted((utils / "checks").glob("*.py")) + sorted((utils / "checks" / "data").glob("*.json"))
    return {f"idnn/{p.relative_to(utils).as_posix()}": p for p in files}


def student_pyproject(repo: Path = REPO) -> str:
    """pyproject.toml of the bundle's package, with the repository's version, Python and lower bounds."""
    main = tomllib.loads((repo / "pyproject.toml").read_text())
    project = main["project"]
    by_name = {_requirement_name(spec): spec for spec in project["dependencies"]}
    missing = [name for name in DEPENDENCIES if name not in by_name]
    if missing:
        raise RuntimeError(f"pyproject.toml does not list {', '.join(missing)}, which the student package needs")
    dependencies = "".join(f'    "{by_name[name]}",\n' for name in DEPENDENCIES)
    build_requires = ", ".join(f'"{spec}"' for spec in main["build-system"]["requires"])
    return f"""\
# The course's notebooks need this package: the helpers they import (idnn) and JupyterLab, nbgrader (its
# Validate button), numpy, matplotlib and h5py. ./start installs it in editable mode, so that idnn finds
# datasets/ beside it.
[build-system]
requires = [{build_requires}]
build-backend = "setuptools.build_meta"

[project]
name = "{PACKAGE_NAME}"
version = "{project["version"]}"
description = "Improving Deep Neural Networks: the notebooks' helpers, for students"
requires-python = "{project["requires-python"]}"
dependencies = [
{dependencies}]

# checks/data holds the checks' expected values, no code; listed so that setuptools installs it without a warning.
[tool.setuptools]
packages = ["idnn", "idnn.checks", "idnn.checks.data"]

[tool.setuptools.package-data]
"idnn.checks.data" = ["*.json"]
"""


def _requirement_name(spec: str) -> str:
    name = spec
    for stop in "<>=!~[; ":
        name = name.split(stop)[0]
    return name.strip().lower()


#: Run by the kernels' Python in the bundle's folder: write into each notebook the language_info that Python's kernel
#: reports. JupyterLab copies the kernel's language_info into a notebook it opens, so a notebook that lacks it (as
#: the release does: its version is the machine's) or names another Python opens as modified, and closing it asks to
#: save. Nothing else in the notebook changes; a file that cannot be read is left alone.
NAME_THE_KERNEL = """\
import pathlib, sys, nbformat
from ipykernel.ipkernel import IPythonKernel
for path in sorted(pathlib.Path("notebooks").glob("*/*.ipynb")):
    try:
        nb = nbformat.read(path, as_version=4)
        if nb.metadata.get("language_info") != IPythonKernel.language_info:
            nb.metadata["language_info"] = IPythonKernel.language_info
            nbformat.write(nb, path)
    except Exception as error:
        print(f"{path}: left as it is ({error})", file=sys.stderr)
"""


#: The notebooks' kernelspec names it so (ipykernel's own name for it); a kernel called anything else would rename it
#: in every notebook opened, which would then open as modified.
KERNEL_DISPLAY_NAME = "Python 3 (ipykernel)"


def name_the_kernel(bundle: Path, python: Path) -> None:
    """Run NAME_THE_KERNEL with `python` (the kernels' interpreter) in the bundle."""
    subprocess.run([str(python), "-c", NAME_THE_KERNEL], cwd=bundle, check=True)


def start_script() -> str:
    """The one command students run: install once, then open JupyterLab on the notebooks."""
    plugins = " ".join(INSTRUCTOR_LAB_PLUGINS)
    extensions = " ".join(INSTRUCTOR_SERVER_EXTENSIONS)
    return f"""\
#!/usr/bin/env bash
# Opens the course's notebooks in JupyterLab. The first run installs what they need into .venv (a few minutes,
# needs the internet); later runs start at once. Any Python 3.11 or newer: PYTHON=python3.12 ./start
# Arguments go to JupyterLab: ./start --port 8890
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${{PYTHON:-python3}}

if [ ! -f .venv/.installed ] || [ pyproject.toml -nt .venv/.installed ]; then
    if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        echo "The notebooks need Python 3.11 or newer, and $PYTHON is $("$PYTHON" --version 2>&1)." >&2
        echo "Install one, then run: PYTHON=python3.11 ./start" >&2
        exit 1
    fi
    echo "Installing JupyterLab, nbgrader, numpy, matplotlib, h5py and the course's helpers into .venv ..."
    "$PYTHON" -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e .
    # nbgrader's instructor tools (formgrader, creating assignments, the course list, their menu) are of no use here.
    # Validate stays: it runs a notebook from the top and tells you which checks fail.
    .venv/bin/jupyter labextension disable --level=sys_prefix {plugins}
    .venv/bin/jupyter server extension disable --sys-prefix {extensions}
    touch .venv/.installed
fi

# A notebook opens unmodified only if it names the Python of its kernel: write that in (nothing else changes).
.venv/bin/python - <<'NAME_THE_KERNEL'
{NAME_THE_KERNEL}NAME_THE_KERNEL

arguments=(notebooks/)
# As root (in a container, say) Jupyter will not start without --allow-root.
if [ "$(id -u)" = 0 ]; then
    arguments+=(--allow-root)
fi
exec .venv/bin/jupyter lab "${{arguments[@]}}" "$@"
"""


STUDENT_README = """\
# Improving Deep Neural Networks: your notebooks

    ./start

The first time, `./start` installs what the notebooks need into `.venv` (a few minutes, with an internet
connection; Python 3.11 or newer: `PYTHON=python3.12 ./start` picks one); then, and every time after, it opens
JupyterLab in your browser. Stop it with Ctrl-C in the terminal.

Without bash (on Windows, outside WSL), the same steps by hand:

    python -m venv .venv
    .venv/Scripts/python -m pip install -e .
    .venv/Scripts/jupyter lab notebooks/

## What is here

| path | what it holds |
|---|---|
| `notebooks/<assignment>/<assignment>.ipynb` | one notebook per assignment |
| `idnn/` | the helpers the notebooks import: datasets, a small network, plots, gradient checking, the checks |
| `datasets/` | the data the notebooks load (idnn finds it on its own, from any folder) |

## Working on a notebook

Write your code where it says `# YOUR CODE HERE` (and delete the `raise NotImplementedError()` under it). Run
the check cell under each exercise: it tells you what differs from what is expected (a shape, a dtype, a standard
deviation that matches another formula...). Before you hand a notebook in, restart the kernel and run all cells,
or press **Validate** in the notebook's toolbar, which does the same and lists the checks that fail.

The checks you see are not the ones that grade: grading runs other inputs, so an answer that only fits the
visible check's numbers does not earn its points.
"""

ASSIGNMENT_SKIP = {".ipynb_checkpoints", "__pycache__"}


# -- building ----------------------------------------------------------------------------------------------------

def zip_path(bundle: Path) -> Path:
    """Where the zip of a bundle goes: beside it, OUT.zip."""
    return bundle.with_name(bundle.name + ".zip")


def build_bundle(out: Path, assignments: Iterable[str] | None = None, repo: Path = REPO) -> Path:
    """Write the bundle into `out` (replacing an earlier bundle there) and its zip beside it; return `out`.

    Raises BundleLeak, and removes what it wrote, if the scan finds anything of the instructor's in either.
    """
    out = Path(out).resolve()
    available = release_assignments(repo)
    chosen = list(dict.fromkeys(assignments or available))
    unknown = [a for a in chosen if a not in available]
    if unknown:
        raise ValueError(f"no student copy of {', '.join(unknown)} in release/; choose from {', '.join(available)}")
    _clear(out)

    for assignment in chosen:
        for path in sorted((repo / "release" / assignment).rglob("*")):
            if path.is_file() and not ASSIGNMENT_SKIP & set(path.parts):
                _copy(path, out / "notebooks" / path.relative_to(repo / "release"))
    for name, path in student_package(repo).items():
        _copy(path, out / name)
    for path in sorted((repo / "datasets").glob("*.h5")):
        _copy(path, out / "datasets" / path.name)
    (out / "pyproject.toml").write_text(student_pyproject(repo))
    (out / "README.md").write_text(STUDENT_README)
    (out / "start").write_text(start_script())
    (out / "start").chmod(0o755)
    write_zip(out, zip_path(out))

    findings = scan_bundle(out, repo)
    if findings:
        shutil.rmtree(out)
        zip_path(out).unlink()
        raise BundleLeak(findings)
    return out


def _clear(out: Path) -> None:
    """Make `out` an empty folder, deleting it first only if it is empty or an earlier bundle."""
    if out.exists():
        pyproject = out / "pyproject.toml"
        earlier = pyproject.is_file() and f'name = "{PACKAGE_NAME}"' in pyproject.read_text()
        if not earlier and any(out.iterdir()):
            raise FileExistsError(f"{out} exists and is not a student bundle: not deleting it. Choose another folder.")
        shutil.rmtree(out)
    zip_path(out).unlink(missing_ok=True)
    out.mkdir(parents=True)


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def write_zip(folder: Path, target: Path) -> None:
    """Zip `folder` under its own name; the same files give the same bytes (fixed dates), ./start stays executable."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(bundle_files(folder)):
            name = f"{folder.name}/{path.relative_to(folder).as_posix()}"
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o755 if path.stat().st_mode & 0o111 else 0o644) << 16
            archive.writestr(info, path.read_bytes())


def bundle_files(folder: Path) -> list[Path]:
    """Every file of a bundle, leaving out what ./start and `make lab` add inside it (RUNTIME_FOLDERS)."""
    return sorted(p for p in folder.rglob("*")
                  if p.is_file() and not RUNTIME_FOLDERS & set(p.relative_to(folder).parts[:-1]))


# -- scanning ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Finding:
    """Something of the instructor's in a bundle: in which file (zip members as OUT.zip:member), and what."""
    path: str
    what: str

    def __str__(self) -> str:
        return f"{self.path}: {self.what}"


class BundleLeak(RuntimeError):
    def __init__(self, findings: list[Finding]):
        super().__init__("the student bundle gives away the instructor's side:\n" + "\n".join(map(str, findings)))
        self.findings = findings


def secret_lines(repo: Path = REPO) -> set[str]:
    """The lines only the instructor's notebooks hold, as stripped text.

    Every line inside a solution region (a whole solution cell when it has no delimiters, as nbgrader clears it)
    or a hidden-test region of source/*/*.ipynb, except blank lines, comments, lines shorter than
    MIN_SECRET_LENGTH, and lines that students are given anyway: found in the text of the source notebooks outside
    those regions (a docstring stating the formula) or in the student side of the helper package (nets.py's
    forward step; tests/test_boundary.py shows no function of that side passes a hidden check in place of an
    exercise).
    """
    secret, given = set(), []
    for notebook in sorted((repo / "source").glob("*/*.ipynb")):
        for cell in nbformat.read(notebook, as_version=4).cells:
            for inside, line in _regions(cell):
                stripped = line.strip()
                if not inside:
                    given.append(line)
                elif len(stripped) >= MIN_SECRET_LENGTH and not stripped.startswith("#"):
                    secret.add(stripped)
    given += [path.read_text() for path in student_package(repo).values() if path.suffix == ".py"]
    given_text = "\n".join(given)
    return {line for line in secret if line not in given_text}


def _regions(cell) -> list[tuple[bool, str]]:
    """The cell's lines as (inside a solution or hidden-test region, line); delimiter lines left out."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    begin, end = None, None
    if meta.get("solution"):
        begin, end = SOLUTION_BEGIN, SOLUTION_END
    elif is_test_cell(cell):
        begin, end = DEFAULT_MARKERS.begin, DEFAULT_MARKERS.end
    lines = cell.source.split("\n")
    if begin is None:
        return [(False, line) for line in lines]
    if meta.get("solution") and not any(begin in line for line in lines):
        return [(True, line) for line in lines]
    regions, inside = [], False
    for line in lines:
        if begin in line:
            inside = True
        elif end in line:
            inside = False
        else:
            regions.append((inside, line))
    return regions


def scan_bundle(bundle: Path, repo: Path = REPO, secrets: set[str] | None = None) -> list[Finding]:
    """scan_files over the bundle's folder and, if there is one, the zip beside it (secrets: secret_lines(repo))."""
    bundle = Path(bundle)
    secrets = secret_lines(repo) if secrets is None else secrets
    files = [(path.relative_to(bundle).as_posix(), path.read_bytes()) for path in bundle_files(bundle)]
    findings = scan_files(files, secrets, repo, where=bundle.name)
    if zip_path(bundle).exists():
        findings += scan_zip(zip_path(bundle), secrets, repo)
    return findings


def scan_zip(path: Path, secrets: set[str], repo: Path = REPO) -> list[Finding]:
    """scan_files over a zipped bundle: every member, under one top folder."""
    with zipfile.ZipFile(path) as archive:
        members = [(info.filename, archive.read(info)) for info in archive.infolist() if not info.is_dir()]
    tops = {name.split("/")[0] for name, _ in members}
    findings = [Finding(path.name, f"members under {sorted(tops)}, not one folder")] if len(tops) != 1 else []
    files = [(name.partition("/")[2], data) for name, data in members]
    return findings + scan_files(files, secrets, repo, where=f"{path.name}:{next(iter(tops), '')}")


def scan_files(files: Iterable[tuple[str, bytes]], secrets: set[str], repo: Path = REPO,
               where: str = "") -> list[Finding]:
    """What in these files (path inside the bundle, content) belongs to the instructor. Every file is read:

    * MARKERS anywhere (notebooks and JSON read with their strings decoded; CODE_ONLY_MARKERS in the code of
      the package's Python files), and any of the secret lines;
    * a Python file under idnn/ that imports idnn.autograde (relative imports resolved);
    * a file with the bytes of one in utils/autograde/ or of the instructor's nbgrader_config.py, or anything
      under idnn/ that is not the student side of utils/ byte for byte (idnn/ must hold exactly that).
    """
    trusted = {hashlib.sha256(p.read_bytes()).hexdigest(): p.relative_to(repo).as_posix()
               for p in [*(repo / "utils" / "autograde").rglob("*.py"), repo / "nbgrader_config.py"] if p.is_file()}
    package = student_package(repo)
    findings, seen = [], set()

    def found(name: str, what: str) -> None:
        findings.append(Finding(f"{where}/{name}" if where else name, what))

    for name, data in files:
        seen.add(name)
        text = data.decode("utf-8", errors="replace")
        readable = _readable(name, data, text)
        python = name.startswith("idnn/") and name.endswith(".py")
        code, imported = _python_view(name, text) if python else (readable, ())
        for marker in MARKERS:
            if marker in (code if marker in CODE_ONLY_MARKERS else readable):
                found(name, f"holds {marker!r}")
        for line in sorted(secrets):
            if line in readable:
                found(name, f"holds a line of a solution or hidden check: {line!r}")
        for module in imported:
            if module == "idnn.autograde" or module.startswith("idnn.autograde."):
                found(name, f"imports {module}")
        digest = hashlib.sha256(data).hexdigest()
        if digest in trusted:
            found(name, f"is a copy of {trusted[digest]}")
        if name.startswith("idnn/"):
            if name not in package:
                found(name, "is not a file of the student side of utils/")
            elif data != package[name].read_bytes():
                found(name, f"differs from {package[name].relative_to(repo).as_posix()}")
    for name in sorted(set(package) - seen):
        found(name, "is missing (the student side of utils/ is incomplete)")
    return findings


def _readable(name: str, data: bytes, text: str) -> str:
    """The text of a file to look for markers and secret lines in.

    A binary file (a dataset): its runs of printable characters, as `strings` would list them (quicker to search
    than the whole file, and all a line of code could be). A notebook or JSON file: every key and string in it,
    decoded (its JSON escapes quotes and backslashes). Any other file, or JSON that does not parse: its text.
    """
    if b"\0" in data:
        return "\n".join(re.findall(PRINTABLE_RUN, text))
    if not name.endswith((".ipynb", ".json")):
        return text
    try:
        document = json.loads(text)
    except ValueError:
        return text
    strings = []

    def walk(value) -> None:
        if isinstance(value, str):
            strings.append(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                strings.append(key)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(document)
    return "\n".join(strings)


@functools.lru_cache(maxsize=None)
def _python_view(name: str, source: str) -> tuple[str, tuple[str, ...]]:
    """(the code without comments and docstrings, the modules imported) of a Python file of the bundle's idnn/.

    Docstrings are the bare string statements; imports are resolved when relative, and import_module("...") or
    __import__("...") of a constant count. A file that does not parse is code from end to end, importing nothing
    that can be told (a file of idnn/ that does not parse differs from utils/ anyway).
    """
    try:
        tree = ast.parse(source)
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (SyntaxError, tokenize.TokenError):
        return source, ()
    package = ".".join(name.removesuffix(".py").split("/")[:-1])
    lines = source.split("\n")
    for token in tokens:
        if token.type == tokenize.COMMENT:
            row, column = token.start
            lines[row - 1] = lines[row - 1][:column]
    modules = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for row in range(node.lineno - 1, node.end_lineno):
                lines[row] = ""
        elif isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            if node.level:
                with contextlib.suppress(ImportError):  # beyond the top package: left as written
                    base = importlib.util.resolve_name(base, package)
            modules += [base] + [f"{base}.{alias.name}" for alias in node.names]
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", ""))
              in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant)):
            modules.append(str(node.args[0].value))
    return "\n".join(lines), tuple(modules)


# -- serving (make lab) ------------------------------------------------------------------------------------------

def prepare_lab(bundle: Path) -> Path:
    """Write bundle/.lab (remade each time, it takes a fraction of a second) and return it:

      venv/                   the kernels' Python: the bundle and the repository's site-packages on its path,
                              through a .pth file; the site-packages' own .pth files (the editable idnn's hook)
                              are not run
      share/jupyter/kernels/python3/kernel.json    (on JUPYTER_PATH) the notebooks' kernel, in that Python
      etc/jupyter/labconfig/page_config.json       (on JUPYTER_CONFIG_PATH) INSTRUCTOR_LAB_PLUGINS disabled
      etc/jupyter/jupyter_server_config.json       INSTRUCTOR_SERVER_EXTENSIONS not loaded
    """
    bundle = Path(bundle).resolve()
    lab = bundle / ".lab"
    if lab.exists():
        shutil.rmtree(lab)
    venv = lab / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site_packages = Path(subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True, capture_output=True, text=True).stdout.strip())
    repo_packages = dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])
    (site_packages / "student_bundle.pth").write_text("\n".join([str(bundle), *repo_packages]) + "\n")

    kernel = lab / "share" / "jupyter" / "kernels" / "python3"
    kernel.mkdir(parents=True)
    (kernel / "kernel.json").write_text(json.dumps({
        "argv": [str(venv / "bin" / "python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": KERNEL_DISPLAY_NAME, "language": "python", "metadata": {"debugger": True}}, indent=1))

    config = lab / "etc" / "jupyter"
    (config / "labconfig").mkdir(parents=True)
    (config / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": dict.fromkeys(INSTRUCTOR_LAB_PLUGINS, True)}, indent=1))
    (config / "jupyter_server_config.json").write_text(json.dumps(
        {"ServerApp": {"jpserver_extensions": dict.fromkeys(INSTRUCTOR_SERVER_EXTENSIONS, False)}}, indent=1))
    name_the_kernel(bundle, venv / "bin" / "python")
    return lab


def lab_command(bundle_dir: Path, port: int | None = None, token: str | None = None,
                open_browser: bool = True) -> tuple[list[str], dict[str, str]]:
    """(argv, env) of a JupyterLab server on bundle_dir/notebooks that serves the bundle alone (see prepare_lab).

    The server runs in the bundle's folder (`env -C`): nbgrader's Validate reads nbgrader_config.py from the
    server's working folder, and the repository's would import the grader. token=None: Jupyter makes one and
    prints it; as root, --allow-root.
    """
    bundle = Path(bundle_dir).resolve()
    if not (bundle / "notebooks").is_dir():
        raise FileNotFoundError(f"{bundle} is not a student bundle: build one with `make bundle`")
    lab = prepare_lab(bundle)
    argv = ["env", "-C", str(bundle), sys.executable, "-m", "jupyterlab", str(bundle / "notebooks")]
    if port is not None:
        argv.append(f"--ServerApp.port={port}")
    if token is not None:
        argv.append(f"--IdentityProvider.token={token}")
    if not open_browser:
        argv.append("--ServerApp.open_browser=False")
    if os.geteuid() == 0:
        argv.append("--allow-root")
    env = dict(os.environ)
    for variable in ("PYTHONPATH", "IDNN_DATASETS"):  # the kernels take idnn and its datasets from the bundle
        env.pop(variable, None)
    for variable, path in (("JUPYTER_CONFIG_PATH", lab / "etc/jupyter"), ("JUPYTER_PATH", lab / "share/jupyter")):
        env[variable] = os.pathsep.join(filter(None, [str(path), env.get(variable)]))
    return argv, env


# -- command line ------------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m idnn.autograde.student_bundle", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build_parser = commands.add_parser("build", help="write the bundle into OUT and OUT.zip")
    build_parser.add_argument("out", type=Path, metavar="OUT")
    build_parser.add_argument("--assignment", action="extend", nargs="+", metavar="A",
                              help="only these assignments (default: every one in release/)")
    scan_parser = commands.add_parser("scan", help="list what in OUT or OUT.zip belongs to the instructor")
    scan_parser.add_argument("out", type=Path, metavar="OUT")
    serve_parser = commands.add_parser("serve", help="JupyterLab on OUT/notebooks, serving the bundle alone")
    serve_parser.add_argument("out", type=Path, metavar="OUT")
    serve_parser.add_argument("--port", type=int)
    args = parser.parse_args(argv)

    if args.command == "build":
        try:
            out = build_bundle(args.out, args.assignment)
        except (ValueError, FileExistsError, BundleLeak) as error:
            parser.exit(1, f"{error}\n")
        size = sum(p.stat().st_size for p in bundle_files(out))
        print(f"wrote {out} ({len(bundle_files(out))} files, {size / 2**20:.1f} MiB) and {zip_path(out)} "
              f"({zip_path(out).stat().st_size / 2**20:.1f} MiB)")
    elif args.command == "scan":
        findings = scan_bundle(args.out)
        print("\n".join(map(str, findings)) or f"{args.out}: nothing of the instructor's")
        return 1 if findings else 0
    else:
        command, env = lab_command(args.out, port=args.port)
        os.execvpe(command[0], command, env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
