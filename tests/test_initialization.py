"""Week 1, Initialization: the notebook teaches its lesson, the checks teach, the grades are exact."""

import math

import numpy as np
import pytest

from idnn.checks import initialization as checks

from .conftest import REPO, expected_results_cell, functions, notebook_functions, run_lesson
from .samples import initialization as samples

pytestmark = pytest.mark.week1

SOURCE = REPO / "source" / "initialization" / "initialization.ipynb"


@pytest.fixture(scope="module")
def lesson():
    return run_lesson(SOURCE)


def test_zeros_never_breaks_symmetry(lesson):
    zeros = lesson["zeros"]
    assert zeros["first_cost"] == pytest.approx(math.log(2), abs=1e-9)
    assert zeros["final_cost"] == pytest.approx(math.log(2), abs=1e-9)
    assert zeros["train_accuracy"] == 0.5 and zeros["test_accuracy"] == 0.5


def test_large_random_starts_huge_and_ends_worse_than_he(lesson):
    large, he = lesson["large random"], lesson["He"]
    assert large["first_cost"] > 10 * math.log(2)
    assert large["test_accuracy"] < he["test_accuracy"] - 0.05
    assert large["final_cost"] > 2 * he["final_cost"]


def test_he_reaches_ninety_percent(lesson):
    assert lesson["He"]["test_accuracy"] >= 0.90
    for name in ("Xavier", "Glorot"):
        assert lesson[name]["test_accuracy"] >= 0.90


def test_large_weights_give_large_first_gradients_not_tiny_ones(lesson):
    """The discussion's claim: the output saturates, but dZ[3] = Y_hat - Y is +-1 where it is confidently wrong."""
    large, he = lesson["large random"], lesson["He"]
    assert large["confidently_wrong"] == pytest.approx(0.5, abs=0.1)
    assert large["first_gradient"] > 100 * he["first_gradient"]
    assert large["cost_rises"] >= 1 and large["dead_units"] > he["dead_units"]
    for name in ("He", "Xavier", "Glorot"):  # "no example starts confidently wrong and the recorded cost falls"
        assert lesson[name]["confidently_wrong"] == 0 and lesson[name]["cost_rises"] == 0


# The ranges that the notebook's "Expected results" cells state, figure for figure: (figure, low, high, as written).
EXPECTED = {
    "large random": [("first_cost", 17, 17.5, "17 to 17.5"), ("final_cost", 0.3, 0.5, "0.3 to 0.5"),
                     ("test_accuracy", 0.75, 0.90, "75% to 90%"), ("first_gradient", 150, 200, "150 to 200"),
                     ("dead_units", 2, 5, "2 to 5"), ("confidently_wrong", 0.4, 0.6, "40% to 60%")],
    "He": [("first_cost", 0.8, 0.9, "0.8 to 0.9"), ("final_cost", 0.09, 0.12, "0.09 to 0.12"),
           ("test_accuracy", 0.92, 0.96, "92% to 96%"), ("first_gradient", 0.4, 0.6, "0.4 to 0.6"),
           ("dead_units", 0, 1, "0 or 1")],
    "Xavier": [("first_cost", 0.7, 0.75, "0.7 to 0.75"), ("final_cost", 0.1, 0.12, "0.1 to 0.12"),
               ("test_accuracy", 0.92, 0.96, "92% to 96%"), ("first_gradient", 0.1, 0.15, "0.1 to 0.15"),
               ("dead_units", 0, 1, "0 or 1")],
    "Glorot": [("first_cost", 0.7, 0.75, "0.7 to 0.75"), ("final_cost", 0.1, 0.12, "0.1 to 0.12"),
               ("test_accuracy", 0.92, 0.96, "92% to 96%"), ("first_gradient", 0.08, 0.12, "0.08 to 0.12"),
               ("dead_units", 0, 1, "0 or 1")],
}
EXPECTED_CASES = [(name, *figure) for name, figures in EXPECTED.items() for figure in figures]


def expected_results(grade_id: str) -> str:
    return expected_results_cell(SOURCE, grade_id)


@pytest.mark.parametrize("name, figure, low, high, written", EXPECTED_CASES,
                         ids=[f"{name}-{figure}" for name, figure, *_ in EXPECTED_CASES])
def test_the_expected_results_hold_for_this_run(lesson, name, figure, low, high, written):
    assert low <= lesson[name][figure] <= high, f"{name} {figure} = {lesson[name][figure]}, not {written}"
    if figure != "confidently_wrong":  # the table's rows; the share confidently wrong is in the sentence below it
        row = next(line for line in expected_results("train-expected").splitlines() if line.startswith(f"| {name} |"))
        assert f"| {written} |" in row, f"the notebook's Expected results no longer say {written} for {name} {figure}"
    else:
        assert f"({written})" in " ".join(expected_results("train-expected").split())


def test_the_discussion_quotes_this_run(lesson):
    large, he = lesson["large random"], lesson["He"]
    assert large["first_gradient"] == pytest.approx(176, rel=0.05) and he["first_gradient"] == pytest.approx(0.48, abs=0.02)
    assert large["dead_units"] == 3 and he["dead_units"] == 1
    assert large["final_cost"] == pytest.approx(0.39, abs=0.01) and he["final_cost"] == pytest.approx(0.10, abs=0.01)
    assert large["test_accuracy"] == pytest.approx(0.83) and he["test_accuracy"] == pytest.approx(0.94)
    assert all(lesson[name]["test_accuracy"] == pytest.approx(0.94) for name in ("Xavier", "Glorot"))


def test_zeros_matches_its_expected_row(lesson):
    row = next(line for line in expected_results("train-expected").splitlines() if line.startswith("| zeros |"))
    assert row.count(r"$\ln 2 \approx 0.693$") == 2 and "| 50% |" in row and "| all 15 |" in row
    assert lesson["zeros"]["first_gradient"] == 0 and lesson["zeros"]["dead_units"] == 15


def test_all_positive_weights_blow_up_a_deep_network_and_randn_does_not(lesson):
    """Section 10: the figures of its Expected results, for He (randn) and the rand slip at He's scale."""
    text = " ".join(expected_results("deep-expected").split())  # one line: the phrases do not depend on wrapping
    he, slip = lesson["deep"]["He (randn)"], lesson["deep"]["He with rand"]
    assert len(he["scales"]) == len(slip["scales"]) == 10 and "all 10 layers" in text
    assert all(0.5 <= scale <= 1 for scale in he["scales"]) and "between 0.5 and 1" in text
    assert he["first_cost"] == pytest.approx(0.7, abs=0.01) and "from about 0.7" in text
    assert 0.1 <= he["final_cost"] <= 0.2 and "to between 0.1 and 0.2" in text
    assert 0.90 <= he["test_accuracy"] <= 0.96 and "test accuracy of 90% to 96%" in text
    growth = [later / earlier for earlier, later in zip(slip["scales"], slip["scales"][1:])]
    assert all(2.5 <= factor <= 4 for factor in growth) and "factor of 2.5 to 4" in text
    assert slip["scales"][0] == pytest.approx(0.4, abs=0.1) and "about 0.4 in layer 1" in text
    assert slip["scales"][-1] == pytest.approx(9e3, rel=0.1) and "above $10^3$" in text
    assert 13 <= slip["first_cost"] <= 15 and "first cost is 13 to 15" in text
    # one step kills every ReLU unit: the cost is ln 2 from then on, as with zero weights
    assert slip["cost_after_one_step"] == pytest.approx(math.log(2), abs=1e-3)
    assert slip["final_cost"] == pytest.approx(math.log(2), abs=1e-6) and slip["test_accuracy"] == 0.5


@pytest.mark.slow
def test_the_rand_slip_goes_unnoticed_on_the_three_layer_network(lesson):
    """Section 10's opening claim: on the circles network the slip still trains, within a few points of He."""
    from idnn.data import load_circles

    def initialize_he_with_rand(layers_dims):
        parameters = REFERENCE["initialize_parameters_he"](layers_dims)
        return {key: np.random.rand(*value.shape) * np.sqrt(2 / value.shape[1]) if key.startswith("W") else value
                for key, value in parameters.items()}

    train_X, train_Y, test_X, test_Y = load_circles()
    parameters, _ = REFERENCE["model"](train_X, train_Y, initialize_he_with_rand, print_every=0)
    accuracy = REFERENCE["nets"].accuracy(test_X, test_Y, parameters)
    assert lesson["He"]["test_accuracy"] - 0.05 <= accuracy


# -- visible checks ------------------------------------------------------------------------------

REFERENCE = notebook_functions(SOURCE)

RANDOM_CHECKS = {
    "initialize_parameters_random": "10, large random",
    "initialize_parameters_he": "sqrt(2 / n_prev), He",
    "initialize_parameters_xavier": "sqrt(1 / n_prev), Xavier",
    "initialize_parameters_glorot": "sqrt(2 / (n_prev + n)), Glorot",
}


def run_check(name: str, fn) -> None:
    if name == "initialize_parameters_zeros":
        checks.check_initialize_parameters_zeros(fn)
    else:
        checks.check_random_initialization(fn, RANDOM_CHECKS[name])


@pytest.mark.parametrize("name", ["initialize_parameters_zeros", *RANDOM_CHECKS])
def test_visible_check_passes_the_reference(name):
    run_check(name, REFERENCE[name])


@pytest.mark.parametrize("name", ["initialize_parameters_zeros", *RANDOM_CHECKS])
def test_visible_check_passes_a_correct_answer_written_differently(name):
    cell = {"initialize_parameters_" + k.split("_")[1]: v for k, v in samples.ALTERNATIVE.items()}[name]
    with pytest.warns(UserWarning) if name.endswith("zeros") else _nothing():
        run_check(name, functions(cell)[name])


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _loop(name: str, body: str):
    return functions(samples._init(name, body))[name]


WRONG = {
    "initialize_parameters_zeros": [
        ("ones", 'parameters[f"W{l}"] = np.ones((layers_dims[l], layers_dims[l-1]))\n'
                 'parameters[f"b{l}"] = np.zeros((layers_dims[l], 1))', r"W1 has non-zero entries"),
        ("transposed", 'parameters[f"W{l}"] = np.zeros((layers_dims[l-1], layers_dims[l]))\n'
                       'parameters[f"b{l}"] = np.zeros((layers_dims[l], 1))', r"W1 has shape \(3, 2\) but should have shape \(2, 3\)"),
        ("integers", 'parameters[f"W{l}"] = np.zeros((layers_dims[l], layers_dims[l-1]), dtype=int)\n'
                     'parameters[f"b{l}"] = np.zeros((layers_dims[l], 1))', r"W1 has dtype int64"),
        ("one layer short", 'if l < len(layers_dims) - 1:\n'
                            '    parameters[f"W{l}"] = np.zeros((layers_dims[l], layers_dims[l-1]))\n'
                            '    parameters[f"b{l}"] = np.zeros((layers_dims[l], 1))', r"missing \['W2', 'b2'\]"),
        ("lists", 'parameters[f"W{l}"] = [[0.0] * layers_dims[l-1]] * layers_dims[l]\n'
                  'parameters[f"b{l}"] = np.zeros((layers_dims[l], 1))', r"W1 is a list; it must be a NumPy array"),
    ],
}
for _name, _scale in [("initialize_parameters_random", "10"),
                      ("initialize_parameters_he", "np.sqrt(2 / layers_dims[l-1])"),
                      ("initialize_parameters_xavier", "np.sqrt(1 / layers_dims[l-1])"),
                      ("initialize_parameters_glorot", "np.sqrt(2 / (layers_dims[l-1] + layers_dims[l]))")]:
    _bias = 'parameters[f"b{l}"] = np.zeros((layers_dims[l], 1))'
    WRONG[_name] = [
        ("rand not randn", f'parameters[f"W{{l}}"] = np.random.rand(layers_dims[l], layers_dims[l-1]) * {_scale}\n'
                           + _bias, r"mean .* should be about 0.*np.random.rand"),
        ("uniform around 0", f'parameters[f"W{{l}}"] = np.random.uniform(-1, 1, (layers_dims[l], layers_dims[l-1]))'
                             f' * {_scale} * 3 ** 0.5\n' + _bias, r"not normally distributed"),
        ("no scaling", 'parameters[f"W{l}"] = np.random.randn(layers_dims[l], layers_dims[l-1]) * 1.0\n' + _bias,
         r"standard deviation .*match a scale of 1, no scaling" if _scale != "10" else r"standard deviation"),
        ("biases random", f'parameters[f"W{{l}}"] = np.random.randn(layers_dims[l], layers_dims[l-1]) * {_scale}\n'
                          'parameters[f"b{l}"] = np.random.randn(layers_dims[l], 1)', r"b1 should be all zeros"),
        ("all zeros", 'parameters[f"W{l}"] = np.zeros((layers_dims[l], layers_dims[l-1]))\n' + _bias,
         r"W1 is all zeros"),
    ]
# Each fan-in formula in place of another is caught, and the message names the formula used.
WRONG["initialize_parameters_he"].append(("Xavier's scale", 'parameters[f"W{l}"] = np.random.randn(layers_dims[l], '
    'layers_dims[l-1]) * np.sqrt(1 / layers_dims[l-1])\n' + _bias, r"match a scale of sqrt\(1 / n_prev\), Xavier"))
WRONG["initialize_parameters_xavier"].append(("He's scale", 'parameters[f"W{l}"] = np.random.randn(layers_dims[l], '
    'layers_dims[l-1]) * np.sqrt(2 / layers_dims[l-1])\n' + _bias, r"match a scale of sqrt\(2 / n_prev\), He"))
WRONG["initialize_parameters_glorot"].append(("Xavier's scale", 'parameters[f"W{l}"] = np.random.randn(layers_dims[l],'
    ' layers_dims[l-1]) * np.sqrt(1 / layers_dims[l-1])\n' + _bias, r"match a scale of sqrt\(1 / n_prev\), Xavier"))
WRONG["initialize_parameters_he"].append(("missing sqrt", 'parameters[f"W{l}"] = np.random.randn(layers_dims[l], '
    'layers_dims[l-1]) * (2 / layers_dims[l-1])\n' + _bias, r"the square root is missing"))

WRONG_CASES = [(name, label, body, message) for name, cases in WRONG.items() for label, body, message in cases]


@pytest.mark.parametrize("name, label, body, message", WRONG_CASES, ids=[f"{n[22:]}-{l}" for n, l, _, _ in WRONG_CASES])
def test_visible_check_fails_a_wrong_answer_and_says_why(name, label, body, message):
    with pytest.raises(AssertionError, match=message):
        run_check(name, _loop(name, body))
