"""Visible checks for the Regularization assignment (week 1).

    L2:  J_L2 = J + (lambd / (2 m)) * sum_l ||W[l]||_F^2        dW[l] += (lambd / m) * W[l]
    L1:  J_L1 = J + (lambd / m) * sum_l sum |W[l]|               dW[l] += (lambd / m) * sign(W[l])
    inverted dropout, hidden layer l:  D[l] = (random (n[l], m) < keep_prob[l])
                                       A[l] = relu(Z[l]) * D[l] / keep_prob[l]
                                       dA[l] -> dA[l] * D[l] / keep_prob[l]      (the same D[l])

Costs and gradients are compared with the stored results of the same calls (data/regularization.json:
the gradients of the regularised cost, and for dropout those with the masks held fixed). Dropout
masks are judged by how they are distributed (the same property checks grade the hidden cases),
so any correct way of drawing them passes.
"""

import copy

import numpy as np

from .. import nets
from . import compare, expected_values, passed
from .failures import visible_check
from .properties import problems_with

# The fixed inputs of the checks (the stored expected values are the results on exactly these).
COST_SEED, BACKWARD_SEEDS, SUBGRADIENT_SEED, LAMBD = 0, (1, 2), 3, 0.7
DROPOUT_BACKWARD_SEED, DROPOUT_BACKWARD_KEEP_PROB = 5, 0.7
NETWORK_BACKWARD = {"seed": 7, "layers_dims": (3, 5, 4, 1), "m": 8, "keep_probs": [0.6, 0.8], "mask_seed": 8}
ENSEMBLE_SEEDS, ENSEMBLE_X_SEED = (10, 11, 12), 13
#: The tolerances: of a cost (tighter than compare.RTOL), and of gradients (atol looser than compare.ATOL).
COST_RTOL = 1e-7
GRADIENT_RTOL, GRADIENT_ATOL = 1e-5, 1e-7


def small_network(seed: int, layers_dims=(3, 4, 3, 1), m: int = 6):
    """Parameters with weights away from 0 (so |W| is differentiable), X (n[0], m) and Y (1, m)."""
    rng = np.random.default_rng(seed)
    parameters = {}
    for l in range(1, len(layers_dims)):
        W = rng.standard_normal((layers_dims[l], layers_dims[l - 1]))
        parameters[f"W{l}"] = np.sign(W) * (0.2 + np.abs(W)) * 0.5
        parameters[f"b{l}"] = rng.standard_normal((layers_dims[l], 1)) * 0.1
    X = rng.standard_normal((layers_dims[0], m))
    Y = (rng.random((1, m)) < 0.5).astype(np.int64)
    return parameters, X, Y


def dropout_backward_inputs():
    """dA, the mask D and keep_prob of the dropout_backward check."""
    rng = np.random.default_rng(DROPOUT_BACKWARD_SEED)
    A = rng.standard_normal((4, 6))
    dA = rng.standard_normal((4, 6))
    D = (rng.random((4, 6)) < DROPOUT_BACKWARD_KEEP_PROB).astype(np.float64)
    return A, dA, D, DROPOUT_BACKWARD_KEEP_PROB


def flip_shift_images():
    return np.arange(2 * 3 * 4, dtype=np.float64).reshape(2, 3, 4)


def ensemble_inputs():
    models = [small_network(seed, (2, 3, 1), 5)[0] for seed in ENSEMBLE_SEEDS]
    return np.random.default_rng(ENSEMBLE_X_SEED).standard_normal((2, 7)), models


def _expected(check: str):
    return expected_values("regularization", check)


def _check_cost(compute_cost, kind: str) -> None:
    parameters, X, Y = small_network(COST_SEED)
    Y_hat, _ = nets.forward_propagation(X, parameters)
    lambd = LAMBD
    expected = _expected(f"{kind.lower()}_cost")
    name = f"compute_cost_with_{kind.lower()}"
    got = compute_cost(Y_hat, Y, copy.deepcopy(parameters), lambd)
    assert np.ndim(got) == 0, f"{name} should return one number; it returned an array of shape {np.shape(got)}."
    unregularised = nets.compute_cost(Y_hat, Y)
    if kind == "L2":
        hint = ("The penalty is lambd / (2 m) times the sum of every squared weight (biases are not penalised)."
                if not compare.close(got, unregularised) else "The penalty term is missing.")
    else:
        hint = ("The penalty is lambd / m times the sum of the absolute values of the weights (biases are not "
                "penalised); the notes' lambd / (2 m) is not the convention of this notebook."
                if not compare.close(got, unregularised) else "The penalty term is missing.")
    assert compare.close(got, expected, rtol=COST_RTOL), f"{name} returned {got!r}; expected {expected!r}. {hint}"
    assert compare.close(compute_cost(Y_hat, Y, parameters, 0.0), unregularised), (
        f"{name} with lambd = 0 should equal the plain cross-entropy cost nets.compute_cost(Y_hat, Y).")


def _check_backward(backward, kind: str) -> None:
    """The gradients of the regularised cost, entry by entry, against the stored ones."""
    name = f"backward_propagation_with_{kind.lower()}"
    for seed, expected in zip(BACKWARD_SEEDS, _expected(f"{kind.lower()}_backward")):
        parameters, X, Y = small_network(seed)
        Y_hat, cache = nets.forward_propagation(X, parameters)
        grads = backward(Y_hat, Y, cache, copy.deepcopy(parameters), LAMBD)
        expected_keys = set(expected)
        assert isinstance(grads, dict) and expected_keys <= set(grads), (
            f"{name} should return a dict with {sorted(expected_keys)}; got {sorted(grads) if isinstance(grads, dict) else type(grads)}.")
        for key in sorted(expected_keys):
            problem = compare.first_difference(grads[key], expected[key], rtol=GRADIENT_RTOL, atol=GRADIENT_ATOL)
            if problem:
                if key.startswith("db"):
                    hint = "Biases are not regularised: db is the plain backpropagation gradient."
                elif kind == "L2":
                    hint = "The derivative of lambd / (2 m) * W**2 is (lambd / m) * W, added to dW."
                else:
                    hint = "The derivative of lambd / m * |W| is (lambd / m) * sign(W), added to dW."
                raise AssertionError(
                    f"{name}: {key} is not the gradient of the regularised cost ({problem}). {hint}")


@visible_check
def check_compute_cost_with_l2(compute_cost_with_l2) -> None:
    _check_cost(compute_cost_with_l2, "L2")
    passed("compute_cost_with_l2")


@visible_check
def check_backward_propagation_with_l2(backward_propagation_with_l2) -> None:
    _check_backward(backward_propagation_with_l2, "L2")
    passed("backward_propagation_with_l2")


@visible_check
def check_l1(compute_cost_with_l1, backward_propagation_with_l1) -> None:
    _check_cost(compute_cost_with_l1, "L1")
    _check_backward(backward_propagation_with_l1, "L1")
    # At W = 0, |W| has no derivative: any value in [-lambd/m, lambd/m] is a subgradient (np.sign gives 0).
    parameters, X, Y = small_network(SUBGRADIENT_SEED)
    parameters["W1"][0, :] = 0.0
    m, lambd = Y.shape[1], LAMBD
    Y_hat, cache = nets.forward_propagation(X, parameters)
    plain = nets.backward_propagation(Y_hat, Y, cache, parameters)
    extra = np.asarray(backward_propagation_with_l1(Y_hat, Y, cache, parameters, lambd)["dW1"])[0] - plain["dW1"][0]
    assert np.all(np.abs(extra) <= lambd / m + 1e-12), (
        f"Where a weight is exactly 0, the penalty's subgradient must lie between -lambd/m and lambd/m "
        f"(np.sign(0) is 0); backward_propagation_with_l1 added {extra} to dW1[0].")
    passed("compute_cost_with_l1 and backward_propagation_with_l1")


def _say(problems: list[str], call: str) -> None:
    assert not problems, f"{call}: " + "; ".join(problems) + "."


@visible_check
def check_dropout_forward(dropout_forward) -> None:
    rng = np.random.default_rng(4)
    A = np.abs(rng.standard_normal((40, 300)))
    for keep_prob in (0.8, 0.5, 1.0):
        A_before = A.copy()
        two_draws = (dropout_forward(A, keep_prob), dropout_forward(A, keep_prob))
        assert compare.equal(A, A_before), "dropout_forward changed its input A; return a new array instead."
        _say(problems_with("dropout_forward", two_draws, {"A": A, "keep_prob": keep_prob}),
             f"dropout_forward(A of shape {A.shape}, keep_prob={keep_prob})")
    passed("dropout_forward")


@visible_check
def check_dropout_backward(dropout_backward) -> None:
    A, dA, D, keep_prob = dropout_backward_inputs()
    expected = _expected("dropout_backward")
    got = np.asarray(dropout_backward(dA, D, keep_prob))
    assert got.shape == A.shape, f"dropout_backward returned shape {got.shape}; expected {A.shape}, the shape of dA."
    problem = compare.first_difference(got, expected, rtol=GRADIENT_RTOL, atol=GRADIENT_ATOL)
    assert problem is None, (
        f"dropout_backward disagrees with the gradient through the dropout forward pass ({problem}; first row "
        f"{np.round(got[0], 4)} against {np.round(expected[0], 4)}). Dropped units get no gradient, and kept ones "
        f"are scaled by 1/keep_prob, as in the forward pass: use the same mask D.")
    passed("dropout_backward")


@visible_check
def check_forward_propagation_with_dropout(forward_propagation_with_dropout) -> None:
    parameters, X, _ = small_network(6, (5, 60, 50, 1), 200)
    for keep_probs in ([0.8, 0.6], [1.0, 0.7], [1.0, 1.0]):
        np.random.seed(0)
        result = forward_propagation_with_dropout(X, copy.deepcopy(parameters), keep_probs)
        inputs = {"X": X, "keep_probs": np.array(keep_probs), **parameters}
        _say(problems_with("dropout_network", result, inputs),
             f"forward_propagation_with_dropout(X, parameters, keep_probs={keep_probs})")
    Y_hat, _ = result
    assert compare.close(Y_hat, nets.forward_propagation(X, parameters)[0]), (
        "With every keep_prob = 1 the network should compute exactly what nets.forward_propagation computes.")
    passed("forward_propagation_with_dropout")


@visible_check
def check_backward_propagation_with_dropout(backward_propagation_with_dropout) -> None:
    setting = NETWORK_BACKWARD
    parameters, _, Y = small_network(setting["seed"], setting["layers_dims"], setting["m"])
    keep_probs = list(setting["keep_probs"])
    data = _expected("dropout_network_backward")  # a forward pass with fixed masks, and its gradients
    Y_hat, cache = data["Y_hat"], [tuple(layer) for layer in data["cache"]]
    _, keys_before, position_before, *_ = np.random.get_state()
    grads = backward_propagation_with_dropout(Y_hat, Y, copy.deepcopy(cache), copy.deepcopy(parameters), keep_probs)
    _, keys_after, position_after, *_ = np.random.get_state()
    drew_numbers = position_after != position_before or not compare.equal(keys_after, keys_before)
    for key in [f"d{p}{l}" for l in (3, 2, 1) for p in "Wb"]:
        assert isinstance(grads, dict) and key in grads, f"backward_propagation_with_dropout should return {key}."
        got, expected = np.asarray(grads[key]), data["grads"][key]
        assert got.shape == expected.shape, f"{key} has shape {got.shape}, expected {expected.shape}."
        problem = compare.first_difference(got, expected, rtol=GRADIENT_RTOL, atol=GRADIENT_ATOL)
        if problem:
            hint = ("It drew random numbers: the backward pass must reuse the forward pass's masks, cache[l][2], "
                    "not draw new ones." if drew_numbers else
                    "Going back through hidden layer l, multiply dA by that layer's mask D and divide by its "
                    "keep_prob before the relu derivative.")
            raise AssertionError(
                f"backward_propagation_with_dropout: {key} disagrees with the gradient of the cost with the same "
                f"masks ({problem}; first entries {np.ravel(got)[:3]} against {np.ravel(expected)[:3]}). {hint}")
    passed("backward_propagation_with_dropout")


@visible_check
def check_early_stopping(early_stopping) -> None:
    # A toy training run: each epoch moves w one step along a line, in place; the dev cost is lowest at epoch 4.
    target = np.array([[4.0, -2.0]])

    def train_epoch(parameters):
        parameters["W1"] += np.array([[1.0, -0.5]])  # changes the array it was given
        return parameters

    def dev_cost(parameters):
        return float(np.sum((parameters["W1"] - target) ** 2))

    start = {"W1": np.zeros((1, 2)), "b1": np.zeros((1, 1))}
    best, best_epoch, dev_costs = early_stopping(copy.deepcopy(start), train_epoch, dev_cost, 20, 3)
    expected_costs = [float(np.sum((k * np.array([[1.0, -0.5]]) - target) ** 2)) for k in range(8)]
    assert best_epoch == 4, (
        f"best_epoch is {best_epoch!r}, but the dev cost is lowest after epoch 4 (dev costs {expected_costs}).")
    assert compare.close(best["W1"], target), (
        f"best_parameters['W1'] is {best['W1']}, but after epoch 4 it was {target}. If it holds a later value, "
        f"you kept a reference to arrays that training went on changing: keep a copy (copy.deepcopy).")
    assert compare.close(dev_costs, expected_costs), (
        f"dev_costs should hold the dev cost before training and after each epoch run, stopping once 3 epochs "
        f"(the patience) pass without improvement: {expected_costs}; got {list(np.round(dev_costs, 3))}.")
    _, best_epoch, dev_costs = early_stopping(copy.deepcopy(start), train_epoch, dev_cost, 2, 3)
    assert best_epoch == 2 and len(dev_costs) == 3, (
        f"With num_epochs = 2 training stops after epoch 2 (best epoch 2, three dev costs); got best_epoch "
        f"{best_epoch} and {len(dev_costs)} dev costs.")
    passed("early_stopping")


@visible_check
def check_flip_and_shift(flip_horizontal, shift_images) -> None:
    images = flip_shift_images()
    data = _expected("flip_shift")
    flipped = np.asarray(flip_horizontal(images.copy()))
    assert flipped.shape == images.shape, f"flip_horizontal returned shape {flipped.shape}; expected {images.shape}."
    assert compare.equal(flipped[0, 0], data["flipped"][0, 0]), (
        f"flip_horizontal should reverse each row of pixels (left becomes right): the first row "
        f"{images[0, 0]} should become {data['flipped'][0, 0]}, not {flipped[0, 0]}. The images are (m, height, width).")
    assert compare.equal(flipped, data["flipped"]), "flip_horizontal should only mirror left and right."
    shifted = np.asarray(shift_images(images.copy(), 1, -1))
    expected = data["shifted down 1, left 1"]
    assert shifted.shape == images.shape, f"shift_images returned shape {shifted.shape}; expected {images.shape}."
    assert compare.equal(shifted, expected), (
        f"shift_images(images, dy=1, dx=-1) should move the picture 1 pixel down and 1 pixel left, filling the "
        f"uncovered pixels with 0 (no wrapping round). First image expected\n{expected[0]}\ngot\n{shifted[0]}")
    assert compare.equal(shift_images(images.copy(), 0, 0), images), "A shift by (0, 0) changes nothing."
    passed("flip_horizontal and shift_images")


@visible_check
def check_add_noise(add_noise) -> None:
    images = np.random.default_rng(9).random((150, 12, 12))
    before = images.copy()
    sigma = 0.1
    two_draws = (add_noise(images, sigma), add_noise(images, sigma))
    assert compare.equal(images, before), "add_noise changed the images it was given; return new ones instead."
    _say(problems_with("gaussian_noise", two_draws, {"images": images, "sigma": sigma}),
         f"add_noise(images, sigma={sigma})")
    passed("add_noise")


@visible_check
def check_ensemble_predict(ensemble_predict) -> None:
    X, models = ensemble_inputs()
    data = _expected("ensemble")
    Y_hat, predictions = ensemble_predict(X, models)
    expected = data["Y_hat"]
    assert np.shape(Y_hat) == (1, 7), f"Y_hat should have shape (1, m) = (1, 7); got {np.shape(Y_hat)}."
    problem = compare.first_difference(Y_hat, expected)
    assert problem is None, (
        f"Y_hat should be the mean of the models' probabilities {np.round(expected, 3)}; got {np.round(Y_hat, 3)} "
        f"({problem}).")
    problem = compare.first_difference(predictions, data["predictions"], rtol=0.0, atol=0.0)
    assert problem is None, (
        f"predictions should be 1 where the averaged Y_hat is above 0.5 and 0 elsewhere; got {predictions} "
        f"({problem}).")
    passed("ensemble_predict")
