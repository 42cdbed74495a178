"""Reference results, computed from the instructor's source notebook in a trusted process.

The source notebook is the one source of truth. For a grading seed we:

1. take every top-level import, function and class definition from its code cells,
   in order (training runs, plots and other statements are skipped, so this is fast);
2. run the hidden part of each autograded test cell against those definitions,
   with the probe in reference mode and the same seed the student's kernel got.

The probes collected for each test cell are what the student's results must match.

Whatever goes wrong here is the instructor's to fix, never a student's: it is raised as
ReferenceProblem, which stops grading loudly (the verdicts catch every other error per test cell).
"""

import ast
import functools
import types
from dataclasses import dataclass
from pathlib import Path

import nbformat
from IPython.core.inputtransformer2 import TransformerManager
from nbgrader.preprocessors import ClearHiddenTests

from .. import probe as probe_module

_DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass(frozen=True)
class HiddenMarkers:
    """The lines that open and close a test cell's hidden region, as nbgrader's ClearHiddenTests reads them.

    A line holding the begin delimiter opens a region and one holding the end delimiter closes it; both
    lines belong to no region (nbgrader's own rule, so that what the release hides is exactly what grading
    treats as hidden). The delimiters come from nbgrader's configuration (c.ClearHiddenTests.*).
    """

    begin: str = ClearHiddenTests.begin_test_delimeter.default_value
    end: str = ClearHiddenTests.end_test_delimeter.default_value

    @classmethod
    def of(cls, config) -> "HiddenMarkers":
        settings = ClearHiddenTests(config=config)
        return cls(settings.begin_test_delimeter, settings.end_test_delimeter)

    def segments(self, source: str) -> list[tuple[bool, str]]:
        """The cell's source in order, as (hidden, text) pieces; marker lines dropped, empty pieces left out."""
        pieces: list[tuple[bool, list[str]]] = [(False, [])]
        for line in source.split("\n"):
            if self.begin in line:
                pieces.append((True, []))
            elif self.end in line:
                pieces.append((False, []))
            else:
                pieces[-1][1].append(line)
        return [(hidden, "\n".join(lines)) for hidden, lines in pieces if "\n".join(lines).strip()]

    def hidden_code(self, source: str) -> str:
        """The lines inside the hidden regions ('' when there are none)."""
        return "\n".join(text for hidden, text in self.segments(source) if hidden)


#: nbgrader's default delimiters (what the course's nbgrader_config.py keeps).
DEFAULT_MARKERS = HiddenMarkers()


class ReferenceProblem(RuntimeError):
    """The source notebook cannot grade: its reference solution or hidden checks fail. The instructor's to fix."""


def is_test_cell(cell) -> bool:
    """An autograded test cell: a code cell with points that is not a solution cell."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.cell_type == "code" and meta.get("grade", False) and not meta.get("solution", False)


def hidden_code(source: str, markers: HiddenMarkers = DEFAULT_MARKERS) -> str:
    """The lines between the hidden-test markers ('' when there are none)."""
    return markers.hidden_code(source)


def definitions(source: str) -> str:
    """Only the top-level imports and definitions of one cell's code (IPython magics removed)."""
    python = TransformerManager().transform_cell(source)
    tree = ast.parse(python)
    tree.body = [node for node in tree.body if isinstance(node, _DEFINITIONS)]
    return ast.unparse(tree)


def reference_probes(source_notebook: Path, seed: int,
                     markers: HiddenMarkers = DEFAULT_MARKERS) -> dict[str, list[probe_module.Probe]]:
    """{grade_id: the probes its hidden code records} for the solution in `source_notebook`."""
    try:
        return _reference_probes(source_notebook, seed, markers)
    except ReferenceProblem:
        raise
    except Exception as error:
        raise ReferenceProblem(f"The reference run of {source_notebook} failed ({type(error).__name__}: {error}). "
                               f"Fix the source notebook.") from error


def _reference_probes(source_notebook: Path, seed: int, markers: HiddenMarkers) -> dict[str, list[probe_module.Probe]]:
    status = source_notebook.stat()
    definition_code, hidden = _compiled(source_notebook, status.st_mtime_ns, status.st_size, markers)
    namespace: dict = {"__name__": "__reference__"}
    for code in definition_code:
        exec(code, namespace)
    collected: dict[str, list[probe_module.Probe]] = {}
    for grade_id, code in hidden:
        probes: list[probe_module.Probe] = []
        with probe_module.reference_session(seed, probes.append):
            exec(code, namespace)
        collected[grade_id] = probes
    return collected


@functools.lru_cache(maxsize=32)
def _compiled(source_notebook: Path, modified_ns: int, size: int, markers: HiddenMarkers
              ) -> tuple[list[types.CodeType], list[tuple[str, types.CodeType]]]:
    """The source notebook's definitions, cell by cell, and each test cell's hidden code, compiled: read once per
    process for each version of the file (its modification time and size are part of the key), since a worker
    computes the reference for every submission it grades. Each run still executes them in a fresh namespace."""
    nb = nbformat.read(source_notebook, as_version=4)
    definition_code = [compile(definitions(cell.source), f"{source_notebook.name}:definitions", "exec")
                       for cell in nb.cells if cell.cell_type == "code"]
    hidden = []
    for cell in filter(is_test_cell, nb.cells):
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        hidden.append((grade_id, compile(markers.hidden_code(cell.source), f"{source_notebook.name}:{grade_id}", "exec")))
    return definition_code, hidden
