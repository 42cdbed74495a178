"""What crosses the network in a cluster run (shipping.py, snapshot.py): a submission packed as staging would stage
it, unpacked on the worker only inside its folder and within the limits, graded files placed whole; the workers'
gradebook snapshot holds the definitions and no one's grades."""

import os
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from idnn.autograde.limits import SubmissionLimits
from idnn.autograde.shipping import BadParcel, Parcel, gather, pack, place, unpack
from idnn.autograde.snapshot import snapshot
from idnn.autograde.staging import stage

pytestmark = pytest.mark.grading


def tree(root: Path) -> dict[str, bytes | None]:
    """Every entry under root: a file's bytes, None for a folder."""
    return {str(path.relative_to(root)): (path.read_bytes() if path.is_file() else None)
            for path in sorted(root.rglob("*"))}


@pytest.fixture
def hostile(tmp_path) -> Path:
    """A submission with a notebook, a folder, a link to a secret, a named pipe, a hard link to a file outside, and
    a file past the byte budget."""
    folder = tmp_path / "submitted" / "ada" / "hw"
    (folder / "data").mkdir(parents=True)
    (folder / "hw.ipynb").write_text('{"cells": []}')
    (folder / "data" / "points.csv").write_text("1,2\n")
    (tmp_path / "secret.txt").write_text("the instructor's answers")
    (folder / "answers.txt").symlink_to(tmp_path / "secret.txt")
    os.mkfifo(folder / "data" / "pipe")
    os.link(tmp_path / "secret.txt", folder / "hard.txt")
    (folder / "weights.bin").write_bytes(b"\0" * 5000)
    return folder


LIMITS = SubmissionLimits(max_entries=50, max_bytes=4096, max_notebook_bytes=10_000)


def test_a_parcel_holds_what_staging_stages_and_says_what_it_refused(hostile, tmp_path):
    """Packed on the instructor's side and unpacked on a worker's, a submission is what a local worker stages from it,
    byte for byte, with the same refusals in the same order; nothing of the secret travels."""
    staged_refusals = stage(hostile, tmp_path / "staged", limits=LIMITS, notebooks=frozenset({"hw"}))
    parcel = pack(hostile, LIMITS, frozenset({"hw"}))
    assert [(r.path.as_posix(), r.why) for r in staged_refusals] == [(p, why) for p, why in parcel.refusals]
    assert {"answers.txt", "data/pipe", "hard.txt", "weights.bin"} == {p for p, _ in parcel.refusals}
    assert b"instructor" not in b"".join(parcel.files.values())
    refusals = unpack(parcel, tmp_path / "unpacked", LIMITS, frozenset({"hw"}))
    assert refusals == staged_refusals
    assert tree(tmp_path / "unpacked") == tree(tmp_path / "staged")


@pytest.mark.parametrize("name", ["../escape.txt", "/etc/cron.d/x", "data/../../x", "a//b", "./a", "", "a/.", "nul\0l"])
def test_unpack_refuses_a_name_that_would_leave_its_folder(name, tmp_path):
    dest = tmp_path / "work" / "dest"
    with pytest.raises(BadParcel):
        unpack(Parcel(files={name: b"x"}), dest, LIMITS, frozenset({"hw"}))
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "work" / "x").exists()
    with pytest.raises(BadParcel):
        unpack(Parcel(folders=[name or "."]), dest, LIMITS, frozenset({"hw"}))


def test_unpack_counts_against_the_worker_s_own_limits(tmp_path):
    """A parcel that staging never makes (a forged or corrupted one) is refused whole, before anything is written."""
    too_many = Parcel(files={f"f{n}": b"" for n in range(51)})
    too_large = Parcel(files={"a.bin": b"\0" * 3000, "b.bin": b"\0" * 3000})
    large_notebook = Parcel(files={"hw.ipynb": b"\0" * 10_001})
    for parcel in (too_many, too_large, large_notebook, Parcel(files={"a": "text, not bytes"}), {"a": b"x"}):
        with pytest.raises(BadParcel):
            unpack(parcel, tmp_path / "dest", LIMITS, frozenset({"hw"}))
        assert not (tmp_path / "dest").exists()
    # The notebook has its own limit, the other files share the byte budget: this one fits.
    unpack(Parcel(files={"hw.ipynb": b"\0" * 9000, "a.bin": b"\0" * 4000}), tmp_path / "dest", LIMITS,
           frozenset({"hw"}))


def test_graded_files_come_back_whole_and_replace_the_folder(tmp_path):
    """gather() takes regular files only (a link a notebook made is not followed); place() swaps the new folder in,
    and refuses a name that would leave it without touching what was there."""
    written = tmp_path / "worker" / "autograded" / "ada" / "hw"
    written.mkdir(parents=True)
    (written / "hw.ipynb").write_text("graded")
    (written / "plots").mkdir()
    (written / "plots" / "cost.png").write_bytes(b"png")
    (tmp_path / "outside.txt").write_text("secret")
    (written / "link.txt").symlink_to(tmp_path / "outside.txt")
    files = gather(written)
    assert files == {"hw.ipynb": b"graded", "plots/cost.png": b"png"}
    with pytest.raises(BadParcel):
        gather(written, max_bytes=5)

    dest = tmp_path / "course" / "autograded" / "ada" / "hw"
    dest.mkdir(parents=True)
    (dest / "stale.ipynb").write_text("an older grading")
    place(files, dest)
    assert tree(dest) == {"hw.ipynb": b"graded", "plots": None, "plots/cost.png": b"png"}
    with pytest.raises(BadParcel):
        place({"../../escape.txt": b"x"}, dest)
    assert tree(dest) == {"hw.ipynb": b"graded", "plots": None, "plots/cost.png": b"png"}
    assert sorted(p.name for p in dest.parent.iterdir()) == ["hw"]  # nothing left half-written beside it


def test_the_workers_snapshot_holds_the_definitions_and_no_one_s_grades(tmp_path):
    """Assignments, notebooks, cells and students are copied; a submission is copied only when it carries an
    extension (its late penalty depends on it), with its notebooks and grades; the others are not."""
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url) as gb:
        gb.add_assignment("hw", duedate=datetime(2026, 12, 1))
        gb.add_notebook("hw", "hw")
        gb.add_grade_cell("q1", "hw", "hw", max_score=2, cell_type="code")
        gb.add_solution_cell("q1", "hw", "hw")
        gb.add_source_cell("q1", "hw", "hw", cell_type="code", source="def f(): pass")
        for student in ("ada", "alan"):
            gb.add_student(student)
        gb.add_submission("hw", "ada", timestamp=datetime(2026, 12, 2))
        gb.add_submission("hw", "alan", timestamp=datetime(2026, 12, 2), extension=timedelta(days=2))
        for student in ("ada", "alan"):
            gb.find_grade("q1", "hw", "hw", student).auto_score = 2
        gb.db.commit()
    snapshot(url, tmp_path / "snapshot.db")
    with pytest.raises(FileExistsError):
        snapshot(url, tmp_path / "snapshot.db")
    with Gradebook(f"sqlite:///{tmp_path / 'snapshot.db'}") as gb:
        assert [a.name for a in gb.assignments] == ["hw"]
        assert gb.find_grade_cell("q1", "hw", "hw").max_score == 2
        assert gb.find_source_cell("q1", "hw", "hw").source == "def f(): pass"
        assert sorted(s.id for s in gb.students) == ["ada", "alan"]
        assert [s.student.id for s in gb.find_assignment("hw").submissions] == ["alan"]
        assert gb.find_submission("hw", "alan").extension == timedelta(days=2)
    with sqlite3.connect(tmp_path / "snapshot.db") as db:
        assert db.execute("SELECT count(*) FROM grade").fetchone() == (1,)
        assert db.execute("SELECT version_num FROM alembic_version").fetchone() is not None


def test_unpack_writes_only_into_a_new_folder_and_counts_every_folder_a_name_implies(tmp_path):
    """A destination that exists (it could hold a link to elsewhere) is refused; a single deep name counts each of
    its folders against max_entries; a name that is both a file and a folder is a BadParcel, not a crash."""
    dest = tmp_path / "dest"
    (tmp_path / "outside").mkdir()
    dest.mkdir()
    (dest / "sub").symlink_to(tmp_path / "outside")
    with pytest.raises(FileExistsError):
        unpack(Parcel(folders=["sub"], files={"sub/x.txt": b"x"}), dest, LIMITS, frozenset({"hw"}))
    assert list((tmp_path / "outside").iterdir()) == []
    deep = "/".join(["d"] * 60) + "/f"
    with pytest.raises(BadParcel, match="entries"):
        unpack(Parcel(files={deep: b""}), tmp_path / "deep", LIMITS, frozenset({"hw"}))
    assert not (tmp_path / "deep").exists()
    with pytest.raises(BadParcel, match="both a file and a folder"):
        unpack(Parcel(files={"a": b"", "a/b": b""}), tmp_path / "clash", LIMITS, frozenset({"hw"}))


def test_place_never_takes_an_earlier_run_s_leftovers_for_the_old_folder(tmp_path):
    """Folders an interrupted run left beside the destination (`.<name>-old-...`) are neither in the way nor brought
    back when a write fails: the old folder comes back as it was."""
    dest = tmp_path / "autograded" / "ada" / "hw"
    dest.mkdir(parents=True)
    (dest / "hw.ipynb").write_text("graded before")
    for leftover in (f".hw-old-{os.getpid()}", ".hw-old-1"):
        (dest.parent / leftover).mkdir()
        (dest.parent / leftover / "stale.txt").write_text("an earlier run's")
    place({"hw.ipynb": b"graded now"}, dest)
    assert tree(dest) == {"hw.ipynb": b"graded now"}
    with pytest.raises(OSError):
        place({"x" * 300: b"a name too long to write"}, dest)
    assert tree(dest) == {"hw.ipynb": b"graded now"}
    assert not [p for p in dest.parent.iterdir() if p.name.startswith(".hw-new-")]
