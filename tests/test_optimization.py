"""Week 2, Optimization: the notebook teaches its lesson, and every visible check fails a wrong answer."""

import pytest

from idnn import nets
from idnn.checks import optimization as checks

from .conftest import REPO, functions, notebook_functions, run_lesson
from .samples import optimization as samples

pytestmark = pytest.mark.week2

SOURCE = REPO / "source" / "optimization" / "optimization.ipynb"


@pytest.fixture(scope="module")
def lesson():
    return run_lesson(SOURCE)


# The figures below are those the notebook's "Expected results" cells state: keep the two in step.

def test_the_data_are_two_balanced_sets_of_300(lesson):
    data = lesson["data"]
    assert data["train_X"] == [2, 300] and data["test_X"] == [2, 300]
    assert data["fraction of y = 1"] == [0.5, 0.5]


def test_batch_sizes_reach_the_same_cost_with_fewer_epochs_and_more_noise(lesson):
    runs = lesson["batch sizes"]
    batch, mini_batch, stochastic = runs["batch (300)"], runs["mini-batch (64)"], runs["stochastic (1)"]
    assert [batch["epochs"], mini_batch["epochs"], stochastic["epochs"]] == [300, 60, 1]
    for run in runs.values():
        assert 0.40 <= run["cost"] <= 0.43
    assert batch["spread"] < 0.01
    assert 0.03 <= mini_batch["spread"] <= 0.08
    assert 0.2 <= stochastic["spread"] <= 0.4


def test_a_larger_beta_smooths_more_and_bias_correction_fixes_the_start(lesson):
    change = lesson["averages"]["daily change"]
    assert 3.0 <= change["data"] <= 3.2
    assert 1.3 <= change["0.5"] <= 1.5
    assert 0.25 <= change["0.9"] <= 0.35
    assert 0.08 <= change["0.98"] <= 0.12
    day_10 = lesson["averages"]["day 10"]
    assert 0.15 <= day_10["uncorrected"] <= 0.25
    assert 1.0 <= day_10["corrected"] <= 1.2


def test_on_the_narrow_valley_momentum_beats_gd_and_adaptive_methods_beat_both(lesson):
    final = lesson["valley final cost"]
    assert 0.05 <= final["gradient descent"] <= 0.10
    assert 0.005 <= final["momentum"] <= 0.015
    assert max(final["RMSprop"], final["Adam"]) < 0.001


def test_adam_first_steps_are_the_learning_rate_and_rmsprop_first_step_is_31_times_it(lesson):
    steps = lesson["valley first steps"]  # |change of (w1, w2)| / learning_rate, for the first three steps
    for along_w1, along_w2 in steps["Adam"]:
        assert 0.97 <= along_w1 <= 1.0 and 0.97 <= along_w2 <= 1.0
    (first_w1, first_w2), (second_w1, _), (third_w1, _) = steps["RMSprop"]
    assert 31 <= first_w1 <= 32 and 31 <= first_w2 <= 32  # 1 / sqrt(1 - 0.999) = 31.6
    assert 19 <= second_w1 <= 22
    assert 14.5 <= third_w1 <= 16.5


def test_with_a_small_learning_rate_rmsprop_and_adam_win_and_gd_and_momentum_lag(lesson):
    runs = lesson["moons, learning rate 0.0007"]
    assert runs["momentum"]["train_accuracy"] <= runs["gradient descent"]["train_accuracy"]  # "no better"
    for slow in ("gradient descent", "momentum"):
        assert 0.80 <= runs[slow]["train_accuracy"] <= 0.87
        assert 0.84 <= runs[slow]["test_accuracy"] <= 0.90
        assert 0.45 <= runs[slow]["costs"][-1] <= 0.52
    for adaptive in ("RMSprop", "Adam"):
        assert 0.96 <= runs[adaptive]["train_accuracy"] <= 0.99
        assert 0.95 <= runs[adaptive]["test_accuracy"] <= 0.99
        assert 0.06 <= runs[adaptive]["costs"][-1] <= 0.10
    # costs[1] is the mean cost of epoch 50: RMSprop, without bias correction, is ahead early
    assert 0.40 <= runs["RMSprop"]["costs"][1] <= 0.47
    assert 0.60 <= runs["Adam"]["costs"][1] <= 0.68


def test_the_schedules_plot_shows_each_formula_at_epoch_100(lesson):
    rates = lesson["schedules at epoch 100"]
    assert round(rates["inverse, decay_rate 0.1"], 3) == 0.018  # 0.2 / 11
    assert round(rates["exponential, base 0.95"], 4) == 0.0012  # 0.2 * 0.95**100
    assert round(rates["k / sqrt(epoch_num), k = 1"], 3) == 0.020  # 0.2 / 10
    assert round(rates["staircase, decay_rate 1, every 20 epochs"], 3) == 0.033  # 0.2 / 6


def test_the_constant_rate_control_does_as_well_as_the_staircase_decay(lesson):
    runs = lesson["moons, decay"]
    constant, decayed = runs["gradient descent, constant 0.1"], runs["gradient descent, staircase from 0.1"]
    for run in runs.values():
        assert 0.96 <= run["train_accuracy"] <= 0.99
    for run in (constant, decayed):
        assert 0.95 <= run["test_accuracy"] <= 0.99
        assert 0.06 <= run["costs"][-1] <= 0.08
    assert abs(constant["train_accuracy"] - decayed["train_accuracy"]) <= 0.01
    # the same run until the staircase's first step, at epoch 400 (costs[k] is epoch 50 k), and close after it
    assert constant["costs"][:8] == decayed["costs"][:8]
    assert max(abs(a - b) for a, b in zip(constant["costs"], decayed["costs"])) < 0.01
    assert decayed["costs"][-1] > constant["costs"][-1]  # its late steps are smaller
    # the starting rate is what lifted gradient descent from section 9's run
    slow = lesson["moons, learning rate 0.0007"]["gradient descent"]
    assert constant["train_accuracy"] >= slow["train_accuracy"] + 0.10


def test_adam_crosses_the_saddle_plateau_sooner_than_gd(lesson):
    escape = lesson["saddle escape step"]
    assert 40 <= escape["Adam"] <= 60
    assert 200 <= escape["gradient descent"] <= 260


# -- visible checks ------------------------------------------------------------------------------

BASE = {"nets": nets}
REFERENCE = notebook_functions(SOURCE, BASE)

CHECKS = {
    "gd": lambda ns: checks.check_update_parameters_with_gd(ns["update_parameters_with_gd"]),
    "mini_batches": lambda ns: checks.check_random_mini_batches(ns["random_mini_batches"]),
    "ewa": lambda ns: checks.check_exponentially_weighted_averages(ns["exponentially_weighted_averages"]),
    "momentum": lambda ns: checks.check_momentum(ns["initialize_velocity"], ns["update_parameters_with_momentum"]),
    "rmsprop": lambda ns: checks.check_rmsprop(ns["initialize_rmsprop"], ns["update_parameters_with_rmsprop"]),
    "adam": lambda ns: checks.check_adam(ns["initialize_adam"], ns["update_parameters_with_adam"]),
    "decay": lambda ns: checks.check_decay(ns["inverse_decay"], ns["exponential_decay"], ns["inverse_sqrt_decay"],
                                           ns["staircase_decay"]),
}


@pytest.mark.parametrize("which", CHECKS)
def test_visible_check_passes_the_reference_and_a_different_correct_answer(which):
    CHECKS[which](REFERENCE)
    CHECKS[which](functions("\n".join(samples.ALTERNATIVE.values()), REFERENCE))


GD_ONLY_W = '''
def update_parameters_with_gd(parameters, grads, learning_rate):
    for l in range(1, nets.num_layers(parameters) + 1):
        parameters[f"W{l}"] = parameters[f"W{l}"] - learning_rate * grads[f"dW{l}"]
    return parameters
'''
GD_UPHILL = GD_ONLY_W.replace("- learning_rate", "+ learning_rate").replace(
    "        parameters[f\"W{l}\"] = ", "        parameters[f\"b{l}\"] = parameters[f\"b{l}\"] + learning_rate * grads[f\"db{l}\"]\n"
    "        parameters[f\"W{l}\"] = ")
LABELS_NOT_SHUFFLED = '''
def random_mini_batches(X, Y, mini_batch_size=64, seed=0):
    order = np.random.default_rng(seed).permutation(X.shape[1])
    X = X[:, order]
    return [(X[:, k:k + mini_batch_size], Y[:, k:k + mini_batch_size]) for k in range(0, X.shape[1], mini_batch_size)]
'''
IGNORES_SEED = '''
def random_mini_batches(X, Y, mini_batch_size=64, seed=0):
    order = np.random.permutation(X.shape[1])
    X, Y = X[:, order], Y[:, order]
    return [(X[:, k:k + mini_batch_size], Y[:, k:k + mini_batch_size]) for k in range(0, X.shape[1], mini_batch_size)]
'''
EWA_ALWAYS_CORRECTED = '''
def exponentially_weighted_averages(values, beta, bias_correction=False):
    v, out = 0.0, []
    for t, theta in enumerate(values, start=1):
        v = beta * v + (1 - beta) * theta
        out.append(v / (1 - beta ** t))
    return np.array(out)
'''
EWA_T_FROM_ZERO = '''
def exponentially_weighted_averages(values, beta, bias_correction=False):
    v, out = 0.0, []
    for t, theta in enumerate(values):
        v = beta * v + (1 - beta) * theta
        out.append(v / (1 - beta ** t) if bias_correction else v)
    return np.array(out)
'''
MOMENTUM_GRADIENT_STEP = samples.MOMENTUM_WITHOUT_ONE_MINUS_BETA.replace(
    'beta * v["d" + key] + grads["d" + key]', 'beta * v["d" + key] + (1 - beta) * grads["d" + key]').replace(
    'learning_rate * v["d" + key]', 'learning_rate * grads["d" + key]')
RMSPROP_NOT_SQUARED = samples.RMSPROP_EPSILON_INSIDE.replace('grads["d" + key] ** 2', 'grads["d" + key]').replace(
    'np.sqrt(s["d" + key] + epsilon)', '(np.sqrt(np.abs(s["d" + key])) + epsilon)')
ADAM_EPSILON_INSIDE = samples.ADAM_ONLY_W.replace("[k for k in parameters if k[0] == 'W']", "parameters").replace(
    'np.sqrt(s["d" + key] / (1 - beta2 ** t)) + epsilon', 'np.sqrt(s["d" + key] / (1 - beta2 ** t) + epsilon)')
ADAM_RETURNS_CORRECTED = samples.ALTERNATIVE["adam"].replace("return new, v, s", "return new, v, s, v, s")
WRONG = [
    ("gd", GD_ONLY_W, "biases are not updated"),
    ("gd", GD_UPHILL, "added instead of subtracted"),
    ("mini_batches", samples.NO_SHUFFLE, "shuffle them"),
    ("mini_batches", LABELS_NOT_SHUFFLED, "not in X with that label"),
    ("mini_batches", samples.EMPTY_LAST_BATCH, "no empty last batch"),
    ("mini_batches", IGNORES_SEED, "same seed gave two different orders"),
    ("ewa", EWA_ALWAYS_CORRECTED, "returned the bias-corrected averages"),
    ("ewa", EWA_T_FROM_ZERO, "Count t from 1"),
    ("momentum", samples.MOMENTUM_WITHOUT_ONE_MINUS_BETA, "without the factor \\(1 - beta\\)"),
    ("momentum", MOMENTUM_GRADIENT_STEP, "uses the gradient instead of the velocity"),
    ("rmsprop", samples.RMSPROP_EPSILON_INSIDE, "epsilon is inside the square root"),
    ("rmsprop", RMSPROP_NOT_SQUARED, "not squared"),
    ("adam", samples.ADAM_WITHOUT_BIAS_CORRECTION, "not bias-corrected"),
    ("adam", samples.ADAM_T_FROM_ZERO, "t is counted from 0"),
    ("adam", samples.ADAM_ONLY_W, "biases' v are not updated"),
    ("adam", ADAM_EPSILON_INSIDE, "epsilon is inside the square root"),
    ("adam", ADAM_RETURNS_CORRECTED, "returns \\(parameters, v, s\\)"),
    ("decay", samples.STAIRCASE_WITHOUT_FLOOR, "floor\\(epoch_num / time_interval\\)"),
    ("decay", samples.STAIRCASE_WITHOUT_FLOOR.replace("base ** epoch_num", "base * epoch_num"), "0.95\\*\\*epoch_num"),
    ("decay", samples.STAIRCASE_WITHOUT_FLOOR.replace("k / np.sqrt(epoch_num)", "k / epoch_num"), "k / sqrt\\(epoch_num\\)"),
]


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")  # t counted from 0 divides by 1 - beta**0
@pytest.mark.parametrize("which, code, message", WRONG, ids=[f"{w}-{i}" for i, (w, _, _) in enumerate(WRONG)])
def test_visible_check_fails_a_wrong_answer_and_says_why(which, code, message):
    with pytest.raises(AssertionError, match=message):
        CHECKS[which](functions(code, REFERENCE))
