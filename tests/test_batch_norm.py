"""Week 3, Batch normalization: the notebook teaches its lesson, and every visible check fails a wrong answer."""

import math

import pytest

from idnn import nets
from idnn.checks import batch_norm as checks

from .conftest import REPO, functions, notebook_functions, run_lesson
from .samples import batch_norm as samples

pytestmark = pytest.mark.week3

SOURCE = REPO / "source" / "batch_norm" / "batch_norm.ipynb"


@pytest.fixture(scope="module")
def lesson():
    return run_lesson(SOURCE)


def test_the_forward_pass_gives_every_unit_mean_beta_and_spread_gamma_and_eps_shows_where_a_unit_barely_varies(
        lesson):
    # The ranges of the expected results after the forward-pass demonstration.
    forward = lesson["forward pass"]
    assert max(abs(mean) for mean in forward["Z_norm mean"]) < 1e-12
    std = forward["Z_norm std"]
    assert 0.9990 <= std[0] <= 0.9996 and std[0] == pytest.approx(0.9994, abs=0.00005)  # sqrt(var / (var + eps))
    assert std[1:] == pytest.approx([1, 1], abs=1e-4)
    assert forward["Z_tilde mean"] == pytest.approx([1, 0, -3], abs=0.001)
    assert forward["Z_tilde std"] == pytest.approx([2, 0.5, 1], abs=0.002)
    assert forward["Z_tilde std"][0] == pytest.approx(1.999, abs=0.0005)
    assert forward["largest difference when undone"] < 1e-12


def test_a_bias_before_batch_norm_changes_nothing_and_gets_no_gradient(lesson):
    assert lesson["bias"]["largest change of Z_tilde"] < 1e-10
    assert lesson["bias"]["largest |db|"] < 1e-10


def test_with_batch_norm_the_deep_network_trains_faster(lesson):
    after_100 = lesson["cost after 100 steps, learning rate 0.1"]
    assert 0.2 <= after_100["plain"] <= 0.35 and after_100["plain"] == pytest.approx(0.26, abs=0.005)
    assert 0.05 <= after_100["batch norm"] <= 0.1 and after_100["batch norm"] == pytest.approx(0.075, abs=0.0005)
    assert after_100["batch norm"] < after_100["plain"] / 2
    steps = lesson["steps to a cost below 0.1, learning rate 0.1"]
    assert steps["batch norm"] is not None and 40 <= steps["batch norm"] <= 90
    assert steps["plain"] is None or steps["plain"] >= 2 * steps["batch norm"]
    assert steps == {"plain": 290, "batch norm": 64}  # as the expected results quote them


def test_at_a_large_learning_rate_the_plain_network_diverges_and_the_batch_norm_one_trains(lesson):
    plain, batch_norm = lesson["learning rate 2.0"]["plain"], lesson["learning rate 2.0"]["batch norm"]
    # The plain network's cost blows up (or turns nan), and it ends no better than a coin toss.
    assert plain["largest cost"] > 5 * plain["first cost"] or math.isnan(plain["final cost"])
    assert math.isnan(plain["final cost"]) or plain["final cost"] > 0.6
    assert plain["train_accuracy"] <= 0.6
    assert plain["largest spread"] > 1e6
    # The same network with batch norm learns the moons at that rate, its activations' spread held near 1.
    assert batch_norm["final cost"] < 0.1
    assert batch_norm["train_accuracy"] >= 0.95
    assert batch_norm["largest cost"] <= 1.5 * batch_norm["first cost"]
    assert batch_norm["largest spread"] < 3
    # This run's figures, as the expected results quote them.
    assert plain["first cost"] == pytest.approx(0.80, abs=0.005) and plain["largest cost"] == pytest.approx(17, abs=0.5)
    assert plain["final cost"] == pytest.approx(0.693, abs=0.0005) and plain["train_accuracy"] == pytest.approx(0.5)
    assert 1e149 <= plain["largest spread"] < 1e151
    assert batch_norm["final cost"] == pytest.approx(0.018, abs=0.0005)
    assert batch_norm["train_accuracy"] == pytest.approx(0.99, abs=0.005)
    assert batch_norm["largest spread"] == pytest.approx(1.29, abs=0.005)


def test_both_networks_generalise_at_the_small_learning_rate(lesson):
    accuracy = lesson["test accuracy, learning rate 0.1"]
    for name in ("plain", "batch norm"):
        assert accuracy[name] >= 0.9, name
    assert accuracy["plain"] == pytest.approx(0.960, abs=0.0005)
    assert accuracy["batch norm"] == pytest.approx(0.947, abs=0.0005)


def test_batch_norm_keeps_every_hidden_unit_alive_and_every_layer_at_a_unit_spread(lesson):
    layers = lesson["hidden layers after training, learning rate 0.1"]
    assert layers["batch norm"]["dead units"] == [0, 0, 0, 0]
    assert sum(layers["plain"]["dead units"]) >= 1
    assert all(0.8 < std < 1.3 for std in layers["batch norm"]["std"])
    assert layers["plain"]["dead units"] == [0, 4, 3, 3]
    assert layers["batch norm"]["std"] == pytest.approx([1.00, 1.00, 1.00, 1.09], abs=0.005)


def test_at_test_time_running_averages_predict_one_example_at_a_time(lesson):
    one_at_a_time = lesson["test time, one example at a time"]
    assert one_at_a_time["running averages"] >= 0.9
    assert one_at_a_time["running averages"] == pytest.approx(0.947, abs=0.0005)
    assert one_at_a_time["the same predictions as all at once"]
    assert one_at_a_time["each example's own statistics"] <= 0.6
    assert one_at_a_time["each example's own statistics"] == pytest.approx(0.5)
    assert one_at_a_time["one prediction for every example"]


# -- visible checks ------------------------------------------------------------------------------

BASE = {"nets": nets}
REFERENCE = notebook_functions(SOURCE, BASE)

CHECKS = {
    "forward": lambda ns: checks.check_batchnorm_forward(ns["batchnorm_forward"]),
    "backward": lambda ns: checks.check_batchnorm_backward(ns["batchnorm_forward"], ns["batchnorm_backward"]),
    "running": lambda ns: checks.check_update_running_averages(ns["update_running_averages"]),
    "test_time": lambda ns: checks.check_batchnorm_forward_test(ns["batchnorm_forward_test"]),
}


@pytest.mark.parametrize("which", CHECKS)
def test_visible_check_passes_the_reference_and_a_different_correct_answer(which):
    CHECKS[which](REFERENCE)
    CHECKS[which](functions("\n".join(samples.ALTERNATIVE.values()), REFERENCE))


def test_the_backward_check_passes_a_correct_backward_pass_with_another_cache():
    # The reference's forward pass with the alternative's backward pass would not fit (the cache is each answer's
    # own); the alternative's pair passes (above), and so does a backward pass that recomputes from a bigger cache.
    namespace = functions(samples.FORWARD_UNBIASED_VARIANCE.replace(", ddof=1", "") +
                          samples.BACKWARD_UNBIASED_VARIANCE.replace("(m - 1)", "m"), REFERENCE)
    CHECKS["backward"](namespace)


FORWARD_AXIS_0 = '''
def batchnorm_forward(Z, gamma, beta, eps=1e-5):
    mu = np.mean(Z, axis=0, keepdims=True)
    var = np.var(Z, axis=0, keepdims=True)
    Z_norm = (Z - mu) / np.sqrt(var + eps)
    return gamma * Z_norm + beta, (Z_norm, gamma, np.sqrt(var + eps))
'''
FORWARD_AXIS_0_FIXED_MEAN = FORWARD_AXIS_0.replace("np.mean(Z, axis=0", "np.mean(Z, axis=1").replace(
    "np.var(Z, axis=0", "np.var(Z, axis=1")
FORWARD_EPS_OUTSIDE = FORWARD_AXIS_0_FIXED_MEAN.replace("np.sqrt(var + eps)", "(np.sqrt(var) + eps)")
FORWARD_NO_SQRT = FORWARD_AXIS_0_FIXED_MEAN.replace("np.sqrt(var + eps)", "(var + eps)")
FORWARD_NO_SCALE = FORWARD_AXIS_0_FIXED_MEAN.replace("return gamma * Z_norm + beta", "return Z_norm")
FORWARD_ONLY_Z_TILDE = FORWARD_AXIS_0_FIXED_MEAN.replace(
    "return gamma * Z_norm + beta, (Z_norm, gamma, np.sqrt(var + eps))", "return gamma * Z_norm + beta")
BACKWARD_NO_GAMMA = samples.BACKWARD_DGAMMA_WITHOUT_Z_NORM.replace(
    "dgamma = np.sum(dZ_tilde, axis=1, keepdims=True)", "dgamma = np.sum(dZ_tilde * Z_norm, axis=1, keepdims=True)"
).replace("dZ = gamma / (m * std)", "dZ = 1 / (m * std)")
BACKWARD_DGAMMA_WRONG_AXIS = samples.BACKWARD_DBETA_WRONG_AXIS.replace(
    "dbeta = np.sum(dZ_tilde, axis=0, keepdims=True)", "dbeta = np.sum(dZ_tilde, axis=1, keepdims=True)").replace(
    "dgamma = np.sum(dZ_tilde * Z_norm, axis=1, keepdims=True)",
    "dgamma = np.sum(dZ_tilde * Z_norm, axis=0, keepdims=True)").replace(
    "- Z_norm * dgamma", "- Z_norm * np.sum(dZ_tilde * Z_norm, axis=1, keepdims=True)")
BACKWARD_SIGN_SLIP = samples.BACKWARD_DGAMMA_WITHOUT_Z_NORM.replace(
    "dgamma = np.sum(dZ_tilde, axis=1, keepdims=True)", "dgamma = np.sum(dZ_tilde * Z_norm, axis=1, keepdims=True)"
).replace("m * dZ_tilde - dbeta", "m * dZ_tilde + dbeta")
RUNNING_BATCH_VALUES = '''
def update_running_averages(running_mean, running_var, mu, var, momentum=0.9):
    return mu, var
'''
RUNNING_ONLY_MEAN = samples.RUNNING_MOMENTUM_SWAPPED.replace(
    "(1 - momentum) * running_mean + momentum * mu", "momentum * running_mean + (1 - momentum) * mu").replace(
    "running_var = (1 - momentum) * running_var + momentum * var", "running_var = running_var")
TEST_EPS_OUTSIDE = '''
def batchnorm_forward_test(Z, gamma, beta, running_mean, running_var, eps=1e-5):
    return gamma * (Z - running_mean) / (np.sqrt(running_var) + eps) + beta
'''
TEST_NO_SQRT = TEST_EPS_OUTSIDE.replace("(np.sqrt(running_var) + eps)", "(running_var + eps)")

WRONG = [
    ("forward", FORWARD_AXIS_0, "over the m examples, axis=1, not over the units \\(axis 0\\)"),
    ("forward", samples.FORWARD_UNBIASED_VARIANCE, "divided by m - 1"),
    ("forward", FORWARD_EPS_OUTSIDE, "eps is added outside the square root"),
    ("forward", FORWARD_NO_SQRT, "divided by the variance instead of the standard deviation"),
    ("forward", FORWARD_NO_SCALE, "gamma and beta are not applied"),
    ("forward", FORWARD_ONLY_Z_TILDE, "should return a pair \\(Z_tilde, cache\\)"),
    ("backward", samples.BACKWARD_DGAMMA_WITHOUT_Z_NORM, "dgamma = sum over the examples of dZ_tilde \\* Z_norm"),
    ("backward", samples.BACKWARD_DBETA_WRONG_AXIS, "dbeta has shape \\(1, 5\\): it is summed over the units"),
    ("backward", BACKWARD_DGAMMA_WRONG_AXIS, "dgamma has shape \\(1, 5\\): it is summed over the units"),
    ("backward", samples.BACKWARD_MU_VAR_CONSTANT, "treats mu and var as constants"),
    ("backward", BACKWARD_NO_GAMMA, "leaves out the factor gamma"),
    ("backward", BACKWARD_SIGN_SLIP, "dZ differs from the numerical gradient"),
    # The unbiased variance in the forward pass: the gradients of that forward pass are not checked, its values are.
    ("backward", samples.FORWARD_UNBIASED_VARIANCE + samples.BACKWARD_UNBIASED_VARIANCE,
     "Fix batchnorm_forward first.*divided by m - 1"),
    # A correct forward pass with the m - 1 slip in the backward pass only.
    ("backward", samples.FORWARD_UNBIASED_VARIANCE.replace(", ddof=1", "") + samples.BACKWARD_UNBIASED_VARIANCE,
     "derivative of the variance is taken with m - 1"),
    ("running", samples.RUNNING_MOMENTUM_SWAPPED, "momentum weights the new batch value"),
    ("running", RUNNING_BATCH_VALUES, "batch values replace the averages"),
    ("running", RUNNING_ONLY_MEAN, "running_var: .* values differ"),
    ("test_time", samples.TEST_WITH_BATCH_STATISTICS, "the batch's own mean and variance are used"),
    ("test_time", TEST_EPS_OUTSIDE, "eps is added outside the square root"),
    ("test_time", TEST_NO_SQRT, "divided by the variance instead of the standard deviation"),
    # The cheats pass the visible checks (that is what they are built for); the hidden checks fail them.
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("which, code, message", WRONG, ids=[f"{w}-{i}" for i, (w, _, _) in enumerate(WRONG)])
def test_visible_check_fails_a_wrong_answer_and_says_why(which, code, message):
    with pytest.raises(AssertionError, match=message):
        CHECKS[which](functions(code, REFERENCE))


@pytest.mark.parametrize("which, cell, code", [
    ("running", "update_running_averages", samples.CHEAT_RUNNING_FROM_STORED_DATA),
    ("test_time", "batchnorm_forward_test", samples.CHEAT_TEST_TIME_GLOBAL)])
def test_the_cheats_pass_the_visible_checks_they_target(which, cell, code):
    CHECKS[which](functions(code, REFERENCE))


def test_the_visible_checks_hold_no_reference_gradient():
    """The backward check compares with numerical gradients only: its stored data holds the mistakes' results."""
    from idnn.checks import expected_values

    for case in expected_values("batch_norm", "backward"):
        assert sorted(case) == sorted(checks.BACKWARD_MISTAKES)
