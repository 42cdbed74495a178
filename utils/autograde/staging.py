"""A submission folder -> a private copy holding only its regular files and folders.

    notes = stage(submitted/<student>/<assignment>, private_folder)

Everything in a submission is the student's to choose, names and file types included. A symbolic
link could point at the instructor's source notebook or a classmate's work, a hard link could *be*
one, and a named pipe or a device could block or flood whoever opens it. So a submission is read
the way an untrusted archive is unpacked:

- every entry is opened relative to its parent folder's descriptor with O_NOFOLLOW (and O_NONBLOCK,
  so a named pipe cannot block the open), then fstat'ed: only a regular file or a folder is copied;
  links, pipes, sockets and devices are refused with a note, never followed or opened for reading;
- a regular file with more than one hard link is copied only when all its links are inside this
  submission (otherwise it is, or may be, someone else's file);
- nothing is ever resolved by name after it was checked, so swapping a file for a link while we
  copy changes nothing;
- with the course's limits (limits.py), entries are counted while they are listed and sizes known
  before a byte is read: too many entries stop the submission, a file too large is left out unread.

The notes say what was refused; the rest of the submission is graded as usual.
"""

import errno
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .limits import SubmissionLimits, SubmissionTooLarge, size

_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_CHUNK = 1 << 20


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


@dataclass(frozen=True)
class Refusal:
    """An entry of a submission that was not staged, and why (a sentence for instructor and student)."""

    path: Path  # relative to the submission folder
    why: str

    def __str__(self) -> str:
        return f"{shown(str(self.path))} was not graded: {self.why}"


def shown(name: str) -> str:
    """A name from a submission, printable: undecodable bytes and control characters made visible."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in name)


def walk(folder: Path, max_entries: int | None = None):
    """Yield (relative path, stat result, open descriptor or None) for every entry under `folder`.

    Only regular files come with a descriptor (opened without following links; the caller closes it).
    Folders are entered by descriptor, never by name. Entries of other kinds are yielded with None.
    With `max_entries`, a tree of more entries raises SubmissionTooLarge as soon as the count goes past
    it, while names are still being listed (a folder of a million names is never read whole).
    """
    root = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    yield from _walk_fd(root, Path(), _EntryBudget(max_entries))


class _EntryBudget:
    """Counts the entries listed so far against a limit (None: no limit)."""

    def __init__(self, limit: int | None):
        self.limit, self.seen = limit, 0

    def take(self) -> None:
        self.seen += 1
        if self.limit is not None and self.seen > self.limit:
            raise SubmissionTooLarge(f"the submission holds more than {self.limit} files and folders, the most a "
                                     f"submission may have: submit only the notebooks and the files they need")


def _walk_fd(dir_fd: int, relative: Path, budget: _EntryBudget):
    try:
        names = []
        with os.scandir(dir_fd) as entries:
            for entry in entries:
                budget.take()
                names.append(entry.name)
    except BaseException:
        os.close(dir_fd)
        raise
    try:
        for name in sorted(names):
            path = relative / name
            try:
                info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            except OSError:
                continue  # gone in the meantime
            if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
                yield path, info, None  # never opened: opening a pipe or a device can block or act
                continue
            try:
                fd = os.open(name, _OPEN_FLAGS, dir_fd=dir_fd)
            except OSError:  # replaced by a link since the lstat (ELOOP), or unreadable: refused
                yield path, info, None
                continue
            opened = os.fstat(fd)
            if (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino):  # swapped between the two calls
                os.close(fd)
                yield path, opened, None
            elif stat.S_ISDIR(opened.st_mode):
                yield path, opened, None
                yield from _walk_fd(fd, path, budget)
            else:
                yield path, opened, fd
    finally:
        os.close(dir_fd)


class _ByteBudget:
    """Decides which regular files fit the limits: each of the assignment's notebooks on its own (at the top of
    the submission, under its own name), every other file, other notebooks included, within one shared budget."""

    def __init__(self, limits: SubmissionLimits | None, notebooks: frozenset[str] = frozenset()):
        self.limits, self.notebooks = limits, notebooks
        self.left = limits.max_bytes if limits is not None else None

    def refusal(self, relative: Path, nbytes: int) -> str | None:
        """Why a file of `nbytes` is left out, or None (and then it is counted)."""
        if self.limits is None:
            return None
        if relative.parent == Path() and relative.suffix == ".ipynb" and relative.stem in self.notebooks:
            if nbytes > self.limits.max_notebook_bytes:
                return (f"it is {size(nbytes)}, and a notebook may have at most {size(self.limits.max_notebook_bytes)}"
                        f" (clear its outputs, Kernel > Restart Kernel and Clear Outputs, and submit it again)")
            return None
        if nbytes > self.left:
            return (f"it is {size(nbytes)}, more than is left of the {size(self.limits.max_bytes)} that a "
                    f"submission's files other than the assignment's notebooks may have together")
        self.left -= nbytes
        return None


def stage(submission: Path, dest: Path, skip=None, limits: SubmissionLimits | None = None,
          notebooks: frozenset[str] = frozenset()) -> list[Refusal]:
    """Copy the regular files and folders of `submission` into `dest` (created); return what was refused.

    skip(relative_path) -> True leaves a regular file out without a note (e.g. notebooks). With `limits`,
    a submission of too many entries raises SubmissionTooLarge before anything is copied, and a file too
    large for what is left of the budget is refused unread (its size is known before it is opened to read);
    `notebooks` names the assignment's notebooks, each held to max_notebook_bytes instead of the budget.
    """
    # First count the names each multiply linked file has here, reading nothing: a file with more
    # links than that is (or may be) somebody else's, and is never read.
    max_entries = limits.max_entries if limits is not None else None
    names_here: dict[tuple[int, int], int] = {}
    for _, info, fd in walk(submission, max_entries):
        if fd is not None:
            os.close(fd)
            if info.st_nlink > 1:
                names_here[(info.st_dev, info.st_ino)] = names_here.get((info.st_dev, info.st_ino), 0) + 1
    dest.mkdir(parents=True, exist_ok=True)
    notes: list[Refusal] = []
    budget = _ByteBudget(limits, notebooks)
    for relative, info, fd in walk(submission, max_entries):
        target = dest / relative
        if fd is None:
            if stat.S_ISDIR(info.st_mode):
                target.mkdir(exist_ok=True)
            else:
                notes.append(Refusal(relative, f"it is {_kind(info.st_mode)}, and a submission may hold only "
                                               f"regular files and folders"))
            continue
        if info.st_nlink > names_here.get((info.st_dev, info.st_ino), 1):
            os.close(fd)
            notes.append(Refusal(relative, "it is a hard link to a file outside the submission"))
            continue
        if skip is not None and skip(relative):
            os.close(fd)
            continue
        too_large = budget.refusal(relative, info.st_size)
        if too_large:
            os.close(fd)
            notes.append(Refusal(relative, too_large))
            continue
        try:
            _copy(fd, target, info.st_size)
        except OSError as error:
            target.unlink(missing_ok=True)
            notes.append(Refusal(relative, f"it could not be read ({type(error).__name__})"))
    return notes


def _copy(fd: int, target: Path, nbytes: int) -> None:
    """Copy the `nbytes` an open file had when it was checked; one that grew since is refused (OSError)."""
    with os.fdopen(fd, "rb") as source, open(target, "xb") as copy:
        left = nbytes
        while left > 0 and (chunk := source.read(min(_CHUNK, left))):
            copy.write(chunk)
            left -= len(chunk)
        if source.read(1):
            raise OSError(errno.EFBIG, "the file grew while it was copied")


def fingerprint(folder: Path, limits: SubmissionLimits | None = None, notebooks: frozenset[str] = frozenset()) -> str:
    """sha256 over the names, kinds and bytes of every entry of a submission, read as `stage` reads it.

    Names are hashed as bytes (a name need not be valid UTF-8) and files streamed, never read whole;
    a link contributes its kind only, never what it points to. With `limits`, a file that staging would
    leave out contributes its size and modification time instead of its bytes (nothing past the limits
    is read), and a submission of too many entries raises SubmissionTooLarge.
    """
    digest = hashlib.sha256()
    budget = _ByteBudget(limits, notebooks)
    for relative, info, fd in walk(folder, limits.max_entries if limits is not None else None):
        digest.update(os.fsencode(str(relative)) + b"\0")
        if fd is None:
            digest.update(b"dir\0" if stat.S_ISDIR(info.st_mode) else f"{_kind(info.st_mode)}\0".encode())
            continue
        with os.fdopen(fd, "rb") as handle:
            if budget.refusal(relative, info.st_size):
                digest.update(f"unread {info.st_size} {info.st_mtime_ns}\0".encode())
                continue
            content, left = hashlib.sha256(), info.st_size  # never more than the size that was checked
            while left > 0 and (chunk := handle.read(min(_CHUNK, left))):
                content.update(chunk)
                left -= len(chunk)
        digest.update(content.digest())
    return digest.hexdigest()


def read_small_text(path: Path, limit: int = 4096) -> str | None:
    """The text of a small regular file, read without following links; None if it is anything else."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return None
        return handle.read(limit).decode("utf-8", errors="replace")
