"""Where the course's files live, found the same way from any notebook directory.

Notebooks run from source/, release/, submitted/<student>/<assignment>/ or
autograded/<student>/<assignment>/, and inside the grading sandbox. None of them
uses relative paths: the package knows where the datasets are.
"""

import os
from pathlib import Path

#: Set this to use datasets from another directory (the grading sandbox does).
DATASETS_ENV = "IDNN_DATASETS"

#: The repository root when the package is installed in editable mode from a clone.
REPO_ROOT = Path(__file__).resolve().parent.parent


def datasets_dir() -> Path:
    """The directory holding the course's HDF5 files."""
    override = os.environ.get(DATASETS_ENV)
    if override:
        return Path(override)
    return REPO_ROOT / "datasets"
