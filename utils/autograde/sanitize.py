"""Keep a submission's HTML and JavaScript from running in the pages that instructors and students open.

The autograded notebook is rendered as HTML twice: by `nbgrader generate_feedback` (the student's feedback page)
and by the formgrader, which serves it from the instructor's own Jupyter origin (where a script could call the
server's API with the instructor's rights). The "Open live notebook" link opens the same file in JupyterLab.
nbconvert's templates put a notebook's HTML outputs and the HTML in its markdown cells into those pages as they
are, and `application/javascript` outputs as <script> elements. So `SanitizeNotebook`, last in the autograde
pipeline (after the grades are saved) and again before feedback is rendered, rewrites the notebook itself:

    outputs         only text/plain, text/html (cleaned), text/markdown (rendered, cleaned, kept as text/html),
                    text/latex (links defused), PNG, JPEG and GIF images, and SVG that holds nothing active;
                    every other type (application/javascript, widget views, mermaid, unknown ones) is dropped
    markdown cells  kept as they are when their rendering (nbconvert's own renderer) holds nothing but allowed
                    tags, attributes and URLs; otherwise shown as text, in a <pre>, under a note that says why
    raw HTML cells  cleaned like HTML outputs
    attachments     only PNG, JPEG, GIF and WebP images
    metadata        the notebook's widget state is dropped (nbconvert's templates would load a widget renderer)
    files           (DisarmFiles) the submission's HTML, SVG, XML and script files in autograded/ are renamed
                    <name>.txt, since the formgrader serves each file of a submission from the instructor's origin

"Cleaned" HTML is parsed and written again by ammonia (the `nh3` package, an HTML5 parser like a browser's):
what is not on the allowlists below is removed, with the content of <script> and <style>. Links may only go
to http(s), mailto or a #fragment (a relative link would open a file of the submission from the instructor's
server), images may come only from http(s) or a data: URL of a PNG, JPEG, GIF or WebP image. MathJax
typesets the text of these pages: a `\\href`, `\\url` or `\\require` whose argument is not such a link becomes
`\\text`, which shows its argument instead.
"""

import functools
import html
import os
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import nh3
from nbconvert.exporters import HTMLExporter
from nbformat.notebooknode import NotebookNode
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor

# -- The allowlists, shared by the HTML cleaner and by the markdown check.

TAGS = {
    "a", "abbr", "b", "bdi", "bdo", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd", "del",
    "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strike",
    "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "tt", "u", "ul",
    "var", "wbr",
}
GLOBAL_ATTRIBUTES = {"class", "title", "align", "dir", "lang", "style"}
ATTRIBUTES = {
    "*": GLOBAL_ATTRIBUTES,
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "ol": {"start"},
    "td": {"colspan", "rowspan", "headers"},
    "th": {"colspan", "rowspan", "headers", "scope"},
    "col": {"span"},
    "colgroup": {"span"},
    "table": {"border"},
    "details": {"open"},
}
#: Inline styles may only set these properties (no positioning: a student's output must not cover the page).
STYLE_PROPERTIES = {
    "background-color", "border", "border-bottom", "border-collapse", "border-left", "border-right",
    "border-top", "color", "font-family", "font-size", "font-style", "font-weight", "padding", "text-align",
    "text-decoration", "vertical-align", "white-space",
}
#: What nbconvert's markdown renderer writes besides: heading anchors and task-list checkboxes.
MARKDOWN_ONLY_ATTRIBUTES = {**{f"h{level}": {"id"} for level in range(1, 7)},
                            "input": {"type", "disabled", "checked"}}
IMAGE_DATA = re.compile(r"data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*\Z")
IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}
LINK_SCHEMES = {"http", "https", "mailto"}
IMAGE_SCHEMES = {"http", "https"}
#: What a browser ignores in a URL: ASCII tabs and newlines anywhere, C0 controls and spaces at either end.
_URL_IGNORED = re.compile(r"[\t\n\r]")
_URL_TRIMMED = "".join(chr(code) for code in range(0x21))


def url_allowed(tag: str, attribute: str, value: str) -> bool:
    """Whether `value` may stay as the URL in tag.attribute: a link, an image, or (for links) a #fragment."""
    url = _URL_IGNORED.sub("", value).strip(_URL_TRIMMED)
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", url)
    if tag == "img" and attribute == "src":
        return bool(IMAGE_DATA.match(url)) or bool(scheme and scheme.group(1).lower() in IMAGE_SCHEMES)
    if tag == "a" and attribute == "href":
        return url.startswith("#") or bool(scheme and scheme.group(1).lower() in LINK_SCHEMES)
    return False


URL_ATTRIBUTES = {("a", "href"), ("img", "src")}


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    """nh3's attribute filter: drop URLs that url_allowed refuses."""
    if (tag, attribute) in URL_ATTRIBUTES and not url_allowed(tag, attribute, value):
        return None
    return value


# -- HTML: cleaned by ammonia, then MathJax's links defused.

def clean_html(markup: str) -> str:
    """`markup` with every tag, attribute, URL and style property that is not allowed removed."""
    cleaned = nh3.clean(markup, tags=TAGS, clean_content_tags={"script", "style"}, attributes=ATTRIBUTES,
                        attribute_filter=_filter_attribute, url_schemes=LINK_SCHEMES | {"data"}, link_rel=None,
                        filter_style_properties=STYLE_PROPERTIES, strip_comments=True)
    return defuse_tex_links(cleaned)


#: MathJax commands that make a link or load code: \href{url}{text}, \url{url}, \require{extension}.
_TEX_LINK = re.compile(r"\\(href|url|require)(?![A-Za-z])")


def _braced_argument(text: str, start: int) -> str | None:
    """The content of the {...} group at text[start:] (spaces before it skipped), or None if there is none."""
    position = start
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    if position >= len(text) or text[position] != "{":
        return None
    depth = 0
    for end in range(position, len(text)):
        depth += {"{": 1, "}": -1}.get(text[end], 0)
        if depth == 0:
            return text[position + 1:end]
    return None


def _tex_link_allowed(text: str, match: re.Match) -> bool:
    if match.group(1) == "require":
        return False
    argument = _braced_argument(text, match.end())
    return argument is not None and url_allowed("a", "href", html.unescape(argument))


def defuse_tex_links(text: str) -> str:
    """`text` with each MathJax \\href, \\url or \\require whose argument is not an allowed link made \\text."""
    return _TEX_LINK.sub(lambda match: match.group(0) if _tex_link_allowed(text, match) else r"\text", text)


def tex_links_safe(text: str) -> bool:
    """Whether `text` (as the browser's DOM will hold it) has no MathJax link that defuse_tex_links would defuse."""
    text = html.unescape(text)
    return all(_tex_link_allowed(text, match) for match in _TEX_LINK.finditer(text))


# -- Markdown: kept as written when what it renders to is plainly safe.

_SPACE = "[ \t\n\r\f]"
_START_TAG = re.compile(rf'<([A-Za-z][A-Za-z0-9]*)((?:{_SPACE}+[A-Za-z][A-Za-z0-9-]*(?:="[^"<>`]*")?)*){_SPACE}*/?>')
_END_TAG = re.compile(rf"</([A-Za-z][A-Za-z0-9]*){_SPACE}*>")
_ATTRIBUTE = re.compile(rf'{_SPACE}+([A-Za-z][A-Za-z0-9-]*)(?:="([^"<>`]*)")?')
_STYLE = re.compile(r"\s*([a-z-]+)\s*:\s*[A-Za-z0-9#.,%\s-]*\Z")


def markup_is_plain(markup: str) -> bool:
    """Whether every tag in `markup` is a simple, allowed one, so that any browser reads it the same way.

    Stricter than clean_html, and a check rather than a rewrite: each `<` must open a start or end tag with
    double-quoted attribute values; tags, attributes, URLs and styles must be allowed; no NUL, no comment.
    """
    if "\x00" in markup or not tex_links_safe(markup):
        return False
    position = markup.find("<")
    while position != -1:
        start, end = _START_TAG.match(markup, position), _END_TAG.match(markup, position)
        tag_match = start or end
        if tag_match is None or tag_match.group(1).lower() not in TAGS | set(MARKDOWN_ONLY_ATTRIBUTES):
            return False
        if start and not _attributes_plain(start.group(1).lower(), start.group(2)):
            return False
        position = markup.find("<", tag_match.end())
    return True


def _attributes_plain(tag: str, attributes: str) -> bool:
    allowed = GLOBAL_ATTRIBUTES | ATTRIBUTES.get(tag, set()) | MARKDOWN_ONLY_ATTRIBUTES.get(tag, set())
    for name, value in _ATTRIBUTE.findall(attributes):
        name, value = name.lower(), html.unescape(value)
        if name not in allowed:
            return False
        if (tag, name) in URL_ATTRIBUTES and not url_allowed(tag, name, value):
            return False
        if name == "style" and not all(_style_plain(part) for part in value.split(";") if part.strip()):
            return False
        if name == "class" and "mermaid" in value:  # a diagram that JupyterLab would draw with mermaid's code
            return False
        if tag == "input" and name == "type" and value != "checkbox":
            return False
    return True


def _style_plain(declaration: str) -> bool:
    match = _STYLE.match(declaration)
    return bool(match) and match.group(1) in STYLE_PROPERTIES


@functools.lru_cache(maxsize=1)
def _markdown_exporter() -> HTMLExporter:
    return HTMLExporter()


def render_markdown(source: str, attachments: dict | None = None) -> str:
    """HTML of a markdown cell exactly as nbconvert's HTML templates render it (feedback and formgrader)."""
    context = {"cell": {"attachments": attachments or {}}, "resources": {}}
    return _markdown_exporter().markdown2html(context, source)


def markdown_is_plain(source: str, attachments: dict | None = None) -> bool:
    """Whether a markdown cell renders without error to markup that markup_is_plain accepts."""
    if not attachments and len(source) <= _REMEMBERED_MARKDOWN_CHARS:
        return _short_markdown_is_plain(source)  # the released cells come back in every submission
    return _markdown_is_plain(source, attachments)


#: Markdown cells up to this size have their verdict remembered (1,024 of them at most: a few MB).
_REMEMBERED_MARKDOWN_CHARS = 4096


@functools.lru_cache(maxsize=1024)
def _short_markdown_is_plain(source: str) -> bool:
    return _markdown_is_plain(source, None)


def _markdown_is_plain(source: str, attachments: dict | None) -> bool:
    try:
        return markup_is_plain(render_markdown(source, attachments))
    except Exception:  # a missing attachment, say: nbconvert would fail on it too
        return False


SHOWN_AS_TEXT = ("*This cell held HTML that could run code in the browser (or that could not be rendered), "
                 "so it is shown as text:*\n\n")


def markdown_as_text(source: str) -> str:
    """Markdown that shows `source` as text in a <pre> block (which neither markdown nor MathJax reads)."""
    return f"{SHOWN_AS_TEXT}<pre>\n{html.escape(defuse_tex_links(source))}\n</pre>\n"


# -- SVG: kept only when it holds nothing active (nbconvert shows it as an <img>; other renderers may inline it).

SVG_NAMESPACE = "http://www.w3.org/2000/svg"
SVG_ELEMENTS = {
    "svg", "g", "defs", "title", "desc", "metadata", "path", "rect", "circle", "ellipse", "line", "polyline",
    "polygon", "text", "tspan", "use", "symbol", "marker", "clipPath", "mask", "pattern", "linearGradient",
    "radialGradient", "stop", "image", "style",
}
#: Inert metadata that matplotlib writes in its SVG files (RDF, Dublin Core, Creative Commons).
METADATA_NAMESPACES = {"http://www.w3.org/1999/02/22-rdf-syntax-ns#", "http://purl.org/dc/elements/1.1/",
                       "http://creativecommons.org/ns#"}
_CSS_UNSAFE = re.compile(r"url\s*\((?!\s*['\"]?#)|@import|expression|javascript|\\", re.IGNORECASE)


def svg_is_inert(svg: str) -> bool:
    """Whether an SVG document has only drawing elements, no event handler, no external link, no active CSS."""
    if re.search(r"<!ENTITY|<!DOCTYPE[^>]*\[", svg, re.IGNORECASE):
        return False  # no entity declarations for the XML parser to expand (a plot's DOCTYPE declares none)
    try:
        root = ElementTree.fromstring(svg)
    except ElementTree.ParseError:
        return False
    return all(_svg_element_inert(element) for element in root.iter())


def _svg_element_inert(element) -> bool:
    namespace, _, name = element.tag.rpartition("}")
    namespace = namespace.lstrip("{")
    if namespace not in METADATA_NAMESPACES and (namespace != SVG_NAMESPACE or name not in SVG_ELEMENTS):
        return False
    if name == "style" and _CSS_UNSAFE.search(element.text or ""):
        return False
    for attribute, value in element.attrib.items():
        local = attribute.rpartition("}")[2].lower()
        if local.startswith("on") or _CSS_UNSAFE.search(value):
            return False
        if local == "href" and not (value.startswith("#") or IMAGE_DATA.match(value)):
            return False
    return True


# -- Outputs, cells and the notebook.

KEPT_AS_IS = {"text/plain", "image/png", "image/jpeg", "image/gif"}
KEPT_OUTPUT_TYPES = {"stream", "error", "display_data", "execute_result"}


def sanitize_data(data: dict) -> tuple[dict, list[str]]:
    """A mime bundle with only the types allowed, cleaned; and the types that were dropped."""
    kept, removed = {}, []
    for mime, value in data.items():
        if mime in KEPT_AS_IS:
            kept[mime] = value
        elif mime == "text/html" and isinstance(value, str):
            kept[mime] = clean_html(value)
        elif mime == "text/markdown" and isinstance(value, str) and "text/html" not in data:
            kept["text/html"] = _rendered_markdown_output(value)
        elif mime == "text/latex" and isinstance(value, str):
            kept[mime] = defuse_tex_links(value)
        elif mime == "image/svg+xml" and isinstance(value, str) and svg_is_inert(value):
            kept[mime] = value
        if mime not in kept:
            removed.append(mime)
    if "text/html" in kept and not kept["text/html"].strip():
        del kept["text/html"]  # nothing left of it: let the text/plain form show
    return kept, removed


def _rendered_markdown_output(source: str) -> str:
    try:
        return clean_html(render_markdown(source))
    except Exception:  # nbconvert could not render it: show it as text
        return f"<pre>{html.escape(source)}</pre>"


def sanitize_output(output: NotebookNode) -> tuple[NotebookNode | None, list[str]]:
    """The output cleaned (None to drop it) and what was removed from it."""
    kind = output.get("output_type")
    if kind not in KEPT_OUTPUT_TYPES:
        return None, [f"an output of type {kind!r}"]
    if kind not in ("display_data", "execute_result"):
        return output, []
    data, removed = sanitize_data(dict(output.get("data") or {}))
    if not data:
        data = {"text/plain": f"[output removed ({', '.join(removed)}): only text, images and HTML without "
                              f"script are shown]"}
    metadata = output.get("metadata") or {}
    output.data = NotebookNode(data)
    output.metadata = NotebookNode({mime: _inert_metadata(value) for mime, value in metadata.items()
                                    if mime in data and isinstance(value, dict)})
    return output, removed


def _inert_metadata(value: dict) -> dict:
    """An output's metadata for one MIME type, as the templates may read it: sizes that are plain numbers.

    nbconvert writes an image's width and height into its <img> tag without quotes, so a width of
    "1 onerror=..." would add an event handler; everything else in the metadata is dropped.
    """
    return {key: number for key in ("width", "height")
            if (number := _plain_number(value.get(key))) is not None}


def _plain_number(value) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and 0 < value < 100_000:
        return value
    if isinstance(value, str) and value.isdigit() and 0 < int(value) < 100_000:
        return int(value)
    return None


def sanitize_attachments(attachments: dict) -> dict:
    """Attachments reduced to their PNG, JPEG, GIF and WebP images (a markdown cell may show them)."""
    kept = {}
    for name, bundle in (attachments or {}).items():
        images = {mime: value for mime, value in (bundle or {}).items() if mime in IMAGE_TYPES}
        if images:
            kept[name] = images
    return kept


def sanitize_markdown_cell(cell: NotebookNode) -> bool:
    """Keep a markdown cell as written if its rendering is plain, else show it as text; True if it changed."""
    changed = False
    if "attachments" in cell:
        attachments = sanitize_attachments(cell.attachments)
        changed = attachments != cell.attachments
        cell.attachments = NotebookNode(attachments)
    if markdown_is_plain(cell.source, cell.get("attachments")):
        return changed
    cell.source = markdown_as_text(cell.source)
    cell.pop("attachments", None)
    return True


class SanitizeNotebook(NbGraderPreprocessor):
    """Remove from a notebook whatever could run code in a browser (see this module's docstring).

    Last in Autograde.autograde_preprocessors, after SaveAutoGrades: scores are computed before anything is
    removed, and the autograded notebook, which the formgrader and the feedback are made from, is clean.
    Also among GenerateFeedback's preprocessors, for notebooks autograded before it existed.
    """

    def preprocess(self, nb, resources):
        removed = []
        for cell in nb.cells:
            removed += self._sanitize_cell(cell)
        if nb.metadata.pop("widgets", None) is not None:
            removed.append("the notebook's widget state")
        if removed:
            student = (resources.get("nbgrader") or {}).get("student", "?")
            self.log.warning("%s: removed what could run code in the browser: %s", student,
                             "; ".join(sorted(set(removed))))
        return nb, resources

    def _sanitize_cell(self, cell: NotebookNode) -> list[str]:
        if cell.cell_type == "markdown":
            return ["HTML in a markdown cell (shown as text)"] if sanitize_markdown_cell(cell) else []
        if cell.cell_type == "raw":
            mimetype = str(cell.metadata.get("raw_mimetype", "")).lower()
            if mimetype in ("", "text/html"):
                cleaned = clean_html(cell.source)
                changed, cell.source = cleaned != cell.source, cleaned
                return ["HTML in a raw cell"] if changed else []
            return []
        if cell.cell_type != "code":
            return []
        outputs, removed = [], []
        for output in cell.get("outputs", []):
            output, dropped = sanitize_output(output)
            removed += dropped
            if output is not None:
                outputs.append(output)
        cell.outputs = outputs
        return removed


#: File types a browser runs or renders actively when it opens them: served from the formgrader, a submission's
#: file of one of these types would be a page of the student's on the instructor's origin.
ACTIVE_SUFFIXES = {".htm", ".html", ".shtml", ".xhtml", ".xht", ".svg", ".svgz", ".xml", ".xsl", ".xslt",
                   ".js", ".mjs", ".mht", ".mhtml", ".swf"}


def disarm_files(folder: Path) -> list[str]:
    """Rename every regular file under `folder` of an active type to <name>.txt (served as plain text).

    Links are never followed (there are none: staging refused them, and RefuseLinks removes what plain
    nbgrader copied through one). Returns the new names, relative to `folder`.
    """
    renamed = []
    for parent, folders, files in os.walk(folder, followlinks=False):
        for name in files:
            path = Path(parent) / name
            if path.suffix.lower() in ACTIVE_SUFFIXES and path.is_file() and not path.is_symlink():
                target = path.with_name(path.name + ".txt")
                while target.exists() or target.is_symlink():
                    target = target.with_name(target.name + ".txt")
                path.rename(target)
                renamed.append(str(target.relative_to(folder)))
    return sorted(renamed)


class DisarmFiles(NbGraderPreprocessor):
    """After grading: a submission's HTML, SVG, XML and script files in autograded/ become <name>.txt.

    The formgrader serves every file of an autograded submission from the instructor's own origin, typed by its
    name: notes.html would run there as a page. The kernel has already run with the files as submitted; the
    instructor can still read them, as text.
    """

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        coursedir = CourseDirectory(config=self.config)
        autograded = Path(coursedir.format_path(coursedir.autograded_directory, info["student"], info["assignment"]))
        renamed = disarm_files(autograded)
        if renamed:
            self.log.warning("%s: files a browser would run were renamed to plain text: %s", info["student"],
                             ", ".join(renamed))
        return nb, resources
