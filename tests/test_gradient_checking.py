"""Week 1, Gradient checking: the notebook teaches its lesson, and every visible check fails a wrong answer."""

import pytest

from idnn import gradcheck
from idnn.checks import gradient_checking as checks

from .conftest import REPO, functions, notebook_functions, run_lesson
from .samples import gradient_checking as samples

pytestmark = pytest.mark.week1

SOURCE = REPO / "source" / "gradient_checking" / "gradient_checking.ipynb"


@pytest.fixture(scope="module")
def lesson():
    return run_lesson(SOURCE)


def test_the_check_passes_correct_backprop_and_flags_the_planted_bugs(lesson):
    assert lesson["correct backward pass"]["difference"] < 1e-7
    assert lesson["correct backward pass"]["verdict"] == "correct"
    assert lesson["backward pass with bugs"]["difference"] >= 1e-3
    assert lesson["backward pass with bugs"]["verdict"] == "bug"


def test_the_plot_points_at_the_arrays_with_bugs(lesson):
    assert sorted(lesson["worst arrays with bugs"]) == ["W2", "b1"]


def test_the_regularisation_term_belongs_in_the_checked_cost(lesson):
    assert lesson["J_reg against regularised gradients"]["verdict"] == "correct"
    assert lesson["J (no penalty) against regularised gradients"]["verdict"] == "bug"


def test_a_random_cost_fails_the_check_even_with_correct_gradients(lesson):
    assert lesson["random cost, correct gradients"]["verdict"] != "correct"


# -- visible checks ------------------------------------------------------------------------------

BASE = {"gradcheck": gradcheck}
REFERENCE = notebook_functions(SOURCE, BASE)


def run_checks(ns: dict, which: str) -> None:
    {"1d": lambda: checks.check_1d(ns["forward_propagation_1d"], ns["backward_propagation_1d"]),
     "gradcheck_1d": lambda: checks.check_gradient_check_1d(ns["gradient_check_1d"]),
     "gradcheck_n": lambda: checks.check_gradient_check_n(ns["gradient_check_n"]),
     "classify": lambda: checks.check_classify_difference(ns["classify_difference"]),
     "l2": lambda: checks.check_l2(ns["l2_penalty"], ns["l2_penalty_gradients"])}[which]()


CHECKS = ["1d", "gradcheck_1d", "gradcheck_n", "classify", "l2"]


@pytest.mark.parametrize("which", CHECKS)
def test_visible_check_passes_the_reference_and_a_different_correct_answer(which):
    run_checks(REFERENCE, which)
    run_checks(functions("\n".join(samples.ALTERNATIVE.values()), REFERENCE), which)


NO_COPY = '''
def gradient_check_n(J, parameters, gradients, epsilon=1e-7):
    theta, _ = gradcheck.dictionary_to_vector(parameters)
    grad = gradcheck.gradients_to_vector(gradients, like=parameters)
    gradapprox = np.zeros((theta.shape[0], 1))
    for i in range(theta.shape[0]):
        theta[i, 0] += epsilon          # nudges theta itself and never puts it back
        J_plus = J(gradcheck.vector_to_dictionary(theta, like=parameters))
        theta[i, 0] -= 2 * epsilon
        J_minus = J(gradcheck.vector_to_dictionary(theta, like=parameters))
        gradapprox[i, 0] = (J_plus - J_minus) / (2 * epsilon)
    return np.linalg.norm(grad - gradapprox) / (np.linalg.norm(grad) + np.linalg.norm(gradapprox)), gradapprox
'''
NO_NORMALISATION = '''
def gradient_check_n(J, parameters, gradients, epsilon=1e-7):
    theta, _ = gradcheck.dictionary_to_vector(parameters)
    grad = gradcheck.gradients_to_vector(gradients, like=parameters)
    gradapprox = np.zeros((theta.shape[0], 1))
    for i in range(theta.shape[0]):
        plus, minus = theta.copy(), theta.copy()
        plus[i, 0] += epsilon
        minus[i, 0] -= epsilon
        gradapprox[i, 0] = (J(gradcheck.vector_to_dictionary(plus, parameters))
                            - J(gradcheck.vector_to_dictionary(minus, parameters))) / (2 * epsilon)
    return np.linalg.norm(grad - gradapprox), gradapprox
'''
WRONG = [
    ("1d", "def forward_propagation_1d(x, theta):\n    return theta + x\n", "J = theta \\* x"),
    ("1d", "def backward_propagation_1d(x, theta):\n    return theta\n", "derivative of theta \\* x"),
    ("gradcheck_1d", samples.ONE_SIDED, "one-sided difference"),
    ("gradcheck_1d", "def gradient_check_1d(J, dJ, theta, epsilon=1e-7):\n"
                     "    g = (J(theta + epsilon) - J(theta - epsilon)) / (2 * epsilon)\n"
                     "    return g, np.linalg.norm(dJ(theta) - g)\n", "Check the norms"),
    ("gradcheck_n", NO_COPY, "theta was changed and not restored"),
    ("gradcheck_n", NO_NORMALISATION, "planted bugs the difference should be about"),
    ("classify", samples.INCLUSIVE_BOUNDARIES, "classify_difference\\(1e-07\\) returned 'correct'"),
    ("l2", samples.L2_WITHOUT_HALF, "lambd / \\(2 m\\)"),
    ("l2", "def l2_penalty_gradients(parameters, lambd, m):\n"
           "    return {f'dW{l}': lambd / m * parameters[f'W{l}'] for l in (1, 2)} | {'db1': 0}\n", "dW1 and dW2 only"),
]


@pytest.mark.parametrize("which, code, message", WRONG, ids=[f"{w}-{i}" for i, (w, _, _) in enumerate(WRONG)])
def test_visible_check_fails_a_wrong_answer_and_says_why(which, code, message):
    with pytest.raises(AssertionError, match=message):
        run_checks(functions(code, REFERENCE), which)
