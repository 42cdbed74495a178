"""A submission and its graded files, carried between machines that share no file system (cluster.py).

    parcel = pack(submitted/<student>/<assignment>, limits, notebooks)    instructor's side, before a task leaves
    refusals = unpack(parcel, private_folder, limits)                     worker's side, before grading
    files = gather(folder, max_bytes)                                     worker's side: what grading wrote
    place(files, course/autograded/<student>/<assignment>)                instructor's side: written by the client

A parcel is what staging (staging.py) makes of a submission, as data: its folders, its regular files' bytes
(within the course's limits: a file staging leaves out is not read, and travels as a refusal) and the refusals
themselves, so that a worker grades exactly what a local worker would, and says the same about what it left out.
Nothing in a parcel is trusted on arrival: every name must be a plain relative path (no "..", no absolute path, no
empty part), and the bytes are counted again against the worker's own limits.
"""

import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .limits import SubmissionLimits, SubmissionTooLarge, size
from .staging import Refusal, shown, stage

#: The most a worker sends back for one submission (autograded notebooks, copies of its files, the feedback page).
MAX_RETURN_BYTES = 256 * 2**20


class BadParcel(ValueError):
    """A parcel or a set of returned files that does not have the shape it must have (the message says how)."""


@dataclass
class Parcel:
    """One staged submission, as data (see the module docstring)."""

    folders: list[str] = field(default_factory=list)  # relative paths, parents before children
    files: dict[str, bytes] = field(default_factory=dict)  # relative path -> content
    refusals: list[tuple[str, str]] = field(default_factory=list)  # (relative path, why), in staging's order

    @property
    def nbytes(self) -> int:
        return sum(len(content) for content in self.files.values())


def pack(submission: Path, limits: SubmissionLimits, notebooks: frozenset[str]) -> Parcel:
    """Stage `submission` (staging.py: regular files and folders only, nothing followed, within `limits`) and return
    it as a Parcel. Raises SubmissionTooLarge as stage() does, OSError when the folder cannot be read."""
    parcel = Parcel()
    with tempfile.TemporaryDirectory(prefix="idnn-pack-") as scratch:
        staged = Path(scratch) / "submission"
        refusals = stage(submission, staged, limits=limits, notebooks=notebooks)
        parcel.refusals = [(str(refusal.path), refusal.why) for refusal in refusals]
        for folder, subfolders, files in os.walk(staged):
            subfolders.sort()
            here = Path(folder).relative_to(staged)
            for name in subfolders:
                parcel.folders.append(str(here / name))
            for name in sorted(files):
                parcel.files[str(here / name)] = (Path(folder) / name).read_bytes()
    return parcel


def unpack(parcel: Parcel, dest: Path, limits: SubmissionLimits, notebooks: frozenset[str]) -> list[Refusal]:
    """Write a parcel's folders and files into `dest`, which must not exist yet (so nothing in it can be a link), and
    return its refusals as staging's Refusals.

    Held to the same limits as staging: at most max_entries entries (every folder a path implies counted), each of
    the assignment's notebooks at most max_notebook_bytes, every other file together at most max_bytes. Raises
    BadParcel for a name that would leave `dest`, for names that clash (a file where a folder must be), or for a
    parcel past the limits (a parcel that staging made never is).
    """
    if not isinstance(parcel, Parcel):
        raise BadParcel(f"a submission must arrive as a Parcel, not {type(parcel).__name__}")
    files = {_relative(name): content for name, content in parcel.files.items()}
    folders = {_relative(name) for name in parcel.folders}
    folders |= {parent for path in list(folders) + list(files) for parent in path.parents if parent != PurePosixPath()}
    if len(folders) + len(files) > limits.max_entries:
        raise BadParcel(f"the parcel holds {len(folders) + len(files)} entries, more than the "
                        f"{limits.max_entries} a submission may have")
    others = 0
    for path, content in files.items():
        if not isinstance(content, bytes):
            raise BadParcel(f"the content of {shown(str(path))} is not bytes")
        if len(path.parts) == 1 and path.suffix == ".ipynb" and path.stem in notebooks:
            if len(content) > limits.max_notebook_bytes:
                raise BadParcel(f"the notebook {shown(str(path))} is {size(len(content))}, more than "
                                f"{size(limits.max_notebook_bytes)}")
        else:
            others += len(content)
    if others > limits.max_bytes:
        raise BadParcel(f"the parcel's files come to {size(others)}, more than {size(limits.max_bytes)}")
    if folders & set(files):
        raise BadParcel(f"{shown(str(min(folders & set(files))))} is both a file and a folder in the parcel")
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.mkdir()  # FileExistsError if it is there: the parcel is written into a new folder only
    try:
        for folder in sorted(folders, key=lambda path: len(path.parts)):  # parents first
            (dest / folder).mkdir()
        for path, content in files.items():
            with open(dest / path, "xb") as handle:  # never over anything written before
                handle.write(content)
    except OSError as error:
        raise BadParcel(f"the parcel could not be written ({type(error).__name__}: {error.strerror})") from None
    return [Refusal(_relative(name), str(why)) for name, why in parcel.refusals]


def gather(folder: Path, max_bytes: int = MAX_RETURN_BYTES) -> dict[str, bytes]:
    """The regular files under `folder` (what grading wrote), by relative path; links and others are left out, and
    files past `max_bytes` altogether raise BadParcel (nothing the course writes comes near it)."""
    files: dict[str, bytes] = {}
    total = 0
    if not folder.is_dir():
        return files
    for parent, subfolders, names in os.walk(folder):
        subfolders[:] = sorted(name for name in subfolders if not (Path(parent) / name).is_symlink())
        for name in sorted(names):
            path = Path(parent) / name
            if path.is_symlink() or not path.is_file():
                continue
            total += path.stat().st_size
            if total > max_bytes:
                raise BadParcel(f"grading wrote more than {size(max_bytes)} under {folder.name}")
            files[str(path.relative_to(folder))] = path.read_bytes()
    return files


def place(files: dict[str, bytes], dest: Path, max_bytes: int = MAX_RETURN_BYTES) -> None:
    """Make `dest` hold exactly `files` (from gather(), sent back by a worker): written into a new folder beside it
    first, then renamed into its place, the old one renamed away and removed. If anything fails, the old folder is
    left as it was and the new one removed. Raises BadParcel for a name that would leave `dest` or more than
    `max_bytes`, OSError when the files cannot be written."""
    if sum(len(content) for content in files.values()) > max_bytes:
        raise BadParcel(f"the returned files come to more than {size(max_bytes)}")
    paths = {_relative(name): content for name, content in files.items()}
    dest.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f".{dest.name}-new-", dir=dest.parent))
    try:
        for path, content in paths.items():
            target = fresh / path
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "xb") as handle:
                handle.write(content)
    except BaseException:
        _remove(fresh)
        raise
    old = None
    if dest.is_symlink() or dest.exists():
        old = dest.parent / f".{dest.name}-old-{uuid.uuid4().hex}"  # a name no earlier run can have left behind
        os.rename(dest, old)
    try:
        os.rename(fresh, dest)
    except BaseException:
        if old is not None:
            os.rename(old, dest)  # only what this call moved away is moved back
        _remove(fresh)
        raise
    if old is not None:
        _remove(old)


def _relative(name: str) -> PurePosixPath:
    """`name` as a plain relative path below the folder it is written into, or BadParcel."""
    if not isinstance(name, str) or not name or "\0" in name:
        raise BadParcel(f"{shown(str(name))!r} is not a usable file name")
    path = PurePosixPath(name)
    if path.is_absolute() or any(part in ("", ".", "..") for part in name.split("/")):
        raise BadParcel(f"{shown(name)!r} is not a plain relative path (no '..', no leading '/', no empty part)")
    return path


def _remove(path: Path) -> None:
    if path.is_symlink():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path, ignore_errors=True)


__all__ = ["BadParcel", "Parcel", "SubmissionTooLarge", "gather", "pack", "place", "unpack"]
