"""Visible checks for the Gradient checking assignment (week 1).

    gradapprox = (J(theta + epsilon) - J(theta - epsilon)) / (2 epsilon)        (two-sided, epsilon = 1e-7)
    difference = ||grad - gradapprox|| / (||grad|| + ||gradapprox||)

    difference < 1e-7          correct
    1e-7 <= difference < 1e-3  inspect: probably fine, look at the largest entries
    difference >= 1e-3         a bug in backpropagation

With a wide epsilon the two-sided difference visibly differs from the derivative: for J = theta**4 it is
4 theta**3 + 4 theta epsilon**2. The checks try one (WIDE_EPSILON), so that a check which returns the
derivative, or ignores its epsilon, is told so here rather than by the hidden checks.

The checks compare with values stored as data (data/gradient_checking.json) and with the gradients
of the given backpropagation (idnn.gradcheck); none of them estimates a gradient itself.
"""

import numpy as np

from .. import gradcheck
from . import compare, expected_values, passed
from .failures import visible_check

# The fixed inputs of the checks (the stored expected values are the results on exactly these).
ONE_D_CASES = ((2.0, 4.0), (-3.0, 0.5), (np.array([1.0, -2.0, 3.0]), 1.5))
GRADIENT_CHECK_1D_THETA = 0.5
GRADIENT_CHECK_N = {"seed": 1, "layers_dims": [3, 4, 3, 1], "m": 5}
#: An epsilon wide enough that the two-sided difference of a curved cost is visibly not its derivative.
WIDE_EPSILON = 0.01
CLASSIFY_CASES = (1e-10, 9.9e-8, 1e-7, 2e-5, 9.99e-4, 1e-3, 0.3)
L2 = {"seed": 2, "layers_dims": [3, 4, 1], "m_examples": 2, "lambd": 0.7, "m": 5}
# The tolerances (compare.RTOL and ATOL unless named here).
DERIVATIVE_RTOL = 1e-6                     # the 1-D derivative
GRADAPPROX_RTOL = 2e-8                     # a two-sided estimate at epsilon = 1e-7 (a one-sided one: 3e-7 off)
WIDE_RTOL = 1e-9                           # the two-sided difference at WIDE_EPSILON, against the stored one
EXACT_GRADIENT_RTOL = 1e-5                 # is an answer the exact derivative or gradient? (a hint only;
EXACT_GRADIENT_ATOL = 1e-9                 # this atol for the gradient's entries, 0 for the one derivative)
DIFFERENCE_1D_RTOL = 1e-5                  # the 1-D difference with a wrong derivative (N-D: compare's default)
BACKPROP_RTOL, BACKPROP_ATOL = 1e-5, 1e-7  # gradapprox against backpropagation's gradient
WIDE_N_RTOL, WIDE_N_ATOL = 1e-7, 1e-12     # gradapprox of the quartic cost at WIDE_EPSILON, against the stored one


def curved_cost():
    """J = theta**4, its derivative, and a derivative 10% too large (curved, so one-sided differences show)."""
    return (lambda t: t ** 4), (lambda t: 4 * t ** 3), (lambda t: 4.4 * t ** 3)


def gradient_check_n_inputs():
    """A small network, its cost J(parameters), backpropagation's gradients and gradients with planted bugs."""
    rng = np.random.default_rng(GRADIENT_CHECK_N["seed"])
    parameters, X, Y = gradcheck.random_network(GRADIENT_CHECK_N["layers_dims"], GRADIENT_CHECK_N["m"], rng)
    return (parameters, gradcheck.network_cost(X, Y), gradcheck.network_gradients(X, Y, parameters),
            gradcheck.network_gradients_with_bugs(X, Y, parameters))


def quartic_cost():
    """J(parameters) = the sum of every parameter**4 / 4, and its gradient: each parameter cubed (dW1 = W1**3, ...).

    Curved everywhere, so that with a wide epsilon the two-sided difference, theta**3 + epsilon**2 * theta,
    is told apart from the gradient theta**3.
    """
    def J(parameters: dict) -> float:
        return float(sum(np.sum(value ** 4) for value in parameters.values()) / 4)

    def gradients(parameters: dict) -> dict:
        return {"d" + key: value ** 3 for key, value in parameters.items()}
    return J, gradients


def l2_inputs():
    rng = np.random.default_rng(L2["seed"])
    parameters, _, _ = gradcheck.random_network(L2["layers_dims"], L2["m_examples"], rng)
    return parameters, L2["lambd"], L2["m"]


def _expected(check: str):
    return expected_values("gradient_checking", check)


@visible_check
def check_1d(forward_propagation_1d, backward_propagation_1d) -> None:
    for (x, theta), (expected_J, expected_dtheta) in zip(ONE_D_CASES, _expected("1d")):
        J = forward_propagation_1d(x, theta)
        assert compare.close(J, expected_J), f"forward_propagation_1d({x}, {theta}) returned {J}; J = theta * x."
        dtheta = backward_propagation_1d(x, theta)
        assert compare.close(dtheta, expected_dtheta, rtol=DERIVATIVE_RTOL), (
            f"backward_propagation_1d({x}, {theta}) returned {dtheta}, but the slope of J with respect to theta "
            f"is {expected_dtheta}. The derivative of theta * x with respect to theta is x.")
    passed("forward_propagation_1d and backward_propagation_1d")


@visible_check
def check_gradient_check_1d(gradient_check_1d) -> None:
    theta = GRADIENT_CHECK_1D_THETA
    J, dJ, wrong = curved_cost()
    gradapprox, difference = gradient_check_1d(J, dJ, theta)
    assert compare.close(gradapprox, dJ(theta), rtol=GRADAPPROX_RTOL, atol=0.0), (
        f"For J = theta**4 at theta = 0.5, gradapprox is {gradapprox!r} but the derivative is 0.5. An error "
        f"of about 1.5e-7 means a one-sided difference (J(theta + eps) - J(theta)) / eps: use the two-sided "
        f"(J(theta + eps) - J(theta - eps)) / (2 * eps).")
    assert compare.is_round_off(difference), (
        f"With a correct derivative the difference should be below 1e-7 (only round-off), but it is {difference}.")
    gradapprox, _ = gradient_check_1d(J, dJ, theta, epsilon=WIDE_EPSILON)
    expected = _expected("gradient_check_1d")["gradapprox with the wide epsilon"]
    assert compare.close(gradapprox, expected, rtol=WIDE_RTOL, atol=0.0), (
        f"With epsilon = {WIDE_EPSILON}, gradapprox should be the two-sided difference (J({theta + WIDE_EPSILON:g}) - "
        f"J({theta - WIDE_EPSILON:g})) / {2 * WIDE_EPSILON:g} = {expected:.6g}, a little more than the derivative "
        f"{dJ(theta):g} (for theta**4 it is 4 theta**3 + 4 theta epsilon**2), but it is {gradapprox!r}. "
        + ("That is the derivative: estimate it from J, with the epsilon your function is given."
           if compare.close(gradapprox, dJ(theta), rtol=EXACT_GRADIENT_RTOL, atol=0.0) else
           "Use the two-sided formula, with the epsilon your function is given."))
    _, difference = gradient_check_1d(J, wrong, theta)
    expected = _expected("gradient_check_1d")["difference with the wrong derivative"]
    assert compare.gradient_check_difference(difference, expected, rtol=DIFFERENCE_1D_RTOL) is None, (
        f"With a derivative 10% too large (0.55 instead of 0.5), the difference should be |0.55 - 0.5| / "
        f"(|0.55| + |0.5|) = {expected:.6f}, but it is {difference}. Check the norms in the formula.")
    passed("gradient_check_1d")


@visible_check
def check_gradient_check_n(gradient_check_n) -> None:
    parameters, J, gradients, buggy = gradient_check_n_inputs()
    difference, gradapprox = gradient_check_n(J, parameters, gradients)
    n = sum(v.size for v in parameters.values())
    assert np.shape(gradapprox) == (n, 1), (
        f"gradapprox should be a column vector with one entry per parameter, shape ({n}, 1); got {np.shape(gradapprox)}.")
    grad = gradcheck.gradients_to_vector(gradients, parameters)
    problem = compare.first_difference(gradapprox, grad, rtol=BACKPROP_RTOL, atol=BACKPROP_ATOL)
    assert problem is None, (
        f"gradapprox differs from backpropagation's gradient ({problem}). Nudge one entry of theta at a time, by "
        f"+epsilon and -epsilon, and restore it.")
    assert compare.is_round_off(difference), (
        f"For a correct backward pass the difference should be below 1e-7; it is {difference:.3g}. A value just "
        f"above usually means theta was changed and not restored (nudge a copy), or a one-sided difference.")
    difference, _ = gradient_check_n(J, parameters, buggy)
    expected = _expected("gradient_check_n")["difference with the planted bugs"]
    assert compare.gradient_check_difference(difference, expected) is None, (
        f"For the backward pass with planted bugs the difference should be about {expected:.4g}; got {difference}.")
    J, exact = quartic_cost()
    parameters = gradient_check_n_inputs()[0]  # afresh, whatever the calls above did to theirs
    grad = gradcheck.gradients_to_vector(exact(parameters), parameters)
    _, gradapprox = gradient_check_n(J, parameters, exact(parameters), epsilon=WIDE_EPSILON)
    expected = _expected("gradient_check_n")["gradapprox with the wide epsilon"]
    wrong = compare.differing(np.reshape(gradapprox, np.shape(expected)), expected, rtol=WIDE_N_RTOL, atol=WIDE_N_ATOL)
    worst = int(np.argmax(wrong))  # the first entry that differs
    assert not np.any(wrong), (
        f"For J = sum(theta**4) / 4 and epsilon = {WIDE_EPSILON}, gradapprox should be the two-sided difference "
        f"theta**3 + epsilon**2 * theta, which is not the gradient theta**3; at entry {worst} it is "
        f"{float(np.ravel(gradapprox)[worst]):.8g}, expected {expected[worst, 0]:.8g} (the gradient: "
        f"{grad[worst, 0]:.8g}). "
        + ("Yours is the gradient: estimate it from J, nudging theta by the epsilon your function is given."
           if compare.close(np.ravel(gradapprox), np.ravel(grad), EXACT_GRADIENT_RTOL, EXACT_GRADIENT_ATOL) else
           "Nudge one entry of theta at a time by the epsilon your function is given, up and down, and divide "
           "by 2 * epsilon."))
    passed("gradient_check_n")


@visible_check
def check_classify_difference(classify_difference) -> None:
    for difference, expected in zip(CLASSIFY_CASES, _expected("classify_difference")):
        got = classify_difference(difference)
        assert got == expected, (
            f"classify_difference({difference:g}) returned {got!r}; expected {expected!r}. Below 1e-7 is "
            f"'correct', from 1e-7 up to (not including) 1e-3 is 'inspect', and 1e-3 or more is 'bug'.")
    passed("classify_difference")


@visible_check
def check_l2(l2_penalty, l2_penalty_gradients) -> None:
    parameters, lambd, m = l2_inputs()
    data = _expected("l2")
    penalty = l2_penalty(parameters, lambd, m)
    expected = data["penalty"]
    assert compare.close(penalty, expected), (
        f"l2_penalty returned {penalty}; expected {expected:.6f} = lambd / (2 m) * (sum of every squared weight). "
        f"Biases are not penalised.")
    gradients = l2_penalty_gradients(parameters, lambd, m)
    keys = sorted(data["gradients"])
    assert isinstance(gradients, dict) and sorted(gradients) == keys, (
        f"l2_penalty_gradients should return {' and '.join(keys)} only; got "
        f"{sorted(gradients) if isinstance(gradients, dict) else type(gradients).__name__}.")
    for key in keys:
        problem = compare.first_difference(gradients[key], data["gradients"][key])
        assert problem is None, (
            f"{key} from l2_penalty_gradients is not the derivative of l2_penalty ({problem}). The derivative of "
            f"lambd / (2 m) * W**2 is lambd / m * W.")
    passed("l2_penalty and l2_penalty_gradients")
