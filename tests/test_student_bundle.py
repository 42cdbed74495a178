"""The student bundle (idnn.autograde.student_bundle): what a student receives holds nothing of the instructor's,
finds its datasets, cannot import the grader, and `make lab` serves it alone.

No test installs anything: ./start is checked for its syntax and for the nbgrader names it switches off, which
must exist in the installed nbgrader.
"""

import ast
import importlib.util
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager
from jupyter_core.paths import jupyter_config_path, jupyter_path

from idnn.autograde import student_bundle
from idnn.autograde.student_bundle import (INSTRUCTOR_LAB_PLUGINS, INSTRUCTOR_SERVER_EXTENSIONS, build_bundle,
                                           lab_command, scan_bundle, secret_lines, student_package, write_zip,
                                           zip_path)

from .conftest import ASSIGNMENTS, REPO

pytestmark = pytest.mark.course

#: Text no file of the bundle may hold, looked for in the raw bytes, without the scanner's help.
PLAIN_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "_hidden_checks")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    """A bundle of every assignment, built as `make bundle` builds it (the command line, run in this process)."""
    out = tmp_path_factory.mktemp("bundle") / "student"
    assert student_bundle.main(["build", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def secrets() -> set[str]:
    return secret_lines()


def every_file(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def zip_members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def test_the_bundle_holds_the_notebooks_the_student_package_the_datasets_and_one_command(bundle):
    files = every_file(bundle)
    expected = ({f"notebooks/{a}/{a}.ipynb" for a in ASSIGNMENTS} | set(student_package())
                | {f"datasets/{p.name}" for p in (REPO / "datasets").glob("*.h5")}
                | {"pyproject.toml", "README.md", "start"})
    assert set(files) == expected
    for assignment in ASSIGNMENTS:
        notebook = f"{assignment}/{assignment}.ipynb"
        assert files[f"notebooks/{notebook}"] == (REPO / "release" / notebook).read_bytes()
    assert not [name for name in files if "autograde" in name or "build_datasets" in name]
    assert (bundle / "start").stat().st_mode & stat.S_IXUSR

    members = zip_members(zip_path(bundle))
    assert members == {f"student/{name}": data for name, data in files.items()}, "the zip is not the folder"
    with zipfile.ZipFile(zip_path(bundle)) as archive:
        assert archive.getinfo("student/start").external_attr >> 16 == 0o755


def test_no_file_of_the_bundle_or_its_zip_gives_away_a_solution_or_hidden_check(bundle, secrets, capsys):
    # The scan is not empty-handed: the source notebooks' solutions and hidden checks were found.
    assert len(secrets) > 200
    assert any("probe.call(" in line for line in secrets) and any("np.sqrt" in line for line in secrets)

    files, members = every_file(bundle), zip_members(zip_path(bundle))
    findings = student_bundle.scan_files(files.items(), secrets, where="student")
    findings += student_bundle.scan_files([(name.partition("/")[2], data) for name, data in members.items()],
                                          secrets, where="student.zip")
    assert findings == []
    assert student_bundle.main(["scan", str(bundle)]) == 0
    assert capsys.readouterr().out.strip().endswith("nothing of the instructor's")
    # Without the scanner: nbgrader's delimiters and the hidden checks' function in no byte of any file, the
    # grader's name and the probe in nothing outside the helpers' Python files (whose docstrings mention them).
    for name, data in [*files.items(), *members.items()]:
        assert not [m for m in PLAIN_MARKERS if m.encode() in data], name
        if not name.endswith(".py"):
            assert b"idnn.autograde" not in data and b"Probe(" not in data, name


def a_solution_line_with_quotes(secrets: set[str]) -> str:
    """A line of the Initialization solution that holds a quote (a notebook's JSON escapes it)."""
    source = nbformat.read(REPO / "source/initialization/initialization.ipynb", as_version=4)
    lines = [line.strip() for cell in source.cells if cell.metadata.get("nbgrader", {}).get("solution")
             for line in cell.source.split("\n")]
    return next(line for line in lines if '"' in line and line in secrets)


def plant_in_notebook(bundle: Path, exercise: int, text: str) -> None:
    """Put text into an exercise of the Initialization notebook, as a student copy leaking it would."""
    path = bundle / NOTEBOOK
    nb = nbformat.read(path, as_version=4)
    cell = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")][exercise]
    cell.source = cell.source.replace("raise NotImplementedError()", text)
    nbformat.write(nb, path)


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


NOTEBOOK = "notebooks/initialization/initialization.ipynb"
#: name: (how to plant the leak in a copy of the bundle, given a solution line; the file the findings then name;
#: what they say). All are planted in one copy (two in the notebook, in different exercises), then scanned once.
PLANTS = {
    "a solution line in a notebook": (lambda b, line: plant_in_notebook(b, 0, line), NOTEBOOK,
                                      "holds a line of a solution"),
    "a hidden check in a notebook": (
        lambda b, line: plant_in_notebook(b, 1, "### BEGIN HIDDEN TESTS\ndef _hidden_checks():\n    pass\n"
                                                "### END HIDDEN TESTS"),
        NOTEBOOK, "holds '_hidden_checks'"),
    "a solution line in the README": (lambda b, line: append(b / "README.md", f"\n    {line}\n"), "README.md",
                                      "holds a line of a solution"),
    "the grader imported by a helper": (lambda b, line: append(b / "idnn/nets.py", "\nfrom idnn.autograde import "
                                                                                    "verdicts\n"),
                                        "idnn/nets.py", "imports idnn.autograde"),
    "the grader imported relatively": (lambda b, line: append(b / "idnn/checks/compare.py", "\nfrom ..autograde."
                                                                                             "reference import x\n"),
                                       "idnn/checks/compare.py", "imports idnn.autograde.reference"),
    "a helper changed": (lambda b, line: append(b / "idnn/plots.py", "\n# edited\n"), "idnn/plots.py",
                         "differs from utils/plots.py"),
    "a helper missing": (lambda b, line: (b / "idnn/gradcheck.py").unlink(), "idnn/gradcheck.py", "is missing"),
    "a file of the grader": (lambda b, line: shutil.copy(REPO / "utils/autograde/reference.py", b / "idnn/ref.py"),
                             "idnn/ref.py", "is a copy of utils/autograde/reference.py"),
    "the instructor's nbgrader_config.py": (lambda b, line: shutil.copy(REPO / "nbgrader_config.py", b),
                                            "nbgrader_config.py", "is a copy of nbgrader_config.py"),
}


def test_the_scan_reports_every_leak_planted_in_the_bundle_and_in_its_zip(bundle, secrets, tmp_path):
    copy = tmp_path / "student"
    shutil.copytree(bundle, copy)
    line = a_solution_line_with_quotes(secrets)
    for plant, _, _ in PLANTS.values():
        plant(copy, line)
    write_zip(copy, zip_path(copy))
    findings = scan_bundle(copy, secrets=secrets)
    missed = [f"{name}: nothing in {scanned}{where} saying {says!r}" for name, (_, where, says) in PLANTS.items()
              for scanned in ("student/", "student.zip:student/")
              if not any(f.path == scanned + where and says in f.what for f in findings)]
    assert not missed, "\n".join(missed + ["found:"] + list(map(str, findings)))
    planted = {where for _, where, _ in PLANTS.values()}
    assert all(f.path.split("student/", 1)[1] in planted for f in findings), list(map(str, findings))


def test_a_build_that_would_leak_is_refused_and_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(student_bundle, "STUDENT_README", student_bundle.STUDENT_README + "\n_hidden_checks\n")
    with pytest.raises(student_bundle.BundleLeak, match="README.md: holds '_hidden_checks'"):
        build_bundle(tmp_path / "student", ["initialization"])
    assert not (tmp_path / "student").exists() and not (tmp_path / "student.zip").exists()


def test_a_build_replaces_an_earlier_bundle_and_nothing_else(tmp_path):
    out = tmp_path / "student"
    build_bundle(out, ["softmax"])
    build_bundle(out, ["initialization", "setting_up"])
    assert sorted(p.name for p in (out / "notebooks").iterdir()) == ["initialization", "setting_up"]
    with pytest.raises(ValueError, match="no student copy of nothing_like_it"):
        build_bundle(out, ["nothing_like_it"])
    other = tmp_path / "work"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not a student bundle"):
        build_bundle(other)
    assert (other / "keep.txt").read_text() == "mine"


def test_the_release_notebooks_import_only_modules_the_bundle_holds(bundle):
    imported = set()
    for notebook in (bundle / "notebooks").glob("*/*.ipynb"):
        for cell in nbformat.read(notebook, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            for node in ast.walk(ast.parse(TransformerManager().transform_cell(cell.source))):
                if isinstance(node, ast.Import):
                    imported |= {alias.name for alias in node.names if alias.name.startswith("idnn")}
                elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("idnn"):
                    imported |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    assert {"idnn.nets", "idnn.data", "idnn.checks.initialization"} <= imported
    for name in imported:
        path = bundle / name.replace(".", "/")
        is_module = path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()
        is_attribute = (path.parent.with_suffix(".py")).is_file() or (path.parent / "__init__.py").is_file()
        assert is_module or is_attribute, f"the notebooks import {name}, which the bundle lacks"


def test_the_student_pyproject_asks_for_what_the_notebooks_need_with_the_repository_bounds(bundle):
    student = tomllib.loads((bundle / "pyproject.toml").read_text())
    main = tomllib.loads((REPO / "pyproject.toml").read_text())
    bounds = {re.split(r"[<>=!~\[; ]", spec)[0].lower(): spec for spec in main["project"]["dependencies"]}
    assert student["project"]["dependencies"] == [bounds[name] for name in student_bundle.DEPENDENCIES]
    assert student["project"]["requires-python"] == main["project"]["requires-python"]
    assert student["tool"]["setuptools"]["packages"] == ["idnn", "idnn.checks", "idnn.checks.data"]
    assert student["tool"]["setuptools"]["package-data"] == {"idnn.checks.data": ["*.json"]}


def test_the_start_script_is_bash_and_switches_off_nbgrader_tools_that_exist(bundle):
    start = (bundle / "start").read_text()
    subprocess.run(["bash", "-n", str(bundle / "start")], check=True)
    disabling = r"^\s*\.venv/bin/jupyter (labextension|server extension) disable --\S+ (.+)$"
    listed = dict(re.findall(disabling, start, re.M))
    assert tuple(listed["labextension"].split()) == INSTRUCTOR_LAB_PLUGINS
    assert tuple(listed["server extension"].split()) == INSTRUCTOR_SERVER_EXTENSIONS

    # The plugin ids are in the installed labextension's code, where JupyterLab reads them.
    labextension = next(Path(base) / "@jupyter" / "nbgrader" for base in jupyter_path("labextensions")
                        if (Path(base) / "@jupyter" / "nbgrader" / "package.json").is_file())
    package = json.loads((labextension / "package.json").read_text())
    assert package["name"] == "@jupyter/nbgrader" and package["version"].startswith("0.9.")
    code = "\n".join(p.read_text() for p in (labextension / "static").glob("*.js"))
    for plugin in (*INSTRUCTOR_LAB_PLUGINS, "@jupyter/nbgrader:validate-assignment"):
        assert f'"{plugin}"' in code, f"nbgrader's labextension has no plugin {plugin}"
    # The server extensions are modules that load as extensions (read, not imported: idnn.autograde keeps
    # nbgrader's package __init__, which imports them all, from running), and the first two are those nbgrader
    # enables.
    for name in INSTRUCTOR_SERVER_EXTENSIONS:
        source = Path(importlib.util.find_spec(name).origin).read_text()
        assert re.search(r"^(def |from \S+ import |)_?load_jupyter_server_extension\b", source, re.M), \
            f"{name} is no server extension"
    enabled = {}
    for base in jupyter_config_path():
        config = Path(base) / "jupyter_server_config.d" / "nbgrader.json"
        if config.is_file():
            enabled |= json.loads(config.read_text())["ServerApp"]["jpserver_extensions"]
    assert {"nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list"} <= set(enabled)
    assert "nbgrader.server_extensions.validate_assignment" not in INSTRUCTOR_SERVER_EXTENSIONS


@pytest.fixture(scope="module")
def lab(bundle, tmp_path_factory):
    """A copy of the bundle prepared for `make lab` on port 8899 with a token: (bundle, argv, env)."""
    copy = tmp_path_factory.mktemp("lab") / "student"
    shutil.copytree(bundle, copy)
    argv, env = lab_command(copy, port=8899, token="t0ken", open_browser=False)
    return copy, argv, env


def test_make_lab_runs_the_repository_jupyterlab_in_the_bundle_with_the_instructor_tools_off(lab):
    bundle, argv, env = lab
    assert argv[:7] == ["env", "-C", str(bundle), sys.executable, "-m", "jupyterlab", str(bundle / "notebooks")]
    assert {"--ServerApp.port=8899", "--IdentityProvider.token=t0ken", "--ServerApp.open_browser=False"} <= set(argv)
    assert ("--allow-root" in argv) == (os.geteuid() == 0)
    assert "PYTHONPATH" not in env and "IDNN_DATASETS" not in env
    config = Path(env["JUPYTER_CONFIG_PATH"].split(os.pathsep)[0])
    assert config.is_relative_to(bundle / ".lab")
    disabled = json.loads((config / "labconfig" / "page_config.json").read_text())["disabledExtensions"]
    assert {name for name, off in disabled.items() if off} == set(INSTRUCTOR_LAB_PLUGINS)
    server = json.loads((config / "jupyter_server_config.json").read_text())["ServerApp"]["jpserver_extensions"]
    assert server == dict.fromkeys(INSTRUCTOR_SERVER_EXTENSIONS, False)
    assert not (bundle / "nbgrader_config.py").exists()  # the server's working folder: Validate reads config there


KERNEL_CODE = """
import json, idnn, idnn.checks.initialization, idnn.data, idnn.paths
train_X, train_Y, test_X, test_Y = idnn.data.load_moons()
try:
    import idnn.autograde
    grader = idnn.autograde.__file__
except ImportError as error:
    grader = f"ImportError: {error}"
print(json.dumps({"idnn": idnn.__file__, "datasets": str(idnn.paths.datasets_dir()), "m": train_X.shape[1],
                  "grader": grader}))
"""


def test_the_kernels_python_imports_the_bundle_and_finds_its_datasets_but_not_the_grader(lab, tmp_path):
    bundle, _, env = lab
    kernel = json.loads((Path(env["JUPYTER_PATH"].split(os.pathsep)[0]) / "kernels/python3/kernel.json").read_text())
    python = kernel["argv"][0]
    assert Path(python).is_relative_to(bundle / ".lab")
    # -I: no PYTHONPATH, no user site; what this interpreter sees is its own doing.
    result = subprocess.run([python, "-I", "-c", KERNEL_CODE], env=env, cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert Path(seen["idnn"]) == bundle / "idnn" / "__init__.py"
    assert Path(seen["datasets"]) == bundle / "datasets" and seen["m"] > 0
    assert seen["grader"] == "ImportError: No module named 'idnn.autograde'"
    # The same interpreter with the repository's virtual environment run as usual would find the grader: the bundle
    # alone on the path is not enough (the editable install's import hook maps idnn.autograde to utils/).
    shadowed = subprocess.run([sys.executable, "-c", "import idnn, idnn.autograde; print(idnn.autograde.__file__)"],
                              env={**env, "PYTHONPATH": str(bundle)}, cwd=tmp_path, capture_output=True, text=True)
    assert shadowed.returncode == 0 and Path(shadowed.stdout.strip()).is_relative_to(REPO / "utils"), shadowed


def test_a_kernel_started_as_jupyterlab_starts_it_runs_in_the_bundle(lab, tmp_path):
    bundle, _, env = lab
    script = f"""
from jupyter_client.manager import start_new_kernel
manager, client = start_new_kernel(kernel_name="python3")
try:
    client.execute_interactive({KERNEL_CODE!r}, timeout=120)
finally:
    client.stop_channels()
    manager.shutdown_kernel(now=True)
"""
    result = subprocess.run([sys.executable, "-c", script], env=env, cwd=bundle, capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert Path(seen["idnn"]) == bundle / "idnn" / "__init__.py"
    assert seen["grader"].startswith("ImportError")
