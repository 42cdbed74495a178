"""Visible checks for the Batch normalization assignment (week 3).

For one layer with Z: (n, m) (n units, m examples) and gamma, beta: (n, 1), training mode normalises each unit
with the statistics of the batch:

    mu = (1/m) sum_i Z[:, i]                 var = (1/m) sum_i (Z[:, i] - mu)**2          (both (n, 1))
    Z_norm = (Z - mu) / sqrt(var + eps)      Z_tilde = gamma * Z_norm + beta

At test time the statistics are running averages kept during training:

    running_mean = momentum * running_mean + (1 - momentum) * mu       (the same for running_var with var)
    Z_tilde = gamma * (Z - running_mean) / sqrt(running_var + eps) + beta

The forward, running-average and test-time checks compare with the stored results of fixed inputs
(data/batch_norm.json). The backward check compares the student's gradients with two-sided numerical
derivatives of the student's own forward pass, never with stored gradients. When a result is wrong, the checks
say which classic mistake gives exactly that result (the variance divided by m - 1, dgamma without Z_norm, a
backward pass that treats mu and var as constants, momentum on the wrong term, batch statistics at test time...).
"""

import copy

import numpy as np

from . import compare, expected_values, passed
from .failures import visible_check

EPS = 1e-5
#: The tolerance of the comparisons with stored values (tighter than compare.RTOL and ATOL).
RTOL, ATOL = 1e-7, 1e-10
#: The step of the two-sided differences, and the largest relative difference between a gradient and its
#: numerical estimate that is still round-off (a wrong gradient is off by 1e-2 or more on these inputs).
NUMERICAL_STEP = 1e-5
GRADIENT_TOLERANCE = 1e-6
MOMENTUM_SETTINGS = (None, 0.5)  # None: the default momentum (0.9) is used


def forward_inputs():
    """Z (3, 6), gamma, beta (3, 1): three units, the last almost constant (its variance is about eps, so where eps
    goes shows)."""
    rng = np.random.default_rng(31)
    Z = rng.standard_normal((3, 6)) * np.array([[2.0], [0.5], [0.003]]) + np.array([[1.0], [-3.0], [0.5]])
    gamma = np.array([[1.5], [0.5], [2.0]])
    beta = np.array([[0.2], [-1.0], [0.5]])
    return Z, gamma, beta


def backward_cases():
    """(Z, gamma, beta, W) for the gradient check of J = sum(W * Z_tilde): W is also dZ_tilde, the upstream gradient."""
    rng = np.random.default_rng(32)
    cases = []
    for n, m in ((3, 5), (2, 2), (4, 8)):
        Z = rng.standard_normal((n, m)) * rng.uniform(0.5, 2.0, (n, 1)) + rng.uniform(-2.0, 2.0, (n, 1))
        gamma = rng.uniform(0.5, 2.0, (n, 1)) * rng.choice([-1.0, 1.0], (n, 1))
        beta = rng.standard_normal((n, 1))
        W = rng.standard_normal((n, m))
        cases.append((Z, gamma, beta, W))
    return cases


def running_inputs():
    """running_mean, running_var, mu, var: (3, 1) each."""
    rng = np.random.default_rng(33)
    running_mean = rng.standard_normal((3, 1))
    running_var = rng.uniform(0.5, 2.0, (3, 1))
    mu = rng.standard_normal((3, 1)) * 2
    var = rng.uniform(0.5, 4.0, (3, 1))
    return running_mean, running_var, mu, var


def test_time_inputs():
    """Z (3, 4), gamma, beta, running_mean, running_var: a batch whose own statistics differ from the running ones."""
    rng = np.random.default_rng(34)
    Z = rng.standard_normal((3, 4)) * 1.5 + 2.0
    gamma = np.array([[1.2], [0.7], [2.0]])
    beta = np.array([[0.1], [-0.4], [1.0]])
    running_mean = np.array([[0.5], [1.0], [-0.5]])
    running_var = np.array([[0.8], [2.5], [1e-5]])
    return Z, gamma, beta, running_mean, running_var


def _expected(check: str):
    return expected_values("batch_norm", check)


def _explain(got, expected, what: str, mistakes: dict[str, object], call: str) -> None:
    """Raise with the first difference, naming the mistake whose result `got` equals, if any."""
    problem = compare.first_difference(got, expected, rtol=RTOL, atol=ATOL)
    if problem is None:
        return
    for mistake, result in mistakes.items():
        if compare.close(got, result, rtol=RTOL, atol=ATOL):
            raise AssertionError(f"{call}: {what}: {problem}. Your result is what you get when {mistake}.")
    raise AssertionError(f"{call}: {what}: {problem}.")


FORWARD_MISTAKES = {
    "m - 1": "the variance is divided by m - 1 (batch norm uses the batch's own variance, (1/m) sum (Z - mu)**2; "
             "np.var's default ddof=0 does this)",
    "eps outside": "eps is added outside the square root (it belongs inside: sqrt(var + eps))",
    "no sqrt": "Z - mu is divided by the variance instead of the standard deviation sqrt(var + eps)",
    "no scale and shift": "gamma and beta are not applied (Z_tilde = gamma * Z_norm + beta)",
}


def _forward(batchnorm_forward, Z, gamma, beta, call: str):
    result = batchnorm_forward(Z.copy(), gamma.copy(), beta.copy())
    assert isinstance(result, tuple) and len(result) == 2, (
        f"{call} should return a pair (Z_tilde, cache); got {type(result).__name__}"
        f"{' of ' + str(len(result)) if isinstance(result, (tuple, list)) else ''}.")
    return result


def _check_forward_values(batchnorm_forward, call: str) -> None:
    Z, gamma, beta = forward_inputs()
    data = _expected("forward")
    Z_before = Z.copy()
    Z_tilde, _ = _forward(batchnorm_forward, Z, gamma, beta, call)
    assert compare.equal(Z, Z_before), f"{call} changed Z; compute new arrays instead of modifying Z in place."
    _explain(Z_tilde, data["Z_tilde"], "Z_tilde",
             {FORWARD_MISTAKES[name]: value for name, value in data["mistakes"].items()}, call)


@visible_check
def check_batchnorm_forward(batchnorm_forward) -> None:
    call = "batchnorm_forward(Z (3, 6), gamma (3, 1), beta (3, 1))"
    Z, gamma, beta = forward_inputs()
    # Invariant first: with gamma = 1 and beta = 0 every unit's output has mean 0 over the examples.
    Z_norm, _ = _forward(batchnorm_forward, Z, np.ones_like(gamma), np.zeros_like(beta),
                         "batchnorm_forward(Z, gamma=ones, beta=zeros)")
    problem = compare.shape_difference(Z_norm, Z)
    assert problem is None, f"batchnorm_forward: Z_tilde should have the shape of Z, (n, m) = {Z.shape}; {problem}."
    means = np.mean(Z_norm, axis=1)
    assert np.all(np.abs(means) < 1e-8), (
        f"batchnorm_forward(Z, gamma=ones, beta=zeros): each unit (row) should have mean 0 over the examples; the "
        f"row means are {np.round(means, 4).tolist()}. Take mu (and var) over the m examples, axis=1, not over the "
        f"units (axis 0).")
    _check_forward_values(batchnorm_forward, call)
    passed("batchnorm_forward")


BACKWARD_MISTAKES = {
    "dgamma without Z_norm": ("dgamma", "dgamma is the sum of dZ_tilde alone: Z_tilde = gamma * Z_norm + beta, so "
                                        "dgamma = sum over the examples of dZ_tilde * Z_norm"),
    "mu and var constant": ("dZ", "the backward pass treats mu and var as constants (dZ = gamma * dZ_tilde / "
                                  "sqrt(var + eps)); both depend on every example of Z, which adds two terms"),
    "m - 1": ("dZ", "the derivative of the variance is taken with m - 1 (var = (1/m) sum (Z - mu)**2, so "
                    "dvar/dZ = 2 (Z - mu) / m)"),
    "no gamma": ("dZ", "dZ leaves out the factor gamma (dZ_norm = gamma * dZ_tilde)"),
}


def _numerical_gradient(J, arrays: list[np.ndarray], index: int) -> np.ndarray:
    """Two-sided differences (J(x + h) - J(x - h)) / 2h of J(*arrays) with respect to arrays[index], entry by entry."""
    gradient = np.zeros_like(arrays[index])
    for position in np.ndindex(arrays[index].shape):
        plus, minus = [a.copy() for a in arrays], [a.copy() for a in arrays]
        plus[index][position] += NUMERICAL_STEP
        minus[index][position] -= NUMERICAL_STEP
        gradient[position] = (J(*plus) - J(*minus)) / (2 * NUMERICAL_STEP)
    return gradient


def _relative_difference(got: np.ndarray, estimate: np.ndarray) -> float:
    return float(np.linalg.norm(got - estimate) / max(np.linalg.norm(got) + np.linalg.norm(estimate), 1e-12))


@visible_check
def check_batchnorm_backward(batchnorm_forward, batchnorm_backward) -> None:
    # The gradients are checked against the student's own forward pass, so that pass must be right first.
    try:
        _check_forward_values(batchnorm_forward, "batchnorm_forward")
    except AssertionError as error:
        raise AssertionError(f"Fix batchnorm_forward first (its check above says what differs): {error}") from None
    data = _expected("backward")
    for case, (Z, gamma, beta, W) in enumerate(backward_cases()):
        n, m = Z.shape
        call = f"batchnorm_backward(dZ_tilde ({n}, {m}), cache) after batchnorm_forward(Z ({n}, {m}), gamma, beta)"
        _, cache = _forward(batchnorm_forward, Z, gamma, beta, "batchnorm_forward")
        result = batchnorm_backward(W.copy(), copy.deepcopy(cache))
        assert isinstance(result, tuple) and len(result) == 3, (
            f"batchnorm_backward should return (dZ, dgamma, dbeta); got {type(result).__name__}"
            f"{' of ' + str(len(result)) if isinstance(result, (tuple, list)) else ''}.")
        grads = dict(zip(("dZ", "dgamma", "dbeta"), result))
        for name, like in (("dZ", Z), ("dgamma", gamma), ("dbeta", beta)):
            problem = compare.shape_difference(grads[name], like)
            if problem and np.shape(grads[name]) == (1, m) and name != "dZ":
                raise AssertionError(
                    f"{call}: {name} has shape (1, {m}): it is summed over the units (axis 0). Sum over the m examples "
                    f"instead, np.sum(..., axis=1, keepdims=True), to get one value per unit, shape {like.shape}.")
            assert problem is None, f"{call}: {name}: {problem} (the shape of {name[1:]})."

        def J(Z_, gamma_, beta_):
            return float(np.sum(W * np.asarray(batchnorm_forward(Z_, gamma_, beta_)[0])))
        for index, name in ((2, "dbeta"), (1, "dgamma"), (0, "dZ")):
            estimate = _numerical_gradient(J, [Z, gamma, beta], index)
            difference = _relative_difference(np.asarray(grads[name], dtype=np.float64), estimate)
            if difference < GRADIENT_TOLERANCE:
                continue
            where = compare.first_difference(grads[name], estimate, rtol=1e-4, atol=1e-6)
            message = (f"{call}: {name} differs from the numerical gradient of J = sum(dZ_tilde * Z_tilde) "
                       f"(relative difference {difference:.2e}; {where})")
            for mistake, (gradient, explanation) in BACKWARD_MISTAKES.items():
                if gradient == name and compare.close(grads[name], data[case][mistake], rtol=1e-6, atol=1e-9):
                    raise AssertionError(f"{message}. Your result is what you get when {explanation}.")
            raise AssertionError(message + ".")
    passed("batchnorm_backward (against numerical gradients)")


@visible_check
def check_update_running_averages(update_running_averages) -> None:
    running_mean, running_var, mu, var = running_inputs()
    data = _expected("running")
    for momentum, expected in zip(MOMENTUM_SETTINGS, data):
        args = [a.copy() for a in (running_mean, running_var, mu, var)]
        result = (update_running_averages(*args) if momentum is None else update_running_averages(*args, momentum))
        shown = "momentum=0.9 (the default)" if momentum is None else f"momentum={momentum}"
        call = f"update_running_averages(running_mean, running_var, mu, var, {shown})"
        assert isinstance(result, tuple) and len(result) == 2, (
            f"{call} should return (running_mean, running_var); got {type(result).__name__}"
            f"{' of ' + str(len(result)) if isinstance(result, (tuple, list)) else ''}.")
        mistakes = expected["mistakes"]
        named = {"momentum weights the new batch value instead of the running average (running = momentum * "
                 "running + (1 - momentum) * batch value)": mistakes["momentum swapped"],
                 "the batch values replace the averages instead of being averaged in": mistakes["batch values"]}
        for index, what in enumerate(("running_mean", "running_var")):
            _explain(result[index], expected["result"][index], what,
                     {text: value[index] for text, value in named.items()}, call)
    passed("update_running_averages")


TEST_TIME_MISTAKES = {
    "batch statistics": "the batch's own mean and variance are used; at test time normalise with running_mean and "
                        "running_var, so that a prediction does not depend on the other examples of the batch",
    "eps outside": "eps is added outside the square root (sqrt(running_var + eps))",
    "no sqrt": "Z - running_mean is divided by the variance instead of the standard deviation",
}


@visible_check
def check_batchnorm_forward_test(batchnorm_forward_test) -> None:
    Z, gamma, beta, running_mean, running_var = test_time_inputs()
    data = _expected("test_time")
    for what, columns in (("a batch of 4 examples", slice(None)), ("a single example", slice(0, 1))):
        Z_case = Z[:, columns]
        call = f"batchnorm_forward_test(Z {Z_case.shape}: {what}, gamma, beta, running_mean, running_var)"
        got = batchnorm_forward_test(Z_case.copy(), gamma.copy(), beta.copy(), running_mean.copy(), running_var.copy())
        expected = data["Z_tilde"] if what.startswith("a batch") else data["single"]
        mistakes = data["mistakes"] if what.startswith("a batch") else data["single mistakes"]
        _explain(got, expected, "Z_tilde", {TEST_TIME_MISTAKES[name]: value for name, value in mistakes.items()},
                 call)
    passed("batchnorm_forward_test")
