"""How every value in the course is compared with the value it should be, on both sides.

The visible checks (idnn.checks.<assignment>, in the student's kernel) and the hidden verdicts
(idnn.autograde.verdicts, in the grader's process) call the same functions; only the tolerances differ, and
each caller names its own.

    first_difference   numbers: the same shape, the same dtype family, then every entry close:
                           got == expected, or both NaN, or |got - expected| <= atol + rtol * |expected|
                       (complex numbers by their modulus; rtol = atol = 0 is exact equality, done without
                       conversion so that large integers stay exact; text is always compared exactly).
                       The sentence names what differs first: the shape, the dtype, or how many values differ
                       and the first of them with its index.
    shape_difference   the shape and dtype family only (the values are random or free)
    dict_difference    a dict of arrays: every expected key present, each value by first_difference
    gradient_check_difference
                       a gradient check's relative difference ||grad - gradapprox|| / (||grad|| + ||gradapprox||):
                       below ROUND_OFF only round-off shows, so any value in [0, ROUND_OFF) matches one there;
                       elsewhere the two agree within rtol, relative

Two kinds of values are not compared here: a random draw's spread (mean, standard deviation, kurtosis within a
few standard errors: stats.spread_difference) and answers with many right values (a split, a dropout mask:
the property checks of properties.py, with exact tails in stats.py). Text, labels and small integers that a
check spells out (a diagnosis, a batch count) are compared with ==.

Nothing here computes what an exercise computes.
"""

import numpy as np

#: The default tolerance, numpy's: |got - expected| <= ATOL + RTOL * |expected|.
RTOL = 1e-5
ATOL = 1e-8
#: A gradient check's relative difference below this is round-off only: the gradient is right.
ROUND_OFF = 1e-7
#: Above ROUND_OFF, a gradient check's difference agrees with the expected one within this, relative.
DIFFERENCE_RTOL = 1e-4

FAMILIES = {"b": "integer", "i": "integer", "u": "integer", "f": "float", "c": "complex", "U": "text"}


def family(array: np.ndarray) -> str:
    """The dtype family that must match: integer (booleans included), float, complex or text."""
    return FAMILIES.get(array.dtype.kind, array.dtype.kind)


def show(value) -> str:
    """A value as the student sees it in a sentence: every digit of a number, as Python writes it."""
    return repr(value.item()) if isinstance(value, np.generic) else repr(value)


def _array(value) -> np.ndarray | str:
    """`value` as an array, or a sentence when it cannot be one (a ragged list, say)."""
    try:
        return np.asarray(value)
    except (TypeError, ValueError) as error:
        return f"a {type(value).__name__} that is not an array ({type(error).__name__}: {error})"


def shape_difference(got, expected) -> str | None:
    """None when `got` has the shape and the dtype family of `expected`; otherwise a sentence saying which differs."""
    got, expected = _array(got), np.asarray(expected)
    if isinstance(got, str):
        return got
    if got.shape != expected.shape:
        return f"shape {got.shape}, expected {expected.shape}"
    if family(got) != family(expected):
        return f"dtype {got.dtype}, expected {family(expected)} values like {expected.dtype}"
    return None


def differing(got: np.ndarray, expected: np.ndarray, rtol: float = RTOL, atol: float = ATOL) -> np.ndarray:
    """Where `got` differs from `expected` (both numbers, of one shape): a boolean array of that shape.

        matches  got == expected, or both NaN, or |got - expected| <= atol + rtol * |expected|
    """
    with np.errstate(invalid="ignore", over="ignore"):
        wrong = np.asarray(got != expected)
        if np.any(wrong) and (rtol or atol):
            got_c, expected_c = got.astype(np.complex128), expected.astype(np.complex128)
            wrong &= ~(np.abs(got_c - expected_c) <= atol + rtol * np.abs(expected_c))
        if np.any(wrong) and got.dtype.kind in "fc" and expected.dtype.kind in "fc":
            wrong &= ~(np.isnan(got) & np.isnan(expected))
    return wrong


def first_difference(got, expected, rtol: float = RTOL, atol: float = ATOL) -> str | None:
    """None when `got` matches `expected` (any array-likes; see the module's rule); otherwise a sentence saying
    what differs first: "shape (3, 2), expected (2, 3)", "dtype int64, expected float values like float64",
    "2 of 6 values differ; first at index (1, 2): got 0.5, expected 0.0" (for one number: "got 0.5, expected 0.0").
    """
    problem = shape_difference(got, expected)
    if problem:
        return problem
    got, expected = np.asarray(got), np.asarray(expected)
    if family(expected) == "text":
        return None if np.array_equal(got, expected) else f"{got.tolist()!r}, expected {expected.tolist()!r}"
    wrong = differing(got, expected, rtol, atol)
    if not np.any(wrong):
        return None
    if got.ndim == 0:
        return f"got {show(got[()])}, expected {show(expected[()])}"
    first = tuple(int(i) for i in np.argwhere(wrong)[0])
    return (f"{int(np.sum(wrong))} of {got.size} values differ; first at index {first}: "
            f"got {show(got[first])}, expected {show(expected[first])}")


def close(got, expected, rtol: float = RTOL, atol: float = ATOL) -> bool:
    """Whether `got` matches `expected` by first_difference (the same shape, dtype family and values)."""
    return first_difference(got, expected, rtol, atol) is None


def equal(got, expected) -> bool:
    """Whether `got` matches `expected` exactly (the same shape, dtype family and values; NaN matches NaN)."""
    return first_difference(got, expected, rtol=0.0, atol=0.0) is None


def dict_difference(got, expected: dict, what: str, rtol: float = RTOL, atol: float = ATOL) -> str | None:
    """None when `got` is a dict holding every key of `expected` (more are allowed) with a matching value;
    otherwise a sentence about the first key, in sorted order, that differs:

        "v should be a dict; got a list"    "v has no 'db1' (it has ['dW1'])"    "v['dW1']: <first_difference>"
    """
    if not isinstance(got, dict):
        return f"{what} should be a dict; got a {type(got).__name__}"
    for key in sorted(expected):
        if key not in got:
            return f"{what} has no {key!r} (it has {sorted(got, key=str)})"
        problem = first_difference(got[key], expected[key], rtol, atol)
        if problem:
            return f"{what}[{key!r}]: {problem}"
    return None


def is_round_off(difference) -> bool:
    """Whether a gradient check's difference is round-off only: 0 <= difference < ROUND_OFF."""
    return bool(0 <= difference < ROUND_OFF)


def gradient_check_difference(got, expected, rtol: float = DIFFERENCE_RTOL) -> str | None:
    """None when a gradient check's difference `got` (one number) matches the expected one; otherwise a sentence.

    Where the expected difference is round-off (below ROUND_OFF: its exact value depends on how the sums are
    written), `got` must be round-off too; elsewhere |got - expected| <= rtol * expected.
    """
    if np.size(got) != 1:
        return f"the difference should be one number; got shape {np.shape(got)}"
    try:
        got_v = float(np.ravel(np.asarray(got, dtype=np.float64))[0])
    except (TypeError, ValueError):
        return f"the difference should be a number; got a {type(got).__name__}"
    expected_v = float(np.ravel(expected)[0])
    if not np.isfinite(got_v):
        return f"the difference is {got_v}"
    if is_round_off(expected_v):
        return None if is_round_off(got_v) else \
            f"difference {got_v:.3g}, expected a round-off-sized value below {ROUND_OFF:g} ({expected_v:.3g})"
    if abs(got_v - expected_v) <= rtol * expected_v:
        return None
    return f"difference {got_v:.6g}, expected {expected_v:.6g}"
