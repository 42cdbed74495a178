"""Every assignment's sample submissions, graded by idnn-grade: exact points, recorded reasons, clean feedback."""

import pytest

from idnn.autograde.runner import read_journal

from .conftest import ASSIGNMENTS, PLAIN_SAMPLES, scores_of
from .samples.generate import assignment_module

pytestmark = pytest.mark.grading

ALL_SAMPLES = [(assignment, sample) for assignment in ASSIGNMENTS for sample in assignment_module(assignment).SAMPLES]
IDS = [f"{assignment}-{sample.student}" for assignment, sample in ALL_SAMPLES]


def expected_scores(assignment: str, sample) -> dict[str, float]:
    """The points the sample should earn on each of the assignment's test cells (0 where it expects none)."""
    return {test: float(sample.expected.get(test, 0)) for test in assignment_module(assignment).ALL_TESTS}


@pytest.mark.parametrize("assignment, sample", ALL_SAMPLES, ids=IDS)
def test_each_sample_earns_exactly_its_expected_points(graded_course, assignment, sample):
    scores = scores_of(graded_course, assignment)
    assert sample.student in scores, f"{sample.student} was not graded"
    assert scores[sample.student] == expected_scores(assignment, sample)
    failure = read_journal(graded_course)[(assignment, sample.student)]["failure"]
    if sample.failure:
        assert sample.failure in (failure or ""), f"recorded reason: {failure!r}"
    else:
        assert failure is None


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_plain_nbgrader_autograde_uses_the_outside_verdicts(nbgrader_course, assignment):
    """`nbgrader autograde` alone (no idnn-grade) gives full, partial and cheating samples their exact points."""
    scores = scores_of(nbgrader_course, assignment)
    assert set(PLAIN_SAMPLES) <= set(scores), f"not graded: {set(PLAIN_SAMPLES) - set(scores)}"
    for sample in assignment_module(assignment).SAMPLES:
        if sample.student in PLAIN_SAMPLES:
            assert scores[sample.student] == expected_scores(assignment, sample), sample.student


@pytest.mark.parametrize("assignment, sample", ALL_SAMPLES, ids=IDS)
def test_feedback_holds_no_hidden_check_code(graded_course, assignment, sample):
    notebook = assignment_module(assignment).NOTEBOOK
    page = graded_course / "feedback" / sample.student / assignment / f"{notebook}.html"
    html = page.read_text()
    assert "Probe" not in html and "HIDDEN TESTS" not in html and "_hidden_checks" not in html, page
    if sample.failure:  # nothing could be run: the page says why
        assert "could not be graded" in html and sample.failure in html, page
    else:
        assert "Hidden checks" in html, f"{page} does not show the verdicts"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_samples_cover_solution_blank_partial_and_cheats(assignment):
    module = assignment_module(assignment)
    students = {s.student: s for s in module.SAMPLES}
    full = students["perfect"].expected_total
    assert full > 0 and students["blank"].expected_total == 0 and not students["blank"].answers
    assert 0 < students["partial"].expected_total < full
    assert students["cheater"].expected_total < full
    assert students["alternative"].expected_total == full
