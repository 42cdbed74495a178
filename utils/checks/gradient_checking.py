"""Visible checks for the Gradient checking assignment (week 1).

    gradapprox = (J(theta + epsilon) - J(theta - epsilon)) / (2 epsilon)        (two-sided, epsilon = 1e-7)
    difference = ||grad - gradapprox|| / (||grad|| + ||gradapprox||)

    difference < 1e-7          correct
    1e-7 <= difference < 1e-3  inspect: probably fine, look at the largest entries
    difference >= 1e-3         a bug in backpropagation
"""

import numpy as np

from .. import gradcheck
from . import numerical_gradient, passed


def check_1d(forward_propagation_1d, backward_propagation_1d) -> None:
    for x, theta in ((2.0, 4.0), (-3.0, 0.5), (np.array([1.0, -2.0, 3.0]), 1.5)):
        J = forward_propagation_1d(x, theta)
        assert np.allclose(J, theta * x), f"forward_propagation_1d({x}, {theta}) returned {J}; J = theta * x."
        dtheta = backward_propagation_1d(x, theta)
        numerical = (forward_propagation_1d(x, theta + 1e-6) - forward_propagation_1d(x, theta - 1e-6)) / 2e-6
        assert np.allclose(dtheta, numerical, rtol=1e-6), (
            f"backward_propagation_1d({x}, {theta}) returned {dtheta}, but the slope of J measured numerically is "
            f"{numerical}. The derivative of theta * x with respect to theta is x.")
    passed("forward_propagation_1d and backward_propagation_1d")


def check_gradient_check_1d(gradient_check_1d) -> None:
    theta = 0.5
    J, dJ = (lambda t: t ** 4), (lambda t: 4 * t ** 3)  # curved, so one-sided differences show
    gradapprox, difference = gradient_check_1d(J, dJ, theta)
    assert np.allclose(gradapprox, 4 * theta ** 3, rtol=2e-8, atol=0), (
        f"For J = theta**4 at theta = 0.5, gradapprox is {gradapprox!r} but the derivative is 0.5. An error "
        f"of about 1.5e-7 means a one-sided difference (J(theta + eps) - J(theta)) / eps: use the two-sided "
        f"(J(theta + eps) - J(theta - eps)) / (2 * eps).")
    assert 0 <= difference < 1e-7, (
        f"With a correct derivative the difference should be below 1e-7 (only round-off), but it is {difference}.")
    wrong = lambda t: 4.4 * t ** 3  # noqa: E731 (a derivative 10% too large)
    _, difference = gradient_check_1d(J, wrong, theta)
    expected = abs(0.55 - 0.5) / (0.55 + 0.5)
    assert np.allclose(difference, expected, rtol=1e-5), (
        f"With a derivative 10% too large (0.55 instead of 0.5), the difference should be |0.55 - 0.5| / "
        f"(|0.55| + |0.5|) = {expected:.6f}, but it is {difference}. Check the norms in the formula.")
    passed("gradient_check_1d")


def check_gradient_check_n(gradient_check_n) -> None:
    rng = np.random.default_rng(1)
    parameters, X, Y = gradcheck.random_network([3, 4, 3, 1], 5, rng)
    J = gradcheck.network_cost(X, Y)
    gradients = gradcheck.network_gradients(X, Y, parameters)
    difference, gradapprox = gradient_check_n(J, parameters, gradients)
    n = sum(v.size for v in parameters.values())
    assert np.shape(gradapprox) == (n, 1), (
        f"gradapprox should be a column vector with one entry per parameter, shape ({n}, 1); got {np.shape(gradapprox)}.")
    grad = gradcheck.gradients_to_vector(gradients, parameters)
    worst = int(np.argmax(np.abs(grad - gradapprox)))
    assert np.allclose(gradapprox, grad, rtol=1e-5, atol=1e-7), (
        f"gradapprox differs from backpropagation, most at entry {worst}: {gradapprox[worst, 0]!r} against "
        f"{grad[worst, 0]!r}. Nudge one entry of theta at a time, by +epsilon and -epsilon, and restore it.")
    assert 0 <= difference < 1e-7, (
        f"For a correct backward pass the difference should be below 1e-7; it is {difference:.3g}. A value just "
        f"above usually means theta was changed and not restored (nudge a copy), or a one-sided difference.")
    buggy = gradcheck.network_gradients_with_bugs(X, Y, parameters)
    difference, _ = gradient_check_n(J, parameters, buggy)
    bad = gradcheck.gradients_to_vector(buggy, parameters)
    expected = np.linalg.norm(bad - grad) / (np.linalg.norm(bad) + np.linalg.norm(grad))
    assert np.allclose(difference, expected, rtol=1e-4), (
        f"For the backward pass with planted bugs the difference should be about {expected:.4g}; got {difference}.")
    passed("gradient_check_n")


def check_classify_difference(classify_difference) -> None:
    cases = {1e-10: "correct", 9.9e-8: "correct", 1e-7: "inspect", 2e-5: "inspect", 9.99e-4: "inspect",
             1e-3: "bug", 0.3: "bug"}
    for difference, expected in cases.items():
        got = classify_difference(difference)
        assert got == expected, (
            f"classify_difference({difference:g}) returned {got!r}; expected {expected!r}. Below 1e-7 is "
            f"'correct', from 1e-7 up to (not including) 1e-3 is 'inspect', and 1e-3 or more is 'bug'.")
    passed("classify_difference")


def check_l2(l2_penalty, l2_penalty_gradients) -> None:
    rng = np.random.default_rng(2)
    parameters, _, _ = gradcheck.random_network([3, 4, 1], 2, rng)
    lambd, m = 0.7, 5
    penalty = l2_penalty(parameters, lambd, m)
    expected = lambd / (2 * m) * sum(np.sum(parameters[f"W{l}"] ** 2) for l in (1, 2))
    assert np.allclose(penalty, expected), (
        f"l2_penalty returned {penalty}; expected {expected:.6f} = lambd / (2 m) * (sum of every squared weight). "
        f"Biases are not penalised.")
    gradients = l2_penalty_gradients(parameters, lambd, m)
    assert set(gradients) == {"dW1", "dW2"}, f"l2_penalty_gradients should return dW1 and dW2 only; got {sorted(gradients)}."
    for l in (1, 2):
        W = parameters[f"W{l}"]
        numerical = numerical_gradient(lambda: l2_penalty(parameters, lambd, m), W)
        assert np.allclose(gradients[f"dW{l}"], numerical, rtol=1e-5, atol=1e-8), (
            f"dW{l} from l2_penalty_gradients disagrees with the numerical gradient of l2_penalty "
            f"(first entries {np.ravel(gradients[f'dW{l}'])[:3]} against {np.ravel(numerical)[:3]}). "
            f"The derivative of lambd / (2 m) * W**2 is lambd / m * W.")
    passed("l2_penalty and l2_penalty_gradients")
