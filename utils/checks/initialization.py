"""Visible checks for the Initialization assignment (week 1).

Each initialisation returns {"W1": (n[1], n[0]), "b1": (n[1], 1), ...} for layers_dims = [n[0], ..., n[L]].
Biases are always zeros; the weights differ:

    zeros         W[l] = 0
    large random  W[l] ~ N(0, 1) * 10
    He            W[l] ~ N(0, 1) * sqrt(2 / n[l-1])
    Xavier        W[l] ~ N(0, 1) * sqrt(1 / n[l-1])
    Glorot        W[l] ~ N(0, 1) * sqrt(2 / (n[l-1] + n[l]))

The spread is checked on a large layer, where the sample standard deviation is
within a fraction of a percent of the true one.
"""

import numpy as np

from . import check_parameters_structure, passed

SMALL_DIMS = ([3, 2, 1], [5, 4, 3, 1], [2, 6])
LARGE_DIMS = [300, 500, 200]
STD_TOLERANCE = 0.03  # relative; the sampling error on a 500 x 300 layer is about 0.2%

KNOWN_SPREADS = {
    "sqrt(2 / n_prev), He": lambda n_prev, n: np.sqrt(2 / n_prev),
    "sqrt(1 / n_prev), Xavier": lambda n_prev, n: np.sqrt(1 / n_prev),
    "sqrt(2 / (n_prev + n)), Glorot": lambda n_prev, n: np.sqrt(2 / (n_prev + n)),
    "10, large random": lambda n_prev, n: 10.0,
    "1, no scaling at all": lambda n_prev, n: 1.0,
    "2 / n_prev, the square root is missing": lambda n_prev, n: 2 / n_prev,
    "1 / n_prev, the square root is missing": lambda n_prev, n: 1 / n_prev,
}


def check_initialize_parameters_zeros(initialize_parameters_zeros) -> None:
    for layers_dims in SMALL_DIMS:
        call = f"initialize_parameters_zeros({layers_dims})"
        parameters = initialize_parameters_zeros(list(layers_dims))
        check_parameters_structure(parameters, layers_dims, call)
        for name, value in parameters.items():
            assert np.all(value == 0), f"{call}: {name} has non-zero entries; every weight and bias must be 0."
    passed("initialize_parameters_zeros")


def check_random_initialization(initialize, expected_spread: str) -> None:
    """Check `initialize` draws W[l] from a zero-mean normal with the spread named `expected_spread`."""
    fn_name = getattr(initialize, "__name__", "your function")
    for layers_dims in SMALL_DIMS:
        call = f"{fn_name}({layers_dims})"
        parameters = initialize(list(layers_dims))
        check_parameters_structure(parameters, layers_dims, call)
        for l in range(1, len(layers_dims)):
            assert np.all(parameters[f"b{l}"] == 0), f"{call}: b{l} should be all zeros (biases start at 0)."
            assert np.any(parameters[f"W{l}"] != 0), f"{call}: W{l} is all zeros; draw it at random."

    call = f"{fn_name}({LARGE_DIMS})"
    parameters = initialize(list(LARGE_DIMS))
    check_parameters_structure(parameters, LARGE_DIMS, call)
    formula = KNOWN_SPREADS[expected_spread]
    for l in range(1, len(LARGE_DIMS)):
        W = parameters[f"W{l}"]
        n_prev, n = LARGE_DIMS[l - 1], LARGE_DIMS[l]
        target = formula(n_prev, n)
        std, mean = float(np.std(W)), float(np.mean(W))
        # A zero-mean draw has |mean| within a few std / sqrt(size); a `rand` draw is off by 1.7 std.
        assert np.allclose(mean, 0.0, atol=6 * std / np.sqrt(W.size)), (
            f"{call}: W{l} has mean {mean:.4g}, but it should be about 0. np.random.rand draws from [0, 1); "
            f"use np.random.randn, which draws from a normal distribution with mean 0.")
        assert np.allclose(std, target, rtol=STD_TOLERANCE, atol=0), (
            f"{call}: W{l} (n_prev={n_prev}, n={n}) has standard deviation {std:.4g}, but the scale "
            f"{expected_spread.split(',')[0]} gives {target:.4g}.{_diagnose(std, n_prev, n)}")
        kurtosis = float(np.mean(((W - mean) / std) ** 4))
        assert np.allclose(kurtosis, 3.0, atol=0.3), (
            f"{call}: the values of W{l} are not normally distributed (kurtosis {kurtosis:.2f}, a normal "
            f"distribution has 3). Draw with np.random.randn.")
    passed(fn_name)


def _diagnose(std: float, n_prev: int, n: int) -> str:
    for name, formula in KNOWN_SPREADS.items():
        if abs(std - formula(n_prev, n)) <= STD_TOLERANCE * formula(n_prev, n):
            return f" Your values match a scale of {name}."
    return ""
