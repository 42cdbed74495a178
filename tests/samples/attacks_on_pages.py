"""Gradient checking samples that put script into the pages instructors and students open (issue 11).

The autograded notebook is what the feedback page and the formgrader's view of a submission are both rendered
from, on the instructor's own Jupyter origin. `script_pages` answers every exercise correctly (so it must earn
full points) and, on the way, displays every kind of active content a notebook can hold: scripts in HTML,
JavaScript outputs, event handlers, javascript: links, a scripted SVG, markdown and LaTeX outputs, a mermaid
output, widget views, HTML displayed from inside a graded function (so it lands in a test cell, whose rich
outputs are kept), and raw HTML in markdown cells added to the notebook file. It also shows a plain HTML table
and a plot, which must still be shown.

Every payload, if it ever runs in a browser, records its name in `window.__pwned` (an array, which no element
id can fake), sets the page's title to "pwned" and writes "pwned:<name>" to the console.
"""

import base64
import json
from pathlib import Path

import nbformat

from .gradient_checking import NOTEBOOK, POINTS, SOLUTION_PLACEHOLDER, SOLVED
from .model import Sample

#: The text the kept table and the kept plot carry, for the tests to find them.
TABLE_CAPTION = "kept table: penalties"
PLOT_TITLE = "kept plot: penalty against lambda"


def js(name: str, window: str = "window") -> str:
    """JavaScript that leaves the traces described above in `window` (from a frame: "parent").

    Only single quotes and no spaces, so that it fits in any HTML attribute or URL.
    """
    return (f"(function(w){{(w.__pwned=w.__pwned||[]).push('{name}');w.document.title='pwned';"
            f"w.console.log('pwned:{name}')}})({window})")


# -- Answer cells: each displays its payloads, then holds the reference solution.

SCRIPTS = f'''
from IPython.display import HTML, Javascript, display
display(HTML("<script>{js('html-script')}</script>"))
display(Javascript("{js('javascript-output')}"))
display(HTML("<script>{js('isolated-html', 'parent')}</script>"), metadata={{"text/html": {{"isolated": True}}}})
# nbconvert writes an image's width and height unquoted: a space in them starts new attributes.
display({{"image/png": "xx", "text/plain": "img"}}, raw=True,
        metadata={{"image/png": {{"width": "1 onerror={js('png-width')}"}}}})
display({{"image/jpeg": "xx", "text/plain": "img"}}, raw=True,
        metadata={{"image/jpeg": {{"height": "1 onerror={js('jpeg-height')}", "unconfined": "x onload=1"}}}})
''' + SOLUTION_PLACEHOLDER

HANDLERS = f'''
from IPython.display import HTML, display
display(HTML("""
<img src="x" onerror="{js('img-onerror')}">
<a href="javascript:{js('a-javascript')}">a javascript: link</a>
<a href="  JaVaScRiPt:{js('a-javascript-mixed-case')}">another</a>
<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">a data: page</a>
<iframe src="javascript:{js('iframe')}"></iframe>
<iframe srcdoc="<script>{js('iframe-srcdoc', 'parent')}</script>"></iframe>
<object data="javascript:{js('object')}"></object>
<embed src="javascript:{js('embed')}">
<form action="javascript:{js('form')}"><button>send</button></form>
<svg><animate onbegin="{js('svg-animate')}" attributeName="x" dur="1s"/></svg>
<details open ontoggle="{js('details-ontoggle')}"><summary>details</summary>x</details>
<div style="width:100%;height:100%;position:fixed;top:0" onmouseover="{js('onmouseover')}">covering div</div>
<style>body {{ background: url("javascript:{js('style')}") }}</style>
<math><mtext><table><mglyph><style><img src="x" onerror="{js('mxss')}"></style></mglyph></table></mtext></math>
<base href="javascript:/">
<meta http-equiv="refresh" content="0;url=javascript:{js('meta-refresh')}">
"""))
''' + SOLUTION_PLACEHOLDER

SVG_SCRIPT = (f'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40" onload="{js("svg-onload")}">'
              f'<script>{js("svg-script")}</script><circle cx="20" cy="20" r="10"/></svg>')
OTHER_TYPES = f'''
from IPython.display import Latex, Markdown, SVG, display
display(SVG({SVG_SCRIPT!r}))
display({{"image/svg+xml": {SVG_SCRIPT!r}, "text/plain": "an svg"}}, raw=True)
display(Markdown("""<img src="x" onerror="{js('markdown-output')}">

[a markdown link](javascript:{js('markdown-output-link')})"""))
display(Latex(r"$\\href{{javascript:{js('latex-href')}}}{{a latex link}}$"))
display({{"text/vnd.mermaid": """</pre><img src="x" onerror="{js('mermaid-output')}">"""}}, raw=True)
display({{"application/vnd.jupyter.widget-view+json": {{"model_id": "x", "version_major": 2, "version_minor": 0}},
          "text/plain": "a widget"}}, raw=True)
display({{"application/x-unknown": "<script>{js('unknown-type')}</script>"}}, raw=True)
''' + SOLUTION_PLACEHOLDER

# The hidden checks call classify_difference: what it displays lands among the test cell's outputs (kept on
# purpose: a student's plots there are useful feedback).
FROM_GRADED_FUNCTION = SOLUTION_PLACEHOLDER + f'''
from IPython.display import HTML, display
_reference, _shown = classify_difference, []

def classify_difference(difference):
    if len(_shown) < 3:
        _shown.append(difference)
        display(HTML("""<img src="x" onerror="{js('test-cell')}"><script>{js('test-cell-script')}</script>"""))
    return _reference(difference)
'''

KEPT = f'''
import matplotlib.pyplot as plt
from IPython.display import HTML, display
display(HTML("""<table class="kept"><caption>{TABLE_CAPTION}</caption>
<tr><th>lambda</th><th>penalty</th></tr><tr><td>0.1</td><td><b>0.002</b></td></tr>
<tr><td>0.7</td><td><i>0.014</i></td></tr></table>"""))
plt.figure(figsize=(3, 2))
plt.plot([0.1, 0.7], [0.002, 0.014])
plt.title({PLOT_TITLE!r})
plt.show()
''' + SOLUTION_PLACEHOLDER

# -- Markdown cells, cell and notebook metadata, written into the notebook file itself.

SVG_ATTACHMENT = base64.b64encode(SVG_SCRIPT.encode()).decode()
HTML_ATTACHMENT = base64.b64encode(f"<script>{js('attachment-html')}</script>".encode()).decode()
MARKDOWN_CELLS = [
    f"A script in markdown: <script>{js('markdown-script')}</script>",
    f'An image that fails to load: <img src="x" onerror="{js("markdown-img")}">',
    f"[a javascript: link](javascript:{js('markdown-link')})",
    f"```mermaid\n<img src=\"x\" onerror=\"{js('markdown-mermaid')}\">\n```",
    f"Math with a link: $\\href{{javascript:{js('markdown-href')}}}{{click}}$",
    f'<details open ontoggle="{js("markdown-details")}"><summary>more</summary>\n\n*still markdown*\n\n</details>',
    "Attachments: ![an svg](attachment:evil.svg) ![a page](attachment:evil.html)",
]


def _hostile_markdown(folder: Path) -> None:
    """Add markdown cells with raw HTML after the introduction, and script-shaped metadata."""
    path = folder / f"{NOTEBOOK}.ipynb"
    nb = nbformat.read(path, as_version=4)
    cells = [nbformat.v4.new_markdown_cell(text) for text in MARKDOWN_CELLS]
    cells[-1].attachments = {"evil.svg": {"image/svg+xml": SVG_ATTACHMENT},
                             "evil.html": {"text/html": HTML_ATTACHMENT}}
    cells[0].metadata["tags"] = [f'"><img src="x" onerror="{js("cell-tag")}">']
    raw = nbformat.v4.new_raw_cell(f"<script>{js('raw-cell')}</script>")
    raw.metadata["raw_mimetype"] = "text/html"
    nb.cells[1:1] = [*cells, raw]
    nb.metadata["title"] = f"</title><script>{js('notebook-title')}</script>"
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "version_major": 2, "version_minor": 0, "state": {"x": {
            "model_name": "HTMLModel", "model_module": "@jupyter-widgets/controls", "model_module_version": "2.0.0",
            "state": {"value": f'<img src="x" onerror="{js("widget-state")}">'}}}}}
    path.write_text(json.dumps(nb, indent=1))


SCRIPT_PAGES = Sample(
    "script_pages", "correct answers that display scripts, javascript: links, event handlers, a scripted SVG and "
    "raw HTML in markdown, some from inside a graded function; none of it may run where the feedback or the "
    "formgrader shows it, while a table and a plot are still shown",
    answers={**SOLVED, "forward_1d": SCRIPTS, "backward_1d": HANDLERS, "gradcheck_1d": OTHER_TYPES,
             "classify": FROM_GRADED_FUNCTION, "l2": KEPT},
    expected=POINTS, damage=_hostile_markdown)



#: Files of a submission that a browser would run as pages, served by the formgrader from the instructor's origin.
PAGE_FILES = {
    "notes.html": f"<html><body><script>{js('file-html')}</script>my notes</body></html>",
    "figure.svg": SVG_SCRIPT.replace("svg-onload", "file-svg"),
    "extra/readme.xhtml": ('<html xmlns="http://www.w3.org/1999/xhtml"><body><script>'
                           f"{js('file-xhtml')}</script></body></html>"),
}


def _page_files(folder: Path) -> None:
    for name, text in PAGE_FILES.items():
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).write_text(text)


PAGE_FILES_SAMPLE = Sample(
    "page_files", "correct answers beside an HTML page, a scripted SVG and an XHTML page: the formgrader would "
    "serve each as a page of the instructor's origin, so after grading they are renamed <name>.txt",
    answers=SOLVED, expected=POINTS, damage=_page_files)

PAGE_ATTACKS: list = [SCRIPT_PAGES, PAGE_FILES_SAMPLE]
