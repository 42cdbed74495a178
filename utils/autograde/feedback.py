"""The students' feedback pages (feedback/<student>/<assignment>/<notebook>.html): the one place they are written.

    graded_page(config, db_url, assignment, student)   a graded submission's page: nbgrader's GenerateFeedback
                                                       (nbgrader_config.py: hidden checks removed, outputs
                                                       sanitised), written by the worker that graded it
    failure_page(course, assignment, student, reason, notebooks, possible)
                                                       the page of a submission that could not be graded: why,
                                                       and that it scored zero, written when its zero is recorded
"""

import datetime as dt
import html
import re
from html.parser import HTMLParser
from pathlib import Path

import jinja2
from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

from .staging import read_small_text

#: How nbgrader's exchange writes a submission's time (in UTC), and the most of a submission_secret.txt that is read
#: (nbgrader's are 128 characters).
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f UTC"
SECRET_CHARS = 1024


class _CompiledTemplates(jinja2.BytecodeCache):
    """nbconvert's templates, compiled once per process and kept in memory (jinja checks each against its source):
    compiling them was a third of every feedback page's time, and a worker writes one page per submission."""

    def __init__(self):
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self._code:
            bucket.bytecode_from_string(self._code[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_COMPILED = _CompiledTemplates()


class FeedbackExporter(HTMLExporter):
    """nbconvert's HTMLExporter (configured as c.HTMLExporter) whose compiled templates outlive it, and whose
    accessibility pass edits only the tags it changes."""

    def _create_environment(self):
        environment = super()._create_environment()
        environment.bytecode_cache = _COMPILED
        return environment

    def from_notebook_node(self, nb, resources=None, **kw):
        """HTMLExporter.from_notebook_node (nbconvert 7), except for its last step: nbconvert parses the whole page
        with BeautifulSoup and writes it out again to give images alternative text and make cells focusable, which
        took 0.36 s of a 0.9 s page. `accessible` makes the same changes in one tokenising pass (0.04 s)."""
        language = nb.metadata.get("language_info", {})
        lexer = language.get("pygments_lexer", language.get("name", None))
        resources = self._init_resources(resources)
        self.register_filter("highlight_code",
                             self.filters.get("highlight_code", _RememberedHighlight(pygments_lexer=lexer, parent=self)))
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata,
                                                                       parent=self, resources=resources))
        page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        page, missing_alt = accessible(page)
        if missing_alt:
            self.log.warning("Alternative text is missing on %s image(s).", missing_alt)
        return page, resources


class _RememberedHighlight(Highlight2HTML):
    """nbconvert's syntax highlighting of code cells, remembered for short cells: most of a submission's cells are
    the released ones (instructions, imports, test cells), and highlighting was 0.14 s of every page."""

    def __call__(self, source, language=None, metadata=None):
        magics = (metadata or {}).get("magics_language")
        if len(source) > 4096 or not isinstance(magics, (str, type(None))):
            return super().__call__(source, language, metadata)
        key = (source, language or self.pygments_lexer, magics, repr(sorted(self.extra_formatter_options.items())))
        if key not in _HIGHLIGHTED:
            if len(_HIGHLIGHTED) >= 512:
                _HIGHLIGHTED.clear()
            _HIGHLIGHTED[key] = super().__call__(source, language, metadata)
        return _HIGHLIGHTED[key]


_HIGHLIGHTED: dict[tuple, str] = {}

NO_DESCRIPTION = "No description has been provided for this image"
FOCUSABLE = ("jp-Cell-inputWrapper", "jp-OutputArea-output")  # the div classes of a cell's input and its outputs


class _StartTags(HTMLParser):
    """Finds, with the HTML tokeniser BeautifulSoup's html.parser uses, the start tags to change: <img> without an
    alt attribute, and the <div>s of a cell's input and outputs. `edits` holds (offset, tag text, new tag text)."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=False)
        self.line_starts = [0] + [newline.end() for newline in re.finditer("\n", page)]
        self.edits: list[tuple[int, str, str]] = []
        self.missing_alt = 0

    def handle_starttag(self, tag, attrs):
        names = {name for name, _ in attrs}
        if tag == "img" and "alt" not in names:
            self.missing_alt += 1
            self._add(f' alt="{NO_DESCRIPTION}"')
        elif tag == "div" and "tabindex" not in names:
            classes = " ".join(value or "" for name, value in attrs if name == "class").split()
            if any(name in classes for name in FOCUSABLE):
                self._add(' tabindex="0"')

    handle_startendtag = handle_starttag

    def _add(self, attribute: str) -> None:
        line, column = self.getpos()
        text = self.get_starttag_text()
        end = len(text) - (2 if text.endswith("/>") else 1)
        self.edits.append((self.line_starts[line - 1] + column, text, text[:end] + attribute + text[end:]))


def accessible(page: str) -> tuple[str, int]:
    """`page` with alternative text on every <img> that has none and tabindex="0" on the <div>s of each cell's input
    and outputs (what nbconvert's HTMLExporter adds), and the number of images that had no alternative text.
    Everything else is kept character for character."""
    tags = _StartTags(page)
    tags.feed(page)
    tags.close()
    pieces, done = [], 0
    for offset, text, new_text in tags.edits:
        assert page.startswith(text, offset), "the tokeniser's position does not match the page"
        pieces += [page[done:offset], new_text]
        done = offset + len(text)
    pieces.append(page[done:])
    return "".join(pieces), tags.missing_alt


def graded_page(config, db_url: str, assignment: str, student: str) -> str | None:
    """Write the feedback page of one autograded submission, from its autograded notebook and the gradebook at
    `db_url`; returns why it could not be written, or None."""
    from nbgrader.converters import GenerateFeedback

    from .worker import convert

    return convert(GenerateFeedback, config, db_url, assignment, student, exporter_class=FeedbackExporter)


def failure_page(course: Path, assignment: str, student: str, reason: str, notebooks: list[str],
                 possible: float, timestamp: str | None = None) -> None:
    """Write, for each notebook of the assignment, a page saying why the submission could not be graded.

    Beside the pages, as nbgrader's own feedback has them, go the submission's timestamp (`timestamp`, ISO format,
    as recorded) and its submission_secret.txt (written by the student's `nbgrader submit`): `nbgrader
    release_feedback` reads both for every page it releases, and stops at the first page without them.
    """
    folder = course / "feedback" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    when = dt.datetime.fromisoformat(timestamp).strftime(TIMESTAMP_FORMAT) if timestamp else ""
    (folder / "timestamp.txt").write_text(when)
    submission = course / "submitted" / student / assignment
    secret = None if submission.is_symlink() else read_small_text(submission / "submission_secret.txt", SECRET_CHARS)
    if secret:
        (folder / "submission_secret.txt").write_text(secret)
    for notebook in notebooks:
        (folder / f"{notebook}.html").write_text(
            f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(notebook)}</title></head>"
            f"<body><h1>{html.escape(assignment)}: your submission could not be graded</h1>"
            f"<p>{html.escape(reason)}.</p><p>Score: 0 of {possible:g}. Fix the problem "
            f"and submit again, or ask your instructor.</p></body></html>\n")
