"""The fixed parts of the course's fully connected networks.

An L-layer network is LINEAR -> RELU repeated L-1 times, then LINEAR -> SIGMOID.
`parameters` maps "W1", "b1", ..., "WL", "bL" to arrays with
W[l]: (n[l], n[l-1]) and b[l]: (n[l], 1); examples are columns, so X is (n[0], m).

    Z[l] = W[l] A[l-1] + b[l]          A[0] = X
    A[l] = relu(Z[l])  for l < L,      Y_hat = A[L] = sigmoid(Z[L])

Backward pass, with dZ[L] = Y_hat - Y for the cross-entropy cost:

    dW[l] = dZ[l] A[l-1]^T / m         db[l] = sum over examples of dZ[l] / m
    dA[l-1] = W[l]^T dZ[l]             dZ[l-1] = dA[l-1] * (Z[l-1] > 0)

These pieces are given: the exercises are about what surrounds them
(initialisation, regularisation, optimisation, ...).
"""

import numpy as np


def sigmoid(Z: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-Z)), elementwise, without overflow warnings for large |Z|."""
    return np.exp(-np.logaddexp(0.0, -Z))


def relu(Z: np.ndarray) -> np.ndarray:
    """max(0, Z), elementwise."""
    return np.maximum(0.0, Z)


def num_layers(parameters: dict) -> int:
    """L, the number of layers with weights (input layer not counted)."""
    return len([key for key in parameters if key.startswith("W")])


def forward_propagation(X: np.ndarray, parameters: dict) -> tuple[np.ndarray, list]:
    """Run the network on X (n[0], m); returns Y_hat (1, m) and the cache for backward_propagation."""
    L = num_layers(parameters)
    A = X
    cache = []
    for l in range(1, L + 1):
        A_prev = A
        Z = parameters[f"W{l}"] @ A_prev + parameters[f"b{l}"]
        A = relu(Z) if l < L else sigmoid(Z)
        cache.append((A_prev, Z))
    return A, cache


def compute_cost(Y_hat: np.ndarray, Y: np.ndarray) -> float:
    """Cross-entropy cost J = -(1/m) sum(Y log Y_hat + (1 - Y) log(1 - Y_hat)).

    Y_hat is clipped to [1e-15, 1 - 1e-15], so a saturated sigmoid gives a large
    finite cost (at most about 34.5 per example) instead of inf.
    """
    m = Y.shape[1]
    Y_hat = np.clip(Y_hat, 1e-15, 1 - 1e-15)
    return float(-np.sum(Y * np.log(Y_hat) + (1 - Y) * np.log(1 - Y_hat)) / m)


def backward_propagation(Y_hat: np.ndarray, Y: np.ndarray, cache: list, parameters: dict) -> dict:
    """Gradients of the cross-entropy cost: {"dW1": (n[1], n[0]), "db1": (n[1], 1), ...}."""
    L = len(cache)
    m = Y.shape[1]
    grads = {}
    dZ = Y_hat - Y
    for l in range(L, 0, -1):
        A_prev, _ = cache[l - 1]
        grads[f"dW{l}"] = dZ @ A_prev.T / m
        grads[f"db{l}"] = np.sum(dZ, axis=1, keepdims=True) / m
        if l > 1:
            _, Z_prev = cache[l - 2]
            dZ = (parameters[f"W{l}"].T @ dZ) * (Z_prev > 0)
    return grads


def predict(X: np.ndarray, parameters: dict) -> np.ndarray:
    """Class predictions (1, m) of 0s and 1s: 1 where Y_hat > 0.5."""
    Y_hat, _ = forward_propagation(X, parameters)
    return (Y_hat > 0.5).astype(np.int64)


def accuracy(X: np.ndarray, Y: np.ndarray, parameters: dict) -> float:
    """Fraction of the m examples whose prediction equals the label Y (1, m)."""
    return float(np.mean(predict(X, parameters) == Y))
