"""The last line of defence: no kept output quotes the hidden checks.

The hidden part of a test cell runs in the student's kernel, and code that runs there can read it
(the kernel's input history is spared it, but frames, code objects and the line cache are not).
Whatever the student's code prints, displays or raises ends up in the autograded notebook and in
the feedback generated from it. So the grader, knowing the secret text of an assignment, replaces
every kept output that contains any of it by a short notice.

The secret text, taken from the source notebook's hidden test regions:

- every identifier of hidden code that appears nowhere public: not in the release notebook (any
  cell, markdown included), not in the student side of the helper package (idnn without its
  grader), not a name of NumPy, Python's keywords or builtins; at least MIN_NAME_CHARS long and
  shaped like a name, not a word (an underscore, a digit or a capital after the first letter:
  `_hidden_checks`, `X_case`, `dJ_wrong`; a plain word such as `good` could be printed for any
  reason, and says nothing of the checks); matched as a whole word;
- every hidden line (stripped) of at least MIN_LINE_CHARS characters that the release notebook
  does not contain; matched as a substring, also after undoing the escapes of a repr, of JSON and
  of HTML (printing `In` shows lines as parts of a repr).

An output is replaced whole: a stream's text, an error's name, value and traceback (it stays an
error, so a test cell still scores zero), a display's data in every MIME type and its metadata.
Student code can still encode what it reads (base64, say) so that nothing here recognises it.
"""

import builtins
import functools
import html
import json
import keyword
import re
import tokenize
from io import StringIO
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode

from .reference import DEFAULT_MARKERS, HiddenMarkers, is_test_cell

NOTICE = "[output removed: it quoted the hidden checks]"
#: Shorter names are left alone: a word of three letters is too likely to be printed for other reasons.
MIN_NAME_CHARS = 4
#: Shorter lines are left alone (`return x`, `else:`): they say nothing of the checks.
MIN_LINE_CHARS = 16

_WORD = re.compile(r"\w+")
_NAME_LIKE = re.compile(r"_|\d|.[A-Z]")
_ESCAPES = re.compile(r"\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)", re.DOTALL)
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "'": "'", '"': '"', "\\": "\\", "/": "/"}


class Scrubber:
    """Finds and removes kept outputs that quote the secret text of one notebook's hidden checks."""

    def __init__(self, names=(), lines=()):
        self.names = sorted(set(names))
        self.lines = sorted(set(lines), key=len, reverse=True)
        self._names = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, self.names)) + r")(?!\w)") \
            if self.names else None

    @classmethod
    def for_notebook(cls, source, release=None, public_text: str = "",
                     markers: HiddenMarkers = DEFAULT_MARKERS) -> "Scrubber":
        """The scrubber for a source notebook; `release` is the student copy (derived from `source` if None)."""
        source = _notebook(source)
        release = _notebook(release) if release is not None else _released(source)
        hidden = [markers.hidden_code(cell.source) for cell in source.cells if is_test_cell(cell)]
        public = "\n".join(cell.source for cell in release.cells) + "\n" + public_text
        public_words = set(_WORD.findall(public)) | set(keyword.kwlist) | set(dir(builtins)) | _numpy_names()
        names, lines = set(), set()
        for code in hidden:
            for name in _identifiers(code):
                if len(name) >= MIN_NAME_CHARS and _NAME_LIKE.search(name) and name not in public_words:
                    names.add(name)
            for line in code.splitlines():
                line = line.strip()
                if len(line) >= MIN_LINE_CHARS and line not in public:
                    lines.add(line)
        return cls(names, lines)

    # -- finding ----------------------------------------------------------------------------------
    def quotes_hidden(self, text: str) -> bool:
        """Whether `text` contains a secret name or line (also once escapes are undone)."""
        if not text or not (self.names or self.lines):
            return False
        for form in _forms(text):
            if self._names is not None and self._names.search(form):
                return True
            if any(line in form for line in self.lines):
                return True
        return False

    def _output_quotes(self, output) -> bool:
        kind = output.get("output_type")
        if kind == "stream":
            return self.quotes_hidden(_text(output.get("text", "")))
        if kind == "error":
            return any(self.quotes_hidden(_text(output.get(part, ""))) for part in ("ename", "evalue", "traceback"))
        return any(self.quotes_hidden(_text(output.get(part, {}))) for part in ("data", "metadata"))

    # -- removing ---------------------------------------------------------------------------------
    def scrub_text(self, text: str) -> str:
        return NOTICE if self.quotes_hidden(text) else text

    def scrub_outputs(self, outputs: list) -> int:
        """Replace, in place, every output that quotes the hidden checks; return how many were."""
        removed = 0
        for index, output in enumerate(outputs):
            if not self._output_quotes(output):
                continue
            removed += 1
            kind = output.get("output_type")
            if kind == "stream":
                outputs[index] = NotebookNode(output_type="stream", name=output.get("name", "stdout"),
                                              text=NOTICE + "\n")
            elif kind == "error":
                ename = output.get("ename", "Error")
                ename = "Error" if self.quotes_hidden(_text(ename)) else ename
                outputs[index] = NotebookNode(output_type="error", ename=ename, evalue=NOTICE,
                                              traceback=[f"{ename}: {NOTICE}"])
            else:
                replaced = NotebookNode(output_type=kind, data={"text/plain": NOTICE}, metadata={})
                if kind == "execute_result":
                    replaced.execution_count = output.get("execution_count")
                outputs[index] = replaced
        return removed

    def scrub_cell(self, cell) -> int:
        """Scrub a cell's outputs and the verdict text the grader keeps in its metadata; return outputs removed."""
        removed = self.scrub_outputs(cell.get("outputs", [])) if cell.get("cell_type") == "code" else 0
        kept = cell.get("metadata", {}).get("idnn")
        if isinstance(kept, dict):
            for field in ("problems", "kernel_errors"):
                if isinstance(kept.get(field), list):
                    kept[field] = [self.scrub_text(str(item)) for item in kept[field]]
        return removed


@functools.lru_cache(maxsize=1)
def helper_package_text() -> str:
    """The source of the helper package's student side (idnn without its grader): public text."""
    root = Path(__file__).resolve().parent.parent
    return "\n".join(path.read_text(errors="replace") for path in sorted(root.rglob("*.py"))
                     if "autograde" not in path.relative_to(root).parts)


def _notebook(notebook):
    if isinstance(notebook, (str, Path)):
        return nbformat.read(notebook, as_version=4)
    return notebook


def _released(source):
    """The student copy of a source notebook, as nbgrader makes it: solutions and hidden tests removed."""
    from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions

    release = nbformat.reads(nbformat.writes(source), as_version=4)
    resources = {}
    for preprocessor in (ClearSolutions(), ClearHiddenTests()):
        release, resources = preprocessor.preprocess(release, resources)
    return release


def _numpy_names() -> set[str]:
    import numpy as np

    return {name for module in (np, np.random, np.linalg, np.random.Generator) for name in dir(module)}


def _identifiers(code: str) -> set[str]:
    try:
        return {tok.string for tok in tokenize.generate_tokens(StringIO(code).readline) if tok.type == tokenize.NAME}
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return set(re.findall(r"[A-Za-z_]\w*", code))


def _text(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "".join(value) if len(value) and all("\n" in v for v in value[:-1]) else "\n".join(value)
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


def _forms(text: str):
    """The text as printed, then with the escapes of a repr or JSON undone, then of HTML."""
    yield text
    unescaped = _ESCAPES.sub(_unescape, text) if "\\" in text else text
    if unescaped != text:
        yield unescaped
    if "&" in unescaped:
        yield html.unescape(unescaped)


def _unescape(match) -> str:
    code = match.group(1)
    if code in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[code]
    if code[0] in "ux" and len(code) > 1:
        return chr(int(code[1:], 16))
    return match.group(0)
