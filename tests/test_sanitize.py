"""What instructors and students open holds nothing that runs: scripts, handlers and javascript: links removed.

Unit tests of idnn.autograde.sanitize on each kind of payload (and on what must stay: tables, formatting, plots,
the course's own markdown), a check that nbgrader_config.py runs it, and the `script_pages` sample's autograded
notebook and feedback page read as files. tests/test_browser_pages.py opens those pages in a browser.
"""

import base64
import html
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import pytest  # noqa: E402
from nbformat.notebooknode import NotebookNode  # noqa: E402
from traitlets.config.loader import PyFileConfigLoader  # noqa: E402

from idnn.autograde.sanitize import (SHOWN_AS_TEXT, DisarmFiles, SanitizeNotebook, clean_html, defuse_tex_links,  # noqa: E402
                                     markdown_is_plain, render_markdown, sanitize_output, svg_is_inert)

from .conftest import REPO  # noqa: E402
from .samples import gradient_checking  # noqa: E402, F401 (imports the page attacks in order)
from .samples.attacks_on_pages import MARKDOWN_CELLS, SVG_SCRIPT, TABLE_CAPTION, js  # noqa: E402

pytestmark = pytest.mark.grading

#: What would run in a browser, as it can appear in HTML: script elements, event handler attributes, script URLs,
#: and elements that load or embed other documents.
ACTIVE = re.compile(r"<script|<iframe|<object|<embed|<form|<base|<meta|<svg|<math|<style|<link"
                    r"|\son\w+\s*=|=\s*[\"']?\s*(javascript|vbscript):|data:text/html", re.IGNORECASE)

HOSTILE_HTML = [
    f"<script>{js('a')}</script>",
    f'<img src="x" onerror="{js("a")}">',
    f'<IMG SRC=x OnError="{js("a")}">',
    f"<img/src=x/onerror={js('a')}>",
    f'<a href="javascript:{js("a")}">link</a>',
    f'<a href=" &#106;avascript:{js("a")}">link</a>',
    f'<a href="java\tscript:{js("a")}">link</a>',
    '<a href="vbscript:msgbox(1)">link</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">link</a>',
    f'<iframe src="javascript:{js("a")}"></iframe>',
    f'<iframe srcdoc="<script>{js("a", "parent")}</script>"></iframe>',
    f'<object data="javascript:{js("a")}"></object>',
    f'<embed src="javascript:{js("a")}">',
    f'<form action="javascript:{js("a")}"><button>go</button></form>',
    f'<svg onload="{js("a")}"><circle r="1"/></svg>',
    f'<svg><animate onbegin="{js("a")}" attributeName="x" dur="1s"/></svg>',
    f'<details open ontoggle="{js("a")}">x</details>',
    f'<style>body {{ background: url("javascript:{js("a")}") }}</style>',
    f'<math><mtext><table><mglyph><style><img src="x" onerror="{js("a")}"></style></mglyph></table></mtext></math>',
    f'<noscript><p title="</noscript><img src=x onerror={js("a")}>"></noscript>',
    '<base href="javascript:/">',
    f'<meta http-equiv="refresh" content="0;url=javascript:{js("a")}">',
    '<link rel="import" href="https://example.org/x.html">',
    f'<div style="position:fixed;top:0;left:0" onmouseover="{js("a")}">covering</div>',
]


@pytest.mark.parametrize("markup", HOSTILE_HTML)
def test_html_loses_scripts_handlers_script_urls_and_embedded_documents(markup):
    cleaned = clean_html(markup)
    assert not ACTIVE.search(cleaned), cleaned
    assert "position" not in cleaned, cleaned


def test_html_keeps_tables_formatting_links_and_embedded_images():
    image = "data:image/png;base64,iVBORw0KGgo="
    markup = (f'<table class="dataframe" border="1"><caption>{TABLE_CAPTION}</caption><thead><tr '
              f'style="text-align: right;"><th>a</th></tr></thead><tbody><tr><td colspan="2"><b>1</b> <i>2</i> '
              f'<code>x</code></td></tr></tbody></table><p><a href="https://example.org/">a link</a> '
              f'<a href="#top">up</a> <img src="{image}" alt="a plot"></p>')
    cleaned = clean_html(markup)
    for kept in (f"<caption>{TABLE_CAPTION}</caption>", 'class="dataframe"', 'border="1"', "text-align:right",
                 '<td colspan="2"><b>1</b> <i>2</i> <code>x</code></td>', 'href="https://example.org/"',
                 'href="#top"', f'src="{image}"', 'alt="a plot"'):
        assert kept in cleaned, f"{kept!r} lost: {cleaned}"


def test_html_links_to_files_of_the_submission_are_removed():
    """A relative link in the formgrader's view would open a file of the submission from the instructor's server."""
    cleaned = clean_html('<a href="evil.html">notes</a><img src="evil.svg">')
    assert "evil" not in cleaned, cleaned


def display(data: dict, metadata: dict | None = None) -> NotebookNode:
    return nbformat.v4.new_output("display_data", data=data, metadata=metadata or {})


@pytest.mark.parametrize("mime", ["application/javascript", "text/javascript", "text/vnd.mermaid", "application/pdf",
                                  "application/vnd.jupyter.widget-view+json", "application/x-unknown"])
def test_script_capable_and_unknown_types_are_dropped(mime):
    output, removed = sanitize_output(display({mime: f"<script>{js('a')}</script>", "text/plain": "<object>"}))
    assert dict(output.data) == {"text/plain": "<object>"} and removed == [mime]


def test_an_output_left_with_nothing_says_so():
    output, _ = sanitize_output(display({"application/javascript": js("a")}))
    assert list(output.data) == ["text/plain"]
    assert "output removed (application/javascript)" in output.data["text/plain"]


def test_an_html_output_with_nothing_left_falls_back_to_its_text():
    output, _ = sanitize_output(display({"text/html": f"<script>{js('a')}</script>", "text/plain": "<HTML>"}))
    assert dict(output.data) == {"text/plain": "<HTML>"}


def test_streams_errors_and_images_are_kept_as_they_are():
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()
    outputs = [nbformat.v4.new_output("stream", name="stdout", text="<script>shown as text</script>"),
               nbformat.v4.new_output("error", ename="E", evalue="<b>", traceback=["<b>"]),
               display({"image/png": png, "text/plain": "<Figure>"}, {"image/png": {"width": 300}})]
    for output in outputs:
        before = nbformat.from_dict(dict(output))
        kept, removed = sanitize_output(output)
        assert kept == before and not removed


def test_image_sizes_are_kept_only_as_plain_numbers():
    """nbconvert writes width and height into the <img> tag unquoted: a space would start an event handler."""
    hostile = {"width": "1 onerror=alert(1)", "height": "2", "unconfined": "x onload=1", "alt": "a"}
    output, _ = sanitize_output(display({"image/png": "iVBORw0KGgo="}, {"image/png": hostile}))
    assert output.metadata == {"image/png": {"height": 2}}
    output, _ = sanitize_output(display({"image/png": "iVBORw0KGgo="}, {"image/png": {"width": 300.5}, "x": 1}))
    assert output.metadata == {"image/png": {"width": 300.5}}


def test_markdown_output_becomes_clean_html():
    source = f'<img src="x" onerror="{js("a")}">\n\n[a link](javascript:{js("b")}) and **bold**'
    output, _ = sanitize_output(display({"text/markdown": source, "text/plain": "md"}))
    assert "text/markdown" not in output.data and not ACTIVE.search(output.data["text/html"])
    assert "<strong>bold</strong>" in output.data["text/html"]


def test_latex_links_are_defused():
    output, _ = sanitize_output(display({"text/latex": rf"$\href{{javascript:{js('a')}}}{{click}}$"}))
    assert r"\href" not in output.data["text/latex"] and r"\text{javascript:" in output.data["text/latex"]


@pytest.mark.parametrize("tex, defused", [
    (r"$\href{javascript:alert(1)}{x}$", True),
    (r"$\href {JavaScript:alert(1)}{x}$", True),
    (r"$\href{java&#115;cript:alert(1)}{x}$", True),
    (r"$\url{javascript:alert(1)}$", True),
    (r"$\newcommand{\h}{\href}\h{javascript:alert(1)}{x}$", True),
    (r"$\require{action}$", True),
    (r"$\href{https://example.org/}{x}$", False),
    (r"$\hrefx{1}$", False),
])
def test_mathjax_links_that_are_not_web_links_are_defused(tex, defused):
    assert (defuse_tex_links(tex) != tex) is defused


def test_html_text_is_defused_for_mathjax_too():
    assert r"\href" not in clean_html(rf"<p>$\href{{javascript:{js('a')}}}{{x}}$</p>")


def svg_plot() -> str:
    figure = plt.figure(figsize=(2, 2))
    plt.plot([0, 1], [1, 0])
    plt.imshow([[0, 1], [1, 0]])  # an embedded raster image, as xlink:href="data:image/png;base64,..."
    plt.title("a plot")
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg")
    plt.close(figure)
    return buffer.getvalue()


def test_svg_plots_are_kept_and_scripted_svg_dropped():
    assert svg_is_inert(svg_plot())
    for svg in (SVG_SCRIPT, f'<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:{js("a")}"><text>x'
                            f'</text></a></svg>',
                '<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><div xmlns="http://www.w3.org/1999/xhtml">'
                '</div></foreignObject></svg>',
                '<svg xmlns="http://www.w3.org/2000/svg"><image href="https://example.org/x.png"/></svg>',
                '<!DOCTYPE svg [<!ENTITY a "b">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>',
                '<svg xmlns="http://www.w3.org/2000/svg"><style>@import url(https://example.org/x.css);</style></svg>',
                "not xml"):
        assert not svg_is_inert(svg), svg
    output, removed = sanitize_output(display({"image/svg+xml": SVG_SCRIPT, "text/plain": "svg"}))
    assert dict(output.data) == {"text/plain": "svg"} and removed == ["image/svg+xml"]


def markdown_cell(source: str, **attachments) -> NotebookNode:
    cell = nbformat.v4.new_markdown_cell(source)
    if attachments:
        cell.attachments = attachments
    return cell


def sanitized(*cells, metadata: dict | None = None) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=list(cells), metadata=metadata or {})
    return SanitizeNotebook().preprocess(nb, {})[0]


@pytest.mark.parametrize("source", MARKDOWN_CELLS + [
    f"[a link](javascript:{js('a')})",
    f'<a href="javascript:{js("a")}">a link</a>',
    "See [my notes](notes.html)",
    "![missing](attachment:nowhere.png)",
    f"<!-- a comment --> <b onclick=\"{js('a')}\">bold</b>",
])
def test_markdown_cells_with_active_html_are_shown_as_text(source):
    cell = sanitized(markdown_cell(source, **{"evil.svg": {"image/svg+xml": "PHN2Zz4="}})).cells[0]
    assert cell.source.startswith(SHOWN_AS_TEXT) and "attachments" not in cell
    rendered = render_markdown(cell.source)
    assert markdown_is_plain(cell.source) and not re.search(r"<(?!/?(p|em|pre)>)", rendered), rendered
    assert source[:12] in html.unescape(rendered)  # what the student wrote is still there, as text


def test_markdown_with_plain_html_math_tables_and_code_is_kept_as_written():
    source = ("# A heading\n\nSome *emphasis*, <b>bold</b>, <sub>sub</sub> and a [link](https://example.org).\n\n"
              "| a | b |\n|:--|--:|\n| 1 | 2 |\n\n- [x] a task\n\n```python\nprint(1 < 2)\n```\n\n"
              r"$\frac{a}{b} < \lVert x \rVert$ and $$\href{https://example.org}{x}$$"
              "\n\n![a plot](attachment:p.png)")
    png = {"image/png": base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()}
    cell = sanitized(markdown_cell(source, **{"p.png": png})).cells[0]
    assert cell.source == source and cell.attachments == {"p.png": png}


def test_attachments_keep_only_images():
    attachments = {"a.html": {"text/html": "PHA+"}, "b.png": {"image/png": "iVBO", "text/html": "PHA+"}}
    cell = sanitized(markdown_cell("text", **attachments)).cells[0]
    assert cell.attachments == {"b.png": {"image/png": "iVBO"}}


@pytest.mark.parametrize("path", sorted(REPO.glob("release/*/*.ipynb")), ids=lambda path: path.parent.name)
def test_the_course_markdown_is_left_alone(path):
    nb = nbformat.read(path, as_version=4)
    before = [cell.source for cell in nb.cells if cell.cell_type == "markdown"]
    after = [cell.source for cell in sanitized(*nb.cells).cells if cell.cell_type == "markdown"]
    assert after == before


def test_raw_html_cells_are_cleaned_and_widget_state_dropped():
    raw = nbformat.v4.new_raw_cell(f"<script>{js('a')}</script><b>kept</b>")
    raw.metadata["raw_mimetype"] = "text/html"
    nb = sanitized(raw, metadata={"widgets": {"application/vnd.jupyter.widget-state+json": {}}, "title": "t"})
    assert nb.cells[0].source == "<b>kept</b>" and "widgets" not in nb.metadata and nb.metadata.title == "t"


def test_sanitizing_twice_changes_nothing_more():
    cells = [markdown_cell(source) for source in MARKDOWN_CELLS]
    code = nbformat.v4.new_code_cell("x", outputs=[display({"text/html": HOSTILE_HTML[1] + "<b>b</b>",
                                                            "text/markdown": "*x*", "text/plain": "x"})])
    once = sanitized(*cells, code)
    twice = sanitized(*nbformat.from_dict(once).cells)
    assert twice.cells == once.cells


def test_the_autograde_and_feedback_pipelines_end_with_it():
    config = PyFileConfigLoader("nbgrader_config.py", path=str(REPO)).load_config()
    pipeline = config.Autograde.autograde_preprocessors
    assert pipeline[-2:] == [SanitizeNotebook, DisarmFiles], "last, after the grades are saved"
    assert SanitizeNotebook in config.GenerateFeedback.preprocessors


# -- The script_pages sample, autograded and given feedback with every other sample.

def script_pages(course: Path) -> tuple[nbformat.NotebookNode, str]:
    notebook = course / "autograded" / "script_pages" / "gradient_checking" / "gradient_checking.ipynb"
    page = course / "feedback" / "script_pages" / "gradient_checking" / "gradient_checking.html"
    return nbformat.read(notebook, as_version=4), page.read_text()


def test_the_autograded_notebook_holds_nothing_active(graded_course):
    nb, _ = script_pages(graded_course)
    types = {mime for cell in nb.cells for output in cell.get("outputs", []) for mime in output.get("data", {})}
    assert types <= {"text/plain", "text/html", "text/latex", "image/png", "image/jpeg"}, types
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            assert not ACTIVE.search(output.get("data", {}).get("text/html", "")), output
        if cell.cell_type == "markdown":
            assert markdown_is_plain(cell.source, cell.get("attachments")), cell.source
    assert "widgets" not in nb.metadata


class ActiveParts(HTMLParser):
    """The elements and attributes of a page that could run a payload: scripts holding one, handlers, script URLs."""

    EMBEDDING = {"iframe", "object", "embed", "form", "base", "svg", "math", "link"}

    def __init__(self):
        super().__init__()
        self.found, self._in_script = [], False

    def handle_starttag(self, tag, attrs):
        self._in_script = tag == "script"
        if tag in self.EMBEDDING or (tag == "meta" and any(name == "http-equiv" for name, _ in attrs)):
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or re.match(r"\s*(javascript|vbscript|data):", value or "", re.IGNORECASE):
                self.found.append(f"<{tag} {name}={value!r}>")

    def handle_data(self, data):
        if self._in_script and "pwned" in data:
            self.found.append(f"<script>{data}")

    def handle_endtag(self, tag):
        self._in_script = False


def test_the_feedback_page_shows_the_payloads_only_as_text(graded_course):
    nb, page = script_pages(graded_course)
    assert page.count("pwned") > 20  # the payloads are all there, in the cells' code and as text
    parser = ActiveParts()
    parser.feed(page)
    embedded_images = re.compile(r"<img src='data:image/(png|jpeg|gif|webp);base64,")
    assert not [part for part in parser.found if not embedded_images.match(part)], parser.found
    kept = [cell for cell in nb.cells if cell.metadata.get("nbgrader", {}).get("grade_id") == "l2"][0]
    kinds = [sorted(output.data) for output in kept.outputs]
    assert kinds == [["text/html", "text/plain"], ["image/png", "text/plain"]]
    assert f"<caption>{TABLE_CAPTION}</caption>" in page and page.count("data:image/png;base64,") >= 2
