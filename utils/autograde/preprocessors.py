"""nbgrader preprocessors that take grading verdicts out of the student's kernel.

nbgrader_config.py puts them in the autograde pipeline, so plain `nbgrader autograde` uses them:

    RestoreHiddenTests  OverwriteCells, quiet about the hidden tests it restores (stock warns for each)
    ProbedExecute   runs the notebook like nbgrader's Execute, but first picks a fresh grading
                    seed and an empty results directory, and tells only the kernel about them
    ApplyVerdicts   after the kernel has gone, computes the reference results from the source
                    notebook, compares, and rewrites each test cell's outputs so that nbgrader's
                    own rule (an error output scores zero) records the outside verdict

A test cell earns its points only when its hidden checks pass outside the kernel and
its visible checks raised no error inside it. Warnings written to stderr are kept as
text and cost nothing (stock nbgrader zeroes any cell that wrote to stderr).
"""

import os
import re
import secrets
import shutil
import tempfile
from pathlib import Path

from nbclient.util import run_sync
from nbformat.notebooknode import NotebookNode
from nbgrader.coursedir import CourseDirectory
from nbgrader.api import MissingEntry
from nbgrader.preprocessors import ClearHiddenTests, Execute, NbGraderPreprocessor, OverwriteCells

from ..probe import PROBE_DIR_ENV, PROBE_SEED_ENV
from .reference import is_test_cell, reference_probes
from .verdicts import Verdict, judge

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
            if source_cell is not None and cell.source == _released_source(source_cell):
                cell.source = source_cell.source
        return super().preprocess_cell(cell, resources, cell_index)


def _released_source(source_cell) -> str:
    """What generate_assignment left of a source cell: the source without its hidden tests."""
    released = NotebookNode(cell_type=source_cell.cell_type, source=source_cell.source, metadata={})
    ClearHiddenTests()._remove_hidden_test_region(released)
    return released.source


class ProbedExecute(Execute):
    """nbgrader's Execute, with a per-notebook grading seed and results directory for the probes."""

    def preprocess(self, nb, resources, km=None):
        probe_dir = tempfile.mkdtemp(prefix="idnn-probe-")
        seed = secrets.randbelow(2**31 - 1)
        resources["idnn"] = {"probe_dir": probe_dir, "seed": seed}
        self._probe_env = {PROBE_DIR_ENV: probe_dir, PROBE_SEED_ENV: str(seed)}
        return super().preprocess(nb, resources, km=km)

    async def async_start_new_kernel(self, **kwargs):
        env = dict(kwargs.pop("env", None) or os.environ)
        env.update(self._probe_env)
        await super().async_start_new_kernel(env=env, **kwargs)

    # nbclient binds the synchronous wrapper to its own coroutine; bind it to ours.
    start_new_kernel = run_sync(async_start_new_kernel)


class ApplyVerdicts(NbGraderPreprocessor):
    """Replace each autograded test cell's outputs with the verdict decided outside the kernel."""

    def preprocess(self, nb, resources):
        run = resources.get("idnn")
        if run is None:
            raise RuntimeError("ApplyVerdicts needs ProbedExecute earlier in Autograde.autograde_preprocessors.")
        try:
            references = reference_probes(self._source_notebook(resources), run["seed"])
            for cell in nb.cells:
                if not is_test_cell(cell):
                    continue
                grade_id = cell.metadata["nbgrader"]["grade_id"]
                probes = references.get(grade_id)
                if not probes:
                    raise RuntimeError(f"Test cell {grade_id!r} of {resources['nbgrader']['notebook']} has no "
                                       f"hidden probe, so nothing outside the kernel could grade it. Add one "
                                       f"to the source notebook.")
                verdict = judge(probes, Path(run["probe_dir"]))
                kernel_errors = rewrite_outputs(cell, verdict)
                cell.metadata["idnn"] = {"hidden_passed": verdict.passed, "kernel_errors": kernel_errors,
                                         "problems": verdict.problems}
        finally:
            shutil.rmtree(run["probe_dir"], ignore_errors=True)
        return nb, resources

    def _source_notebook(self, resources) -> Path:
        coursedir = CourseDirectory(config=self.config)
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


def _error(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])
