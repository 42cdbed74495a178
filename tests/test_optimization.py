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


def test_with_a_small_learning_rate_adam_wins_and_gd_and_momentum_lag(lesson):
    runs = lesson["moons, learning rate 0.0007"]
    assert runs["Adam"]["train_accuracy"] >= 0.90
    for slow in ("gradient descent", "momentum"):
        assert runs[slow]["train_accuracy"] <= runs["Adam"]["train_accuracy"] - 0.08


def test_a_staircase_decay_lets_gradient_descent_reach_90_percent(lesson):
    assert lesson["moons, staircase decay"]["gradient descent"]["train_accuracy"] >= 0.90
    assert lesson["moons, staircase decay"]["gradient descent"]["test_accuracy"] >= 0.90


def test_on_the_narrow_valley_momentum_beats_gd_and_adaptive_methods_beat_both(lesson):
    final = lesson["valley final cost"]
    assert final["momentum"] < final["gradient descent"] / 4
    assert max(final["RMSprop"], final["Adam"]) < final["momentum"] / 4


def test_adam_crosses_the_saddle_plateau_sooner_than_gd(lesson):
    escape = lesson["saddle escape step"]
    assert escape["gradient descent"] >= 2 * escape["Adam"] > 0


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
