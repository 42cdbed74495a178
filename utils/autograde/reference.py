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
from pathlib import Path

import nbformat
from IPython.core.inputtransformer2 import TransformerManager

from .. import probe as probe_module

BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
_DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


class ReferenceProblem(RuntimeError):
    """The source notebook cannot grade: its reference solution or hidden checks fail. The instructor's to fix."""


def is_test_cell(cell) -> bool:
    """An autograded test cell: a code cell with points that is not a solution cell."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.cell_type == "code" and meta.get("grade", False) and not meta.get("solution", False)


def hidden_code(source: str) -> str:
    """The lines between the hidden-test markers ('' when there are none)."""
    lines, inside = [], False
    for line in source.splitlines():
        if line.strip() == BEGIN_HIDDEN:
            inside = True
        elif line.strip() == END_HIDDEN:
            inside = False
        elif inside:
            lines.append(line)
    return "\n".join(lines)


def hidden_segments(source: str) -> list[tuple[bool, str]]:
    """The cell's source in order, as (hidden, text) pieces; markers dropped, empty pieces left out."""
    segments: list[tuple[bool, list[str]]] = [(False, [])]
    for line in source.splitlines():
        if line.strip() in (BEGIN_HIDDEN, END_HIDDEN):
            segments.append((line.strip() == BEGIN_HIDDEN, []))
        else:
            segments[-1][1].append(line)
    return [(hidden, "\n".join(lines)) for hidden, lines in segments if "\n".join(lines).strip()]


def definitions(source: str) -> str:
    """Only the top-level imports and definitions of one cell's code (IPython magics removed)."""
    python = TransformerManager().transform_cell(source)
    tree = ast.parse(python)
    tree.body = [node for node in tree.body if isinstance(node, _DEFINITIONS)]
    return ast.unparse(tree)


def reference_probes(source_notebook: Path, seed: int) -> dict[str, list[probe_module.Probe]]:
    """{grade_id: the probes its hidden code records} for the solution in `source_notebook`."""
    try:
        return _reference_probes(source_notebook, seed)
    except ReferenceProblem:
        raise
    except Exception as error:
        raise ReferenceProblem(f"The reference run of {source_notebook} failed ({type(error).__name__}: {error}). "
                               f"Fix the source notebook.") from error


def _reference_probes(source_notebook: Path, seed: int) -> dict[str, list[probe_module.Probe]]:
    nb = nbformat.read(source_notebook, as_version=4)
    namespace: dict = {"__name__": "__reference__"}
    for cell in nb.cells:
        if cell.cell_type == "code":
            exec(compile(definitions(cell.source), f"{source_notebook.name}:definitions", "exec"), namespace)
    collected: dict[str, list[probe_module.Probe]] = {}
    for cell in nb.cells:
        if not is_test_cell(cell):
            continue
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        code = hidden_code(cell.source)
        probes: list[probe_module.Probe] = []
        with probe_module.reference_session(seed, probes.append):
            exec(compile(code, f"{source_notebook.name}:{grade_id}", "exec"), namespace)
        collected[grade_id] = probes
    return collected
