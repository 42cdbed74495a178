"""Where a course directory keeps its gradebook, and its nbgrader configuration, read once the same way."""

from pathlib import Path

from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader


def gradebook_url(course: Path) -> str:
    """nbgrader's db_url for the course's SQLite gradebook."""
    return f"sqlite:///{Path(course).resolve() / 'gradebook.db'}"


def load_config(course: Path, overrides: dict | None = None) -> Config:
    """The course's nbgrader_config.py, with `overrides` merged in and CourseDirectory.root set to `course`."""
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    if overrides:
        config.merge(Config(overrides))
    config.CourseDirectory.root = str(course)
    return config
