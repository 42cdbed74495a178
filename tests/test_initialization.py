"""Week 1, Initialization: the notebook teaches its lesson, the checks teach, the grades are exact."""

import math

import pytest

from idnn.checks import initialization as checks

from .conftest import REPO, functions, notebook_functions, run_lesson
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
