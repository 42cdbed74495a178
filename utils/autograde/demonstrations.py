"""Demonstration cells: the training runs, plots and summaries that grading does not run.

A source notebook marks a code cell that only demonstrates with the tag "demonstration" in its cell
metadata (`"tags": ["demonstration"]`). Grading skips such a cell, which is most of a notebook's running
time, when it is safe to:

- which cells are demonstrations comes from the trusted source notebook, never from the submission: a
  submitted cell is skipped only when its source is exactly that of a marked cell of the source (nbgrader
  restores locked cells from the source, so an instructor's demonstration arrives unchanged);
- a demonstration still runs when a cell that does run reads a name it defines (the closure below), so a
  student whose own code reads, say, `train_X` gets the cell that loads it; and nothing is skipped when a
  student's cell reaches names in ways no reading of the code can follow (`globals()`, `eval`, magics).

Which names a cell defines and reads comes from Python's own symbol tables (`symtable`): a name read inside
a function counts only when it is global there, so a hidden check's local `X` does not pull in the cell that
defines the notebook's `X`.

    to_skip(cells, marked_sources)   which cells of a notebook to skip (indices)
    dependency_problems(source_nb)   why a marked cell of a source notebook could not be skipped (a test
                                     reads every source notebook with it: must be empty)
"""

import ast
import symtable
from dataclasses import dataclass
from functools import lru_cache

from IPython.core.inputtransformer2 import TransformerManager

TAG = "demonstration"
#: Shown in place of a skipped cell's outputs, in the autograded notebook and the feedback page.
NOT_RUN = ("[Not run while grading: this cell only demonstrates (training, plots, a summary); it is worth no "
           "points and no graded cell needs it. Run it yourself in JupyterLab to see its results.]\n")
#: Names through which code reaches variables without naming them: a student cell that uses one is not analysed.
DYNAMIC = frozenset({"globals", "locals", "vars", "eval", "exec", "get_ipython", "__import__", "__builtins__",
                     "__main__", "In", "Out", "_ih", "_oh", "_dh", "_", "__", "___", "importlib", "sys"})


def is_marked(cell) -> bool:
    """A code cell that the source notebook marks as a demonstration."""
    return cell.get("cell_type") == "code" and TAG in (cell.get("metadata", {}).get("tags") or [])


def marked_sources(source_nb) -> dict[str, str]:
    """{source: cell name} of the demonstration cells of a (trusted) source notebook."""
    return {cell.source: _name(cell, index) for index, cell in enumerate(source_nb.cells) if is_marked(cell)}


@dataclass(frozen=True)
class Names:
    """The global names one cell binds and reads; `dynamic` when it reaches names no analysis can follow."""

    defines: frozenset[str]
    reads: frozenset[str]
    dynamic: bool = False


@lru_cache(maxsize=4096)  # a worker sees the same released cells in every submission
def names_of(source: str) -> Names:
    """What a cell (IPython syntax: magics allowed) binds and reads at the notebook's top level.

    Bound: every name the cell's top level assigns, imports or defines (Python's symbol table). Read: a name
    the cell's top level reads before binding it (in statement order; a binding inside an `if`, a loop or a
    `try` does not count for what follows it), and every global name a function, class, lambda or
    comprehension of the cell reads. A cell that does not parse binds and reads nothing: it stops with a
    SyntaxError when run.
    """
    try:
        python = TransformerManager().transform_cell(source)
        tree = ast.parse(python)
        table = symtable.symtable(python, "<cell>", "exec")
    except (SyntaxError, ValueError, TypeError):
        return Names(frozenset(), frozenset())
    defines = {symbol.get_name() for symbol in table.get_symbols()
               if symbol.is_assigned() or symbol.is_imported() or symbol.is_namespace()}
    reads: set[str] = set()
    _scan(tree.body, set(), reads)
    stack = list(table.get_children())
    while stack:  # functions, classes, lambdas and comprehensions: only their global names count
        scope = stack.pop()
        stack.extend(scope.get_children())
        for symbol in scope.get_symbols():
            if symbol.is_global() and symbol.is_referenced():
                reads.add(symbol.get_name())
            if symbol.is_declared_global() and symbol.is_assigned():
                defines.add(symbol.get_name())
    dynamic = bool((defines | reads) & DYNAMIC) or any(name.startswith("_i") or name[1:].isdigit()
                                                       for name in reads if name.startswith("_"))
    return Names(frozenset(defines), frozenset(reads), dynamic)


_SCOPES = (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _loads(node) -> set[str]:
    """Names an expression (or a statement's own expressions) reads in the enclosing scope."""
    found, stack = set(), [node]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            found.add(node.id)
        elif isinstance(node, _SCOPES):
            if not isinstance(node, ast.Lambda):  # the first iterable is evaluated outside the comprehension
                stack.append(node.generators[0].iter)
            else:
                stack.extend(node.args.defaults + [d for d in node.args.kw_defaults if d is not None])
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            stack.extend(node.decorator_list)
            if isinstance(node, ast.ClassDef):
                stack.extend(node.bases + [keyword.value for keyword in node.keywords])
            else:
                stack.extend(node.args.defaults + [d for d in node.args.kw_defaults if d is not None])
        else:
            stack.extend(ast.iter_child_nodes(node))
    return found


def _binds(node) -> set[str]:
    """Names a statement binds at its own level (targets, imports, definitions)."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    targets = {ast.Assign: lambda n: n.targets, ast.AnnAssign: lambda n: [n.target],
               ast.AugAssign: lambda n: [n.target]}.get(type(node), lambda n: [])(node)
    return {name.id for target in targets for name in ast.walk(target)
            if isinstance(name, ast.Name) and isinstance(name.ctx, ast.Store)}


def _scan(statements, bound: set[str], reads: set[str]) -> None:
    """Add to `reads` the names `statements` read before binding them; `bound` grows with what they bind."""
    for statement in statements:
        if isinstance(statement, (ast.For, ast.AsyncFor)):
            reads |= _loads(statement.iter) - bound
            inside = bound | {n.id for n in ast.walk(statement.target) if isinstance(n, ast.Name)}
            _scan(statement.body, set(inside), reads)
            _scan(statement.orelse, set(bound), reads)
        elif isinstance(statement, (ast.With, ast.AsyncWith)):
            reads |= set().union(*(_loads(item.context_expr) for item in statement.items)) - bound
            inside = bound | {n.id for item in statement.items if item.optional_vars is not None
                              for n in ast.walk(item.optional_vars) if isinstance(n, ast.Name)}
            _scan(statement.body, set(inside), reads)
        elif isinstance(statement, (ast.If, ast.While)):
            reads |= _loads(statement.test) - bound
            _scan(statement.body, set(bound), reads)
            _scan(statement.orelse, set(bound), reads)
        elif isinstance(statement, ast.Try):
            for body in (statement.body, statement.orelse, statement.finalbody):
                _scan(body, set(bound), reads)
            for handler in statement.handlers:
                reads |= (_loads(handler.type) if handler.type is not None else set()) - bound
                _scan(handler.body, bound | ({handler.name} if handler.name else set()), reads)
        else:
            loaded = _loads(statement)
            if isinstance(statement, ast.AugAssign) and isinstance(statement.target, ast.Name):
                loaded.add(statement.target.id)  # x += 1 reads x
            reads |= loaded - bound
            bound |= _binds(statement)


def to_skip(sources: list[str | None], marked: dict[str, str], trusted: frozenset[str] = frozenset()) -> set[int]:
    """Indices of the cells to skip, given each cell's source (None for a cell that is not code).

    marked:  the demonstration sources of the source notebook (marked_sources).
    trusted: sources of the source notebook's other cells; a student's cell (any other source) that reaches
             names dynamically turns skipping off for the notebook.

    A marked cell is skipped unless a cell that runs reads a name it defines; a cell it must then run for
    adds what it reads in turn, until nothing changes.
    """
    candidates = {index for index, source in enumerate(sources) if source is not None and source in marked}
    names = {index: names_of(source) for index, source in enumerate(sources) if source is not None}
    if any(names[index].dynamic for index in names if index not in candidates and sources[index] not in trusted):
        return set()
    reads = set().union(*(names[index].reads for index in names if index not in candidates))
    changed = True
    while changed:
        changed = False
        for index in sorted(candidates):
            if names[index].defines & reads:
                candidates.discard(index)
                reads |= names[index].reads
                changed = True
    return candidates


def dependency_problems(source_nb) -> list[str]:
    """Why marked demonstration cells of a source notebook would not be skipped when grading it.

    Empty for a well-marked notebook: no cell that runs while grading (imports, solutions, test cells with
    their hidden checks, unmarked cells) reads a name that only a demonstration defines.
    """
    cells = source_nb.cells
    sources = [cell.source if cell.cell_type == "code" else None for cell in cells]
    marked = marked_sources(source_nb)
    skipped = to_skip(sources, marked, trusted=frozenset(s for s in sources if s is not None))
    problems = []
    for index, cell in enumerate(cells):
        if index in skipped or not is_marked(cell):
            continue
        defined = names_of(cell.source).defines
        readers = [f"{_name(other, j)} reads {', '.join(sorted(names_of(other.source).reads & defined))}"
                   for j, other in enumerate(cells)
                   if other.cell_type == "code" and j not in skipped and j != index
                   and names_of(other.source).reads & defined]
        problems.append(f"demonstration cell {_name(cell, index)} would run while grading: "
                        f"{'; '.join(readers) or 'a demonstration that must run reads what it defines'}")
    return problems


def _name(cell, index: int) -> str:
    grade_id = (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id")
    return f"{grade_id!r} (cell {index})" if grade_id else f"cell {index}"
