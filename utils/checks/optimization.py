"""Visible checks for the Optimization assignment (week 2).

For every parameter array W (and b) with gradient dW, one step of each method is

    gradient descent   W -= learning_rate * dW
    momentum           v = beta * v + (1 - beta) * dW                    W -= learning_rate * v
    RMSprop            s = beta2 * s + (1 - beta2) * dW**2               W -= learning_rate * dW / (sqrt(s) + epsilon)
    Adam               v = beta1 * v + (1 - beta1) * dW                  v_hat = v / (1 - beta1**t)
                       s = beta2 * s + (1 - beta2) * dW**2               s_hat = s / (1 - beta2**t)
                       W -= learning_rate * v_hat / (sqrt(s_hat) + epsilon)          (t = 1 on the first step)

The checks run a few steps from fixed random states and compare with the stored results of the
same steps (data/optimization.json); when a result is wrong, they say which classic mistake gives
exactly that result (no bias correction, epsilon inside the square root, t counted from 0, biases
not updated, ...).
"""

import copy

import numpy as np

from . import compare, expected_values, passed
from .failures import visible_check
from .properties import problems_with

# The fixed inputs of the checks (the stored expected values are the results on exactly these).
GD_SEED, GD_LEARNING_RATE = 0, 0.1
MOMENTUM_SEED, MOMENTUM_SETTINGS, MOMENTUM_STEPS = 2, ((0.9, 0.01), (0.5, 0.1)), 3
RMSPROP_SEED, RMSPROP_BETA2, RMSPROP_LEARNING_RATE, RMSPROP_EPSILON, RMSPROP_STEPS = 3, 0.999, 0.01, 1e-8, 3
ADAM_SEED, ADAM_STEPS, ADAM_SETTINGS = 4, (1, 2, 3, 4), (0.01, 0.9, 0.999, 1e-8)  # learning_rate, beta1, beta2, eps
EWA_VALUES, EWA_BETA = (10.0, 12.0, 8.0, 11.0), 0.9
DECAY_EPOCHS = (1, 2, 9, 10, 11, 25)
# name, the arguments after (learning_rate0, epoch_num), the call as shown, the formula
DECAY_CASES = (
    ("inverse_decay", (1.0,), "inverse_decay(0.2, epoch_num, decay_rate=1)",
     "learning_rate0 / (1 + decay_rate * epoch_num)"),
    ("exponential_decay", (), "exponential_decay(0.2, epoch_num)", "learning_rate0 * 0.95**epoch_num"),
    ("inverse_sqrt_decay", (0.5,), "inverse_sqrt_decay(0.2, epoch_num, k=0.5)", "learning_rate0 * k / sqrt(epoch_num)"),
    ("staircase_decay", (1.0, 10), "staircase_decay(0.2, epoch_num, decay_rate=1, time_interval=10)",
     "learning_rate0 / (1 + decay_rate * floor(epoch_num / time_interval))"),
)
DECAY_LEARNING_RATE0 = 0.2
#: The tolerances of the optimisers' steps and of the decay schedules (tighter than compare.RTOL and ATOL).
STEP_RTOL, STEP_ATOL = 1e-6, 1e-10
DECAY_RTOL = 1e-9


def random_state(seed: int, layers_dims=(3, 4, 2), positive: bool = False):
    """Parameters, gradients and an optimiser state ({"dW1": ..., "db1": ...}) drawn from a fixed seed."""
    rng = np.random.default_rng(seed)
    parameters, grads, state = {}, {}, {}
    for l in range(1, len(layers_dims)):
        for name, shape in ((f"W{l}", (layers_dims[l], layers_dims[l - 1])), (f"b{l}", (layers_dims[l], 1))):
            parameters[name] = rng.standard_normal(shape)
            grads["d" + name] = rng.standard_normal(shape)
            state["d" + name] = rng.random(shape) * 0.1 if positive else rng.standard_normal(shape) * 0.1
    return parameters, grads, state


def rmsprop_start():
    """The RMSprop check's start: a random state with one tiny gradient where s is 0 (where epsilon's place matters)."""
    parameters, grads, s = random_state(RMSPROP_SEED, positive=True)
    grads["dW1"][0, 0] = 1e-5
    s["dW1"][0, 0] = 0.0
    return parameters, grads, s


def adam_start():
    """The Adam check's start: random parameters and gradients, one of them tiny."""
    parameters, grads, _ = random_state(ADAM_SEED)
    grads["dW1"][0, 0] = 1e-5
    return parameters, grads


def _expected(check: str):
    return expected_values("optimization", check)


def _explain(got: dict, expected: dict, what: str, mistakes: dict[str, dict], call: str) -> None:
    """Raise with the first difference, naming the mistake whose result `got` equals, if any."""
    problem = compare.dict_difference(got, expected, what, rtol=STEP_RTOL, atol=STEP_ATOL)
    if problem is None:
        return
    for mistake, result in mistakes.items():
        if compare.dict_difference(got, result, what, rtol=STEP_RTOL, atol=STEP_ATOL) is None:
            raise AssertionError(f"{call}: {problem}. Your result is what you get when {mistake}.")
    raise AssertionError(f"{call}: {problem}.")


@visible_check
def check_update_parameters_with_gd(update_parameters_with_gd) -> None:
    parameters, grads, _ = random_state(GD_SEED)
    data = _expected("gd")
    got = update_parameters_with_gd(copy.deepcopy(parameters), grads, GD_LEARNING_RATE)
    _explain(got, data["parameters"], "parameters", {
        "the biases are not updated (update every W[l] and b[l])": data["mistakes"]["only W"],
        "the gradient is added instead of subtracted (step downhill: W - learning_rate * dW)":
            data["mistakes"]["plus"],
    }, "update_parameters_with_gd")
    passed("update_parameters_with_gd")


@visible_check
def check_random_mini_batches(random_mini_batches) -> None:
    rng = np.random.default_rng(1)
    for m, size in ((148, 64), (128, 64), (30, 1), (30, 30), (7, 64)):
        X = rng.standard_normal((3, m))
        Y = (rng.random((1, m)) < 0.5).astype(np.int64)
        X_before = X.copy()
        batches = random_mini_batches(X, Y, size, 5)
        assert compare.equal(X, X_before), "random_mini_batches changed X; shuffle a copy (X[:, permutation])."
        problems = problems_with("mini_batches", batches, {"X": X, "Y": Y, "mini_batch_size": size})
        assert not problems, f"random_mini_batches(X with m = {m}, Y, mini_batch_size={size}): " + "; ".join(problems) + "."
    X, Y = rng.standard_normal((2, 100)), np.arange(100)[np.newaxis, :]
    same_seed = [random_mini_batches(X, Y, 64, 1)[0][1] for _ in range(2)]
    assert compare.equal(*same_seed), "The same seed gave two different orders: shuffle with the seed you are given."
    assert not compare.equal(same_seed[0], random_mini_batches(X, Y, 64, 2)[0][1]), (
        "Two different seeds gave the same order: shuffle with the seed you are given.")
    passed("random_mini_batches")


@visible_check
def check_exponentially_weighted_averages(exponentially_weighted_averages) -> None:
    values = np.array(EWA_VALUES)
    data = _expected("ewa")
    raw, corrected = data["plain"], data["corrected"]
    got = np.asarray(exponentially_weighted_averages(values, EWA_BETA), dtype=np.float64)
    assert got.shape == values.shape, f"exponentially_weighted_averages should return one value per day, shape {values.shape}; got {got.shape}."
    if compare.close(got, corrected):
        raise AssertionError("exponentially_weighted_averages(values, 0.9) returned the bias-corrected averages; "
                             "with bias_correction=False return v_t itself.")
    assert compare.close(got, raw), (
        f"exponentially_weighted_averages([10, 12, 8, 11], 0.9) should be {list(np.round(raw, 4))} (v_0 = 0, "
        f"v_t = beta * v_(t-1) + (1 - beta) * theta_t); got {list(np.round(got, 4))}.")
    got = np.asarray(exponentially_weighted_averages(values, EWA_BETA, bias_correction=True), dtype=np.float64)
    hint = (" Count t from 1: the first average is divided by 1 - beta."
            if got.shape == values.shape and compare.close(got[1:], data["mistakes"]["t from 0, after the first"])
            else "")
    assert compare.close(got, corrected), (
        f"With bias_correction=True the averages should be v_t / (1 - beta**t) = {list(np.round(corrected, 4))}; "
        f"got {list(np.round(got, 4))}.{hint}")
    passed("exponentially_weighted_averages")


@visible_check
def check_momentum(initialize_velocity, update_parameters_with_momentum) -> None:
    parameters, grads, v = random_state(MOMENTUM_SEED)
    data = _expected("momentum")
    zeros = initialize_velocity(copy.deepcopy(parameters))
    _explain(zeros, data["initialize"], "initialize_velocity(parameters)", {}, "initialize_velocity")
    for (beta, learning_rate), run in zip(MOMENTUM_SETTINGS, data["runs"]):
        state = (copy.deepcopy(parameters), copy.deepcopy(v))
        for step, expected in enumerate(run):
            result = update_parameters_with_momentum(copy.deepcopy(state[0]), grads, copy.deepcopy(state[1]),
                                                     beta, learning_rate)
            assert isinstance(result, tuple) and len(result) == 2, "update_parameters_with_momentum returns (parameters, v)."
            call = f"update_parameters_with_momentum (beta={beta}, learning_rate={learning_rate}, step {step + 1})"
            mistakes = expected["mistakes"]
            _explain(result[1], expected["v"], "v", {
                "v is updated without the factor (1 - beta) on the gradient": mistakes["no (1 - beta)"][1],
                "the biases' velocities are not updated": mistakes["only W"][1]}, call)
            _explain(result[0], expected["parameters"], "parameters", {
                "the biases are not updated": mistakes["only W"][0],
                "the step uses the gradient instead of the velocity v": mistakes["gradient step"][0]}, call)
            state = (expected["parameters"], expected["v"])
    passed("initialize_velocity and update_parameters_with_momentum")


@visible_check
def check_rmsprop(initialize_rmsprop, update_parameters_with_rmsprop) -> None:
    parameters, grads, s = rmsprop_start()
    data = _expected("rmsprop")
    zeros = initialize_rmsprop(copy.deepcopy(parameters))
    _explain(zeros, data["initialize"], "initialize_rmsprop(parameters)", {}, "initialize_rmsprop")
    state = (copy.deepcopy(parameters), copy.deepcopy(s))
    for step, expected in enumerate(data["steps"]):
        result = update_parameters_with_rmsprop(copy.deepcopy(state[0]), grads, copy.deepcopy(state[1]),
                                                RMSPROP_BETA2, RMSPROP_LEARNING_RATE, RMSPROP_EPSILON)
        assert isinstance(result, tuple) and len(result) == 2, "update_parameters_with_rmsprop returns (parameters, s)."
        call = f"update_parameters_with_rmsprop (beta2=0.999, learning_rate=0.01, step {step + 1})"
        mistakes = expected["mistakes"]
        _explain(result[1], expected["s"], "s", {"the gradient is not squared in s": mistakes["not squared"][1],
                                                 "the biases' s are not updated": mistakes["only W"][1]}, call)
        _explain(result[0], expected["parameters"], "parameters", {
            "epsilon is inside the square root (it belongs outside: sqrt(s) + epsilon)": mistakes["epsilon inside"][0],
            "the biases are not updated": mistakes["only W"][0]}, call)
        state = (expected["parameters"], expected["s"])
    passed("initialize_rmsprop and update_parameters_with_rmsprop")


@visible_check
def check_adam(initialize_adam, update_parameters_with_adam) -> None:
    parameters, grads = adam_start()
    data = _expected("adam")
    result = initialize_adam(copy.deepcopy(parameters))
    assert isinstance(result, tuple) and len(result) == 2, "initialize_adam returns (v, s)."
    zeros_v, zeros_s = data["initialize"]
    _explain(result[0], zeros_v, "v from initialize_adam", {}, "initialize_adam")
    _explain(result[1], zeros_s, "s from initialize_adam", {}, "initialize_adam")
    # The first step from v = s = 0 moves every parameter by about learning_rate, against its gradient.
    learning_rate, beta1, beta2, epsilon = ADAM_SETTINGS
    state = (copy.deepcopy(parameters), zeros_v, zeros_s)
    for t, expected in zip(ADAM_STEPS, data["steps"]):
        with np.errstate(divide="ignore", invalid="ignore"):
            result = update_parameters_with_adam(copy.deepcopy(state[0]), grads, copy.deepcopy(state[1]),
                                                 copy.deepcopy(state[2]), t, learning_rate, beta1, beta2, epsilon)
        assert isinstance(result, tuple) and len(result) == 3, (
            "update_parameters_with_adam returns (parameters, v, s): the bias-corrected averages are only used "
            "inside the step, not returned.")
        call = f"update_parameters_with_adam (t={t}, learning_rate=0.01, beta1=0.9, beta2=0.999)"
        mistakes = expected["mistakes"]
        _explain(result[1], expected["v"], "v", {"the biases' v are not updated": mistakes["only W"][1]}, call)
        _explain(result[2], expected["s"], "s", {"the biases' s are not updated": mistakes["only W"][2]}, call)
        _explain(result[0], expected["parameters"], "parameters", {
            "the averages are not bias-corrected (divide v by 1 - beta1**t and s by 1 - beta2**t)":
                mistakes["no bias correction"][0],
            "t is counted from 0 in the bias correction (the first step is t = 1)": mistakes["t from 0"][0],
            "epsilon is inside the square root (it belongs outside: sqrt(s_hat) + epsilon)": mistakes["epsilon inside"][0],
            "the biases are not updated": mistakes["only W"][0]}, call)
        state = (expected["parameters"], expected["v"], expected["s"])
    passed("initialize_adam and update_parameters_with_adam")


@visible_check
def check_decay(inverse_decay, exponential_decay, inverse_sqrt_decay, staircase_decay) -> None:
    schedules = {"inverse_decay": inverse_decay, "exponential_decay": exponential_decay,
                 "inverse_sqrt_decay": inverse_sqrt_decay, "staircase_decay": staircase_decay}
    data = _expected("decay")
    for name, arguments, call, formula in DECAY_CASES:
        for epoch_num, expected in zip(DECAY_EPOCHS, data[name]):
            got = schedules[name](DECAY_LEARNING_RATE0, epoch_num, *arguments)
            assert compare.close(got, expected, rtol=DECAY_RTOL), (
                f"{call} at epoch_num = {epoch_num} returned {got!r}; expected {expected:.6g} = {formula}.")
    passed("inverse_decay, exponential_decay, inverse_sqrt_decay and staircase_decay")
