"""Week 3, Softmax: the notebook teaches its lesson, the capstone's network is right, and every visible check fails a
wrong answer."""

import numpy as np
import pytest

from idnn import nets
from idnn.checks import softmax as checks

from .conftest import REPO, functions, notebook_functions, run_lesson
from .samples import softmax as samples

pytestmark = pytest.mark.week3

SOURCE = REPO / "source" / "softmax" / "softmax.ipynb"


@pytest.fixture(scope="module")
def lesson():
    return run_lesson(SOURCE)


def test_the_capstone_reads_at_least_95_percent_of_the_test_digits(lesson):
    chosen = lesson["chosen"]
    assert 0.95 <= chosen["test_accuracy"] <= 0.985
    assert chosen["train_accuracy"] >= chosen["test_accuracy"] - 0.01  # no underfitting either
    assert chosen["test_accuracy"] < chosen["dev_accuracy"]  # the choice flatters the dev accuracy a little
    assert 5 <= lesson["misclassified"] <= 18
    # This run's figures, as the expected results quote them.
    assert chosen["test_accuracy"] == pytest.approx(346 / 359) and lesson["misclassified"] == 13


def test_the_confusion_matrix_has_every_digit_mostly_on_its_diagonal(lesson):
    confusion = lesson["confusion"]
    assert all(35 <= count <= 37 for count in confusion["images per digit"])
    assert min(confusion["right per digit"]) >= 28
    # The hardest digit, 8: right 29 times of 35, most often read as a 1 (5 times).
    assert confusion["right per digit"][8] == 29 and confusion["images per digit"][8] == 35
    assert confusion["most frequent mistake"] == [8, 1, 5]


def test_the_learning_rate_is_chosen_on_dev_among_log_uniform_trials(lesson):
    search = lesson["search"]
    rates, dev = search["learning_rates"], search["dev_accuracy"]
    assert 5 <= len(rates) <= 6 and all(1e-4 <= rate < 1e-1 for rate in rates)
    assert max(rates) / min(rates) > 30  # spread over orders of magnitude, as a log scale draws them
    assert search["chosen_learning_rate"] == rates[int(np.argmax(dev))]
    assert lesson["chosen"]["dev_accuracy"] == max(dev)
    # The rate matters: the slowest trial is far behind after the same number of epochs.
    assert dev[int(np.argmin(rates))] <= max(dev) - 0.05
    # The ranges of the expected results after the search.
    assert 0.97 <= lesson["chosen"]["dev_accuracy"] <= 0.995
    assert lesson["chosen"]["train_accuracy"] >= 0.99


def test_the_search_gives_the_figures_the_notebook_quotes_for_the_samplers_it_describes(lesson):
    search = lesson["search"]
    quoted = [float(f"{rate:.2g}") for rate in search["learning_rates"]]  # two significant digits
    assert quoted == [0.0034, 0.071, 0.00027, 0.07, 0.00086, 0.0019]
    assert [round(100 * accuracy) for accuracy in search["dev_accuracy"]] == [98, 96, 89, 97, 97, 98]
    assert search["chosen_learning_rate"] == pytest.approx(0.0034, abs=0.00005)
    assert lesson["chosen"]["dev_accuracy"] == pytest.approx(0.983, abs=0.0005)
    assert lesson["chosen"]["train_accuracy"] == 1.0


def test_with_two_classes_softmax_is_the_sigmoid_of_the_difference(lesson):
    assert lesson["two classes: largest |softmax - sigmoid(z1 - z2)|"] < 1e-12


def test_softmax_is_exact_at_scores_near_1000(lesson):
    expected = np.exp([-2.0, -1.0, 0.0]) / np.sum(np.exp([-2.0, -1.0, 0.0]))
    np.testing.assert_allclose(lesson["softmax at 1000, 1001, 1002"], expected, rtol=1e-12)


# -- the capstone's network ------------------------------------------------------------------------

BASE = {"nets": nets}
REFERENCE = notebook_functions(SOURCE, BASE)


def test_the_capstone_backward_pass_matches_two_sided_differences_of_the_cost():
    """network_backward (with the reference batch norm and dZ) is the gradient of the cost, batch statistics
    included, for every parameter: W, gamma, beta and the output bias."""
    ns = REFERENCE
    rng = np.random.default_rng(0)
    parameters = ns["initialize_network"]([5, 4, 3, 3], seed=1)
    parameters = {key: value + 0.1 * rng.standard_normal(value.shape) for key, value in parameters.items()}
    X, labels = rng.standard_normal((5, 7)), rng.integers(0, 3, size=(1, 7))
    Y = ns["one_hot"](labels, 3)

    def cost(params):
        return ns["cross_entropy_cost"](ns["network_forward"](X, params)[0], Y)

    Y_hat, caches, _ = ns["network_forward"](X, parameters)
    grads = ns["network_backward"](Y_hat, Y, caches, parameters)
    assert sorted(grads) == sorted(f"d{key}" for key in parameters)
    epsilon = 1e-6
    for key, value in parameters.items():
        numerical = np.zeros_like(value)
        for index in np.ndindex(*value.shape):
            plus = {k: v.copy() for k, v in parameters.items()}
            minus = {k: v.copy() for k, v in parameters.items()}
            plus[key][index] += epsilon
            minus[key][index] -= epsilon
            numerical[index] = (cost(plus) - cost(minus)) / (2 * epsilon)
        analytic = grads[f"d{key}"]
        difference = np.linalg.norm(analytic - numerical) / (np.linalg.norm(analytic) + np.linalg.norm(numerical))
        assert difference < 1e-6, (key, difference)


# -- visible checks ------------------------------------------------------------------------------

CHECKS = {
    "softmax": lambda ns: checks.check_softmax(ns["softmax"]),
    "hardmax": lambda ns: checks.check_hardmax(ns["hardmax"]),
    "one_hot": lambda ns: checks.check_one_hot(ns["one_hot"]),
    "cost": lambda ns: checks.check_cross_entropy_cost(ns["cross_entropy_cost"]),
    "backward": lambda ns: checks.check_softmax_cost_backward(ns["softmax_cost_backward"]),
}


@pytest.mark.parametrize("which", CHECKS)
def test_visible_check_passes_the_reference_and_a_different_correct_answer(which):
    CHECKS[which](REFERENCE)
    CHECKS[which](functions("\n".join(samples.ALTERNATIVE.values()), REFERENCE))


SOFTMAX_TRANSPOSED = '''
def softmax(Z):
    t = np.exp(Z - np.max(Z, axis=0, keepdims=True))
    return (t / np.sum(t, axis=0, keepdims=True)).T
'''
SOFTMAX_WRONG_VALUES = '''
def softmax(Z):
    t = np.exp(2 * (Z - np.max(Z, axis=0, keepdims=True)))
    return t / np.sum(t, axis=0, keepdims=True)
'''
SOFTMAX_MINUS_MEAN = '''
def softmax(Z):
    t = np.exp(Z - np.mean(Z, axis=0, keepdims=True))
    return t / np.sum(t, axis=0, keepdims=True)
'''
SOFTMAX_SQUEEZED = '''
def softmax(Z):
    t = np.exp(Z - np.max(Z, axis=0, keepdims=True))
    return np.squeeze(t / np.sum(t, axis=0, keepdims=True))
'''
HARDMAX_OVER_ROWS = '''
def hardmax(Z):
    out = np.zeros(Z.shape)
    out[np.arange(Z.shape[0]), np.argmax(Z, axis=1)] = 1.0
    return out
'''
HARDMAX_INDICES = '''
def hardmax(Z):
    return np.argmax(Z, axis=0)[np.newaxis, :]
'''
HARDMAX_NP_MAX = '''
def hardmax(Z):
    return np.max(Z, axis=0)
'''
ONE_HOT_EYE_OF_Y = '''
def one_hot(Y, C):
    return np.eye(C)[Y]
'''
ONE_HOT_CLASSES_FROM_DATA = '''
def one_hot(Y, C):
    return np.eye(int(Y.max()) + 1)[Y.reshape(-1)].T
'''
ONE_HOT_SQUARE_TRANSPOSED = '''
def one_hot(Y, C):
    out = np.zeros((C, Y.shape[1]))
    out[Y[0], np.arange(Y.shape[1])] = 1.0
    return out.T if out.shape[0] == out.shape[1] else out
'''
COST_OVER_EXAMPLES_ONLY = '''
def cross_entropy_cost(Y_hat, Y):
    return -np.sum(Y * np.log(Y_hat), axis=1) / Y.shape[1]
'''
COST_WITHOUT_MINUS = '''
def cross_entropy_cost(Y_hat, Y):
    return np.sum(Y * np.log(Y_hat)) / Y.shape[1]
'''
BACKWARD_SIGMOID_DERIVATIVE = '''
def softmax_cost_backward(Y_hat, Y):
    return (Y_hat - Y) * Y_hat * (1 - Y_hat)
'''
WRONG = [
    ("softmax", samples.SOFTMAX_OVER_ROWS, "wrong axis"),
    ("softmax", samples.UNSTABLE_SOFTMAX, "np.exp\\(1000\\) overflows"),
    ("softmax", samples.GLOBAL_MAX_SOFTMAX, "each column's own max"),
    ("softmax", SOFTMAX_TRANSPOSED, "transposed"),
    ("softmax", SOFTMAX_WRONG_VALUES, "values differ"),
    ("softmax", SOFTMAX_SQUEEZED, "one example"),
    ("softmax", SOFTMAX_MINUS_MEAN, "column's mean"),
    ("hardmax", HARDMAX_OVER_ROWS, "wrong axis"),
    ("hardmax", HARDMAX_INDICES, "not the class indices"),
    ("hardmax", HARDMAX_NP_MAX, "np.argmax"),
    ("hardmax", samples.HARDMAX_MARKS_EVERY_TIE, "marked both"),
    ("one_hot", samples.ONE_HOT_TRANSPOSED, "transposed"),
    ("one_hot", ONE_HOT_EYE_OF_Y, "keeps its first axis"),
    ("one_hot", ONE_HOT_CLASSES_FROM_DATA, "C = 4 rows"),
    ("one_hot", ONE_HOT_SQUARE_TRANSPOSED, "transpose of the one-hot"),
    ("cost", samples.COST_WITHOUT_ONE_OVER_M, "missing the factor 1/m"),
    ("cost", samples.COST_WITH_MEAN, "divides by C \\* m"),
    ("cost", samples.COST_BINARY_FORMULA, "binary cost"),
    ("cost", samples.COST_SUMMED_OVER_CLASSES_ONLY, "one loss per example"),
    ("cost", COST_OVER_EXAMPLES_ONLY, "one value per class"),
    ("cost", COST_WITHOUT_MINUS, "minus sign"),
    ("backward", samples.BACKWARD_WRONG_SIGN, "wrong sign"),
    ("backward", samples.BACKWARD_DIVIDED_BY_M, "divided by m"),
    ("backward", BACKWARD_SIGMOID_DERIVATIVE, "numerical gradient"),
]


@pytest.mark.parametrize("which, code, message", WRONG, ids=[f"{w}-{i}" for i, (w, _, _) in enumerate(WRONG)])
def test_visible_check_fails_a_wrong_answer_and_says_why(which, code, message):
    with pytest.raises(AssertionError, match=message):
        CHECKS[which](functions(code, REFERENCE))


def test_the_cheaters_stored_values_pass_the_visible_checks_so_the_hidden_checks_decide():
    """The cheater's answers pass the visible checks (they return the stored values there), which is why the hidden
    checks, on inputs drawn at grading time, decide."""
    cheat = functions("\n".join(samples.CHEATS.values()), REFERENCE)
    for which in ("softmax", "cost", "backward"):
        CHECKS[which](cheat)
