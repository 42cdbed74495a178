"""Hidden regions of test cells are found as nbgrader finds them, with the delimiters of its configuration."""

import nbformat
import pytest
from nbgrader.preprocessors import ClearHiddenTests
from traitlets.config import Config

from idnn.autograde.reference import DEFAULT_MARKERS, HiddenMarkers, is_test_cell

from .conftest import ASSIGNMENTS, REPO


def test_the_delimiters_come_from_nbgraders_configuration():
    config = Config()
    config.ClearHiddenTests.begin_test_delimeter = "BEGIN SECRET"
    config.ClearHiddenTests.end_test_delimeter = "END SECRET"
    markers = HiddenMarkers.of(config)
    source = "check(f)\n# BEGIN SECRET\nsecret(f)\n# END SECRET\nshown(f)  # BEGIN HIDDEN TESTS is not a delimiter here"
    assert markers.segments(source) == [(False, "check(f)"), (True, "secret(f)"),
                                        (False, "shown(f)  # BEGIN HIDDEN TESTS is not a delimiter here")]
    assert markers.hidden_code(source) == "secret(f)"
    assert DEFAULT_MARKERS == HiddenMarkers.of(Config())


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_what_grading_treats_as_visible_is_what_the_release_shows(assignment):
    nb = nbformat.read(REPO / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    for index, cell in enumerate(nb.cells):
        if not is_test_cell(cell):
            continue
        visible = "\n".join(text for hidden, text in DEFAULT_MARKERS.segments(cell.source) if not hidden)
        released, _ = ClearHiddenTests().preprocess_cell(nbformat.from_dict(dict(cell)), {}, index)
        assert visible.strip() == released.source.strip(), cell.metadata.nbgrader.grade_id
        assert DEFAULT_MARKERS.hidden_code(cell.source), f"{cell.metadata.nbgrader.grade_id} has no hidden checks"
