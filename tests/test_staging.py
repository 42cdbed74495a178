"""Staging a submission: regular files and folders only, nothing followed, nothing outside read; uid leases."""

import contextlib
import os
import socket
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from idnn.autograde.limits import SubmissionLimits
from idnn.autograde.preflight import _read_timestamp
from idnn.autograde.outcome import Outcome
from idnn.autograde.worker import _stage
from idnn.autograde.sandbox import UidLease
from idnn.autograde.staging import fingerprint, read_small_text, shown, stage

pytestmark = pytest.mark.grading


@pytest.fixture
def submission(tmp_path) -> Path:
    """A submission folder with a notebook, a data file and a subfolder, beside an 'outside' secret."""
    folder = tmp_path / "submitted" / "student" / "hw"
    (folder / "data").mkdir(parents=True)
    (folder / "hw.ipynb").write_text("{}")
    (folder / "data" / "points.csv").write_text("1,2\n")
    (tmp_path / "secret.txt").write_text("the instructor's answers")
    return folder


def staged_files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def test_regular_files_and_folders_are_staged_as_they_are(submission, tmp_path):
    os.link(submission / "hw.ipynb", submission / "data" / "copy.ipynb")  # both names inside: fine
    assert stage(submission, tmp_path / "staged") == []
    assert staged_files(tmp_path / "staged") == {"hw.ipynb": "{}", "data/points.csv": "1,2\n", "data/copy.ipynb": "{}"}


def test_links_pipes_and_sockets_are_refused_never_followed(submission, tmp_path):
    secret = tmp_path / "secret.txt"
    (submission / "answers.txt").symlink_to(secret)
    (submission / "relative.txt").symlink_to(Path("..") / ".." / ".." / "secret.txt")
    (submission / "folder_link").symlink_to(tmp_path)
    (submission / "dangling").symlink_to(tmp_path / "nothing")
    os.link(secret, submission / "data" / "hard.txt")
    os.mkfifo(submission / "pipe")  # opening it for reading would block the grader
    listener = socket.socket(socket.AF_UNIX)
    with contextlib.chdir(submission / "data"):  # a relative name: a socket's path may hold at most 107 bytes
        listener.bind("sock")
    start = time.monotonic()
    refusals = stage(submission, tmp_path / "staged")
    assert time.monotonic() - start < 5
    listener.close()
    why = {str(r.path): r.why for r in refusals}
    assert set(why) == {"answers.txt", "relative.txt", "folder_link", "dangling", "data/hard.txt", "pipe", "data/sock"}
    assert "symbolic link" in why["answers.txt"] and "symbolic link" in why["folder_link"]
    assert "hard link to a file outside" in why["data/hard.txt"]
    assert "named pipe" in why["pipe"] and "socket" in why["data/sock"]
    assert all("was not graded" in str(r) for r in refusals)
    staged = staged_files(tmp_path / "staged")
    assert staged == {"hw.ipynb": "{}", "data/points.csv": "1,2\n"}, "only the regular files arrive"
    assert not any(p.is_symlink() for p in (tmp_path / "staged").rglob("*"))


def test_a_linked_submission_folder_is_a_failure_with_a_reason(submission, tmp_path):
    linked = tmp_path / "submitted" / "other" / "hw"
    linked.parent.mkdir()
    linked.symlink_to(submission)
    outcome = Outcome("hw", "other", "x")
    _, problem = _stage(linked, tmp_path / "staged", SubmissionLimits(), frozenset({"hw"}), outcome)
    assert problem and "not a link" in problem
    assert not (tmp_path / "staged").exists()


def test_fingerprint_streams_files_and_takes_any_name(submission):
    before = fingerprint(submission)
    (submission / os.fsdecode(b"caf\xe9-\x1b[2J.txt")).write_bytes(b"x")  # not UTF-8, with an escape sequence
    with_odd_name = fingerprint(submission)
    assert with_odd_name != before
    with open(submission / "big.bin", "wb") as handle:
        handle.truncate(64 * 2**20)  # 64 MiB of zeros (sparse on disk)
    tracemalloc.start()
    fingerprint(submission)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 8 * 2**20, f"hashing a 64 MiB file held {peak} bytes"
    assert "\\x1b" in shown(os.fsdecode(b"\x1b[2J")) and "\x1b" not in shown(os.fsdecode(b"caf\xe9\x1b"))


def test_a_timestamp_is_never_read_through_a_link_and_never_raises(submission, tmp_path):
    def timestamp():
        notes = []
        return _read_timestamp(submission / "timestamp.txt", notes), notes

    (submission / "timestamp.txt").symlink_to(tmp_path / "secret.txt")
    assert read_small_text(submission / "timestamp.txt") is None
    assert timestamp() == (None, [])
    (submission / "timestamp.txt").unlink()
    for text in ("9" * 400, "\x00\xff", "2026-13-45 99:99:99", "99999999999-01-01 00:00:00", "0001-01-01 00:00:00",
                 "2026-01-01 10:00:00 " + "X" * 300, "2026-01-01 10:00:00 +99999999999", "\x1b[2J2026"):
        (submission / "timestamp.txt").write_text(text, errors="surrogateescape")
        value, notes = timestamp()
        assert value is None, text
        assert len(notes) == 1 and "graded as having no timestamp" in notes[0] and "\x1b" not in notes[0], text
        assert not (submission / "timestamp.txt").exists(), "the staged copy is removed, so nbgrader never reads it"
    (submission / "timestamp.txt").write_text("2026-12-01 10:00:00 UTC")
    value, notes = timestamp()
    assert value.year == 2026 and notes == []


@pytest.mark.skipif(os.getuid() != 0, reason="uid leases are taken only when grading as root")
def test_each_running_kernel_leases_a_uid_of_its_own():
    base = 62000
    first, second = UidLease(base, 3), UidLease(base, 3)
    assert first.uid != second.uid
    # Another process holding a lease (another grader on this machine) is respected...
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom idnn.autograde.sandbox import UidLease\n"
                               f"lease = UidLease({base}, 3)\nprint(lease.uid, flush=True)\ntime.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        held = int(holder.stdout.readline())
        assert held not in (first.uid, second.uid)
        with pytest.raises(RuntimeError, match="in use"):
            UidLease(base, 3, wait_seconds=0.5)
    finally:
        holder.kill()
        holder.wait()
    # ... and released when it dies; a released lease is free again.
    first.release()
    again = UidLease(base, 3, wait_seconds=5)
    assert again.uid in (first.uid, held)
    again.release()
    second.release()


@pytest.mark.skipif(os.getuid() != 0, reason="uid leases are taken only when grading as root")
def test_orphaned_sandbox_processes_are_reaped_and_a_live_kernel_is_not():
    base = 62100
    orphan = subprocess.Popen([sys.executable, "-c", f"import os, time\nos.setuid({base})\ntime.sleep(60)"])
    # A live grader's kernel: uid base + 1, its lease held by the process that started it.
    holder = subprocess.Popen([sys.executable, "-c", "import os, subprocess, sys, time\n"
                               "from idnn.autograde.sandbox import _try_lock\n"
                               f"fd = _try_lock({base + 1})\n"
                               f"kernel = subprocess.Popen([sys.executable, '-c', 'import os, time; os.setuid({base + 1}); "
                               "time.sleep(60)'])\nprint(kernel.pid, flush=True)\ntime.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        live_kernel = int(holder.stdout.readline())
        time.sleep(0.5)
        lease = UidLease(base, 3)
        assert orphan.wait(timeout=10) == -9, "the orphan (uid with processes, lock free) was killed"
        assert lease.uid in (base, base + 2) and lease.uid != base + 1
        os.kill(live_kernel, 0)  # still alive: its lock is held
        lease.release()
    finally:
        orphan.kill()
        holder.kill()
        holder.wait()
        try:
            os.kill(live_kernel, 9)
        except (ProcessLookupError, UnboundLocalError):
            pass
