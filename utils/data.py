"""Load the course's HDF5 datasets, checking each file against its schema.

Every file holds one group per split (``train``, ``test``, ...), each with
``X`` of shape (n_x, m) and ``Y`` of shape (1, m): one example per column,
as everywhere in this course. The root attributes record provenance
(``builder``, ``seed``, ``version``, ``params``). ``datasets/README.md`` lists
every file; ``python -m idnn.build_datasets`` rebuilds them.

    train_X, train_Y, test_X, test_Y = load_circles()
"""

from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from .paths import datasets_dir

REBUILD_HINT = "Rebuild the datasets with `python -m idnn.build_datasets` (or `make datasets`)."


class DatasetError(RuntimeError):
    """A dataset file is missing, unreadable, or does not match its schema."""


@dataclass(frozen=True)
class SplitSchema:
    """What one split of a dataset must look like. A None size accepts any size."""

    name: str
    n_x: int
    m: int | None
    x_dtype: str = "float64"
    y_dtype: str = "int64"


@dataclass(frozen=True)
class DatasetSchema:
    file_name: str
    version: int
    splits: tuple[SplitSchema, ...]
    description: str


SCHEMAS = {
    "circles": DatasetSchema(
        file_name="circles.h5",
        version=1,
        splits=(SplitSchema("train", n_x=2, m=300), SplitSchema("test", n_x=2, m=100)),
        description="Two noisy concentric circles in the plane; label 1 is the inner circle. "
        "Classes are balanced exactly (150/150 train, 50/50 test).",
    ),
}

SCHEMAS["houses"] = DatasetSchema(
    file_name="houses.h5",
    version=1,
    splits=(SplitSchema("all", n_x=2, m=1000),),
    description="1000 houses: floor area in square metres (row 0) and distance to the centre in km (row 1); "
    "label 1 if the house sold within a month (about 30% of them). One split, 'all': students split it.",
)

SCHEMAS["parabola"] = DatasetSchema(
    file_name="parabola.h5",
    version=1,
    splits=(SplitSchema("train", n_x=2, m=150), SplitSchema("test", n_x=2, m=400)),
    description="Points uniform on [-1, 1]^2, label 1 above the parabola x2 = 0.6 x1^2 - 0.3, with 12% of the "
    "labels flipped at random: a small, noisy training set that an unregularised network overfits.",
)

#: The height and width of the glyph images; each is stored as one column of 144 pixels, row by row.
IMAGE_SHAPE = (12, 12)

SCHEMAS["glyphs"] = DatasetSchema(
    file_name="glyphs.h5",
    version=1,
    splits=(SplitSchema("train", n_x=IMAGE_SHAPE[0] * IMAGE_SHAPE[1], m=40),
            SplitSchema("test", n_x=IMAGE_SHAPE[0] * IMAGE_SHAPE[1], m=400)),
    description="12 x 12 grey images of the letters L (label 0) and T (label 1), pixels in [0, 1], one image per "
    "column. The 40 training images are nearly centred, never mirrored and almost clean; the 400 test images are "
    "moved by up to 2 pixels, half the Ls are mirrored, and the noise is stronger: data augmentation bridges the gap.",
)

SCHEMAS["moons"] = DatasetSchema(
    file_name="moons.h5",
    version=1,
    splits=(SplitSchema("train", n_x=2, m=300), SplitSchema("test", n_x=2, m=300)),
    description="Two interleaved half circles with Gaussian noise (standard deviation 0.2): label 0 the upper "
    "arc, label 1 the lower one; balanced. The optimisation assignment's classification problem.",
)

SCHEMAS["temperatures"] = DatasetSchema(
    file_name="temperatures.h5",
    version=1,
    splits=(SplitSchema("all", n_x=1, m=365, y_dtype="float64"),),
    description="A year of noisy daily temperatures (degrees C, one decimal): X is the day 1..365, Y the "
    "temperature, a seasonal cycle plus weather lasting a few days and measurement noise.",
)

#: The height and width of the handwritten digits; each is stored as one column of 64 pixels, row by row.
DIGIT_SHAPE = (8, 8)

SCHEMAS["digits"] = DatasetSchema(
    file_name="digits.h5",
    version=1,
    splits=(SplitSchema("train", n_x=DIGIT_SHAPE[0] * DIGIT_SHAPE[1], m=1079),
            SplitSchema("dev", n_x=DIGIT_SHAPE[0] * DIGIT_SHAPE[1], m=359),
            SplitSchema("test", n_x=DIGIT_SHAPE[0] * DIGIT_SHAPE[1], m=359)),
    description="The UCI optical handwritten digits (E. Alpaydin and C. Kaynak, 1998): 1797 grey 8 x 8 images "
    "of the digits 0 to 9 (label = digit), one image per column, pixels divided by 16 into [0, 1]. Split "
    "train/dev/test about 60/20/20, stratified: each class has the same share of every split, within one image.",
)

REQUIRED_ATTRIBUTES = ("name", "description", "version", "seed", "builder", "params")


def dataset_path(name: str) -> Path:
    """The path of dataset `name` (a key of SCHEMAS)."""
    if name not in SCHEMAS:
        raise DatasetError(f"Unknown dataset {name!r}; the course has: {', '.join(sorted(SCHEMAS))}.")
    return datasets_dir() / SCHEMAS[name].file_name


def load_splits(name: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Read every split of dataset `name` as {split: (X, Y)} after validating the file.

    X has shape (n_x, m) and Y shape (1, m). Raises DatasetError naming the
    file and what is wrong when it is missing, corrupt, or off-schema.
    """
    schema = SCHEMAS.get(name)
    path = dataset_path(name)
    if not path.is_file():
        raise DatasetError(f"Dataset file {path} is missing. {REBUILD_HINT}")
    try:
        with h5py.File(path, "r") as f:
            _check_attributes(f, schema, path)
            return {split.name: _read_split(f, split, path) for split in schema.splits}
    except DatasetError:
        raise
    except (OSError, KeyError, ValueError) as error:
        raise DatasetError(f"Dataset file {path} could not be read as HDF5 ({error}). "
                           f"It is probably corrupt or truncated. {REBUILD_HINT}") from error


def load_circles() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The concentric-circles data of the Initialization assignment.

    Returns train_X (2, 300), train_Y (1, 300), test_X (2, 100), test_Y (1, 100).
    """
    splits = load_splits("circles")
    return (*splits["train"], *splits["test"])


def load_houses() -> tuple[np.ndarray, np.ndarray]:
    """The houses data of the Setting up assignment: X (2, 1000) (area in m2, distance in km), Y (1, 1000)."""
    return load_splits("houses")["all"]


def load_parabola() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The noisy parabola data of the Regularization assignment: train_X (2, 150), train_Y, test_X (2, 400), test_Y."""
    splits = load_splits("parabola")
    return (*splits["train"], *splits["test"])


def load_glyphs() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The L-and-T images of the Regularization assignment: train_X (144, 40), train_Y, test_X (144, 400), test_Y.

    Each column is one 12 x 12 image; `to_images` turns the columns into an (m, 12, 12) stack.
    """
    splits = load_splits("glyphs")
    return (*splits["train"], *splits["test"])


def load_moons() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The two-moons data of the Optimization assignment: train_X (2, 300), train_Y, test_X (2, 300), test_Y."""
    splits = load_splits("moons")
    return (*splits["train"], *splits["test"])


def load_temperatures() -> tuple[np.ndarray, np.ndarray]:
    """A year of daily temperatures: day (1, 365), the days 1..365, and temperature (1, 365) in degrees C."""
    return load_splits("temperatures")["all"]


def load_digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The handwritten digits of the week-3 capstone: train_X (64, 1079), train_Y (1, 1079), dev_X (64, 359),
    dev_Y (1, 359), test_X (64, 359), test_Y (1, 359).

    Each column of X is one 8 x 8 image, pixels in [0, 1] (the original counts 0..16 divided by 16);
    `to_images(X, DIGIT_SHAPE)` gives the (m, 8, 8) stack. Y holds the digit, 0 to 9.
    """
    splits = load_splits("digits")
    return (*splits["train"], *splits["dev"], *splits["test"])


def to_images(X: np.ndarray, shape: tuple[int, int] = IMAGE_SHAPE) -> np.ndarray:
    """Columns of pixels X (h * w, m) -> a stack of images (m, h, w)."""
    return X.T.reshape(X.shape[1], *shape)


def to_columns(images: np.ndarray) -> np.ndarray:
    """A stack of images (m, h, w) -> columns of pixels X (h * w, m), the layout the networks take."""
    return images.reshape(images.shape[0], -1).T


def _check_attributes(f: h5py.File, schema: DatasetSchema, path: Path) -> None:
    missing = [a for a in REQUIRED_ATTRIBUTES if a not in f.attrs]
    if missing:
        raise DatasetError(f"Dataset file {path} lacks the provenance attributes {missing}. {REBUILD_HINT}")
    if int(f.attrs["version"]) != schema.version:
        raise DatasetError(f"Dataset file {path} has version {int(f.attrs['version'])} but this course "
                           f"expects version {schema.version}. {REBUILD_HINT}")


def _read_split(f: h5py.File, split: SplitSchema, path: Path) -> tuple[np.ndarray, np.ndarray]:
    arrays = []
    for key, rows, dtype in (("X", split.n_x, split.x_dtype), ("Y", 1, split.y_dtype)):
        where = f"{split.name}/{key}"
        if where not in f:
            raise DatasetError(f"Dataset file {path} has no '{where}' array. {REBUILD_HINT}")
        array = f[where][()]
        expected_shape = (rows, split.m if split.m is not None else array.shape[-1])
        if array.shape != expected_shape or array.dtype != np.dtype(dtype):
            raise DatasetError(f"Dataset file {path}: '{where}' is {array.dtype} with shape {array.shape}, "
                               f"but the schema says {dtype} with shape {expected_shape}. {REBUILD_HINT}")
        arrays.append(array)
    X, Y = arrays
    if X.shape[1] != Y.shape[1]:
        raise DatasetError(f"Dataset file {path}: split '{split.name}' has {X.shape[1]} examples in X "
                           f"but {Y.shape[1]} labels in Y. {REBUILD_HINT}")
    return X, Y
