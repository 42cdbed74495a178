"""What the kernel leaves behind is hostile input: results files read safely, one bad value fails one cell, and
no hidden check code reaches the feedback."""

import io
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import nbformat
import numpy as np
import pytest
from traitlets.config import Config

from idnn import probe as probe_module
from idnn.autograde import preprocessors, verdicts
from idnn.autograde.preprocessors import ApplyVerdicts
from idnn.autograde.reference import ReferenceProblem
from idnn.autograde.results import ResultsDir, ResultsProblem, reclaim_results_dir
from idnn.autograde.scrub import NOTICE, Scrubber, helper_package_text
from idnn.autograde.verdicts import judge, load_student_results
from idnn.probe import Probe, _describe_call

from .conftest import idnn_grade, read_notebook, reference_of, released_course, scores_of
from .samples import gradient_checking, regularization, setting_up
from .samples.generate import assignment_module, build

pytestmark = pytest.mark.grading

FOUR_GB = 536_870_000  # float64 elements: 4.29e9 bytes, just below the 4 GiB a zip needs no zip64 for


# -- building hostile files ------------------------------------------------------------------------
def npy_header(shape, descr="<f8", version=(1, 0)) -> bytes:
    buffer = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    if version == (1, 0):
        np.lib.format.write_array_header_1_0(buffer, header)
    else:
        np.lib.format.write_array_header_2_0(buffer, header)
    return buffer.getvalue()


def deflate_zeros(prefix: bytes, zeros: int) -> bytes:
    """A raw deflate stream of prefix + `zeros` zero bytes, in milliseconds: one full-flushed piece repeated."""
    squeeze = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = squeeze.compress(prefix) + squeeze.flush(zlib.Z_FULL_FLUSH)
    piece = squeeze.compress(bytes(2**22)) + squeeze.flush(zlib.Z_FULL_FLUSH)
    pieces, rest = divmod(zeros, 2**22)
    return head + piece * pieces + squeeze.compress(bytes(rest)) + squeeze.flush()


def zip_of(members: list[tuple], method: int = 8, flags: int = 0, entries: int | None = None) -> bytes:
    """A zip archive written by hand. Each member: (name, data as stored, size the directory claims[, method, crc])."""
    body, directory = b"", b""
    for member in members:
        name, data, size = member[:3]
        how = member[3] if len(member) > 3 else method
        crc = member[4] if len(member) > 4 else zlib.crc32(data) if how == 0 else 0  # a bomb's CRC: never checked
        raw = name.encode()
        local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, flags, how, 0, 0, crc, len(data), size, len(raw), 0)
        directory += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, flags, how, 0, 0, crc, len(data), size,
                                 len(raw), 0, 0, 0, 0, 0, len(body)) + raw
        body += local + raw + data
    count = len(members) if entries is None else entries
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(directory), len(body), 0)
    return body + directory + end


def bomb(name: str, shape, claimed: int | None = None) -> tuple[str, bytes, int]:
    """A member whose header says `shape` and whose deflated data really inflates to FOUR_GB float64 zeros."""
    header = npy_header(shape)
    inflated = len(npy_header((FOUR_GB,))) + 8 * FOUR_GB
    return name, deflate_zeros(header, 8 * FOUR_GB), claimed if claimed is not None else inflated


def stored(name: str, array: np.ndarray) -> tuple[str, bytes, int]:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=True)
    return name, buffer.getvalue(), len(buffer.getvalue())


def four_values(probe):
    probe.call("forward0", lambda: np.arange(4.0))


def a_property(probe):
    probe.call("split", lambda: (np.ones((2, 30)), np.zeros((1, 30))), compare="property:split",
               inputs={"X": np.ones((2, 50)), "Y": np.zeros((1, 50))})


def record(folder: Path, monkeypatch, check_id, body, seed=7):
    """Save results as the kernel's probe would, into `folder`."""
    monkeypatch.setenv(probe_module.PROBE_DIR_ENV, str(folder))
    monkeypatch.setenv(probe_module.PROBE_SEED_ENV, str(seed))
    with Probe(check_id) as probe:
        body(probe)


def results_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "probe"
    folder.mkdir(mode=0o700)
    return folder


def planted_host_file(path: Path) -> Path:
    """A host file the grader must never read: a valid results file whose every verdict would quote it."""
    np.savez(path, **{probe_module.ERROR_PREFIX + "(check)": np.array("HOST-FILE-WAS-READ"),
                      "forward0": np.arange(4.0)})
    return path


# -- results.py: sizes bounded before anything is inflated -------------------------------------------

def judged_with_peak(reference, folder):
    """judge(reference, folder) and the most Python memory it held at once, in bytes."""
    tracemalloc.start()
    try:
        verdict = judge(reference, folder)
        return verdict, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

def test_a_zip_bomb_is_refused_without_inflating(tmp_path):
    folder = results_dir(tmp_path)
    reference = reference_of("c", four_values) + reference_of("p", a_property)
    cases = {
        # the header says 4 GB of float64: refused from the header, like a wrong shape
        "header": zip_of([bomb("forward0.npy", (FOUR_GB,))]),
        # the header says (4,) but the directory claims 4 GB: the two disagree, refused before the data
        "directory": zip_of([bomb("forward0.npy", (4,))]),
        # header and directory say (4,), the data inflates to 4 GB: read in bounded chunks, never past 32 bytes
        "lying stream": zip_of([bomb("forward0.npy", (4,), claimed=len(npy_header((4,))) + 32)]),
    }
    expected = {"header": "forward0 [<lambda>()]: shape (536870000,), expected (4,)",
                "directory": "forward0 [<lambda>()]: the archive says the array takes",
                "lying stream": "forward0 [<lambda>()]: the array could not be read (Bad CRC-32"}
    (folder / "p.npz").write_bytes(zip_of([bomb("split/0.npy", (2, FOUR_GB // 2))]))
    for case, data in cases.items():
        (folder / "c.npz").write_bytes(data)
        assert (folder / "c.npz").stat().st_size < 5 * 2**20  # a few MB on disk ...
        verdict, peak = judged_with_peak(reference, folder)
        assert peak < 8 * 2**20, f"{case}: reading the bomb took {peak} bytes"  # ... never inflated
        assert verdict.problems[0].startswith(expected[case]), (case, verdict.problems)
        assert "more than the grader reads for this result" in verdict.problems[-1], verdict.problems


BOUNDED_READER = r"""
import json, resource, sys
from pathlib import Path
import numpy as np
from idnn import probe as probe_module
from idnn.probe import Probe
from idnn.autograde.verdicts import judge

probes = []
with probe_module.reference_session(7, probes.append):
    with Probe("c") as probe:
        probe.call("forward0", lambda: np.arange(4.0))
pages = int(open("/proc/self/statm").read().split()[0])
limit = pages * resource.getpagesize() + 256 * 2**20  # what is mapped now, plus 256 MiB
resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
print(json.dumps(judge(probes, Path(sys.argv[1])).problems))
"""


@pytest.mark.slow
def test_reading_a_bomb_fits_in_256_mib_of_address_space(tmp_path):
    """The same in a process whose address space is capped: where np.load would need 4 GB, the reader needs none."""
    folder = results_dir(tmp_path)
    (folder / "c.npz").write_bytes(zip_of([bomb("forward0.npy", (FOUR_GB,))]))
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", BOUNDED_READER, str(folder)], capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == ["forward0 [<lambda>()]: shape (536870000,), expected (4,)"]


def test_keys_the_reference_does_not_expect_are_ignored_unread(tmp_path, monkeypatch):
    folder = results_dir(tmp_path)
    reference = reference_of("c", four_values)
    record(folder, monkeypatch, "c", four_values)
    with zipfile.ZipFile(folder / "c.npz") as archive:  # the honest file's members, kept as they are ...
        members = [(i.filename, archive.read(i), i.file_size, zipfile.ZIP_STORED, i.CRC) for i in archive.infolist()]
    members += [bomb("unexpected.npy", (FOUR_GB,)),  # ... with a bomb and a broken member the reference never asked for
                ("broken/0.npy", b"\x93NUMPY garbage", 10**9, zipfile.ZIP_STORED, 1),
                stored(probe_module.ERROR_PREFIX + "unexpected.npy", np.array("x" * 10**5))]
    (folder / "c.npz").write_bytes(zip_of(members))
    verdict, peak = judged_with_peak(reference, folder)
    assert verdict.passed, verdict.problems
    assert peak < 8 * 2**20, peak
    assert load_student_results(folder / "c.npz", reference[0]).arrays.keys() == {"forward0"}


def test_links_pipes_folders_and_hard_links_are_refused_with_a_sentence(tmp_path):
    folder = results_dir(tmp_path)
    reference = reference_of("c", four_values)
    host = planted_host_file(tmp_path / "host-file.npz")
    target = folder / "c.npz"

    def problems():
        found = []
        reader = threading.Thread(target=lambda: found.append(judge(reference, folder).problems), daemon=True)
        reader.start()
        reader.join(20)
        assert found, "the grader hung reading the results"
        assert "HOST-FILE-WAS-READ" not in str(found[0])
        return found[0]

    os.symlink(host, target)
    assert problems() == ["c: the results file is a symbolic link, not a file the check wrote: refused unread"]
    target.unlink()
    os.mkfifo(target)
    assert problems() == ["c: the results file is a named pipe, not a file the check wrote: refused unread"]
    target.unlink()
    target.mkdir()
    assert problems() == ["c: the results file is a directory, not a file the check wrote: refused unread"]
    target.rmdir()
    os.link(host, target)
    assert problems() == ["c: the results file has other hard links, so it is not a file the check wrote: "
                          "refused unread"]
    target.unlink()
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(target))
    assert problems()[0].startswith("c: the results file could not be opened")
    server.close()


def test_hard_to_parse_results_are_refused_with_a_sentence(tmp_path):
    folder = results_dir(tmp_path)
    reference = reference_of("c", four_values)
    header = npy_header((4,))
    cases = {
        b"not a zip file": "could not be read",
        b"PK\x05\x06" + b"\0" * 6 + struct.pack("<2H2LH", 60000, 60000, 3 * 2**20, 0, 0):
            "zip directory lists 60000 entries",
        zip_of([("forward0.npy", header + bytes(32), len(header) + 32)], method=0, flags=1): "encrypted",
        zip_of([("forward0.npy", header + bytes(32), len(header) + 32)], method=12): "compressed in a way",
        zip_of([stored("forward0.npy", np.arange(4.0))[:1] + (b"JUNK" * 40, 160)], method=0):
            "not in NumPy's .npy format",
        zip_of([("forward0.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", 60000) + b" " * 60000, 60010)], method=0):
            "header is 60000 bytes",
        zip_of([("forward0.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", 38)
                 + b"{'descr': __import__('os')}".ljust(38), 48)], method=0): "header could not be read",
        zip_of([stored("forward0.npy", np.array([{"a": 1}], dtype=object))], method=0): "Python objects",
        zip_of([("forward0.npy", header + bytes(16), len(header) + 32)], method=0): "cut short",
        zip_of([stored("forward0.npy", np.zeros(4, dtype=[("a", "<f8")]))], method=0): "where numbers or text",
        zip_of([stored("forward0.npy", np.array(["x" * 5000] * 4))], method=0): "longer than the 1000",
    }
    for data, phrase in cases.items():
        (folder / "c.npz").write_bytes(data)
        verdict = judge(reference, folder)
        assert not verdict.passed
        assert any(phrase in problem for problem in verdict.problems), (phrase, verdict.problems)
        assert all(problem.startswith(("c:", "forward0")) for problem in verdict.problems), verdict.problems


def test_an_error_message_saved_by_the_kernel_is_read_bounded(tmp_path):
    folder = results_dir(tmp_path)
    reference = reference_of("c", four_values)
    huge = np.array("E" * 100_000)
    (folder / "c.npz").write_bytes(zip_of([stored(probe_module.ERROR_PREFIX + "forward0.npy", huge)], method=0))
    (problem,) = judge(reference, folder).problems
    assert problem.startswith("forward0 [<lambda>()]: your code raised EEEE") and problem.endswith("E...")
    assert len(problem) < 2100


def test_the_results_directory_must_be_the_graders_own(tmp_path, monkeypatch):
    reference = reference_of("c", four_values)
    folder = results_dir(tmp_path)
    record(folder, monkeypatch, "c", four_values)
    assert judge(reference, folder).passed
    link = tmp_path / "link"
    link.symlink_to(folder)
    assert judge(reference, link).problems == ["c: the results directory is a symbolic link: refused, no result "
                                               "was read"]
    folder.chmod(0o777)
    assert "not the grader's own" in judge(reference, folder).problems[0]
    reclaim_results_dir(folder)
    assert folder.stat().st_mode & 0o777 == 0o700 and judge(reference, folder).passed
    if os.geteuid() == 0:  # as when grading as root: the sandboxed kernel's user owned it
        os.chown(folder, 54321, 54321)
        with pytest.raises(ResultsProblem, match="not the grader's own"):
            ResultsDir(folder)
        reclaim_results_dir(folder)
        assert folder.stat().st_uid == 0 and judge(reference, folder).passed


def test_results_read_only_as_the_reference_expects_them(tmp_path, monkeypatch):
    """A wrong-shaped value gets compare()'s own sentence; honest results of every kind still pass."""
    folder = results_dir(tmp_path)

    def many(probe):
        probe.call("vector", lambda: np.arange(4.0))
        probe.call("dict", lambda: {"W1": np.ones((2, 3)), "b1": np.zeros((2, 1))})
        probe.call("text", lambda: "high bias", compare="exact")
        probe.call("fails", lambda: 1.0)
    reference = reference_of("c", many)
    record(folder, monkeypatch, "c", many)
    assert judge(reference, folder).passed

    def wrong(probe):
        probe.call("vector", lambda: np.arange(5.0))
        probe.call("dict", lambda: {"W1": np.ones((2, 3)), "b1": np.zeros((2, 1)), "W2": np.ones(3)})
        probe.call("text", lambda: "low bias and low variance", compare="exact")
        probe.call("fails", lambda: 1 / 0)
    record(folder, monkeypatch, "c", wrong)
    assert judge(reference, folder).problems == [
        "vector [<lambda>()]: shape (5,), expected (4,)",
        "text [<lambda>()]: 'low bias and low variance', expected 'high bias'",
        "fails [<lambda>()]: your code raised ZeroDivisionError: division by zero"]
    assert load_student_results(folder / "c.npz", reference[0]).refused == {"vector": "shape (5,), expected (4,)"}


# -- one bad value fails one cell ---------------------------------------------------------------
def test_an_exception_while_judging_fails_that_check_only(tmp_path, monkeypatch):
    folder = results_dir(tmp_path)

    def body(probe, labels=np.zeros((1, 30))):
        probe.call("good", lambda: np.arange(3.0))
        probe.call("bad", lambda: np.arange(3.0))
        probe.call("labels", lambda: (np.ones((2, 30)), labels), compare="property:split",
                   inputs={"X": np.ones((2, 50)), "Y": np.zeros((1, 50))})
    reference = reference_of("c", body)
    record(folder, monkeypatch, "c", lambda probe: body(probe, np.full((1, 30), np.nan)))
    original = verdicts.compare

    def compare(name, got, ref, mode):
        if name == "bad":
            raise ValueError("cannot convert float NaN to integer")
        return original(name, got, ref, mode)

    def check_property(name, key, got, inputs):
        if any(np.isnan(a).any() for a in got.values() if a.dtype.kind == "f"):
            int(np.nan)
        return []
    monkeypatch.setattr(verdicts, "compare", compare)
    monkeypatch.setattr(verdicts, "check_property", check_property)
    verdict = judge(reference, folder)
    assert verdict.problems == [
        "bad [<lambda>()]: the grader could not judge this result: ValueError: cannot convert float NaN to integer",
        "labels [<lambda>()]: the grader could not judge this result: ValueError: cannot convert float NaN to integer"]
    assert verdict.compared == 3

    def always_raises(name, key, got, inputs):
        raise KeyError("no such check")
    monkeypatch.setattr(verdicts, "check_property", always_raises)  # fails on the reference's own results too
    with pytest.raises(ReferenceProblem, match="fails on the reference solution's own results"):
        judge(reference, folder)


def _demo_test(visible: str, check_id: str, draw: str) -> str:
    return (f"{visible}\n### BEGIN HIDDEN TESTS\ndef _hidden_checks():\n    from idnn.probe import Probe\n"
            f"    with Probe(\"{check_id}\") as probe:\n        secret_input_{check_id[-1]} = probe.normal({draw})\n"
            f"        probe.call(\"{check_id[-1]}\", double, secret_input_{check_id[-1]})\n_hidden_checks()\n"
            f"### END HIDDEN TESTS")


DEMO_SOURCE = [
    ("answer", "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n"),
    ("test_a", _demo_test("assert double(1) == 2", "check_a", "3")),
    ("test_b", _demo_test("assert double(2) == 4", "check_b", "2, 2")),
]


def demo_course(tmp_path: Path, cells=DEMO_SOURCE) -> tuple[Path, nbformat.NotebookNode]:
    source = nbformat.v4.new_notebook()
    for grade_id, code in cells:
        cell = nbformat.v4.new_code_cell(code)
        cell.metadata["nbgrader"] = {"grade_id": grade_id, "solution": grade_id == "answer",
                                     "grade": grade_id != "answer", "locked": grade_id != "answer", "points": 1,
                                     "schema_version": 3}
        source.cells.append(cell)
    course = tmp_path / "course"
    (course / "source" / "demo").mkdir(parents=True)
    nbformat.write(source, course / "source" / "demo" / "demo.ipynb")
    return course, source


def apply_verdicts(course: Path, nb, tmp_path: Path, seed=11):
    run_dir = tmp_path / "run"
    (run_dir / "probe").mkdir(parents=True)
    os.environ[probe_module.PROBE_DIR_ENV], os.environ[probe_module.PROBE_SEED_ENV] = str(run_dir / "probe"), str(seed)
    try:  # what the kernel's hidden checks save
        namespace = {"double": lambda x: 2 * x, "np": np}
        for cell in nb.cells:
            if "### BEGIN HIDDEN TESTS" in cell.source:
                exec(cell.source.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0], namespace)
    finally:
        del os.environ[probe_module.PROBE_DIR_ENV], os.environ[probe_module.PROBE_SEED_ENV]
    resources = {"idnn": {"probe_dir": str(run_dir / "probe"), "run_dir": str(run_dir), "seed": seed,
                          "failure": None, "sandboxed": False},
                 "nbgrader": {"assignment": "demo", "notebook": "demo", "student": "s"}}
    config = Config()
    config.CourseDirectory.root = str(course)
    return ApplyVerdicts(config=config).preprocess(nb, resources)[0]


def test_apply_verdicts_fails_only_the_cell_whose_judging_raised(tmp_path, monkeypatch):
    course, source = demo_course(tmp_path)
    original = preprocessors.judge

    def judge_or_raise(probes, folder):
        if probes[0].check_id == "check_a":
            raise OverflowError("int too large to convert")
        return original(probes, folder)
    monkeypatch.setattr(preprocessors, "judge", judge_or_raise)
    nb = apply_verdicts(course, nbformat.from_dict(json.loads(json.dumps(source))), tmp_path)
    a, b = nb.cells[1], nb.cells[2]
    assert [o.ename for o in a.outputs if o.output_type == "error"] == ["HiddenCheckFailed"]
    assert "the grader could not judge this result: OverflowError: int too large to convert" in a.outputs[-1].evalue
    assert b.outputs[-1].text.startswith("Hidden checks passed") and b.metadata["idnn"]["hidden_passed"]


def test_apply_verdicts_still_stops_for_the_instructors_errors(tmp_path, monkeypatch):
    """A test cell without a probe, or a reference solution that fails, is the instructor's: ReferenceProblem."""
    def judge_or_raise(probes, folder):
        raise RuntimeError("the student's results broke this")  # what a student's results can do: not raised
    monkeypatch.setattr(preprocessors, "judge", judge_or_raise)
    course, source = demo_course(tmp_path / "zero")
    nb = apply_verdicts(course, nbformat.from_dict(json.loads(json.dumps(source))), tmp_path / "zero")
    assert all("could not judge" in cell.outputs[-1].evalue for cell in nb.cells[1:])
    monkeypatch.undo()

    no_probe = DEMO_SOURCE[:2] + [("test_c", "assert double(3) == 6\n")]
    course, source = demo_course(tmp_path, no_probe)
    with pytest.raises(ReferenceProblem, match="has no hidden probe"):
        apply_verdicts(course, nbformat.from_dict(json.loads(json.dumps(source))), tmp_path / "one")
    failing = [(DEMO_SOURCE[0][0], "def double(x):\n    ### BEGIN SOLUTION\n    return 1 / 0\n    ### END SOLUTION\n")]
    course, source = demo_course(tmp_path / "two", failing + DEMO_SOURCE[1:])
    with pytest.raises(ReferenceProblem):
        apply_verdicts(course, nbformat.from_dict(json.loads(json.dumps(source))), tmp_path / "two")


# -- no hidden code reaches the feedback --------------------------------------------------------------
def demo_scrubber(tmp_path) -> Scrubber:
    course, source = demo_course(tmp_path)
    return Scrubber.for_notebook(source, None, helper_package_text())


def test_the_secret_text_is_what_only_the_hidden_code_holds(tmp_path):
    scrubber = demo_scrubber(tmp_path)
    assert scrubber.names == ["_hidden_checks", "secret_input_a", "secret_input_b"]
    assert 'with Probe("check_a") as probe:' in scrubber.lines and "assert double(1) == 2" not in scrubber.lines
    # Names anyone may print are not secret: the release's, the helpers', NumPy's, plain words.
    assert not {"double", "probe", "Probe", "normal", "call", "idnn"} & set(scrubber.names)


def test_the_scrubber_removes_every_kind_of_leak_and_keeps_honest_outputs(tmp_path):
    scrubber = demo_scrubber(tmp_path)
    hidden_line = 'secret_input_b = probe.normal(2, 2)'
    In = ["", "def double(x):\n    return 2 * x", 'def _x():\n    with Probe("check_a") as probe:\n        pass']
    leaks = [
        nbformat.v4.new_output("stream", name="stdout", text=f"In: {In!r}\n"),  # a repr of the input history
        nbformat.v4.new_output("stream", name="stdout", text="frame locals: ['probe', 'secret_input_a']\n"),
        nbformat.v4.new_output("stream", name="stderr", text=f"{hidden_line}\n"),
        nbformat.v4.new_output("error", ename="ValueError", evalue="bad",
                               traceback=[f"  File x, line 2, in _hidden_checks\n    {hidden_line}"]),
        nbformat.v4.new_output("error", ename="_hidden_checks", evalue="x", traceback=[]),
        nbformat.v4.new_output("display_data", data={"text/html": "<pre>with Probe(&quot;check_a&quot;) as probe:"
                                                                  "</pre>", "text/plain": "ok"}),
        nbformat.v4.new_output("execute_result", data={"application/json": {"code": [hidden_line]}},
                               execution_count=3),
        nbformat.v4.new_output("display_data", data={"text/plain": "ok"}, metadata={"x": "secret_input_b"}),
    ]
    honest = [
        nbformat.v4.new_output("stream", name="stdout", text="All checks passed for double. case 2: probe ok\n"),
        nbformat.v4.new_output("error", ename="AssertionError", evalue="double(2) returned 5", traceback=["..."]),
        nbformat.v4.new_output("display_data", data={"text/plain": "<Figure>", "image/png": "iVBORw0KGgo="}),
        nbformat.v4.new_output("stream", name="stdout", text="my_secret_input_a_2 is mine\n"),
    ]
    outputs = [nbformat.from_dict(json.loads(json.dumps(o))) for o in leaks + honest]
    assert scrubber.scrub_outputs(outputs) == len(leaks)
    kept = json.dumps(outputs[:len(leaks)])
    for secret in scrubber.names + ["check_a", hidden_line]:
        assert secret not in kept, secret
    assert [o.output_type for o in outputs] == [o.output_type for o in leaks + honest]  # an error stays an error
    assert all(NOTICE in json.dumps(o) for o in outputs[:len(leaks)])
    assert outputs[len(leaks):] == [nbformat.from_dict(json.loads(json.dumps(o))) for o in honest]

    cell = nbformat.v4.new_code_cell("x")
    cell.metadata["idnn"] = {"problems": ["a: fine", "b: your code raised NameError: secret_input_a"],
                             "kernel_errors": []}
    scrubber.scrub_cell(cell)
    assert cell.metadata["idnn"]["problems"] == ["a: fine", NOTICE]


def test_call_descriptions_never_show_a_repr_or_a_qualified_name():
    def _hidden_checks():
        def train_epoch(parameters):
            return parameters

        class Secret:
            pass
        return train_epoch, Secret()
    train_epoch, secret = _hidden_checks()

    def early_stopping(*args):
        pass
    early_stopping.__qualname__ = "early_stopping"  # as the student's, defined at the top of the kernel
    text = _describe_call(early_stopping, ({"W1": np.ones((1, 3))}, train_epoch, secret, 12, "x" * 500), {})
    assert text.startswith("early_stopping({'W1': <array (1, 3)>}, <function>, <object>, 12, 'xxx")
    assert "_hidden_checks" not in text and "train_epoch" not in text and "Secret" not in text and len(text) <= 160
    assert _describe_call(train_epoch, (), {}) == "<function>()"
    assert _describe_call(lambda: 0, (), {}) == "<lambda>()"


def test_errors_raised_while_hidden_checks_run_do_not_quote_them():
    """nbclient's timeout message previews the cell's source; for a hidden part that would be hidden code."""
    from nbclient.exceptions import CellTimeoutError

    hidden = "def _hidden_checks():\n    secret_input_a = probe.normal(3)\n_hidden_checks()"
    error = CellTimeoutError.error_from_timeout_and_cell("Timeout waiting for IOPub output", 4,
                                                         nbformat.v4.new_code_cell(hidden))
    cleaned = preprocessors._without_source(error, hidden)
    assert type(cleaned) is CellTimeoutError and "Timeout waiting for IOPub output" in str(cleaned)
    assert "_hidden_checks" not in str(cleaned) and "secret_input_a" not in str(cleaned)


# -- end to end ---------------------------------------------------------------------------------------
def secret_text(course: Path, assignment: str) -> Scrubber:
    notebook = assignment_module(assignment).NOTEBOOK
    return Scrubber.for_notebook(course / "source" / assignment / f"{notebook}.ipynb",
                                 course / "release" / assignment / f"{notebook}.ipynb", helper_package_text())


def cell_outputs(course: Path, student: str, assignment: str, grade_id: str) -> str:
    notebook = assignment_module(assignment).NOTEBOOK
    nb = read_notebook(course / "autograded" / student / assignment / f"{notebook}.ipynb")
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    return json.dumps(cell.outputs)


def stream_text(course: Path, student: str, assignment: str, grade_id: str) -> str:
    """Everything a cell printed, its stream outputs joined."""
    notebook = assignment_module(assignment).NOTEBOOK
    nb = read_notebook(course / "autograded" / student / assignment / f"{notebook}.ipynb")
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    return "".join(output.get("text", "") for output in cell.outputs if output.get("output_type") == "stream")


def test_hostile_and_leaking_samples_graded_end_to_end(tmp_path, graded_course):
    """The results attacks, on a host file of this test's own, graded here; the leaking samples of the other
    assignments (nan_labels, shows_functions) are read from the shared graded course, which graded them alike."""
    course = released_course(tmp_path / "course", assignments=["gradient_checking"])
    host = planted_host_file(tmp_path / "host-file.npz")
    hostile = gradient_checking.hostile_samples(str(host)) + [gradient_checking.LEAKY]
    build(course, "gradient_checking", samples=hostile)
    idnn_grade("--jobs", "2", "gradient_checking", cwd=course)

    picked = {
        ("gradient_checking", course): hostile,
        ("setting_up", graded_course): [s for s in setting_up.SAMPLES if s.student == "nan_labels"],
        ("regularization", graded_course): [s for s in regularization.SAMPLES if s.student == "shows_functions"],
    }
    for (assignment, where), samples in picked.items():
        module = assignment_module(assignment)
        scores = scores_of(where, assignment)
        for sample in samples:
            assert scores[sample.student] == {t: float(sample.expected.get(t, 0)) for t in module.ALL_TESTS}, \
                sample.student
        secrets = secret_text(where, assignment)
        assert secrets.names and secrets.lines
        for sample in samples:
            page = (where / "feedback" / sample.student / assignment / f"{module.NOTEBOOK}.html").read_text()
            nb = read_notebook(where / "autograded" / sample.student / assignment / f"{module.NOTEBOOK}.ipynb")
            kept = json.dumps([[c.get("outputs", []), c.metadata.get("idnn")] for c in nb.cells])
            for where_shown, text in (("feedback", page), ("autograded outputs", kept)):
                found = [s for s in secrets.names if s in text] + [s for s in secrets.lines if s in text]
                assert not found, f"{sample.student}: {where_shown} quotes the hidden checks: {found[:3]}"
                assert "HOST-FILE-WAS-READ" not in text
            assert "Hidden checks" in page
    for path in list((course / "reports").rglob("*")) + list((course / "feedback").rglob("*")):
        if path.is_file():
            assert "HOST-FILE-WAS-READ" not in path.read_text(errors="replace"), path

    bombed = cell_outputs(course, "results_bomb_link", "gradient_checking", "test_1d")
    assert "shape (536870000,), expected (4,)" in bombed
    linked = cell_outputs(course, "results_bomb_link", "gradient_checking", "test_gradcheck_n")
    assert "gradcheck_n: the results file is a symbolic link, not a file the check wrote: refused unread" in linked
    # The kernel's history and line cache, printed from a later cell, never held the hidden code: kept whole.
    later = cell_outputs(course, "leaky", "gradient_checking", "l2")
    printed = stream_text(course, "leaky", "gradient_checking", "l2")  # a busy kernel may flush "In:" on its own
    assert "In: [" in printed and "line cache:" in printed and NOTICE not in later
    # Printed from inside a graded function while the hidden check ran: removed, and the verdict kept.
    inside = cell_outputs(course, "leaky", "gradient_checking", "test_classify")
    assert NOTICE in inside and "Hidden checks passed" in inside
    split = cell_outputs(graded_course, "nan_labels", "setting_up", "test_split")
    assert "HiddenCheckFailed" in split
    stopping = cell_outputs(graded_course, "shows_functions", "regularization", "test_early_stopping")
    assert "<function>, <function>" in stopping and NOTICE in stopping
