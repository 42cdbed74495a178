"""Where a course directory keeps its gradebook, and its nbgrader configuration, read once the same way."""

from pathlib import Path

from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader


def gradebook_url(course: Path) -> str:
    """nbgrader's db_url for the course's SQLite gradebook."""
    return f"sqlite:///{Path(course).resolve() / 'gradebook.db'}"


def configured_gradebook(config: Config) -> str | None:
    """The gradebook nbgrader_config.py names (c.CourseDirectory.db_url, e.g. a PostgreSQL server), or None."""
    value = config.CourseDirectory.get("db_url")
    return str(value) if value else None


def shown_url(db_url: str) -> str:
    """A database URL fit to print: its password replaced by ***."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(db_url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - not a URL at all: say so without echoing it
        return "<not a database URL>"


def load_config(course: Path, overrides: dict | None = None) -> Config:
    """The course's nbgrader_config.py, with `overrides` merged in and CourseDirectory.root set to `course`."""
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    if overrides:
        config.merge(Config(overrides))
    config.CourseDirectory.root = str(course)
    return config
