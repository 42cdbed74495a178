"""datasets/digits.h5, the handwritten digits of the week-3 capstone: provenance, schema, split and rebuild.

The file is built from the copy of the UCI digits inside scikit-learn's package, a build-time extra
(`pip install -e '.[datasets]'`) that nothing else needs. Without scikit-learn these tests check the committed
file (checksum, schema, provenance, counts, split, labels); with it they also rebuild it and compare it image by
image with the source. They read the folder idnn.data reads, so IDNN_DATASETS pointed at a broken scratch copy
shows each of them fail.
"""

import gzip
import hashlib
import json
import re
import shutil

import h5py
import numpy as np
import pytest

from idnn import build_datasets, data
from idnn.build_datasets import DIGITS_CLASS_COUNTS, MANIFEST, build_all, build_digits, digits_source, read_digits
from idnn.paths import datasets_dir

pytestmark = [pytest.mark.course, pytest.mark.week3]

#: The attributes naming scikit-learn's copy: they change with the scikit-learn that builds the file.
PROVENANCE = ("source", "scikit_learn_version", "source_sha256")

needs_scikit_learn = pytest.mark.skipif(
    digits_source() is None,
    reason="scikit-learn is not installed (pip install -e '.[datasets]'): the committed digits.h5 is checked instead")


def digits_file():
    return datasets_dir() / "digits.h5"


def class_counts(Y: np.ndarray) -> np.ndarray:
    """Images per digit 0..9 among labels Y (1, m): shape (10,)."""
    return np.bincount(Y[0], minlength=10)


def pixel_rows(X: np.ndarray) -> list[bytes]:
    """Each image of X (64, m), as the source's pixel counts 0..16 (int64), as bytes: m keys to compare images by."""
    return [row.tobytes() for row in np.round(X.T * 16).astype(np.int64)]


def test_digits_match_the_manifest_the_schema_and_name_their_source_and_licence():
    manifest = dict(reversed(line.split()) for line in (datasets_dir() / MANIFEST).read_text().splitlines())
    assert hashlib.sha256(digits_file().read_bytes()).hexdigest() == manifest["digits.h5"], "digits.h5 changed"
    data.load_splits("digits")  # raises DatasetError naming what is off-schema
    with h5py.File(digits_file()) as f:
        attrs = dict(f.attrs)
    assert attrs["name"] == "digits" and attrs["builder"] == "idnn.build_datasets" and attrs["seed"] == 3
    assert json.loads(attrs["params"]) == {"dev_share": 0.2, "pixel_scale": 16, "test_share": 0.2}
    for words in ("UCI Machine Learning Repository", "Optical Recognition of Handwritten Digits",
                  "E. Alpaydin and C. Kaynak, 1998", f"scikit-learn {attrs['scikit_learn_version']}",
                  "sklearn/datasets/data/digits.csv.gz"):
        assert words in attrs["source"]
    assert attrs["licence"].startswith("CC BY 4.0"), f"the licence is {attrs['licence']!r}, not the UCI's CC BY 4.0"
    assert re.fullmatch("[0-9a-f]{64}", attrs["source_sha256"])


def test_the_file_holds_the_1797_images_of_the_source_once_each():
    splits = data.load_splits("digits")
    assert sum(Y.shape[1] for _, Y in splits.values()) == 1797
    seen = {}
    for name, (X, _) in splits.items():
        rows = pixel_rows(X)
        assert len(set(rows)) == len(rows), f"an image appears twice in {name}"
        for other, other_rows in seen.items():
            shared = set(rows) & other_rows
            assert len(shared) == 0, f"{len(shared)} image(s) appear in both {other} and {name}"
        seen[name] = set(rows)


def test_every_digit_has_the_same_share_of_every_split_within_one_image():
    splits = data.load_splits("digits")
    m = sum(Y.shape[1] for _, Y in splits.values())
    overall = sum(class_counts(Y) for _, Y in splits.values())
    for name, (_, Y) in splits.items():
        counts, expected = class_counts(Y), overall * Y.shape[1] / m
        assert counts.min() > 0, f"{name} has no image of the digit {counts.argmin()}"
        assert np.abs(counts - expected).max() <= 1, \
            f"{name} has {counts.tolist()} images per digit; its share of each is {np.round(expected, 1).tolist()}"


def test_pixels_are_the_source_counts_divided_by_16():
    splits = data.load_splits("digits")
    for name, (X, _) in splits.items():
        assert 0.0 <= X.min() and X.max() <= 1.0, f"{name} has pixels outside [0, 1]"
        assert np.array_equal(X * 16, np.round(X * 16)), f"{name} has pixels that are not sixteenths"
    assert max(X.max() for X, _ in splits.values()) == 1.0  # divided by 16 (some pixel is full), not by 255


def test_labels_match_the_images():
    train_X, train_Y, dev_X, dev_Y, test_X, test_Y = data.load_digits()
    assert tuple(class_counts(train_Y) + class_counts(dev_Y) + class_counts(test_Y)) == DIGITS_CLASS_COUNTS
    # The mean training image of each digit names most other images right; labels shuffled would get about 10%.
    centroids = np.stack([train_X[:, train_Y[0] == digit].mean(axis=1) for digit in range(10)], axis=1)  # (64, 10)
    for name, X, Y in (("dev", dev_X, dev_Y), ("test", test_X, test_Y)):
        distances = ((X[:, :, np.newaxis] - centroids[:, np.newaxis, :]) ** 2).sum(axis=0)  # (m, 10)
        accuracy = np.mean(distances.argmin(axis=1) == Y[0])
        assert accuracy > 0.85, f"the nearest mean digit names only {accuracy:.0%} of the {name} images right"


@needs_scikit_learn
def test_labels_match_the_source_image_by_image():
    pixels, labels = read_digits(digits_source())
    label_of = {row.tobytes(): label for row, label in zip(pixels, labels)}
    for name, (X, Y) in data.load_splits("digits").items():
        for i, (row, label) in enumerate(zip(pixel_rows(X), Y[0])):
            assert row in label_of, f"{name} image {i} is not in the source"
            assert label_of[row] == label, f"{name} image {i} is a {label_of[row]} labelled {label}"


@needs_scikit_learn
def test_the_builder_reproduces_the_committed_digits(tmp_path):
    build_digits(tmp_path / "digits.h5")
    with h5py.File(tmp_path / "digits.h5") as built, h5py.File(digits_file()) as kept:
        same_copy = built.attrs["scikit_learn_version"] == kept.attrs["scikit_learn_version"]
        assert set(built.attrs) == set(kept.attrs)
        for key in kept.attrs:
            if same_copy or key not in PROVENANCE:
                assert built.attrs[key] == kept.attrs[key], key
        for split in data.SCHEMAS["digits"].splits:
            for key in ("X", "Y"):
                np.testing.assert_array_equal(built[f"{split.name}/{key}"][()], kept[f"{split.name}/{key}"][()])
    if same_copy:  # the same bytes; another scikit-learn release changes the provenance attributes only
        assert (tmp_path / "digits.h5").read_bytes() == digits_file().read_bytes()


def test_without_scikit_learn_the_builder_says_what_to_install_and_keeps_the_committed_digits(
        tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(build_datasets, "digits_source", lambda: None)
    committed = digits_file().read_bytes()
    shutil.copyfile(digits_file(), tmp_path / "digits.h5")
    made = build_all(tmp_path)
    assert [path.name for path in made] == [s.file_name for s in data.SCHEMAS.values() if s.file_name != "digits.h5"]
    assert (tmp_path / "digits.h5").read_bytes() == committed
    assert f"{hashlib.sha256(committed).hexdigest()}  digits.h5\n" in (tmp_path / MANIFEST).read_text()
    said = capsys.readouterr().out
    assert "scikit-learn is not installed: pip install -e '.[datasets]' (kept the existing file as it is)" in said

    build_all(tmp_path / "empty")  # where there is no digits.h5 to keep, none is made up
    assert not (tmp_path / "empty" / "digits.h5").exists()
    assert "digits.h5" not in (tmp_path / "empty" / MANIFEST).read_text()
    assert "(not built)" in capsys.readouterr().out


def test_the_builder_refuses_a_source_that_is_not_the_uci_digits(tmp_path):
    source = tmp_path / "digits.csv.gz"
    with gzip.open(source, "wt") as f:
        f.write("0," * 64 + "3\n")
    with pytest.raises(ValueError, match=r"is not the UCI digits: a table of shape \(1, 65\)"):
        read_digits(source)


def test_load_digits_returns_the_documented_shapes():
    train_X, train_Y, dev_X, dev_Y, test_X, test_Y = data.load_digits()
    assert train_X.shape == (64, 1079) and train_Y.shape == (1, 1079)
    assert dev_X.shape == (64, 359) and dev_Y.shape == (1, 359)
    assert test_X.shape == (64, 359) and test_Y.shape == (1, 359)
    assert all(X.dtype == np.float64 for X in (train_X, dev_X, test_X))
    assert all(Y.dtype == np.int64 for Y in (train_Y, dev_Y, test_Y))
    splits = data.load_splits("digits")
    np.testing.assert_array_equal(dev_X, splits["dev"][0])  # dev before test, as the docstring says
    images = data.to_images(train_X, data.DIGIT_SHAPE)
    assert images.shape == (1079, 8, 8)
    np.testing.assert_array_equal(data.to_columns(images), train_X)
