"""Visible checks for the Initialization assignment (week 1).

Each initialisation returns {"W1": (n[1], n[0]), "b1": (n[1], 1), ...} for layers_dims = [n[0], ..., n[L]].
Biases are always zeros; the weights differ:

    zeros         W[l] = 0
    large random  W[l] ~ N(0, 1) * 10
    He            W[l] ~ N(0, 1) * sqrt(2 / n[l-1])
    Xavier        W[l] ~ N(0, 1) * sqrt(1 / n[l-1])
    Glorot        W[l] ~ N(0, 1) * sqrt(2 / (n[l-1] + n[l]))

The spread is checked on a large layer, where the sample standard deviation is
within a fraction of a percent of the true one; the standard deviation each scale gives on
that layer (the right ones and the classic mistakes) is stored as data (data/initialization.json).
The statistics are those of the hidden checks (stats.spread_difference), against the exact values of
a normal draw with the expected scale (draws=1) instead of the reference's own draw:

    mean      0, within 6 standard errors (std / sqrt(n), with the values' own std)
    std       the scale's, within STD_TOLERANCE (relative: wide enough to allow for sampling, narrow
              enough to tell the scales apart and name the one an answer used)
    kurtosis  3, within 0.3 (stats.KURTOSIS_FLOOR; a uniform draw has 1.8)
"""

import numpy as np

from dataclasses import replace

from . import check_parameters_structure, compare, expected_values, passed, stats
from .failures import visible_check

SMALL_DIMS = ([3, 2, 1], [5, 4, 3, 1], [2, 6])
LARGE_DIMS = [300, 500, 200]
STD_TOLERANCE = 0.03  # relative; the sampling error on a 500 x 300 layer is about 0.2%


def spreads() -> dict[str, list[float]]:
    """{name of a scale: the standard deviation it gives each layer of LARGE_DIMS}, for every scale the checks know
    (the right ones first, then the classic mistakes)."""
    return {name: stds for name, stds in expected_values("initialization", "spreads")}


@visible_check
def check_initialize_parameters_zeros(initialize_parameters_zeros) -> None:
    for layers_dims in SMALL_DIMS:
        call = f"initialize_parameters_zeros({layers_dims})"
        parameters = initialize_parameters_zeros(list(layers_dims))
        check_parameters_structure(parameters, layers_dims, call)
        for name, value in parameters.items():
            assert np.all(value == 0), f"{call}: {name} has non-zero entries; every weight and bias must be 0."
    passed("initialize_parameters_zeros")


@visible_check
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
    known = spreads()
    for l in range(1, len(LARGE_DIMS)):
        n_prev, n = LARGE_DIMS[l - 1], LARGE_DIMS[l]
        target = known[expected_spread][l - 1]
        drawn = stats.spread(parameters[f"W{l}"])
        # A zero-mean draw has |mean| within a few std / sqrt(size); a `rand` draw is off by 1.7 std.
        within = replace(stats.spread_within(drawn.std, drawn.n), std=STD_TOLERANCE * target)
        stray = stats.spread_difference(drawn, 0.0, target, stats.NORMAL_KURTOSIS, within)
        assert stray is None or stray.statistic != "mean", (
            f"{call}: W{l} has mean {drawn.mean:.4g}, but it should be about 0. np.random.rand draws from [0, 1); "
            f"use np.random.randn, which draws from a normal distribution with mean 0.")
        assert stray is None or stray.statistic != "standard deviation", (
            f"{call}: W{l} (n_prev={n_prev}, n={n}) has standard deviation {drawn.std:.4g}, but the scale "
            f"{expected_spread.split(',')[0]} gives {target:.4g}.{_diagnose(drawn.std, known, l)}")
        assert stray is None, (
            f"{call}: the values of W{l} are not normally distributed (kurtosis {drawn.kurtosis:.2f}, a normal "
            f"distribution has 3). Draw with np.random.randn.")
    passed(fn_name)


def _diagnose(std: float, known: dict[str, list[float]], l: int) -> str:
    for name, stds in known.items():
        if compare.close(std, stds[l - 1], rtol=STD_TOLERANCE, atol=0.0):
            return f" Your values match a scale of {name}."
    return ""
