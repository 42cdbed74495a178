"""Build every HDF5 file in datasets/ from fixed seeds, and write SHA256SUMS.

    python -m idnn.build_datasets            # rebuild into datasets/
    python -m idnn.build_datasets --out DIR  # build elsewhere (tests compare the two)

The output is deterministic: the same code and library versions give the same
bytes (HDF5 object timestamps are turned off), and always the same arrays.

digits.h5 is read from the copy of the UCI digits that scikit-learn bundles in its
package (`pip install -e '.[datasets]'`; nothing is downloaded). Without
scikit-learn the other files are built as usual and digits.h5 is left as it is.
"""

import argparse
import gzip
import hashlib
import importlib.metadata
import importlib.util
import json
from pathlib import Path

import h5py
import numpy as np

from .data import DIGIT_SHAPE, IMAGE_SHAPE, SCHEMAS, to_columns
from .paths import datasets_dir

BUILDER = "idnn.build_datasets"
MANIFEST = "SHA256SUMS"


def make_circles(m: int, factor: float, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles: m/2 points on radius 1 (label 0), m/2 on radius `factor` (label 1).

    Each point gets isotropic Gaussian noise of standard deviation `noise`.
    Returns X (2, m) float64 and Y (1, m) int64, examples in random order.
    """
    half = m // 2
    angle = rng.uniform(0.0, 2.0 * np.pi, m)
    radius = np.where(np.arange(m) < half, 1.0, factor)
    X = np.stack([radius * np.cos(angle), radius * np.sin(angle)]) + rng.normal(0.0, noise, (2, m))
    Y = (np.arange(m) >= half).astype(np.int64)[np.newaxis, :]
    order = rng.permutation(m)
    return X[:, order], Y[:, order]


def build_circles(path: Path) -> None:
    params = {"factor": 0.7, "noise": 0.08, "m_train": 300, "m_test": 100}
    seed = 2024
    rng = np.random.default_rng(seed)
    splits = {
        "train": make_circles(params["m_train"], params["factor"], params["noise"], rng),
        "test": make_circles(params["m_test"], params["factor"], params["noise"], rng),
    }
    _write(path, "circles", seed, params, splits)


def make_houses(m: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Floor area ~ N(120, 40) m2 (at least 25) and distance ~ Gamma(2, 4) km; a house sells within a month
    with probability sigmoid(0.03 (area - 120) - 0.25 (distance - 8) - 1). Returns X (2, m), Y (1, m) int64."""
    area = np.maximum(25.0, rng.normal(120.0, 40.0, m))
    distance = rng.gamma(2.0, 4.0, m)
    logit = 0.03 * (area - 120.0) - 0.25 * (distance - 8.0) - 1.0
    Y = (rng.random(m) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)[np.newaxis, :]
    return np.stack([np.round(area, 1), np.round(distance, 2)]), Y


def build_houses(path: Path) -> None:
    params = {"m": 1000}
    seed = 7
    _write(path, "houses", seed, params, {"all": make_houses(params["m"], np.random.default_rng(seed))})


def make_parabola(m: int, flip: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """X uniform on [-1, 1]^2 (2, m); Y (1, m) is 1 above x2 = 0.6 x1^2 - 0.3, then a fraction `flip` flipped."""
    X = rng.uniform(-1.0, 1.0, (2, m))
    Y = (X[1] > 0.6 * X[0] ** 2 - 0.3).astype(np.int64)
    flipped = rng.random(m) < flip
    return X, np.where(flipped, 1 - Y, Y)[np.newaxis, :]


def build_parabola(path: Path) -> None:
    params = {"flip": 0.12, "m_train": 150, "m_test": 400}
    seed = 11
    rng = np.random.default_rng(seed)
    splits = {"train": make_parabola(params["m_train"], params["flip"], rng),
              "test": make_parabola(params["m_test"], params["flip"], rng)}
    _write(path, "parabola", seed, params, splits)


def draw_glyph(kind: str, mirrored: bool, dy: int, dx: int, size: int, stroke: int, intensity: float) -> np.ndarray:
    """One 12 x 12 image: a "T" or an "L" of side `size` and line width `stroke`, moved by (dy, dx) from the centre.

    A mirrored L has its foot on the left instead of the right; a T is its own mirror image.
    """
    height, width = IMAGE_SHAPE
    image = np.zeros(IMAGE_SHAPE)
    top, left = (height - size) // 2 + dy, (width - size) // 2 + dx
    box = image[top:top + size, left:left + size]  # a view: drawing in it draws in image
    if kind == "T":
        box[:stroke, :] = intensity
        middle = size // 2 - stroke // 2
        box[:, middle:middle + stroke] = intensity
    else:
        box[:, :stroke] = intensity
        box[size - stroke:, :] = intensity
        if mirrored:
            box[:, :] = box[:, ::-1].copy()
    return image


def make_glyphs(m: int, max_shift: int, mirrored_share: float, noise: float,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """m images of Ls (label 0) and Ts (label 1), alternating then shuffled, as columns: X (144, m), Y (1, m).

    Each glyph has a random size (6 to 8 pixels), line width (1 or 2) and brightness (0.7 to 1), is moved by
    up to `max_shift` pixels in each direction, and is mirrored with probability `mirrored_share`. Gaussian
    noise of standard deviation `noise` is added and the pixels are clipped to [0, 1].
    """
    images, Y = np.zeros((m, *IMAGE_SHAPE)), np.zeros((1, m), dtype=np.int64)
    for i in range(m):
        label = i % 2
        size, stroke = int(rng.integers(6, 9)), int(rng.integers(1, 3))
        dy, dx = (int(v) for v in rng.integers(-max_shift, max_shift + 1, 2))
        mirrored = bool(rng.random() < mirrored_share)
        images[i] = draw_glyph("T" if label else "L", mirrored, dy, dx, size, stroke, float(rng.uniform(0.7, 1.0)))
        Y[0, i] = label
    images = np.clip(images + noise * rng.standard_normal(images.shape), 0.0, 1.0)
    order = rng.permutation(m)
    return to_columns(images[order]), Y[:, order]


def build_glyphs(path: Path) -> None:
    params = {"m_train": 40, "m_test": 400, "train": {"max_shift": 1, "mirrored_share": 0.0, "noise": 0.05},
              "test": {"max_shift": 2, "mirrored_share": 0.5, "noise": 0.1}}
    seed = 5
    rng = np.random.default_rng(seed)
    splits = {"train": make_glyphs(params["m_train"], rng=rng, **params["train"]),
              "test": make_glyphs(params["m_test"], rng=rng, **params["test"])}
    _write(path, "glyphs", seed, params, splits)


def make_moons(m: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles, X (2, m) and Y (1, m): label 0 on the upper arc (centre (0, 0)), label 1 on
    the lower one (centre (1, 0.5)), radius 1, with Gaussian noise of standard deviation `noise`; balanced."""
    m0 = m // 2
    angles = rng.uniform(0.0, np.pi, m)
    upper = np.stack([np.cos(angles[:m0]), np.sin(angles[:m0])])
    lower = np.stack([1.0 - np.cos(angles[m0:]), 0.5 - np.sin(angles[m0:])])
    X = np.concatenate([upper, lower], axis=1) + noise * rng.standard_normal((2, m))
    Y = np.concatenate([np.zeros(m0), np.ones(m - m0)]).astype(np.int64)[np.newaxis, :]
    order = rng.permutation(m)
    return X[:, order], Y[:, order]


def build_moons(path: Path) -> None:
    params = {"m_train": 300, "m_test": 300, "noise": 0.2}
    seed = 21
    rng = np.random.default_rng(seed)
    splits = {"train": make_moons(params["m_train"], params["noise"], rng),
              "test": make_moons(params["m_test"], params["noise"], rng)}
    _write(path, "moons", seed, params, splits)


def make_temperatures(days: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A year of noisy daily temperatures: X (1, days) is the day (1, 2, ...), Y (1, days) the temperature in
    degrees C: 11 - 9 cos(2 pi (day - 15) / 365), plus weather that lasts a few days (an AR(1) process with
    coefficient 0.6 and standard deviation 3.5) and 1.5 degrees of measurement noise."""
    day = np.arange(1, days + 1, dtype=np.float64)
    season = 11.0 - 9.0 * np.cos(2 * np.pi * (day - 15) / 365)
    weather = np.zeros(days)
    shocks = rng.standard_normal(days) * 3.5 * np.sqrt(1 - 0.6 ** 2)
    for i in range(1, days):
        weather[i] = 0.6 * weather[i - 1] + shocks[i]
    Y = season + weather + 1.5 * rng.standard_normal(days)
    return day[np.newaxis, :], np.round(Y, 1)[np.newaxis, :]


def build_temperatures(path: Path) -> None:
    params = {"days": 365}
    seed = 4
    _write(path, "temperatures", seed, params, {"all": make_temperatures(params["days"], np.random.default_rng(seed))})


#: Where scikit-learn keeps its copy of the UCI digits, inside its package folder.
DIGITS_SOURCE = ("datasets", "data", "digits.csv.gz")
#: What installs scikit-learn for the builder: the project's optional `datasets` dependencies.
DIGITS_EXTRA = "pip install -e '.[datasets]'"
DIGITS_LICENCE = "CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/), the UCI dataset's licence"
#: Images per digit 0..9 in the source (the UCI test file optdigits.tes); the builder checks them.
DIGITS_CLASS_COUNTS = (178, 182, 177, 183, 181, 182, 181, 179, 174, 180)


class SourceMissing(RuntimeError):
    """A dataset's source is not installed, so the dataset cannot be built here."""


def digits_source() -> Path | None:
    """scikit-learn's bundled copy of the UCI digits (sklearn/datasets/data/digits.csv.gz), or None without it.

    Found without importing scikit-learn (which would import SciPy): only its package folder is looked up.
    """
    try:
        spec = importlib.util.find_spec("sklearn")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]).joinpath(*DIGITS_SOURCE)
    return path if path.is_file() else None


def read_digits(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The digits as scikit-learn stores them: one image per line, 64 pixel counts (0..16, row by row) and the digit.

    Returns pixels (m, 64) and labels (m,), both int64, in the file's order. Raises ValueError if the file
    holds anything else than 1797 such lines with the known number of images per digit.
    """
    with gzip.open(path, "rt") as f:
        table = np.loadtxt(f, delimiter=",", ndmin=2)
    n_x = DIGIT_SHAPE[0] * DIGIT_SHAPE[1]
    if table.shape != (sum(DIGITS_CLASS_COUNTS), n_x + 1) or not np.array_equal(table, np.round(table)):
        raise ValueError(f"{path} is not the UCI digits: a table of shape {table.shape}, expected 1797 lines of "
                         f"{n_x} whole pixel counts and a label")
    pixels, labels = table[:, :n_x].astype(np.int64), table[:, n_x].astype(np.int64)
    if pixels.min() < 0 or pixels.max() > 16 or labels.min() < 0 or labels.max() > 9:
        raise ValueError(f"{path} is not the UCI digits: pixels outside 0..16 or labels outside 0..9")
    if tuple(np.bincount(labels, minlength=10)) != DIGITS_CLASS_COUNTS:
        raise ValueError(f"{path} is not the UCI digits: {np.bincount(labels).tolist()} images per digit, "
                         f"expected {list(DIGITS_CLASS_COUNTS)}")
    return pixels, labels


def split_by_class(labels: np.ndarray, dev_share: float, test_share: float,
                   rng: np.random.Generator) -> dict[str, np.ndarray]:
    """A stratified train/dev/test split of labels (m,): {split: indices into labels}.

    Each class, taken in order 0, 1, ..., gives round(dev_share n_c) of its n_c examples, drawn at random, to
    dev, round(test_share n_c) more to test, and the rest to train; each split's indices are then shuffled.
    """
    chunks = {"train": [], "dev": [], "test": []}
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        n_dev, n_test = round(dev_share * len(members)), round(test_share * len(members))
        chunks["dev"].append(members[:n_dev])
        chunks["test"].append(members[n_dev:n_dev + n_test])
        chunks["train"].append(members[n_dev + n_test:])
    return {split: rng.permutation(np.concatenate(parts)) for split, parts in chunks.items()}


def digits_provenance(source: Path) -> dict[str, str]:
    """The attributes that say where digits.h5 comes from: source, scikit_learn_version, licence, source_sha256."""
    version = importlib.metadata.version("scikit-learn")
    return {
        "source": "UCI Machine Learning Repository, 'Optical Recognition of Handwritten Digits', E. Alpaydin and "
                  "C. Kaynak, 1998, https://doi.org/10.24432/C50P49 (its test file, optdigits.tes); read from the "
                  f"copy scikit-learn {version} bundles, sklearn/{'/'.join(DIGITS_SOURCE)}",
        "scikit_learn_version": version,
        "licence": DIGITS_LICENCE,
        "source_sha256": sha256(source),
    }


def build_digits(path: Path) -> None:
    """The 1797 UCI digits, pixels divided by 16, split by class about 60/20/20 into train, dev and test.

    Raises SourceMissing, before touching path, when scikit-learn (which holds the source) is not installed.
    """
    source = digits_source()
    if source is None:
        raise SourceMissing(f"{path.name} is built from the copy of the UCI digits inside scikit-learn's package, "
                            f"and scikit-learn is not installed: {DIGITS_EXTRA}")
    params = {"dev_share": 0.2, "test_share": 0.2, "pixel_scale": 16}
    seed = 3
    pixels, labels = read_digits(source)
    parts = split_by_class(labels, params["dev_share"], params["test_share"], np.random.default_rng(seed))
    splits = {split: (pixels[rows].T / params["pixel_scale"], labels[rows][np.newaxis, :])
              for split, rows in parts.items()}
    _write(path, "digits", seed, params, splits, digits_provenance(source))


BUILDERS = {"circles": build_circles, "houses": build_houses, "parabola": build_parabola, "glyphs": build_glyphs,
            "moons": build_moons, "temperatures": build_temperatures, "digits": build_digits}


def _write(path: Path, name: str, seed: int, params: dict, splits: dict, extra: dict | None = None) -> None:
    """Write splits {split: (X, Y)} and the root attributes; `extra` adds attributes (a source, a licence...)."""
    schema = SCHEMAS[name]
    with h5py.File(path, "w", track_order=False) as f:
        f.attrs["name"] = name
        f.attrs["description"] = schema.description
        f.attrs["version"] = schema.version
        f.attrs["seed"] = seed
        f.attrs["builder"] = BUILDER
        f.attrs["params"] = json.dumps(params, sort_keys=True)
        for key, value in (extra or {}).items():
            f.attrs[key] = value
        for split, (X, Y) in splits.items():
            group = f.create_group(split, track_order=False)
            group.create_dataset("X", data=X, track_times=False)
            group.create_dataset("Y", data=Y, track_times=False)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_all(out_dir: Path) -> list[Path]:
    """Build every dataset into out_dir and write its SHA256SUMS manifest; return the paths built.

    A dataset whose source is not installed (digits.h5 without scikit-learn) is skipped with a message saying
    what to install: the file already in out_dir, such as the committed one in datasets/, is left as it is and
    listed in the manifest; in a folder without it, the manifest leaves it out.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    built = []
    for name, build in BUILDERS.items():
        path = out_dir / SCHEMAS[name].file_name
        try:
            build(path)
        except SourceMissing as missing:
            kept = "kept the existing file as it is" if path.is_file() else "not built"
            print(f"skipped {path}: {missing} ({kept})")
            continue
        built.append(path)
        print(f"built {path} ({path.stat().st_size} bytes)")
    listed = sorted(p for p in (out_dir / schema.file_name for schema in SCHEMAS.values()) if p.is_file())
    (out_dir / MANIFEST).write_text("".join(f"{sha256(p)}  {p.name}\n" for p in listed))
    return built


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=datasets_dir(), help="output directory (default: datasets/)")
    build_all(parser.parse_args(argv).out)


if __name__ == "__main__":
    main()
