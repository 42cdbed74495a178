"""Layout, packaging, datasets, and the freshness of release/."""

import ast
import filecmp
import hashlib
import subprocess
import sys

import h5py
import numpy as np
import pytest

from idnn import data
from idnn.autograde.reference import DEFAULT_MARKERS, hidden_code, is_test_cell
from idnn.build_datasets import MANIFEST, build_all

from .conftest import ASSIGNMENTS, REPO, code_cells, read_notebook

pytestmark = pytest.mark.course

SOURCE_NOTEBOOKS = sorted((REPO / "source").rglob("*.ipynb"))


def test_every_assignment_has_a_source_and_a_release():
    for assignment in ASSIGNMENTS:
        assert (REPO / "source" / assignment / f"{assignment}.ipynb").is_file()
        assert (REPO / "release" / assignment / f"{assignment}.ipynb").is_file()


@pytest.mark.parametrize("path", SOURCE_NOTEBOOKS, ids=lambda p: p.stem)
def test_source_notebooks_are_committed_without_outputs(path):
    for cell in code_cells(read_notebook(path)):
        assert not cell.outputs and cell.execution_count is None, f"{path}: run `nbstripout` or clear outputs"


@pytest.mark.parametrize("path", SOURCE_NOTEBOOKS, ids=lambda p: p.stem)
def test_every_test_cell_has_a_hidden_probe(path):
    tests = [cell for cell in read_notebook(path).cells if is_test_cell(cell)]
    assert tests, f"{path} has no autograded test cells"
    for cell in tests:
        code = hidden_code(cell.source)
        grade_id = cell.metadata.nbgrader.grade_id
        assert "Probe(" in code, f"{path}: test cell {grade_id} has no hidden probe, so the kernel would grade it"
        # Hidden checks run in the student's namespace: they must bind no name there but their own function.
        top = ast.parse(code).body
        assert [type(node).__name__ for node in top] == ["FunctionDef", "Expr"] and top[0].name == "_hidden_checks", \
            f"{path}: the hidden part of {grade_id} must be `def _hidden_checks(): ...` then `_hidden_checks()`"


def test_helper_package_installs_under_its_own_name(tmp_path):
    """`idnn` imports from anywhere; no module called `utils` is installed."""
    probe = ("import importlib.util, idnn, pathlib; "
             "assert importlib.util.find_spec('utils') is None, 'a top-level utils module is importable'; "
             "print(pathlib.Path(idnn.__file__).parent)")
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(REPO / "utils")


def test_release_is_fresh_and_holds_no_solution_or_hidden_code(released_course_template):
    """release/ is what `nbgrader generate_assignment` makes of source/ today (the session's released course)."""
    comparison = filecmp.dircmp(released_course_template / "release", REPO / "release")
    stale = _differences(comparison)
    assert not stale, f"release/ is stale ({stale}); run `make release` and commit it"

    for path in (REPO / "release").rglob("*.ipynb"):
        text = path.read_text()
        assert "BEGIN SOLUTION" not in text and DEFAULT_MARKERS.begin not in text and "Probe(" not in text, path
    for assignment in ASSIGNMENTS:
        source = read_notebook(REPO / "source" / assignment / f"{assignment}.ipynb")
        released = _given_lines(read_notebook(REPO / "release" / assignment / f"{assignment}.ipynb"))
        given = _given_lines(source)  # a solution line that the source also shows outside a solution is no leak
        for line in _solution_lines(source):
            assert line in given or line not in released, f"solution line leaked into release/{assignment}: {line!r}"


def _differences(comparison: filecmp.dircmp) -> list[str]:
    found = comparison.left_only + comparison.right_only + comparison.diff_files
    for sub in comparison.subdirs.values():
        found += _differences(sub)
    return found


def _split_lines(nb) -> tuple[list[str], set[str]]:
    """(lines inside solution regions, every other line of the notebook), stripped."""
    solution, given = [], set()
    for cell in nb.cells:
        inside = False
        for line in cell.source.splitlines():
            if line.strip() == "### BEGIN SOLUTION":
                inside = True
            elif line.strip() == "### END SOLUTION":
                inside = False
            elif line.strip():
                (solution.append if inside else given.add)(line.strip())
    return solution, given


def _solution_lines(nb) -> list[str]:
    return _split_lines(nb)[0]


def _given_lines(nb) -> set[str]:
    return _split_lines(nb)[1]


# -- datasets -------------------------------------------------------------------------------------

def test_datasets_match_their_manifest():
    manifest = (REPO / "datasets" / MANIFEST).read_text().splitlines()
    assert manifest, "datasets/SHA256SUMS is empty"
    listed = set()
    for line in manifest:
        digest, name = line.split()
        listed.add(name)
        assert hashlib.sha256((REPO / "datasets" / name).read_bytes()).hexdigest() == digest, f"{name} changed"
    assert listed == {schema.file_name for schema in data.SCHEMAS.values()}


def test_builder_reproduces_the_committed_datasets(tmp_path):
    made = {path.name for path in build_all(tmp_path)}
    for schema in data.SCHEMAS.values():
        if schema.file_name == "digits.h5":
            continue  # built only where scikit-learn is installed: tests/test_digits_data.py
        assert schema.file_name in made
        with h5py.File(tmp_path / schema.file_name) as built, h5py.File(REPO / "datasets" / schema.file_name) as kept:
            assert dict(built.attrs) == dict(kept.attrs)
            for split in schema.splits:
                for key in ("X", "Y"):
                    np.testing.assert_array_equal(built[f"{split.name}/{key}"][()], kept[f"{split.name}/{key}"][()])


def test_circles_are_balanced_and_shaped_as_documented():
    train_X, train_Y, test_X, test_Y = data.load_circles()
    assert train_X.shape == (2, 300) and train_Y.shape == (1, 300)
    assert test_X.shape == (2, 100) and test_Y.shape == (1, 100)
    assert train_Y.sum() == 150 and test_Y.sum() == 50
    assert train_X.dtype == np.float64 and train_Y.dtype == np.int64


def test_parabola_is_small_noisy_and_shaped_as_documented():
    train_X, train_Y, test_X, test_Y = data.load_parabola()
    assert train_X.shape == (2, 150) and test_X.shape == (2, 400)
    for X, Y in ((train_X, train_Y), (test_X, test_Y)):
        clean = (X[1] > 0.6 * X[0] ** 2 - 0.3).astype(np.int64)
        assert 0.07 < np.mean(clean != Y[0]) < 0.17  # about 12% of the labels flipped


def test_glyphs_are_ls_and_ts_whose_test_set_is_harder_than_the_training_set():
    train_X, train_Y, test_X, test_Y = data.load_glyphs()
    assert train_X.shape == (144, 40) and test_X.shape == (144, 400)
    assert train_Y.sum() == 20 and test_Y.sum() == 200
    for X in (train_X, test_X):
        assert 0.0 <= X.min() and X.max() <= 1.0
    images = data.to_images(train_X)
    assert images.shape == (40, 12, 12)
    assert np.array_equal(data.to_columns(images), train_X)

    def ink_columns(X, Y, label):
        """Where the ink sits, left to right, averaged over the images of one class."""
        return data.to_images(X[:, Y[0] == label]).mean(axis=(0, 1))

    # Every training L has its foot on the right (more ink on the left, where the upright is, than a mirrored L
    # would have); half the test Ls are mirrored, so their ink is spread evenly.
    train_L, test_L = ink_columns(train_X, train_Y, 0), ink_columns(test_X, test_Y, 0)
    assert train_L[:6].sum() > 1.3 * train_L[6:].sum()
    assert 0.8 < test_L[:6].sum() / test_L[6:].sum() < 1.25


def test_moons_are_balanced_and_the_temperatures_follow_the_seasons():
    train_X, train_Y, test_X, test_Y = data.load_moons()
    assert train_X.shape == (2, 300) and test_X.shape == (2, 300)
    assert train_Y.sum() == 150 and test_Y.sum() == 150
    assert train_X[1, train_Y[0] == 0].mean() > train_X[1, train_Y[0] == 1].mean() + 0.5  # label 0 is the upper arc
    day, temperature = data.load_temperatures()
    assert day.shape == temperature.shape == (1, 365) and temperature.dtype == np.float64
    winter, summer = temperature[0, :40].mean(), temperature[0, 180:220].mean()
    assert summer > winter + 10


def _use_datasets_dir(monkeypatch, path):
    monkeypatch.setenv("IDNN_DATASETS", str(path))


def test_missing_dataset_names_the_file_and_the_fix(tmp_path, monkeypatch):
    _use_datasets_dir(monkeypatch, tmp_path)
    with pytest.raises(data.DatasetError, match=r"circles\.h5 is missing.*idnn\.build_datasets"):
        data.load_circles()


def test_corrupt_dataset_is_reported(tmp_path, monkeypatch):
    _use_datasets_dir(monkeypatch, tmp_path)
    good = (REPO / "datasets" / "circles.h5").read_bytes()
    (tmp_path / "circles.h5").write_bytes(good[: len(good) // 3])
    with pytest.raises(data.DatasetError, match=r"circles\.h5 could not be read as HDF5"):
        data.load_circles()


@pytest.mark.parametrize("damage, message", [
    (lambda f: f.__delitem__("test/Y"), r"has no 'test/Y' array"),
    (lambda f: (f.__delitem__("train/X"), f.create_dataset("train/X", data=np.zeros((3, 300)))),
     r"'train/X' is float64 with shape \(3, 300\), but the schema says float64 with shape \(2, 300\)"),
    (lambda f: (f.__delitem__("train/Y"), f.create_dataset("train/Y", data=np.zeros((1, 300)))),
     r"'train/Y' is float64 .* the schema says int64"),
    (lambda f: f.attrs.__setitem__("version", 99), r"has version 99 but this course expects version 1"),
    (lambda f: f.attrs.__delitem__("seed"), r"lacks the provenance attributes \['seed'\]"),
], ids=["missing-array", "wrong-shape", "wrong-dtype", "wrong-version", "no-provenance"])
def test_off_schema_dataset_is_reported(tmp_path, monkeypatch, damage, message):
    _use_datasets_dir(monkeypatch, tmp_path)
    path = tmp_path / "circles.h5"
    path.write_bytes((REPO / "datasets" / "circles.h5").read_bytes())
    with h5py.File(path, "a") as f:
        damage(f)
    with pytest.raises(data.DatasetError, match=message):
        data.load_circles()
