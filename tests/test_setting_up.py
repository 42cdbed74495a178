"""Week 1, Setting up: the notebook teaches its lesson, and every visible check fails a wrong answer."""

import pytest

from idnn.checks import setting_up as checks

from .conftest import REPO, expected_results_cell, functions, notebook_functions, run_lesson
from .samples import setting_up as samples

pytestmark = pytest.mark.week1

SOURCE = REPO / "source" / "setting_up" / "setting_up.ipynb"


@pytest.fixture(scope="module")
def lesson():
    return run_lesson(SOURCE)


def test_the_split_is_sixty_twenty_twenty_and_stratified(lesson):
    assert lesson["sizes"] == [600, 200, 200]
    overall, *parts = lesson["sold share"]
    assert all(abs(share - overall) < 0.01 for share in parts)


def test_normalising_makes_gradient_descent_much_faster(lesson):
    steps = lesson["steps"]
    assert steps["normalised features"] * 10 <= steps["raw features"]


def test_activations_explode_and_vanish_with_depth(lesson):
    depth = lesson["depth 50"]
    assert depth["1.5"] > 1e8 and depth["0.5"] < 1e-14 and depth["1.0"] == pytest.approx(2.0)


# -- the "Expected results" cells: each stated range holds for this run, and the cell still states it ------------

def expected_results(grade_id: str) -> str:
    """The text of one "Expected results" cell of the source notebook, on one line."""
    return " ".join(expected_results_cell(SOURCE, grade_id).split())


def test_expected_results_of_the_split(lesson):
    text = expected_results("split-expected")
    assert lesson["sizes"] == [600, 200, 200] and "600 training, 200 dev and 200 test examples" in text
    overall, *parts = lesson["sold share"]
    assert overall == pytest.approx(0.332) and "(33.2%)" in text
    assert all(0.32 <= share <= 0.35 for share in parts) and "32% to 35%" in text


def test_expected_results_of_normalising(lesson):
    text = expected_results("contours-expected")
    assert 50 <= lesson["steps"]["raw features"] <= 150 and "raw features, 50 to 150 steps" in text
    assert 1 <= lesson["steps"]["normalised features"] <= 5 and "normalised features, 1 to 5 steps" in text


def test_expected_results_of_depth(lesson):
    text = expected_results("depth-expected")
    depth = lesson["depth 50"]
    assert depth["1.5"] == pytest.approx(2 * 1.5 ** 50) and 1e9 <= depth["1.5"] <= 2e9
    assert "between $10^9$ and $2 \\times 10^9$" in text
    assert depth["1.0"] == 2.0 and "exactly 2 for $a = 1$" in text
    assert depth["0.5"] == pytest.approx(2 * 0.5 ** 50) and 1e-15 <= depth["0.5"] <= 1e-14
    assert "between $10^{-15}$ and $10^{-14}$" in text


REFERENCE = notebook_functions(SOURCE)


def run_checks(ns: dict, which: str) -> None:
    {"split_sizes": lambda: checks.check_split_sizes(ns["split_sizes"]),
     "split": lambda: checks.check_split(ns["train_dev_test_split"]),
     "diagnose": lambda: checks.check_diagnose(ns["diagnose"], ns["basic_recipe"]),
     "normalize": lambda: checks.check_normalization(ns["fit_normalizer"], ns["normalize"])}[which]()


@pytest.mark.parametrize("which", samples.ANSWERS)
def test_visible_check_passes_the_reference_and_a_different_correct_answer(which):
    run_checks(REFERENCE, which)
    run_checks(functions("\n".join(samples.ALTERNATIVE.values()), REFERENCE), which)


UNSHUFFLED_LABELS = '''
def train_dev_test_split(X, Y, seed=0):
    rng = np.random.default_rng(seed)
    m_train, m_dev, m_test = split_sizes(X.shape[1])
    Xs = X[:, rng.permutation(X.shape[1])]          # X shuffled, Y not: pairs broken
    return Xs[:, :m_train], Y[:, :m_train], Xs[:, m_train:m_train + m_dev], Y[:, m_train:m_train + m_dev], \\
        Xs[:, m_train + m_dev:], Y[:, m_train + m_dev:]
'''
UNSEEDED = UNSHUFFLED_LABELS.replace("rng = np.random.default_rng(seed)", "rng = np.random.default_rng()") \
    .replace("Xs = X[:, rng.permutation(X.shape[1])]          # X shuffled, Y not: pairs broken",
             "order = rng.permutation(X.shape[1]); Xs, Y = X[:, order], Y[:, order]")
RECIPE_BOTH = '''
def basic_recipe(diagnosis):
    if diagnosis == "high bias and high variance":
        return ["more data", "regularization", "new architecture"]
    if diagnosis == "high bias":
        return ["bigger network", "train longer", "better optimizer", "new architecture"]
    if diagnosis == "high variance":
        return ["more data", "regularization", "new architecture"]
    return ["done"]
'''
WRONG = [
    ("split_sizes", samples.NO_CAP, "never more than 10,000"),
    ("split", samples.NOT_STRATIFIED, "stratified it should have about"),
    ("split", UNSHUFFLED_LABELS, "X and Y were not shuffled together"),
    ("split", UNSEEDED, "stratified|same seed gave different splits"),
    ("diagnose", "def diagnose(train_error, dev_error, base_error=0.0, tolerance=0.02):\n"
                 "    return 'high bias' if train_error > tolerance else 'high variance'\n", "expected 'high bias and"),
    ("diagnose", RECIPE_BOTH, "fix the bias first"),
    ("normalize", samples.DIVIDE_BY_VARIANCE, "sigma is the variance"),
    ("normalize", "def normalize(X, mu, sigma):\n"
                  "    return (X - X.mean(axis=1, keepdims=True)) / X.std(axis=1, keepdims=True)\n",
     "must use the training set's mu and sigma"),
]


@pytest.mark.parametrize("which, code, message", WRONG, ids=[f"{w}-{i}" for i, (w, _, _) in enumerate(WRONG)])
def test_visible_check_fails_a_wrong_answer_and_says_why(which, code, message):
    with pytest.raises(AssertionError, match=message):
        run_checks(functions(code, REFERENCE), which)
