"""Visible "check your work" functions, one module per assignment.

Each check calls the student's function on small, fixed inputs and raises
AssertionError with a message saying what differs and what to look at.
They teach; they do not grade. Grading uses hidden inputs, outside the notebook.
"""

import numpy as np


def numerical_gradient(f, array: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """d f() / d array by two-sided differences (f(a + h) - f(a - h)) / 2h, nudging each entry of `array` in place
    and restoring it (f reads the array)."""
    grad = np.zeros_like(array, dtype=np.float64)
    for index in np.ndindex(array.shape):
        saved = array[index]
        array[index] = saved + h
        plus = f()
        array[index] = saved - h
        minus = f()
        array[index] = saved
        grad[index] = (plus - minus) / (2 * h)
    return grad


def passed(what: str) -> None:
    print(f"All checks passed for {what}.")


def check_parameters_structure(parameters, layers_dims: list[int], call: str) -> None:
    """parameters must be a dict with exactly W1, b1, ..., WL, bL of the right shapes, as float arrays.

    W[l]: (layers_dims[l], layers_dims[l-1]) and b[l]: (layers_dims[l], 1).
    """
    assert isinstance(parameters, dict), f"{call} returned a {type(parameters).__name__}; return a dict."
    L = len(layers_dims) - 1
    expected = {f"{p}{l}" for l in range(1, L + 1) for p in "Wb"}
    missing, extra = sorted(expected - set(parameters)), sorted(set(parameters) - expected)
    assert not missing and not extra, (
        f"{call} returned keys {sorted(parameters)}; a network with layers_dims={layers_dims} has L={L} layers "
        f"and needs exactly W1..W{L} and b1..b{L} (missing {missing}, unexpected {extra}).")
    for l in range(1, L + 1):
        for name, shape in ((f"W{l}", (layers_dims[l], layers_dims[l - 1])), (f"b{l}", (layers_dims[l], 1))):
            value = parameters[name]
            assert isinstance(value, np.ndarray), (
                f"{call}: {name} is a {type(value).__name__}; it must be a NumPy array.")
            assert value.shape == shape, (
                f"{call}: {name} has shape {value.shape} but should have shape {shape} "
                f"= (layers_dims[{l}], {'layers_dims[' + str(l - 1) + ']' if name[0] == 'W' else '1'}).")
            assert value.dtype == np.float64, (
                f"{call}: {name} has dtype {value.dtype}; use float64 arrays (np.zeros and np.random.randn "
                f"give float64 by default).")
