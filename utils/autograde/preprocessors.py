"""nbgrader preprocessors that take grading verdicts out of the student's kernel.

nbgrader_config.py puts them in the autograde pipeline, so plain `nbgrader autograde` uses them:

    RestoreHiddenTests  OverwriteCells, quiet about the hidden tests it restores (stock warns for each)
    CheckMetadata   CheckCellMetadata, with nbgrader's metadata schema checked and compiled once per process
    ProbedExecute   runs the notebook like nbgrader's Execute, but inside the sandbox (sandbox.py),
                    after picking a fresh grading seed and an empty results directory that only
                    the kernel is told about; skips the cells the source notebook marks as
                    demonstrations (demonstrations.py), whose outputs then say so
    ApplyVerdicts   after the kernel has gone, computes the reference results from the source
                    notebook, compares, and rewrites each test cell's outputs so that nbgrader's
                    own rule (an error output scores zero) records the outside verdict; then
                    removes every kept output that quotes the hidden checks (scrub.py)

A test cell earns its points only when its hidden checks pass outside the kernel and
its visible checks raised no error inside it. Warnings written to stderr are kept as
text and cost nothing (stock nbgrader zeroes any cell that wrote to stderr).
"""

import json
import multiprocessing.util
import os
import re
import secrets
import shutil
import signal
import tempfile
import threading
from pathlib import Path

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_sync
from traitlets import Bool, Unicode
import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader.coursedir import CourseDirectory
from nbgrader.api import MissingEntry
from nbgrader import utils
from nbgrader.nbgraderformat import MetadataValidator, ValidationError
from nbgrader.nbgraderformat.common import BaseMetadataValidator
from nbgrader.preprocessors import CheckCellMetadata, ClearHiddenTests, Execute, NbGraderPreprocessor, OverwriteCells
import jsonschema

from ..probe import PROBE_DIR_ENV, PROBE_SEED_ENV
from .demonstrations import NOT_RUN, marked_sources, to_skip
from .reference import HiddenMarkers, ReferenceProblem, is_test_cell, reference_probes
from .sandbox import PROBE_DIR, Sandbox, SandboxedKernelManager, give_to
from .limits import SubmissionLimits
from .staging import stage
from .results import reclaim_results_dir
from .scrub import Scrubber, helper_package_text
from .verdicts import Verdict, could_not_judge, judge

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class RestoreHiddenTests(OverwriteCells):
    """nbgrader's OverwriteCells, without a warning for every test cell whose hidden tests it restores.

    A released test cell differs from its source by the hidden tests that were stripped from it,
    so stock nbgrader warns "checksum has changed" for each of them in every submission, which
    buries the warnings that matter: test cells a student really edited.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id is not None and cell.metadata.nbgrader.get("locked"):
            try:
                source_cell = self.gradebook.find_source_cell(grade_id, self.notebook_id, self.assignment_id)
            except MissingEntry:
                source_cell = None
            if source_cell is not None and cell.source == self._released_source(source_cell, cell_index):
                cell.source = source_cell.source
        return super().preprocess_cell(cell, resources, cell_index)

    def add_missing_grade_cells(self, nb, resources):
        """Put back each deleted test cell after the nearest earlier cell of the source that is still there.

        nbgrader's own version assumes the source cell just before it is present, and stops the whole notebook
        with a KeyError when it is not (its marks were lost too). With no earlier cell present, a test cell goes
        at the end, after all of the student's code, unless it is the first cell of the source.
        """
        source_nb = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        source_cells = list(source_nb.source_cells)
        source_ids = [cell.name for cell in source_cells]
        solution_ids = {cell.name for cell in source_nb.solution_cells}
        for grade_cell in source_nb.grade_cells:
            present = {cell.metadata.nbgrader["grade_id"]: index for index, cell in enumerate(nb.cells)
                       if utils.is_grade(cell) or utils.is_solution(cell)}
            if grade_cell.name in present or grade_cell.name not in source_ids:
                continue
            self.log.warning("Missing grade cell %s encountered, adding to notebook", grade_cell.name)
            position = source_ids.index(grade_cell.name)
            earlier = [present[name] for name in reversed(source_ids[:position]) if name in present]
            at = earlier[0] + 1 if earlier else (0 if position == 0 else len(nb.cells))
            restored = self.missing_cell_transform(source_cells[position], grade_cell.max_score,
                                                   is_solution=grade_cell.name in solution_ids)
            nb.cells.insert(at, nbformat.from_dict(restored))  # a NotebookNode, like the cells around it
        return nb, resources

    def _released_source(self, source_cell, cell_index: int) -> str:
        """What generate_assignment left of a source test cell: the source without its hidden tests (nbgrader's
        ClearHiddenTests, configured as for the release)."""
        released = NotebookNode(cell_type=source_cell.cell_type, source=source_cell.source,
                                metadata={"nbgrader": {"grade": True, "grade_id": source_cell.name}})
        released, _ = ClearHiddenTests(config=self.config).preprocess_cell(released, {}, cell_index)
        return released.source


class _CompiledSchema(BaseMetadataValidator):
    """The cell check of nbgrader's metadata validators, with the schema checked and compiled once, when the validator
    is made. Stock nbgrader calls jsonschema.validate for every nbgrader cell, which first checks the schema itself
    against the JSON Schema meta-schema: 0.12 s of every notebook's grading, twice."""

    def __init__(self) -> None:
        super().__init__()
        checker = jsonschema.validators.validator_for(self.schema)
        checker.check_schema(self.schema)
        self._checker = checker(self.schema)

    def validate_cell(self, cell: NotebookNode) -> None:
        if "nbgrader" not in cell.metadata:
            return
        schema = cell.metadata["nbgrader"].get("schema_version", 0)
        if schema != self.schema_version:  # stock's messages (too old / too new)
            return super().validate_cell(cell)
        error = jsonschema.exceptions.best_match(self._checker.iter_errors(cell.metadata["nbgrader"]))
        if error is not None:
            raise error


class _FastMetadataValidator(MetadataValidator, _CompiledSchema):
    """nbgrader's current MetadataValidator (its checks of grade ids, cell types and points, unchanged) on top of
    the compiled schema check."""


class CheckMetadata(CheckCellMetadata):
    """nbgrader's CheckCellMetadata (the same checks and errors) with its schema compiled once per process."""

    _validator: _FastMetadataValidator | None = None

    def preprocess(self, nb, resources):
        if CheckMetadata._validator is None:
            CheckMetadata._validator = _FastMetadataValidator()
        try:
            CheckMetadata._validator.validate_nb(nb)
        except ValidationError as error:  # as stock: the details in the log, one message for the caller
            self.log.error("%s", error)
            raise ValidationError("Notebook failed to validate; the nbgrader metadata may be corrupted.")
        return nb, resources


class RefuseLinks(NbGraderPreprocessor):
    """First of the sanitizing preprocessors: a submission may hold only regular files and folders.

    idnn-grade stages each submission that way before nbgrader sees it (staging.py), so this finds
    nothing there. Plain `nbgrader autograde` reads submitted/ itself and copies its other files into
    autograded/ following links; this refuses to grade a notebook that is not a regular file, and
    deletes from autograded/ whatever nbgrader copied from a link, pipe or outside hard link, before
    any of the student's code runs.
    """

    def preprocess(self, nb, resources):
        submitted = Path((resources.get("metadata") or {}).get("path") or ".")
        info = resources["nbgrader"]
        notebook = submitted / f"{info['notebook']}.ipynb"
        if notebook.is_symlink() or not notebook.is_file():
            raise RuntimeError(f"{notebook.name} is not a regular file (a link?): refusing to grade it")
        coursedir = CourseDirectory(config=self.config)
        autograded = Path(coursedir.format_path(coursedir.autograded_directory, info["student"], info["assignment"]))
        staged = Path(tempfile.mkdtemp(prefix="idnn-links-"))
        try:
            # reads nothing: only what would be refused (too many entries stop the notebook here)
            notes = stage(submitted, staged, skip=lambda path: True, limits=SubmissionLimits(parent=self))
        finally:
            shutil.rmtree(staged, ignore_errors=True)
        for refusal in notes:
            self.log.warning("%s", refusal)
            copied = autograded / refusal.path
            if copied.is_file() or copied.is_symlink():
                copied.unlink()
        return nb, resources


#: Why kernels of this process could not start, for idnn-grade's worker to read (it retries such submissions).
kernel_start_failures: list[str] = []


class KernelNeverAnswered(Exception):
    """The kernel died or hung before it answered its first request (nothing of the notebook ran)."""


class KernelStartFailed(RuntimeError):
    """Every attempt to start the kernel failed: the grading machine's problem, never a zero for the student."""


#: Sent silently to a sandboxed kernel once it answered (see ProbedExecute.async_start_new_kernel_client).
WORKDIR_ON_PATH = "import os as _os, sys as _sys; _sys.path.append(_os.getcwd()); del _os, _sys"


class SpareKernel:
    """A sandboxed kernel started, with an empty working folder, before the notebook it will run is known.

    ProbedExecute starts one as soon as a notebook has run, so that it boots while nbgrader records the grades
    and writes the feedback; the next notebook this process grades takes it, copies the submission's files
    into its (still empty) working folder and runs its cells. A kernel never sees the submission's files
    before it answers anyway (sandbox.KERNEL_BOOT), so nothing a submission holds behaves differently; and
    each kernel runs one notebook only, in folders of its own.
    """

    def __init__(self, km: SandboxedKernelManager, run: dict, key: tuple):
        self.km, self.run, self.key = km, run, key

    def discard(self) -> None:
        try:
            if self.km.has_kernel:
                run_sync(self.km.shutdown_kernel)(now=True)
        except Exception:
            pass
        finally:
            if self.km.uid_lease is not None:
                self.km.uid_lease.release()
            shutil.rmtree(self.run["run_dir"], ignore_errors=True)


def make_run_folders(run_dir: Path) -> None:
    """A kernel's folders under run_dir, empty: probe/ (where its hidden checks save results), sockets/, and
    submission/ (its working folder)."""
    for name in ("probe", "sockets", "submission"):
        shutil.rmtree(run_dir / name, ignore_errors=True)
        (run_dir / name).mkdir()


#: This process's spare kernel (at most one), see SpareKernel.
_spare: list[SpareKernel] = []


def discard_spare_kernel() -> None:
    """Stop this process's spare kernel, if any (at exit; and before a notebook that cannot use it)."""
    while _spare:
        _spare.pop().discard()


# At exit of the grading process, or of a worker process (multiprocessing runs these, not atexit, in workers).
multiprocessing.util.Finalize(None, discard_spare_kernel, exitpriority=100)


class ProbedExecute(Execute):
    """nbgrader's Execute, sandboxed, with a grading seed and results directory for the probes.

    Also enforces what a single cell's timeout cannot: a wall-clock limit for the whole
    notebook and a cap on output volume. A kernel that dies, is killed, or never answers
    ends execution early; the reason is kept in resources["idnn"]["failure"] and the
    notebook goes on to be graded with what had run.
    """

    #: A kernel that fails before it ever answered is the machine's fault, not the student's: start it again.
    kernel_start_attempts = 3

    skip_demonstrations = Bool(True, help="Do not run the cells the source notebook marks as demonstrations "
                               "(demonstrations.py), unless a cell that runs needs a name one defines.").tag(config=True)
    kernel_colors = Unicode("nocolor", help="IPython's colour scheme in the grading kernel (nocolor, neutral, "
                            "linux, lightbg): a traceback without colour takes a tenth of the time to format (17 ms "
                            "with colour), and a blank notebook raises one in every exercise and test cell; empty: "
                            "the kernel's default.").tag(config=True)
    spare_kernel = Bool(True, help="Once a notebook has run, start the sandboxed kernel of the next one, so that "
                        "it boots while this one's grades and feedback are written (SpareKernel).").tag(config=True)

    def preprocess(self, nb, resources, km=None):
        self._skip = self._demonstrations_to_skip(nb, resources) if self.skip_demonstrations else set()
        self._markers = HiddenMarkers.of(self.config)
        self._sandbox = Sandbox(parent=self)
        self._use_bwrap = self._sandbox.use_bwrap()
        spare = self._take_spare(nb) if km is None else None
        run = spare.run if spare else self._new_run()
        run_dir = Path(run["run_dir"])
        resources["idnn"] = run
        self._run = run
        self._probe_env = self._probe_env_of(run)
        notebook_dir = Path((resources.get("metadata") or {}).get("path") or ".")
        errors = []
        for attempt in range(1, self.kernel_start_attempts + 1):
            self._adopted = spare if attempt == 1 else None
            if self._adopted:  # its folders are bound into its sandbox: fill them, never replace them
                self._stage_submission(run_dir, notebook_dir, uid=spare.km.kernel_uid)
            else:
                make_run_folders(run_dir)
                self._stage_submission(run_dir, notebook_dir)
            try:
                result = self._execute_once(nb, resources, km)
                if self.spare_kernel and self._use_bwrap and km is None:
                    self._start_spare(nb)
                return result
            except KernelNeverAnswered as error:
                errors.append(str(error.__cause__ or error))
                self.log.warning("kernel start failed (attempt %d of %d): %s", attempt, self.kernel_start_attempts,
                                 errors[-1])
        if self._starts_without_the_submission(run_dir, resources):
            # Not the machine: the same kernel starts when the submission's files are left out.
            run["failure"] = (f"the kernel did not start with this submission's files ({self.kernel_start_attempts} "
                              f"attempts; last: {errors[-1]}), but starts without them: a file of the submission "
                              f"stops it; nothing of the notebook ran")
            self.log.warning("%s", run["failure"])
            return nb, resources
        shutil.rmtree(run_dir, ignore_errors=True)
        failure = (f"the sandboxed kernel could not be started ({self.kernel_start_attempts} attempts; last: "
                   f"{errors[-1]}). This is a problem of the grading machine, not of the submission: rerun the grader.")
        kernel_start_failures.append(failure)
        raise KernelStartFailed(failure)

    def _new_run(self) -> dict:
        """A kernel's folders (under one temporary folder) and grading seed."""
        run_dir = Path(tempfile.mkdtemp(prefix="idnn-grade-"))
        return {"probe_dir": str(run_dir / "probe"), "run_dir": str(run_dir), "seed": secrets.randbelow(2**31 - 1),
                "failure": None, "sandboxed": self._use_bwrap}

    def _probe_env_of(self, run: dict) -> dict[str, str]:
        return {PROBE_DIR_ENV: PROBE_DIR if self._use_bwrap else run["probe_dir"], PROBE_SEED_ENV: str(run["seed"])}

    def _kernel_name(self, nb) -> str:
        return self.kernel_name or nb.metadata.get("kernelspec", {}).get("name") or "python3"

    def _kernel_arguments(self) -> list[str]:
        """The kernel's extra arguments: the configured ones, the colour scheme, and the history file's (which
        nbclient adds, once)."""
        extra = list(self.extra_arguments)
        if self.kernel_colors and not any(arg.startswith("--InteractiveShell.colors") for arg in extra):
            extra.append(f"--InteractiveShell.colors={self.kernel_colors}")
        if self.ipython_hist_file and not any(arg.startswith("--HistoryManager.hist_file") for arg in extra):
            extra.append(f"--HistoryManager.hist_file={self.ipython_hist_file}")
        return extra

    def _spare_key(self, nb) -> tuple:
        """What a spare kernel must have been started with to run `nb`: its kernel, sandbox settings, arguments."""
        return (self._kernel_name(nb), tuple(sorted(self._sandbox.trait_values(config=True).items())),
                tuple(self._kernel_arguments()))

    def _take_spare(self, nb) -> "SpareKernel | None":
        """This process's spare kernel, if it was started for a notebook like `nb` (else it is stopped)."""
        if not _spare:
            return None
        spare = _spare.pop()
        if self._use_bwrap and spare.key == self._spare_key(nb):
            return spare
        spare.discard()
        return None

    def _start_spare(self, nb) -> None:
        """Start the next notebook's kernel now (see SpareKernel); a failure here costs nothing but the head start."""
        discard_spare_kernel()
        run = {**self._new_run(), "started_ahead": True}
        run_dir = Path(run["run_dir"])
        make_run_folders(run_dir)
        km = None
        try:
            km = SandboxedKernelManager(sandbox=self._sandbox, workdir=run_dir / "submission",
                                        probe_dir=run_dir / "probe", socket_dir=run_dir / "sockets",
                                        extra_env=self._probe_env_of(run), kernel_name=self._kernel_name(nb),
                                        config=self.config)
            with open(run_dir / "kernel.log", "wb") as log:
                run_sync(km.start_kernel)(extra_arguments=self._kernel_arguments(), cwd=str(run_dir), stdout=log,
                                          stderr=log)
        except Exception as error:
            self.log.warning("could not start the next notebook's kernel ahead of time: %s", error)
            if km is not None:
                SpareKernel(km, run, ()).discard()
            else:
                shutil.rmtree(run_dir, ignore_errors=True)
            return
        _spare.append(SpareKernel(km, run, self._spare_key(nb)))

    def _stage_submission(self, run_dir: Path, notebook_dir: Path | None, uid: int | None = None) -> None:
        """Copy the submission's files (no notebooks) into the kernel's empty working folder, run_dir/submission:
        regular files only, links never followed (staging.py); none when `notebook_dir` is None. With `uid` (a spare
        kernel, already running as that user), the copies are given to it."""
        if notebook_dir is not None:
            for refusal in stage(notebook_dir, run_dir / "submission", skip=lambda path: path.suffix == ".ipynb",
                                 limits=SubmissionLimits(parent=self)):
                self.log.warning("%s", refusal)
        if uid is not None:
            give_to(run_dir / "submission", uid)
        self._workdir, self._socket_dir = run_dir / "submission", run_dir / "sockets"

    def _demonstrations_to_skip(self, nb, resources) -> set[int]:
        """Indices of the cells of `nb` that only demonstrate, as the trusted source notebook marks them."""
        source = nbformat.read(source_notebook(self.config, resources), as_version=4)
        sources = [cell.source if cell.cell_type == "code" else None for cell in nb.cells]
        trusted = frozenset(cell.source for cell in source.cells if cell.cell_type == "code")
        return to_skip(sources, marked_sources(source), trusted)

    def _starts_without_the_submission(self, run_dir: Path, resources) -> bool:
        """Whether a kernel starts, in the same sandbox, with an empty working folder and no cells to run."""
        self._skip = set()
        make_run_folders(run_dir)
        self._stage_submission(run_dir, None)
        try:
            self._execute_once(nbformat.v4.new_notebook(), dict(resources), None)
        except KernelNeverAnswered:
            return False
        return True

    def _execute_once(self, nb, resources, km):
        run = self._run
        self._output_bytes, self._output_truncated, self._kernel_answered = 0, False, False
        self.km, self.kc, self._lease = km, None, None
        watchdog = threading.Timer(self._sandbox.notebook_seconds, self._kill_kernel,
                                   args=(f"the notebook ran longer than {self._sandbox.notebook_seconds} s",))
        watchdog.daemon = True
        watchdog.start()
        try:
            return super().preprocess(nb, resources, km=km)
        except Exception as error:
            if not self._kernel_answered and run["failure"] is None:
                raise KernelNeverAnswered() from error
            if not isinstance(error, (DeadKernelError, CellTimeoutError, TimeoutError, RuntimeError)):
                raise
            run["failure"] = run["failure"] or f"the kernel stopped ({type(error).__name__}: {error})"
            self.log.warning("%s: %s", resources.get("nbgrader", {}).get("student", "?"), run["failure"])
            return self.nb, resources
        finally:
            watchdog.cancel()
            if self._lease is not None:  # the kernel is gone (nbclient stopped it): its uid is free again
                self._lease.release()
                self._lease = None

    async def async_start_new_kernel_client(self):
        kc = await super().async_start_new_kernel_client()
        if self._use_bwrap:
            # The kernel started with no folder of the submission on sys.path (sandbox.KERNEL_BOOT); now the
            # student's own modules may import, after the real packages, as they would in Jupyter.
            reply = await self.async_wait_for_reply(kc.execute(WORKDIR_ON_PATH, silent=True, store_history=False))
            if reply is None or reply["content"].get("status") != "ok":
                raise RuntimeError("the kernel did not accept its first request")
        self._kernel_answered = True  # from here on, whatever happens is the notebook's doing
        return kc

    start_new_kernel_client = run_sync(async_start_new_kernel_client)

    def create_kernel_manager(self):
        if not self._use_bwrap:
            return super().create_kernel_manager()
        if self._adopted is not None:  # a spare kernel, already booting (nbclient sees it has a kernel)
            self.km, self._lease, self._adopted = self._adopted.km, self._adopted.km.uid_lease, None
            return self.km
        kernel_name = self.kernel_name or self.nb.metadata.get("kernelspec", {}).get("name") or "python3"
        self.km = SandboxedKernelManager(sandbox=self._sandbox, workdir=self._workdir,
                                         probe_dir=Path(self._run["probe_dir"]), socket_dir=self._socket_dir,
                                         extra_env=self._probe_env, kernel_name=kernel_name, config=self.config)
        self._lease = self.km.uid_lease
        return self.km

    async def async_start_new_kernel(self, **kwargs):
        if not self._use_bwrap:  # inside the sandbox the environment is set by bubblewrap
            env = dict(kwargs.pop("env", None) or os.environ)
            env.update(self._probe_env)
            kwargs["env"] = env
        self.extra_arguments = self._kernel_arguments()  # nbclient passes these (and adds nothing more)
        # The kernel's own stdout/stderr (start-up notes, crashes) go to a log, not the instructor's terminal.
        with open(Path(self._run["run_dir"]) / "kernel.log", "wb") as log:
            await super().async_start_new_kernel(stdout=log, stderr=log, **kwargs)

    # nbclient binds the synchronous wrapper to its own coroutine; bind it to ours.
    start_new_kernel = run_sync(async_start_new_kernel)

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        """Run a cell; a test cell's hidden part goes as requests of its own, kept out of the kernel's history.

        The visible part runs as the cell (store_history=True: it is what `In`, `_ih` and `Out` show).
        Each hidden part runs next as a request with store_history=False, whose outputs join the
        same cell, and which then drops its own source from the line cache (best effort: code that
        runs while it does can still read it; scrub.py removes what it prints). A hidden part runs
        only if the visible part before it raised no error, as when the cell ran whole.
        """
        if cell_index in self._skip:  # a demonstration: its outputs say it was not run
            cell.outputs = [NotebookNode(output_type="stream", name="stdout", text=NOT_RUN)]
            cell.execution_count = None
            return cell
        segments = self._markers.segments(cell.source) if is_test_cell(cell) else []
        if not any(hidden for hidden, _ in segments):
            return await super().async_execute_cell(cell, cell_index, execution_count=execution_count,
                                                    store_history=store_history)
        source, earlier, count = cell.source, [], None
        cell.outputs = []
        try:
            for position, (hidden, text) in enumerate(segments):
                if any(output.get("output_type") == "error" for output in cell.outputs):
                    break  # the cell would have stopped here
                earlier += cell.outputs
                cell.outputs = []
                cell.source = text + _HIDDEN_EPILOGUE if hidden else text
                history = store_history and position == 0 and not hidden
                try:
                    await super().async_execute_cell(cell, cell_index, execution_count=execution_count if history
                                                     else None, store_history=history)
                except Exception as error:
                    if hidden:  # nbclient's messages preview the cell's source: here, the hidden checks
                        raise _without_source(error, text) from None
                    raise
                if history:
                    count = cell.get("execution_count")
                else:
                    self.code_cells_executed -= 1  # one cell, one number
        finally:
            cell.source = source
            cell.outputs = earlier + cell.get("outputs", [])
            cell.execution_count = count
            self.nb.cells[cell_index] = cell
        return cell

    execute_cell = run_sync(async_execute_cell)

    #: Widget state the kernel sends over comms is neither kept in the notebook nor trusted (nbclient would
    #: store it in the notebook's metadata, unscrubbed and outside the output cap).
    store_widget_state = Bool(False)

    def handle_comm_msg(self, outs, msg, cell_index):
        """Comm (widget) messages count towards the output cap like any output; their state is never kept."""
        self._output_bytes += len(json.dumps(msg.get("content", {}), default=str))
        if self._output_bytes > 4 * self._sandbox.output_bytes:
            self._kill_kernel(f"the notebook sent more than {4 * self._sandbox.output_bytes} bytes of output and "
                              f"widget messages")
            return None
        return super().handle_comm_msg(outs, msg, cell_index)

    def output(self, outs, msg, display_id, cell_index):
        """Keep at most Sandbox.output_bytes of output; stop the kernel at four times that."""
        content = msg.get("content", {})
        size = len(content.get("text", "")) + sum(len(str(v)) for v in content.get("data", {}).values())
        self._output_bytes += size
        limit = self._sandbox.output_bytes
        if self._output_bytes <= limit:
            return super().output(outs, msg, display_id, cell_index)
        if not self._output_truncated:
            self._output_truncated = True
            outs.append(NotebookNode(output_type="stream", name="stdout",
                                     text=f"\n[output truncated: the notebook printed more than {limit} bytes]\n"))
        if self._output_bytes > 4 * limit:
            self._kill_kernel(f"the notebook printed more than {4 * limit} bytes")
        return None

    def _kill_kernel(self, reason: str) -> None:
        """Stop the kernel (and, sandboxed, everything it started) at once."""
        if self._run["failure"] is None:
            self._run["failure"] = reason
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        if process is not None and process.poll() is None:
            try:
                os.kill(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


class ApplyVerdicts(NbGraderPreprocessor):
    """Replace each autograded test cell's outputs with the verdict decided outside the kernel.

    One test cell is judged at a time: whatever goes wrong while judging it (the student's results
    unreadable, a comparison or property check raising on them) fails that cell alone, with a
    sentence, and the others are graded. Only the instructor's errors (ReferenceProblem: the
    reference solution failing, a test cell without a probe) stop the notebook. Then every cell's
    outputs, and the verdicts, lose whatever quotes the hidden checks (scrub.py).
    """

    def preprocess(self, nb, resources):
        run = resources.get("idnn")
        if run is None:
            raise RuntimeError("ApplyVerdicts needs ProbedExecute earlier in Autograde.autograde_preprocessors.")
        try:
            source, markers = source_notebook(self.config, resources), HiddenMarkers.of(self.config)
            references = reference_probes(source, run["seed"], markers)
            scrubber = self._scrubber(source, resources, markers)
            reclaim_results_dir(Path(run["probe_dir"]))  # the kernel has gone: the directory is ours again
            for cell in nb.cells:
                if is_test_cell(cell):
                    self._grade(cell, references, run, resources, scrubber)
                scrubber.scrub_cell(cell)
            failure = run["failure"] and scrubber.scrub_text(run["failure"])
            nb.metadata["idnn"] = {"grading_seed": run["seed"], "failure": failure, "sandboxed": run["sandboxed"],
                                   "kernel_started_ahead": run.get("started_ahead", False)}
        finally:
            shutil.rmtree(run["run_dir"], ignore_errors=True)
        return nb, resources

    def _grade(self, cell, references, run, resources, scrubber: Scrubber) -> None:
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        probes = references.get(grade_id)
        if not probes:
            raise ReferenceProblem(f"Test cell {grade_id!r} of {resources['nbgrader']['notebook']} has no hidden "
                                   f"probe, so nothing outside the kernel could grade it. Add one to the source "
                                   f"notebook.")
        try:
            verdict = judge(probes, Path(run["probe_dir"]))
        except ReferenceProblem:
            raise
        except Exception as error:  # the student's doing, whatever it is: this cell fails, the rest is graded
            self.log.warning("%s: %s: %s", resources.get("nbgrader", {}).get("student", "?"), grade_id,
                             could_not_judge(error))
            verdict = Verdict(passed=False, compared=0, problems=[could_not_judge(error)])
        if run["failure"] and not verdict.passed:
            verdict.problems.insert(0, f"The kernel was stopped before the end: {run['failure']}.")
        verdict.problems = [scrubber.scrub_text(problem) for problem in verdict.problems]  # one by one
        try:
            kernel_errors = rewrite_outputs(cell, verdict)
        except Exception as error:  # outputs the kernel made unusable: keep none of them
            cell.outputs = [_error("HiddenCheckFailed", could_not_judge(error))]
            kernel_errors, verdict = [could_not_judge(error)], Verdict(False, verdict.compared, verdict.problems)
        cell.metadata["idnn"] = {"hidden_passed": verdict.passed, "kernel_errors": kernel_errors,
                                 "problems": verdict.problems}

    def _scrubber(self, source: Path, resources, markers: HiddenMarkers) -> Scrubber:
        coursedir = CourseDirectory(config=self.config)
        info = resources["nbgrader"]
        release = Path(coursedir.format_path(coursedir.release_directory, ".", info["assignment"])) / source.name
        try:
            return Scrubber.for_notebook(source, release if release.is_file() else None, helper_package_text(), markers)
        except Exception as error:
            raise ReferenceProblem(f"The hidden checks of {source} could not be read to keep them out of the "
                                   f"feedback ({type(error).__name__}: {error}).") from error


def source_notebook(config, resources) -> Path:
    """The instructor's source notebook of the notebook being graded (the trusted one)."""
    coursedir = CourseDirectory(config=config)
    info = resources["nbgrader"]
    folder = coursedir.format_path(coursedir.source_directory, ".", info["assignment"])
    return Path(folder) / f"{info['notebook']}.ipynb"


def rewrite_outputs(cell: NotebookNode, verdict: Verdict) -> list[str]:
    """Set the cell's outputs to the kernel's text (no tracebacks) plus the verdict; return kernel errors.

    Tracebacks are dropped because they can quote hidden test code. Rich displays are kept,
    but an `execute_result` becomes a `display_data` so nbgrader never reads it as a partial score.
    """
    text, displays, kernel_errors = [], [], []
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "stream":
            text.append(output.get("text", ""))
        elif kind == "error":
            kernel_errors.append(_ANSI.sub("", f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"))
        elif kind in ("display_data", "execute_result"):
            displays.append(NotebookNode(output_type="display_data", data=output.get("data", {}),
                                         metadata=output.get("metadata", {})))
    outputs = []
    if text:
        outputs.append(NotebookNode(output_type="stream", name="stdout", text="".join(text)))
    outputs.extend(displays)
    if kernel_errors:
        message = "; ".join(kernel_errors)
        outputs.append(_error("VisibleCheckFailed", message))
    if not verdict.passed:
        outputs.append(_error("HiddenCheckFailed", verdict.message()))
    elif not kernel_errors:
        outputs.append(NotebookNode(output_type="stream", name="stdout", text=verdict.message() + "\n"))
    cell.outputs = outputs
    return kernel_errors


#: Sent after each hidden part of a test cell: forget its source in the kernel's line cache, and the
#: function the hidden checks define (an `if`, so that IPython displays nothing).
_HIDDEN_EPILOGUE = """
if True:
    __import__("linecache").cache.pop(__import__("sys")._getframe(0).f_code.co_filename, None)
    globals().pop("_hidden_checks", None)
"""


def _without_source(error: Exception, source: str) -> Exception:
    """`error` (raised while hidden checks ran) with no line of their source in its message."""
    message = str(error).split("Here is a preview of the cell contents")[0].rstrip()
    for line in source.splitlines():
        if line.strip():
            message = message.replace(line.strip(), "")
    message = f"{message} (while the hidden checks of this cell ran)"
    try:
        return type(error)(message)
    except Exception:  # an exception type that wants other arguments
        return RuntimeError(f"{type(error).__name__}: {message}")


def _error(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])
