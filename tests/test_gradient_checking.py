"""Week 1, Gradient checking: the notebook teaches its lesson, and every visible check fails a wrong answer."""

import os
import warnings
from pathlib import Path

import numpy as np
import pytest

from idnn import gradcheck
from idnn import probe as probe_module
from idnn.autograde.reference import hidden_code, is_test_cell
from idnn.autograde.verdicts import judge
from idnn.checks import gradient_checking as checks

from .conftest import REPO, expected_results_cell, functions, notebook_functions, read_notebook, run_lesson
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


# -- the "Expected results" cells: each stated range holds for this run, and the cell still states it ------------

def expected_results(grade_id: str) -> str:
    """The text of one "Expected results" cell of the source notebook, on one line."""
    return " ".join(expected_results_cell(SOURCE, grade_id).split())


def test_expected_results_of_finding_the_bug(lesson):
    text = expected_results("find-bug-expected")
    assert 1e-9 <= lesson["correct backward pass"]["difference"] <= 1e-7 and "between $10^{-9}$ and $10^{-7}$" in text
    assert 0.1 <= lesson["backward pass with bugs"]["difference"] <= 0.3 and "gives 0.1 to 0.3" in text
    assert sorted(lesson["worst arrays with bugs"]) == ["W2", "b1"] and "are `b1` and `W2`" in text


def test_expected_results_of_the_epsilon_sweep(lesson):
    """A correct backward pass: below 1e-7 only for epsilon from 1e-8 to 1e-4; round-off below, truncation above."""
    text = expected_results("epsilon-expected")
    sweep = {float(epsilon): difference for epsilon, difference in lesson["epsilon sweep"].items()}
    assert {epsilon for epsilon, d in sweep.items() if d < 1e-7} == {1e-4, 1e-5, 1e-6, 1e-7, 1e-8}
    assert "below $10^{-7}$, for $\\varepsilon$ from $10^{-8}$ to $10^{-4}$" in text
    assert 1e-11 <= sweep[1e-4] <= 1e-10 and "as low as $10^{-11}$ to $10^{-10}$" in text
    for small, large in [(1e-9, 1e-8), (1e-10, 1e-9), (1e-11, 1e-10), (1e-12, 1e-11)]:
        assert 5 <= sweep[small] / sweep[large] <= 20  # about ten times larger for each tenfold smaller epsilon
    assert 1e-6 <= sweep[1e-10] <= 1e-5 and "$10^{-6}$ to $10^{-5}$ at $\\varepsilon = 10^{-10}$" in text
    assert 1e-4 <= sweep[1e-12] <= 1e-3 and "$10^{-4}$ to $10^{-3}$ at $\\varepsilon = 10^{-12}$" in text
    assert 1e-5 <= sweep[1e-3] <= 1e-4 and "$10^{-5}$ to $10^{-4}$ at $\\varepsilon = 10^{-3}$" in text
    assert sweep[1e-2] >= 1e-3 and "above $10^{-3}$, a `bug` verdict, at $\\varepsilon = 10^{-2}$" in text


def test_expected_results_of_the_four_l2_pairings(lesson):
    """Both mismatches show (a false alarm, a true report); leaving the penalty out of both sides hides the bug."""
    text = expected_results("l2-expected")
    right = lesson["J_reg against regularised gradients"]
    false_alarm = lesson["J (no penalty) against regularised gradients"]
    true_report = lesson["J_reg against gradients without the penalty"]
    hidden = lesson["J (no penalty) against gradients without the penalty"]
    assert right["difference"] < 1e-7 and right["verdict"] == "correct"
    assert hidden["difference"] < 1e-7 and hidden["verdict"] == "correct"
    for mismatch in (false_alarm, true_report):
        assert 0.3 <= mismatch["difference"] <= 0.7 and mismatch["verdict"] == "bug"
    assert false_alarm["difference"] == pytest.approx(true_report["difference"], rel=1e-6)
    assert "0.3 to 0.7 each, `bug`" in text and text.count("below $10^{-7}$, `correct`") == 2


def test_expected_results_of_the_random_cost(lesson):
    difference = lesson["random cost, correct gradients"]["difference"]
    assert 0.9 <= difference <= 1 and "between 0.9 and 1, verdict `bug`" in expected_results("dropout-expected")


def test_the_prose_keeps_the_graded_thresholds():
    """The text may say more about the middle band, but the verdicts' thresholds are classify_difference's."""
    intro = " ".join(read_notebook(SOURCE).cells[0].source.split())
    assert "| below $10^{-7}$ | **correct** |" in intro and "| $10^{-3}$ and above | **bug** |" in intro
    assert intro.count("| **inspect** |") == 2
    assert [REFERENCE["classify_difference"](d) for d in (9.9e-8, 1e-7, 1e-5, 9.9e-4, 1e-3)] == \
        ["correct", "inspect", "inspect", "inspect", "bug"]


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
    ("gradcheck_1d", samples.GIVEN_DERIVATIVE_1D, "That is the derivative"),
    ("gradcheck_1d", samples.ALTERNATIVE["gradcheck_1d"].replace("epsilon=1e-7):", "epsilon=1e-7):\n    epsilon = 1e-7"),
     "That is the derivative"),
    ("gradcheck_n", NO_COPY, "theta was changed and not restored"),
    ("gradcheck_n", NO_NORMALISATION, "planted bugs the difference should be about"),
    ("gradcheck_n", samples.CLOSURE_GRADCHECK_N, "Yours is the gradient"),
    ("gradcheck_n", samples.ALTERNATIVE["gradcheck_n"].replace("epsilon=1e-7):", "epsilon=1e-7):\n    epsilon = 1e-7"),
     "Yours is the gradient"),
    ("gradcheck_n", samples.ALTERNATIVE["gradcheck_n"].replace("(costs[0] - costs[1]) / (2 * epsilon)",
                                                               "(costs[0] - costs[1]) / (2 * 1e-7)"),
     "divide by 2 \\* epsilon"),
    ("classify", samples.INCLUSIVE_BOUNDARIES, "classify_difference\\(1e-07\\) returned 'correct'"),
    ("l2", samples.L2_WITHOUT_HALF, "lambd / \\(2 m\\)"),
    ("l2", "def l2_penalty_gradients(parameters, lambd, m):\n"
           "    return {f'dW{l}': lambd / m * parameters[f'W{l}'] for l in (1, 2)} | {'db1': 0}\n", "dW1 and dW2 only"),
]


@pytest.mark.parametrize("which, code, message", WRONG, ids=[f"{w}-{i}" for i, (w, _, _) in enumerate(WRONG)])
def test_visible_check_fails_a_wrong_answer_and_says_why(which, code, message):
    with pytest.raises(AssertionError, match=message):
        run_checks(functions(code, REFERENCE), which)


# -- hidden checks: only a real two-sided difference passes ---------------------------------------------------------
# A gradient check that never evaluated J at theta +- epsilon earned full marks: the hidden checks gave it the network's
# cost, whose X and Y it could read from the closure and hand to the given backward pass. They now also give it a cost
# that is no network's, gradients with a planted bug, and a wide epsilon, at which the two-sided difference
#     gradapprox = (J(theta + epsilon) - J(theta - epsilon)) / (2 epsilon) = dJ/dtheta + epsilon**2 / 6 * J''' + ...
# is measurably not the derivative: whatever way an answer finds the exact gradient, it does not match.

def hidden_code_of(grade_id: str, source: Path = SOURCE) -> str:
    cell = next(c for c in read_notebook(source).cells if is_test_cell(c) and c.metadata.nbgrader.grade_id == grade_id)
    return hidden_code(cell.source)


class HiddenCheck:
    """The hidden checks of one test cell, judged as the grader judges them.

    The reference run is the grader's: the hidden code in reference mode over the source notebook's definitions. The
    student's run is the kernel's: the same hidden code over the answers' definitions, the probe saving to a results
    folder. idnn.autograde.verdicts.judge compares the two, for the same grading seed.
    """

    def __init__(self, grade_id: str, results: Path, source: Path = SOURCE):
        self.code = compile(hidden_code_of(grade_id, source), f"hidden:{grade_id}", "exec")
        self.solution = notebook_functions(source, BASE)
        self.results = results

    def reference(self, seed: int) -> list:
        probes = []
        with probe_module.reference_session(seed, probes.append):
            exec(self.code, dict(self.solution))
        return probes

    def verdict(self, answers: str, seed: int, reference: list | None = None):
        """The verdict on a submission whose answer cells hold `answers` (the solution's, for the other functions)."""
        for stale in self.results.iterdir():
            stale.unlink()
        saved = {key: os.environ.get(key) for key in (probe_module.PROBE_DIR_ENV, probe_module.PROBE_SEED_ENV)}
        os.environ.update({probe_module.PROBE_DIR_ENV: str(self.results), probe_module.PROBE_SEED_ENV: str(seed)})
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # wrong answers may divide 0 by 0
                exec(self.code, functions(answers, self.solution))
        finally:
            for key, value in saved.items():
                os.environ.pop(key) if value is None else os.environ.__setitem__(key, value)
        return judge(self.reference(seed) if reference is None else reference, self.results)


@pytest.fixture
def results_folder(tmp_path) -> Path:
    folder = tmp_path / "results"
    folder.mkdir(mode=0o700)  # the grader reads only a results folder of its own
    return folder


# Honest answers, spelt otherwise. Each uses the epsilon it is given; two default to another epsilon (the hidden checks
# pass theirs, so the default never counts).
HONEST_1D = {
    "alternative": samples.ALTERNATIVE["gradcheck_1d"],
    "named nudges, abs for the norms, default epsilon 1e-5": '''
def gradient_check_1d(J, dJ, theta, epsilon=1e-5):
    theta_plus, theta_minus = theta + epsilon, theta - epsilon
    gradapprox = (J(theta_plus) - J(theta_minus)) / (2 * epsilon)
    grad = dJ(theta)
    return gradapprox, abs(grad - gradapprox) / (abs(grad) + abs(gradapprox))
''',
}
HONEST_N = {
    "alternative (np.copy, a list of estimates, square roots of sums)": samples.ALTERNATIVE["gradcheck_n"],
    "nudges the arrays of copied dictionaries, default epsilon 1e-6": '''
def gradient_check_n(J, parameters, gradients, epsilon=1e-6):
    grad = gradcheck.gradients_to_vector(gradients, like=parameters)
    estimates = []
    for key in gradcheck.parameter_keys(parameters):  # the order of theta: W1, b1, W2, ..., each row by row
        for index in np.ndindex(parameters[key].shape):
            plus = {name: value.copy() for name, value in parameters.items()}
            minus = {name: value.copy() for name, value in parameters.items()}
            plus[key][index] += epsilon
            minus[key][index] -= epsilon
            estimates.append((J(plus) - J(minus)) / (2 * epsilon))
    gradapprox = np.array(estimates).reshape(-1, 1)
    return np.linalg.norm(grad - gradapprox) / (np.linalg.norm(grad) + np.linalg.norm(gradapprox)), gradapprox
''',
    "nudges theta itself and puts the saved entry back": '''
def gradient_check_n(J, parameters, gradients, epsilon=1e-7):
    theta, _ = gradcheck.dictionary_to_vector(parameters)
    grad = gradcheck.gradients_to_vector(gradients, like=parameters)
    gradapprox = np.zeros_like(theta)
    for i in range(theta.shape[0]):
        saved = theta[i, 0]
        theta[i, 0] = saved + epsilon
        J_plus = J(gradcheck.vector_to_dictionary(theta, like=parameters))
        theta[i, 0] = saved - epsilon
        J_minus = J(gradcheck.vector_to_dictionary(theta, like=parameters))
        theta[i, 0] = saved
        gradapprox[i, 0] = (J_plus - J_minus) / (2 * epsilon)
    norm = np.linalg.norm
    return norm(grad - gradapprox) / (norm(grad) + norm(gradapprox)), gradapprox
''',
}
HONEST_SEEDS = range(300)


@pytest.mark.slow
@pytest.mark.grading
@pytest.mark.parametrize("grade_id, answers", [("test_gradcheck_1d", HONEST_1D), ("test_gradcheck_n", HONEST_N)],
                         ids=["1d", "n"])
def test_honest_gradient_checks_pass_the_hidden_checks_at_every_seed(grade_id, answers, results_folder):
    check = HiddenCheck(grade_id, results_folder)
    failed = []
    for seed in HONEST_SEEDS:
        reference = check.reference(seed)
        for name, code in answers.items():
            verdict = check.verdict(code, seed, reference)
            if not verdict.passed:
                failed.append(f"{name}, seed {seed}: {verdict.problems[:2]}")
    assert not failed, f"{len(failed)} honest verdicts failed: {failed[:5]}"


# A reader of the hidden code: it knows the N-D check's second cost, J = sum_j c_j cos(a_j . theta + phi_j), reads its
# amplitudes, directions and phases from the closures, and returns its exact gradient; on a network's cost it does what
# the closure_gradcheck sample does.
WAVE_READER = samples.CLOSURE_GRADCHECK_N.replace("def gradient_check_n(", "def _network_gradient_check_n(") + '''
def gradient_check_n(J, parameters, gradients, epsilon=1e-7):
    held = _reachable(J)
    if not {"a", "c", "phi"} <= set(held):
        return _network_gradient_check_n(J, parameters, gradients, epsilon)
    theta, _ = gradcheck.dictionary_to_vector(parameters)
    a, c, phi = held["a"], held["c"], held["phi"]
    gradapprox = -np.sum(c * np.sin(np.sum(a * theta.T, axis=1, keepdims=True) + phi) * a, axis=0).reshape(-1, 1)
    grad = gradcheck.gradients_to_vector(gradients, like=parameters)
    return np.linalg.norm(grad - gradapprox) / (np.linalg.norm(grad) + np.linalg.norm(gradapprox)), gradapprox
'''
ONE_SIDED_N = '''
def gradient_check_n(J, parameters, gradients, epsilon=1e-7):
    theta, _ = gradcheck.dictionary_to_vector(parameters)
    grad = gradcheck.gradients_to_vector(gradients, like=parameters)
    gradapprox = np.zeros_like(theta)
    for i in range(theta.shape[0]):
        plus = theta.copy()
        plus[i, 0] += epsilon
        gradapprox[i, 0] = (J(gradcheck.vector_to_dictionary(plus, parameters)) - J(parameters)) / epsilon
    return np.linalg.norm(grad - gradapprox) / (np.linalg.norm(grad) + np.linalg.norm(gradapprox)), gradapprox
'''
# Two-sided, but always with epsilon = 1e-7, whatever it is given.
IGNORES_EPSILON_1D = samples.ALTERNATIVE["gradcheck_1d"].replace("epsilon=1e-7):", "epsilon=1e-7):\n    epsilon = 1e-7")
IGNORES_EPSILON_N = samples.ALTERNATIVE["gradcheck_n"].replace("epsilon=1e-7):", "epsilon=1e-7):\n    epsilon = 1e-7")
NEVER_DIFFERENTIATE = [
    ("test_gradcheck_1d", "closure_gradcheck_1d sample", samples.CLOSURE_GRADCHECK_1D),
    ("test_gradcheck_1d", "given_gradients sample", samples.GIVEN_DERIVATIVE_1D),
    ("test_gradcheck_1d", "one-sided difference", samples.ONE_SIDED),
    ("test_gradcheck_1d", "epsilon ignored", IGNORES_EPSILON_1D),
    ("test_gradcheck_n", "closure_gradcheck sample", samples.CLOSURE_GRADCHECK_N),
    ("test_gradcheck_n", "given_gradients sample", samples.GIVEN_GRADIENTS_N),
    ("test_gradcheck_n", "reader of the hidden cost", WAVE_READER),
    ("test_gradcheck_n", "one-sided difference", ONE_SIDED_N),
    ("test_gradcheck_n", "epsilon ignored", IGNORES_EPSILON_N),
]
ATTACK_SEEDS = range(40)


@pytest.mark.slow
@pytest.mark.grading
@pytest.mark.parametrize("grade_id, name, answer", NEVER_DIFFERENTIATE, ids=[f"{g[5:]}-{n}" for g, n, _ in
                                                                            NEVER_DIFFERENTIATE])
def test_gradient_checks_that_do_not_compute_the_two_sided_difference_fail_the_hidden_checks(grade_id, name, answer,
                                                                                             results_folder):
    check = HiddenCheck(grade_id, results_folder)
    passed = [seed for seed in ATTACK_SEEDS if check.verdict(answer, seed).passed]
    assert not passed, f"{name} passes the hidden checks of {grade_id} at seeds {passed}"


@pytest.mark.grading
def test_the_n_d_check_plants_a_bug_at_every_seed():
    """Each case's gradients with a bug differ from the good ones (a bug drawn per key could leave none)."""
    code = hidden_code_of("test_gradcheck_n")
    seen = []

    def gradient_check_n(J, parameters, gradients, epsilon=1e-7):
        seen.append(gradcheck.gradients_to_vector(gradients, like=parameters))
        return 0.0, np.zeros((1, 1))  # only what the hidden checks give matters here

    for seed in range(50):
        seen.clear()
        with probe_module.reference_session(seed, lambda probe: None):
            exec(code, {**REFERENCE, "gradient_check_n": gradient_check_n})
        good_and_bad = [(seen[i], seen[i + 1]) for i in (0, 2, 4, 7)]  # network, network, wave, wave
        assert all(not np.allclose(good, bad) for good, bad in good_and_bad), seed
