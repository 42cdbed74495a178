"""The grader's faster stand-ins for stock parts do what the stock parts do.

    CheckMetadata      nbgrader's CheckCellMetadata with its schema compiled once: it accepts and refuses the
                       same notebooks
    accessible         nbconvert's accessibility pass on a feedback page (alt text, focusable cells) without
                       BeautifulSoup: the same changes, everything else kept
"""

import copy

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbgrader.nbgraderformat import ValidationError
from nbgrader.preprocessors import CheckCellMetadata

from idnn.autograde.feedback import NO_DESCRIPTION, accessible
from idnn.autograde.preprocessors import CheckMetadata


def _notebook():
    nb = nbformat.v4.new_notebook()
    meta = {"grade": True, "grade_id": "test_a", "locked": True, "points": 2, "schema_version": 3,
            "solution": False, "task": False}
    nb.cells = [nbformat.v4.new_markdown_cell("intro"),
                nbformat.v4.new_code_cell("def f(): pass", metadata={"nbgrader": dict(
                    meta, grade=False, grade_id="f", locked=False, solution=True, points=0)}),
                nbformat.v4.new_code_cell("assert f() is None", metadata={"nbgrader": meta})]
    return nb


def _broken(change):
    nb = _notebook()
    change(nb.cells[2].metadata.nbgrader, nb)
    return nb


BROKEN = {
    "points not a number": lambda meta, nb: meta.update(points="two"),
    "no grade id": lambda meta, nb: meta.pop("grade_id"),
    "grade not a boolean": lambda meta, nb: meta.update(grade="yes"),
    "old schema": lambda meta, nb: meta.update(schema_version=1),
    "newer schema": lambda meta, nb: meta.update(schema_version=4),
    "duplicate grade id": lambda meta, nb: meta.update(grade_id="f"),
    "graded markdown that is no solution": lambda meta, nb: nb.cells.__setitem__(
        2, nbformat.v4.new_markdown_cell("x", metadata={"nbgrader": dict(meta, grade_id="md")})),
}


def _verdict(preprocessor, nb):
    try:
        preprocessor.preprocess(copy.deepcopy(nb), {})
    except Exception as error:  # noqa: BLE001 (the kind of error is what is compared)
        return type(error).__name__, str(error)
    return "accepted"


def test_check_metadata_accepts_a_valid_notebook_as_stock_does():
    assert _verdict(CheckMetadata(), _notebook()) == _verdict(CheckCellMetadata(), _notebook()) == "accepted"


@pytest.mark.parametrize("what", sorted(BROKEN))
def test_check_metadata_refuses_what_stock_refuses(what):
    nb = _broken(BROKEN[what])
    ours, stock = _verdict(CheckMetadata(), nb), _verdict(CheckCellMetadata(), nb)
    assert ours != "accepted"
    assert ours == stock


PAGE = """<!DOCTYPE html><html><head><style>div > img {}</style>
<script>var s = "<img src=x.png>";</script></head>
<body class="jp-Notebook"><div class="jp-Cell jp-CodeCell"><div class="jp-Cell-inputWrapper">
<pre>x = 1 &lt; 2</pre></div><div class="jp-OutputArea-output jp-RenderedImage"><img src="data:image/png;base64,AA==">
</div><div class="jp-OutputArea-output" tabindex="3"><img src="b.png" alt="a plot"/><IMG
SRC=c.png></div><p title="<img src=y>">caf&eacute; <br/></p></div></body></html>
"""


def _stock_accessible(page: str) -> BeautifulSoup:
    """nbconvert 7's HTMLExporter pass, as it is written there."""
    soup = BeautifulSoup(page, features="html.parser")
    for elem in soup.select("img:not([alt])"):
        elem.attrs["alt"] = NO_DESCRIPTION
    for elem in soup.select(".jp-Notebook div.jp-Cell-inputWrapper"):
        elem.attrs["tabindex"] = "0"
    for elem in soup.select(".jp-Notebook div.jp-OutputArea-output"):
        elem.attrs["tabindex"] = "0"
    return soup


def test_the_accessibility_pass_makes_the_changes_nbconvert_makes():
    ours, missing_alt = accessible(PAGE)
    assert missing_alt == 2
    parsed = BeautifulSoup(ours, features="html.parser")
    stock = _stock_accessible(PAGE)
    # The same images and divs, with the same attributes, except one difference on purpose: stock overwrites a
    # tabindex the page already had; ours keeps it (still focusable).
    stock.select("div.jp-OutputArea-output")[1].attrs["tabindex"] = "3"
    assert [tag.attrs for tag in parsed.find_all(["img", "div"])] == \
           [tag.attrs for tag in stock.find_all(["img", "div"])]
    assert '"<img src=x.png>"' in ours and 'title="<img src=y>"' in ours  # script and attribute text untouched


def test_the_accessibility_pass_keeps_everything_else_as_it_was():
    ours, _ = accessible(PAGE)
    for added in (f' alt="{NO_DESCRIPTION}"', ' tabindex="0"'):
        ours = ours.replace(added, "")
    assert ours == PAGE
    assert accessible("<p>no tags to change</p>") == ("<p>no tags to change</p>", 0)
