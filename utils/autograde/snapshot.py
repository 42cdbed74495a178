"""A worker's private gradebook: the course's definitions copied out of the real one, whatever database that is.

    snapshot(db_url, path)                       writes a SQLite gradebook at `path`
    copy_definitions(db_url, empty_db_url)       the same into any empty database (e.g. SQLite -> PostgreSQL)

Each grading worker runs nbgrader's Autograde against a private SQLite gradebook, so that only the grader's own
process ever writes the real one (runner.py). The private one needs what grading reads: the assignments and their
notebooks, every cell nbgrader tracks (grade, solution, task and source cells, with the sources Autograde restores),
the students, and any submission that carries an extension (its due date is the student's own, and the late
penalty depends on it). Other submissions and their grades are left out: a worker never reads a classmate's, and a
class of ten thousand makes a gradebook far larger than its definitions.

The real gradebook may be SQLite (the default, gradebook.db) or PostgreSQL (`idnn-grade --db postgresql://...`);
the copy is made table by table with SQLAlchemy, the same either way.
"""

from pathlib import Path

from nbgrader.api import Base
from sqlalchemy import create_engine, inspect, select, text

#: Tables copied whole: the course's definitions and its students.
DEFINITIONS = ("course", "student", "assignment", "notebook", "base_cell", "source_cell", "grade_cells",
               "solution_cells", "task_cells")


def snapshot(db_url: str, path: Path) -> None:
    """Copy the definitions of the gradebook at `db_url` into a new SQLite gradebook at `path` (see the module
    docstring); `path` must not exist yet."""
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path} exists: a snapshot is written into a new file")
    copy_definitions(db_url, f"sqlite:///{path}")


def copy_definitions(db_url: str, target_url: str) -> None:
    """Copy the definitions of the gradebook at `db_url` into the database at `target_url`, which must hold no
    gradebook yet (see the module docstring for what is copied)."""
    source, copy = create_engine(db_url, future=True), create_engine(target_url, future=True)
    tables = Base.metadata.tables
    try:
        if inspect(copy).get_table_names():
            raise ValueError("the target database is not empty: definitions are copied into an empty one")
        Base.metadata.create_all(bind=copy)
        with source.connect() as read, copy.begin() as write:
            if inspect(source).has_table("alembic_version"):  # nbgrader checks it when it opens a gradebook
                version = read.execute(text("SELECT version_num FROM alembic_version")).scalar()
                write.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
                if version is not None:
                    write.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": version})
            for name in DEFINITIONS:
                _copy(read, write, tables[name], select(tables[name]))
            # Submissions with an extension, with their notebooks, grades and comments (their rows must agree).
            submitted = tables["submitted_assignment"]
            extended = select(submitted.c.id).where(submitted.c.extension.is_not(None))
            _copy(read, write, submitted, select(submitted).where(submitted.c.id.in_(extended)))
            notebooks = tables["submitted_notebook"]
            of_extended = select(notebooks.c.id).where(notebooks.c.assignment_id.in_(extended))
            _copy(read, write, notebooks, select(notebooks).where(notebooks.c.id.in_(of_extended)))
            for name in ("grade", "comment"):
                table = tables[name]
                _copy(read, write, table, select(table).where(table.c.notebook_id.in_(of_extended)))
    finally:
        source.dispose()
        copy.dispose()


def _copy(read, write, table, query, batch: int = 2000) -> None:
    rows = read.execute(query).mappings()
    while chunk := rows.fetchmany(batch):
        write.execute(table.insert(), [dict(row) for row in chunk])
