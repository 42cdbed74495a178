"""What the kernel saved, read safely.

The hidden checks in the student's kernel save their results as `.npz` files (zip archives of `.npy`
members, see probe.py) in a results directory, which the grader reads after the kernel has gone.
Everything in that directory was written by the student's code, so it is read as hostile input:

- No link is followed. The directory is opened without following a link and must be the grader's
  own (ProbedExecute lends it to the sandboxed kernel's user; `reclaim_results_dir` takes it back
  before anything is read). Each file is opened relative to it with O_NOFOLLOW (and O_NONBLOCK, so a
  named pipe cannot hang the grader) and must be a regular file with no other hard link (fstat).
- Sizes are bounded before anything is inflated: the file, its zip directory and number of members,
  each member's inflated size as the directory states it, and each `.npy` header's shape and dtype,
  checked against what the reference run produced for that key. Then the real inflated bytes are
  read in bounded chunks, never more than the header promised, so a directory that lies is caught too.
- Only members the reference expects are read; any other key is ignored unread. Object (pickle)
  dtypes are refused: arrays are rebuilt from their raw bytes, never with np.load.

Whatever is refused becomes a sentence for the student (ResultsProblem for a whole file, or a
per-key entry of StudentResults.refused); nothing here raises for the student's data otherwise.
"""

import errno
import io
import math
import os
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..probe import ERROR_PREFIX, KEYS_SUFFIX

# -- limits (each with why) ------------------------------------------------------------------------
#: Largest results file opened at all. The largest check of the course saves about 2.5 MB; the sandbox
#: refuses files over 64 MiB anyway (Sandbox.file_bytes), so nothing honest comes near this.
MAX_FILE_BYTES = 64 * 2**20
#: Largest zip directory parsed. zipfile keeps an object of about 0.5 KB per entry it lists, and np.savez
#: writes about 100 bytes of directory per array (the largest check has 245): 1 MiB is 40 times that.
MAX_DIRECTORY_BYTES = 2**20
#: Most members a results file may list, for the same reason.
MAX_MEMBERS = 10_000
#: Largest `.npy` header read. np.save writes about 128 bytes; numpy itself refuses more than 10,000.
MAX_HEADER_BYTES = 4096
#: Longest text (per element) read for a text result or a list of keys: the course's answers are words.
MAX_TEXT_CHARS = 1000
#: Longest error message kept from the kernel; a longer one is cut (the student's exception text).
MAX_ERROR_CHARS = 2000
#: Widest element read: complex values of NumPy's longest float (clongdouble) are 32 bytes.
MAX_ITEMSIZE = 32
#: A result without a single right value (a property check's split, masks, mini-batches) may differ
#: in shape from the reference's: it may hold this many times the reference's arrays and bytes...
PROPERTY_SLACK = 4
#: ... plus this much, so that tiny references still leave room for a wrong-sized answer.
PROPERTY_FLOOR_BYTES = 2**20
PROPERTY_FLOOR_MEMBERS = 64
#: Inflated bytes read at a time.
CHUNK_BYTES = 2**20

_NUMERIC_KINDS = "biufc"
_NPY_MAGIC = b"\x93NUMPY"


class ResultsProblem(Exception):
    """A results file (or the results directory) that is refused: str() is a sentence for the student."""


class _RefuseFile(ResultsProblem):
    """Found in one member, but no honest probe writes such a file: the whole file is refused."""


@dataclass
class StudentResults:
    """What the student's kernel saved for one check: arrays and error messages by key.

    `refused` maps a key (or an array's full name) to why it was not read; `unreadable` says why
    nothing of the file was.
    """

    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    unreadable: str | None = None


# -- what the reference expects ---------------------------------------------------------------------
@dataclass(frozen=True)
class _Exact:
    """An array compared with the reference's: its shape must be the reference's."""

    shape: tuple
    text: bool  # a text array: its width may differ, within MAX_TEXT_CHARS
    keys: bool  # a list of dict keys or sequence indices: its length may differ too


@dataclass
class _Subtree:
    """A property-checked key: any arrays under it, within a budget of members and bytes."""

    key: str
    members: int
    member_bytes: int
    total_bytes: int


@dataclass
class Expectation:
    """What may be read from one check's results file, derived from the reference run's probe."""

    exact: dict[str, _Exact] = field(default_factory=dict)
    subtrees: dict[str, _Subtree] = field(default_factory=dict)
    errors: set[str] = field(default_factory=set)  # keys whose error message may be read
    generic: bool = False  # no reference given: every member may be read, within the file's bounds

    @classmethod
    def of(cls, probe) -> "Expectation":
        """The expectation for a reference Probe (its modes and arrays)."""
        expectation = cls(errors={"(check)"})
        for key, mode in probe.modes.items():
            expectation.errors.add(key)
            names = [n for n in probe.arrays if n == key or n.startswith(key + "/")]
            if mode.startswith("property:"):
                sizes = [probe.arrays[n].nbytes for n in names]
                expectation.subtrees[key] = _Subtree(
                    key, members=PROPERTY_SLACK * len(names) + PROPERTY_FLOOR_MEMBERS,
                    member_bytes=PROPERTY_SLACK * max(sizes, default=0) + PROPERTY_FLOOR_BYTES,
                    total_bytes=PROPERTY_SLACK * sum(sizes) + PROPERTY_FLOOR_BYTES)
                continue
            for name in names:
                ref = probe.arrays[name]
                expectation.exact[name] = _Exact(tuple(ref.shape), text=ref.dtype.kind == "U",
                                                 keys=name.endswith(KEYS_SUFFIX))
        return expectation

    def subtree_of(self, name: str) -> _Subtree | None:
        for key, subtree in self.subtrees.items():
            if name == key or name.startswith(key + "/"):
                return subtree
        return None


# -- the directory -----------------------------------------------------------------------------------
def reclaim_results_dir(path: Path) -> None:
    """Make the results directory the grader's own again, and writable by nobody else.

    When grading as root the directory was given to the sandboxed kernel's user; once the kernel has
    gone it is taken back, so that nothing still running as that user can change it while it is read.
    The directory is opened without following a link; a missing directory is left alone.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return  # open_results_dir says why, to the student
    try:
        if os.geteuid() == 0 and os.fstat(fd).st_uid != 0:
            os.fchown(fd, 0, 0)
        os.fchmod(fd, 0o700)
    finally:
        os.close(fd)


class ResultsDir:
    """An open results directory; `read` reads one check's file from it. Use as a context manager."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self.fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            raise ResultsProblem("the results directory of this run does not exist, so no check could be read") \
                from None
        except OSError as error:
            what = "is a symbolic link" if error.errno in (errno.ELOOP, errno.ENOTDIR) else f"cannot be opened " \
                f"({os.strerror(error.errno or 0)})"
            raise ResultsProblem(f"the results directory {what}: refused, no result was read") from None
        info = os.fstat(self.fd)
        if info.st_uid != os.geteuid() or info.st_mode & 0o022:
            os.close(self.fd)
            raise ResultsProblem("the results directory is not the grader's own (another user owns it or may "
                                 "write to it): refused, no result was read")

    def __enter__(self) -> "ResultsDir":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def read(self, filename: str, expectation: Expectation) -> StudentResults | None:
        """The results in `filename` (None when there is no such file); a refused file says why."""
        if "/" in filename or filename.startswith("."):
            raise ValueError(f"{filename!r} is not a results file name")  # the instructor's check id
        try:
            fd = os.open(filename, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC,
                         dir_fd=self.fd)
        except FileNotFoundError:
            return None
        except OSError as error:
            if error.errno == errno.ELOOP:
                why = "is a symbolic link, not a file the check wrote"
            else:
                why = f"could not be opened ({os.strerror(error.errno or 0)})"
            return StudentResults(unreadable=f"the results file {why}: refused unread")
        try:
            _check_file(fd)
            with os.fdopen(fd, "rb", buffering=0) as handle:
                fd = None
                return _read_archive(handle, expectation)
        except ResultsProblem as problem:
            return StudentResults(unreadable=str(problem))
        finally:
            if fd is not None:
                os.close(fd)


def read_results(path: Path, expectation: Expectation | None = None) -> StudentResults | None:
    """Read one results file by path (its directory must be the grader's own); None when it does not exist."""
    path = Path(path)
    try:
        folder = ResultsDir(path.parent)
    except ResultsProblem as problem:
        return StudentResults(unreadable=str(problem))
    with folder:
        return folder.read(path.name, expectation or Expectation(generic=True))


# -- one file ----------------------------------------------------------------------------------------
def _check_file(fd: int) -> None:
    """Refuse anything but a regular file with one link and a bounded size."""
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        kind = ("a directory" if stat.S_ISDIR(info.st_mode) else "a named pipe" if stat.S_ISFIFO(info.st_mode)
                else "not a regular file")
        raise ResultsProblem(f"the results file is {kind}, not a file the check wrote: refused unread")
    if info.st_nlink != 1:
        raise ResultsProblem("the results file has other hard links, so it is not a file the check wrote: "
                             "refused unread")
    if info.st_size > MAX_FILE_BYTES:
        raise ResultsProblem(f"the results file is larger than {MAX_FILE_BYTES} bytes: refused unread")


def _read_archive(handle, expectation: Expectation) -> StudentResults:
    # A file still growing cannot make the reads go further than its size when it was checked.
    handle = _Bounded(handle, os.fstat(handle.fileno()).st_size)
    _check_directory(handle)
    try:
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error) as error:
        raise ResultsProblem(f"the results file could not be read ({_brief(error)})") from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise ResultsProblem(f"the results file lists {len(members)} arrays, more than the {MAX_MEMBERS} "
                                 f"the grader reads: refused unread")
        by_name = {}
        for member in members:
            if member.filename.endswith(".npy"):
                by_name[member.filename[:-len(".npy")]] = member  # the last of a duplicated name, as zipfile does
        results = StudentResults()
        spent: dict[str, int] = {}
        counted: dict[str, int] = {}
        for name, member in sorted(by_name.items()):
            if name.startswith(ERROR_PREFIX):
                key = name[len(ERROR_PREFIX):]
                if expectation.generic or key in expectation.errors:
                    message, refusal = _read_member(archive, member, _error_text)
                    results.errors[key] = message if refusal is None else f"(an error whose message was {refusal})"
                continue
            if expectation.generic:
                rule = None
            elif name in expectation.exact:
                rule = expectation.exact[name]
            else:
                rule = expectation.subtree_of(name)
                if rule is None:
                    continue  # not expected by the reference: ignored unread
                counted[rule.key] = counted.get(rule.key, 0) + 1
                if counted[rule.key] > rule.members:
                    results.refused[rule.key] = (f"the result holds more than {rule.members} arrays, more than "
                                                 f"the grader reads for it: refused unread")
                    continue
            if isinstance(rule, _Subtree) and rule.key in results.refused:
                continue
            array, refusal = _read_member(archive, member, _array_rule(rule, spent))
            if refusal is None:
                results.arrays[name] = array
            elif isinstance(rule, _Subtree):
                results.refused[rule.key] = f"{name[len(rule.key) + 1:] or name}: {refusal}"
            else:
                results.refused[name] = refusal
    return results


class _Bounded(io.RawIOBase):
    """A read-only view of the first `size` bytes of a file object."""

    def __init__(self, raw, size: int):
        self._raw, self._size = raw, size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._raw.tell()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_END:
            offset, whence = self._size + offset, io.SEEK_SET
        return self._raw.seek(offset, whence)

    def read(self, n: int = -1) -> bytes:
        left = max(0, self._size - self._raw.tell())
        n = left if n is None or n < 0 else min(n, left)
        return self._raw.read(n)

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


def _check_directory(handle) -> None:
    """Refuse an archive whose zip directory is too large, before zipfile parses it."""
    try:
        end = zipfile._EndRecData(handle)  # the same end record zipfile itself will use
    except (OSError, struct.error, ValueError, EOFError):
        end = None
    if not end:
        raise ResultsProblem("the results file could not be read (it is not a zip archive as np.savez writes)")
    entries, directory_bytes = end[zipfile._ECD_ENTRIES_TOTAL], end[zipfile._ECD_SIZE]
    if directory_bytes > MAX_DIRECTORY_BYTES or entries > MAX_MEMBERS:
        raise ResultsProblem(f"the results file's zip directory lists {entries} entries in {directory_bytes} bytes, "
                             f"more than the grader reads: refused unread")
    handle.seek(0)


def _read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, rule):
    """Read one .npy member under `rule`: (the array, or the text of an error message; None) or (None, why not)."""
    value, refusal = None, _member_problem(archive, member, rule)
    if isinstance(refusal, tuple):
        value, refusal = refusal
    return value, refusal


def _member_problem(archive, member, rule):
    if member.flag_bits & 0x1:
        return "the array is encrypted: refused unread"
    if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return "the array is compressed in a way np.savez never uses: refused unread"
    try:
        with archive.open(member) as stream:
            header_bytes, shape, fortran, dtype = _read_header(stream)
            problem = _dtype_problem(dtype)
            if problem:
                return problem
            count = math.prod(shape)
            refusal, limit = rule(shape, dtype, count)
            if refusal:
                return refusal
            data_bytes = count * dtype.itemsize
            if member.file_size != header_bytes + data_bytes:
                return (f"the archive says the array takes {member.file_size} bytes but its header says "
                        f"{header_bytes + data_bytes}: refused unread")
            wanted = min(data_bytes, limit)
            data = _read_upto(stream, wanted)
            if len(data) < wanted:
                return f"the array is cut short ({len(data)} of {wanted} bytes): refused"
            if wanted == data_bytes and stream.read(1):  # nothing may follow; reading on makes zipfile check the CRC
                return "the array holds more bytes than its header says: refused"
    except _RefuseFile:
        raise
    except ResultsProblem as problem:
        return str(problem)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error, zlib.error) as error:
        return f"the array could not be read ({_brief(error)})"
    if rule is _error_text:
        return _error_string(data, dtype, cut=wanted < data_bytes), None
    array = np.frombuffer(bytes(data), dtype=dtype)
    return array.reshape(shape, order="F" if fortran else "C").copy(), None


def _read_header(stream) -> tuple[int, tuple, bool, np.dtype]:
    """(bytes before the data, shape, Fortran order, dtype) of a .npy stream, reading at most its header."""
    magic = _read_upto(stream, len(_NPY_MAGIC) + 2)
    if len(magic) < len(_NPY_MAGIC) + 2 or magic[:len(_NPY_MAGIC)] != _NPY_MAGIC:
        raise ResultsProblem("the array is not in NumPy's .npy format: refused")
    version = (magic[-2], magic[-1])
    if version not in ((1, 0), (2, 0)):  # np.save writes 3.0 only for structured dtypes, never read here
        raise ResultsProblem(f"the array has a .npy version {version} the grader does not read: refused")
    length_format = "<H" if version == (1, 0) else "<I"
    length_bytes = _read_upto(stream, struct.calcsize(length_format))
    if len(length_bytes) < struct.calcsize(length_format):
        raise ResultsProblem("the array's header is cut short: refused")
    (length,) = struct.unpack(length_format, bytes(length_bytes))
    if length > MAX_HEADER_BYTES:
        raise ResultsProblem(f"the array's header is {length} bytes, more than the {MAX_HEADER_BYTES} the grader "
                             f"reads: refused unread")
    header = _read_upto(stream, length)
    if len(header) < length:
        raise ResultsProblem("the array's header is cut short: refused")
    reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    try:
        shape, fortran, dtype = reader(io.BytesIO(bytes(length_bytes) + bytes(header)),
                                       max_header_size=MAX_HEADER_BYTES)
    except (ValueError, TypeError, SyntaxError, UnicodeError, MemoryError, RecursionError) as error:
        raise ResultsProblem(f"the array's header could not be read ({_brief(error)})") from None
    shape = tuple(shape)
    if any(not isinstance(n, int) or n < 0 for n in shape):
        raise ResultsProblem(f"the array's header gives an impossible shape {shape}: refused")
    return len(magic) + len(length_bytes) + len(header), shape, bool(fortran), dtype


def _dtype_problem(dtype: np.dtype) -> str | None:
    if dtype.hasobject:  # the probe never saves objects (probe.flatten refuses them)
        raise _RefuseFile(f"the results file could not be read: it holds Python objects (dtype {dtype}), which the "
                          f"grader never unpickles")
    if dtype.fields is not None or dtype.subdtype is not None or dtype.kind not in _NUMERIC_KINDS + "U":
        return f"the array has dtype {dtype}, where numbers or text were expected: refused unread"
    if dtype.itemsize > MAX_ITEMSIZE and dtype.kind != "U":
        return f"the array's elements are {dtype.itemsize} bytes wide (dtype {dtype}): refused unread"
    return None


def _array_rule(rule, spent: dict[str, int]):
    """The check of a header against `rule` (an _Exact, a _Subtree or None): (refusal or None, bytes limit)."""
    def check(shape, dtype, count):
        nbytes = count * dtype.itemsize
        if dtype.kind == "U" and dtype.itemsize // 4 > MAX_TEXT_CHARS:
            return (f"a text of {dtype.itemsize // 4} characters, longer than the {MAX_TEXT_CHARS} the grader "
                    f"reads: refused unread"), 0
        if rule is None:  # no reference to go by: all arrays together at most MAX_FILE_BYTES
            total = spent.get("", 0) + nbytes
            if total > MAX_FILE_BYTES:
                return f"the arrays take more than {MAX_FILE_BYTES} bytes, more than the grader reads: refused " \
                       f"unread", 0
            spent[""] = total
            return None, nbytes
        if isinstance(rule, _Exact):
            if rule.keys or (rule.text and dtype.kind == "U"):
                if count > PROPERTY_SLACK * max(1, math.prod(rule.shape)) + PROPERTY_FLOOR_MEMBERS:
                    return f"{count} entries, expected {math.prod(rule.shape)}: refused unread", 0
                return None, nbytes
            if shape != rule.shape:
                return f"shape {shape}, expected {rule.shape}", 0  # as compare() says it
            return None, nbytes
        total = spent.get(rule.key, 0) + nbytes
        if nbytes > rule.member_bytes or total > rule.total_bytes:
            return (f"shape {shape} ({nbytes} bytes) is more than the grader reads for this result (at most "
                    f"{min(rule.member_bytes, rule.total_bytes)} bytes): refused unread"), 0
        spent[rule.key] = total
        return None, nbytes
    return check


def _error_text(shape, dtype, count):
    """Rule for an error message: 0-d text, of which at most MAX_ERROR_CHARS are read."""
    if dtype.kind != "U" or shape != ():
        return "not a text: refused unread", 0
    return None, min(dtype.itemsize, 4 * MAX_ERROR_CHARS)


def _error_string(data: bytes, dtype: np.dtype, cut: bool) -> str:
    codec = "utf-32-be" if dtype.byteorder == ">" else "utf-32-le"
    text = bytes(data).decode(codec, errors="replace").rstrip("\x00")
    return text + "..." if cut else text


def _read_upto(stream, n: int) -> bytearray:
    """At most n bytes from stream (fewer only at its end), read CHUNK_BYTES at a time."""
    buffer = bytearray()
    while len(buffer) < n:
        chunk = stream.read(min(CHUNK_BYTES, n - len(buffer)))
        if not chunk:
            break
        buffer += chunk
    return buffer


def _brief(error: BaseException) -> str:
    text = f"{error}" or type(error).__name__
    return text if len(text) <= 200 else text[:197] + "..."
