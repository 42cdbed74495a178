"""Given pieces for the Gradient checking assignment: vectors of parameters, and networks to check.

Gradient checking compares backpropagation with a numerical estimate of the gradient. The
estimate needs every parameter in one column vector theta, so that each entry can be nudged
by +-epsilon in turn:

    theta, keys = dictionary_to_vector(parameters)     # (n, 1), and the order of the keys
    parameters  = vector_to_dictionary(theta, like=parameters)
    grad        = gradients_to_vector(gradients, like=parameters)   # dW1, db1, ... in the same order

Keys are taken in the order W1, b1, W2, b2, ..., and each array in row-major order.
"""

from typing import Callable

import numpy as np

from . import nets


def parameter_keys(parameters: dict) -> list[str]:
    """W1, b1, W2, b2, ... for the layers present in `parameters`."""
    return [f"{p}{l}" for l in range(1, nets.num_layers(parameters) + 1) for p in "Wb"]


def dictionary_to_vector(parameters: dict) -> tuple[np.ndarray, list[str]]:
    """All parameters stacked in one column vector theta (n, 1), and the keys in stacking order."""
    keys = parameter_keys(parameters)
    return np.concatenate([parameters[k].reshape(-1, 1) for k in keys]), keys


def vector_to_dictionary(theta: np.ndarray, like: dict) -> dict:
    """Split theta (n, 1) back into arrays shaped like those of `like` (a parameters dict)."""
    parameters, start = {}, 0
    for key in parameter_keys(like):
        size = like[key].size
        parameters[key] = theta[start:start + size].reshape(like[key].shape)
        start += size
    if start != theta.shape[0]:
        raise ValueError(f"theta has {theta.shape[0]} entries but the parameters have {start}")
    return parameters


def gradients_to_vector(gradients: dict, like: dict) -> np.ndarray:
    """The gradients dW1, db1, ... stacked in the same order as dictionary_to_vector(like)."""
    return np.concatenate([gradients["d" + k].reshape(-1, 1) for k in parameter_keys(like)])


def network_cost(X: np.ndarray, Y: np.ndarray) -> Callable[[dict], float]:
    """J(parameters): the cross-entropy cost of the network of idnn.nets on the examples X (n_x, m), Y (1, m)."""
    def J(parameters: dict) -> float:
        Y_hat, _ = nets.forward_propagation(X, parameters)
        return nets.compute_cost(Y_hat, Y)
    return J


def network_gradients(X: np.ndarray, Y: np.ndarray, parameters: dict) -> dict:
    """Backpropagation's gradients of network_cost(X, Y) at `parameters`: {"dW1": ..., "db1": ..., ...}."""
    Y_hat, cache = nets.forward_propagation(X, parameters)
    return nets.backward_propagation(Y_hat, Y, cache, parameters)


def network_gradients_with_bugs(X: np.ndarray, Y: np.ndarray, parameters: dict) -> dict:
    """Like network_gradients, with two mistakes planted: dW2 is doubled and db1 uses 4/m instead of 1/m."""
    gradients = network_gradients(X, Y, parameters)
    gradients["dW2"] = 2 * gradients["dW2"]
    gradients["db1"] = 4 * gradients["db1"]
    return gradients


def sampled_cost(X: np.ndarray, Y: np.ndarray, keep: float, rng: np.random.Generator) -> Callable[[dict], float]:
    """A cost that is random: each call uses a fresh random fraction `keep` of the examples.

    Dropout makes the cost random in the same way (each call drops different units), which is
    why gradient checking is done with dropout off.
    """
    full = network_cost(X, Y)

    def J(parameters: dict) -> float:
        chosen = rng.random(X.shape[1]) < keep
        return network_cost(X[:, chosen], Y[:, chosen])(parameters) if chosen.any() else full(parameters)
    return J


def random_network(layers_dims: list[int], m: int, rng: np.random.Generator) -> tuple[dict, np.ndarray, np.ndarray]:
    """Small random parameters (weights N(0, 1) * 0.5), inputs X (n[0], m) and labels Y (1, m) to check on."""
    parameters = {}
    for l in range(1, len(layers_dims)):
        parameters[f"W{l}"] = rng.standard_normal((layers_dims[l], layers_dims[l - 1])) * 0.5
        parameters[f"b{l}"] = rng.standard_normal((layers_dims[l], 1)) * 0.1
    X = rng.standard_normal((layers_dims[0], m))
    Y = (rng.random((1, m)) < 0.5).astype(np.int64)
    return parameters, X, Y
