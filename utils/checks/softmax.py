"""Visible checks for the Softmax assignment (week 3).

Examples are columns: Z and Y_hat are (C, m), one row per class; labels Y are (1, m) integers 0..C-1.

    softmax(Z)                  Y_hat[i, j] = exp(Z[i, j] - c_j) / sum over k of exp(Z[k, j] - c_j),
                                c_j = max over the column j (any constant per column gives the same values;
                                the column's max keeps every exp(...) in [0, 1], so nothing overflows)
    hardmax(Z)                  (C, m): 1 where a column has its largest entry (the first, on a tie), 0 elsewhere
    one_hot(Y, C)               (C, m): 1 in row Y[0, j] of column j
    cross_entropy_cost(Y_hat, Y)    J = -(1/m) sum over classes and examples of Y * log(Y_hat), one number
    softmax_cost_backward(Y_hat, Y) dZ = Y_hat - Y = m dJ/dZ (the gradient of each example's loss; the 1/m of
                                the cost is applied once, later, in dW = dZ A^T / m)

The checks call the student's functions on fixed inputs and compare with stored values (data/softmax.json, built
from the reference solution by the grading side), with invariants (every column of a softmax sums to 1, a
one-hot has one 1 per column), and for dZ with the two-sided differences (J(Z + eps) - J(Z - eps)) / (2 eps) of
the cost through softmax, one entry of Z at a time, stored when the data was built. When a result is wrong
they say which classic mistake gives it: softmax over the rows, no max subtracted (nan at Z = 1000), the max of
the whole array instead of each column's, the column's mean instead of its max, the cost without 1/m or summed over one axis only, a transposed
one-hot, np.max where np.argmax is meant, dZ with the wrong sign or divided by m.
"""

import numpy as np

from . import compare, expected_values, passed
from .failures import visible_check

# The fixed inputs of the checks (the stored expected values are the results on exactly these).
#: Two ordinary columns, a column near +1000 and one near -1000 (overflow, and the whole array's max).
SOFTMAX_Z = ((1.0, -2.0, 1000.0, -1000.0),
             (2.0, 0.0, 1001.0, -998.0),
             (3.0, 0.5, 1000.0, -1000.0))
#: One example whose scores are far apart: only the column's max keeps every exp(...) finite; the answer is exact.
WIDE_Z, WIDE_Y_HAT = ((-1000.0,), (0.0,), (1000.0,)), ((0.0,), (0.0,), (1.0,))
#: Column 1 ties (2 and 2 at the top): the first wins, as np.argmax decides.
HARDMAX_Z = ((0.5, 2.0, -1.0, 3.0, -0.2),
             (1.5, 2.0, -3.0, 1.0, -0.1),
             (0.1, 1.0, -2.0, 0.0, -0.3))
HARDMAX_TIE_COLUMN = 1
#: Labels 0..2 only, with C = 4 classes: class 3 has no example here and still has its row.
ONE_HOT_Y, ONE_HOT_C = ((2, 0, 1, 2, 0, 1),), 4
#: A square case, where a transposed one-hot has the right shape.
ONE_HOT_SQUARE_Y, ONE_HOT_SQUARE_C = ((1, 2, 0),), 3
COST_Y_HAT = ((0.7, 0.1, 0.2, 0.25),
              (0.2, 0.6, 0.3, 0.25),
              (0.1, 0.3, 0.5, 0.5))
COST_LABELS = ((0, 1, 2, 2),)
BACKWARD_SEED, BACKWARD_SHAPE = 5, (4, 6)
#: The step of the two-sided differences, and the gradient-check threshold the dZ check applies.
BACKWARD_EPSILON = 1e-5
BACKWARD_THRESHOLD = 1e-7
#: The tolerance of the stored values: the course's default (compare.RTOL, compare.ATOL), tighter for the cost.
COST_RTOL = 1e-9


def backward_inputs():
    """Z (C, m) and labels (1, m) of the dZ check, from a fixed seed (Y_hat = softmax(Z) is stored)."""
    rng = np.random.default_rng(BACKWARD_SEED)
    C, m = BACKWARD_SHAPE
    return rng.standard_normal((C, m)) * 2, rng.integers(0, C, size=(1, m))


def _expected(check: str):
    return expected_values("softmax", check)


def _as_numbers(got, call: str) -> np.ndarray:
    try:
        return np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise AssertionError(f"{call} returned a {type(got).__name__} that is not an array of numbers ({error}).")


@visible_check
def check_softmax(softmax) -> None:
    Z = np.array(SOFTMAX_Z)
    C, m = Z.shape
    call = "softmax(Z) for Z of shape (3, 4) (classes are rows, examples are columns)"
    with np.errstate(all="ignore"):
        got = softmax(Z.copy())
    got = _as_numbers(got, call)
    if got.shape == (m, C):
        raise AssertionError(f"{call} has shape {got.shape}: the result is transposed. Y_hat has the shape of Z, "
                             f"(C, m): one column of probabilities per example.")
    assert got.shape == (C, m), f"{call} has shape {got.shape}; it should have the shape of Z, {(C, m)}."
    bad = [j for j in range(m) if not np.all(np.isfinite(got[:, j]))]
    if bad:
        if 2 in bad:
            raise AssertionError(
                f"{call}: columns {bad} hold nan or inf, where Z is near +1000 or -1000. np.exp(1000) overflows to "
                f"inf and np.exp(-1000) underflows to 0, so the division gives inf / inf or 0 / 0. Subtract each "
                f"column's max before np.exp: softmax(Z) = softmax(Z - c) for any constant c per column, and with "
                f"c = the column's max every exp(...) lies in [0, 1] and the largest is exactly 1.")
        if 3 in bad:
            raise AssertionError(
                f"{call}: columns {bad} hold nan or inf, but not column 2 (Z near +1000). Subtract each column's own "
                f"max (np.max(Z, axis=0, keepdims=True)), not the max of the whole array: after subtracting 1001 "
                f"from column 3 (Z near -1000), every np.exp(...) there underflows to 0 and you divide 0 by 0.")
        raise AssertionError(f"{call}: columns {bad} hold nan or inf.")
    columns, rows = got.sum(axis=0), got.sum(axis=1)
    if not compare.close(columns, np.ones(m)):
        if compare.close(rows, np.ones(C)):
            raise AssertionError(f"{call}: the rows sum to 1 but the columns do not ({np.round(columns, 4)}): "
                                 f"softmax over the wrong axis. Each column is one example; normalise over the "
                                 f"classes, axis=0.")
        raise AssertionError(f"{call}: each column should sum to 1 (a probability for each class); the columns sum "
                             f"to {np.round(columns, 4)}.")
    problem = compare.first_difference(got, _expected("softmax"))
    assert problem is None, f"{call}: {problem}."
    single = _as_numbers(softmax(np.array([[0.0], [np.log(3.0)]])), "softmax(Z) for one example")
    expected = _expected("softmax_one_column")
    problem = compare.first_difference(single, expected)
    assert problem is None, (f"softmax of one example, Z = [[0], [log 3]], should be [[0.25], [0.75]] "
                             f"(shape (2, 1)): {problem}.")
    # Scores far apart inside one column: e^(-1000) and e^(-2000) are 0 in float64, so the answer is exactly [0, 0, 1].
    with np.errstate(all="ignore"):
        wide = _as_numbers(softmax(np.array(WIDE_Z)), "softmax(Z) for one example")
    if wide.shape != (3, 1) or not compare.close(wide, np.array(WIDE_Y_HAT)):
        raise AssertionError(
            f"softmax of one example with scores far apart, Z = [[-1000], [0], [1000]], should be [[0], [0], [1]] "
            f"(e^-1000 and e^-2000 are 0 in float64); you returned {np.round(wide, 4).tolist()}. Subtracting the "
            f"column's mean (or any constant other than its max) still overflows when one score is far above it: "
            f"subtract each column's max, np.max(Z, axis=0, keepdims=True).")
    passed("softmax")


@visible_check
def check_hardmax(hardmax) -> None:
    Z = np.array(HARDMAX_Z)
    C, m = Z.shape
    call = "hardmax(Z) for Z of shape (3, 5)"
    data = _expected("hardmax")
    got = _as_numbers(hardmax(Z.copy()), call)
    if got.size == m and got.shape != (C, m):
        if compare.close(got.ravel(), data["mistakes"]["np.max"]):
            raise AssertionError(f"{call} returned each column's largest value (np.max); hardmax needs where it "
                                 f"is (np.argmax), as a one-hot matrix of shape {(C, m)}.")
        raise AssertionError(f"{call} has shape {got.shape}: it returns the one-hot matrix of shape {(C, m)}, not "
                             f"the class indices. Put a 1 in each column at its argmax, zeros elsewhere.")
    if got.shape == (m, C):
        raise AssertionError(f"{call} has shape {got.shape}: transposed; it has the shape of Z, {(C, m)}.")
    assert got.shape == (C, m), f"{call} has shape {got.shape}; it should have the shape of Z, {(C, m)}."
    assert np.all((got == 0) | (got == 1)), f"{call} should hold only 0s and 1s; got {got.tolist()}."
    if compare.close(got, data["mistakes"]["rows"]):
        raise AssertionError(f"{call}: your 1s mark each row's largest entry: hardmax over the wrong axis. Each "
                             f"column is one example; take the argmax over the classes, axis=0.")
    ones = got.sum(axis=0)
    if ones[HARDMAX_TIE_COLUMN] > 1 and all(ones[j] == 1 for j in range(m) if j != HARDMAX_TIE_COLUMN):
        raise AssertionError(f"{call}: column {HARDMAX_TIE_COLUMN} has two largest entries (2 and 2) and you "
                             f"marked both. A one-hot has exactly one 1 per column: take the first largest, as "
                             f"np.argmax does.")
    problem = compare.first_difference(got, data["Y_hat"])
    assert problem is None, f"{call}: {problem}."
    passed("hardmax")


@visible_check
def check_one_hot(one_hot) -> None:
    data = _expected("one_hot")
    for labels, C, expected in ((ONE_HOT_Y, ONE_HOT_C, data["rectangular"]),
                                (ONE_HOT_SQUARE_Y, ONE_HOT_SQUARE_C, data["square"])):
        Y = np.array(labels, dtype=np.int64)
        m = Y.shape[1]
        call = f"one_hot(Y = {Y.tolist()}, C = {C})"
        got = _as_numbers(one_hot(Y.copy(), C), call)
        if got.shape == (1, m, C):
            raise AssertionError(f"{call} has shape {got.shape}: np.eye(C)[Y] indexes with the (1, m) array and keeps "
                                 f"its first axis. Index with Y[0] (or Y.ravel()) and transpose, to shape {(C, m)}.")
        if got.shape == (m, C) and m != C:
            raise AssertionError(f"{call} has shape {got.shape}: the one-hot matrix is transposed. It is (C, m), one "
                                 f"column per example, like Y_hat.")
        if got.shape == (int(Y.max()) + 1, m) and C != int(Y.max()) + 1:
            raise AssertionError(f"{call} has shape {got.shape}: it needs C = {C} rows even when the largest label "
                                 f"in Y is {int(Y.max())} (class {C - 1} has no example here).")
        assert got.shape == (C, m), f"{call} has shape {got.shape}; expected {(C, m)}."
        if m == C and compare.close(got, expected.T) and not compare.close(got, expected):
            raise AssertionError(f"{call}: your matrix is the transpose of the one-hot: column j should hold the 1 "
                                 f"in row Y[0, j].")
        problem = compare.first_difference(got, expected)
        assert problem is None, f"{call}: {problem}."
    passed("one_hot")


@visible_check
def check_cross_entropy_cost(cross_entropy_cost) -> None:
    Y_hat = np.array(COST_Y_HAT)
    C, m = Y_hat.shape
    data = _expected("cost")
    Y = data["Y"]
    call = "cross_entropy_cost(Y_hat, Y) for C = 3 classes and m = 4 examples"
    got = cross_entropy_cost(Y_hat.copy(), Y.copy())
    shape = np.shape(got)
    if shape in ((m,), (1, m)):
        raise AssertionError(f"{call} has shape {shape}: one loss per example. Sum over the classes and the "
                             f"examples (then multiply by -1/m): the cost is one number.")
    if shape in ((C,), (C, 1)):
        raise AssertionError(f"{call} has shape {shape}: one value per class, summed over the examples only. Sum "
                             f"over the classes too: the cost is one number.")
    assert shape == (), f"{call} returned shape {shape}; the cost is one number (a float)."
    got = float(_as_numbers(got, call))
    expected = data["J"]
    if compare.close(got, expected, rtol=COST_RTOL):
        passed("cross_entropy_cost")
        return
    mistakes = {
        "J is missing the factor 1/m (a sum over the examples instead of their average)": data["mistakes"]["no 1/m"],
        "np.mean over the whole (C, m) array divides by C * m; the average is over the m examples only":
            data["mistakes"]["mean over C and m"],
        "the minus sign is missing (log of a probability is negative; J is positive)": data["mistakes"]["no minus"],
        "it adds the binary cost's (1 - Y) log(1 - Y_hat) term; with softmax, -sum Y log(Y_hat) over the classes "
        "already counts every class": data["mistakes"]["binary formula"],
    }
    for mistake, value in mistakes.items():
        if compare.close(got, value, rtol=COST_RTOL):
            raise AssertionError(f"{call} returned {got!r}, expected {expected!r}: {mistake}.")
    raise AssertionError(f"{call} returned {got!r}; expected {expected!r} = -(1/m) sum Y log(Y_hat).")


@visible_check
def check_softmax_cost_backward(softmax_cost_backward) -> None:
    data = _expected("backward")
    Y_hat, Y, numerical = data["Y_hat"], data["Y"], data["two-sided differences"]
    C, m = Y_hat.shape
    call = f"softmax_cost_backward(Y_hat, Y) for C = {C}, m = {m}"
    got = _as_numbers(softmax_cost_backward(Y_hat.copy(), Y.copy()), call)
    problem = compare.shape_difference(got, numerical)
    assert problem is None, f"{call}: {problem}; dZ has the shape of Z, (C, m)."

    def difference(gradient) -> float:
        return float(np.linalg.norm(gradient - numerical) / (np.linalg.norm(gradient) + np.linalg.norm(numerical)))

    found = difference(got)
    if found < BACKWARD_THRESHOLD:
        passed("softmax_cost_backward")
        return
    hint = ""
    if difference(-got) < BACKWARD_THRESHOLD:
        hint = " Your dZ has the wrong sign: dZ = Y_hat - Y, not Y - Y_hat."
    elif difference(got * m) < BACKWARD_THRESHOLD:
        hint = (" Your dZ is divided by m. dZ = Y_hat - Y is the gradient of each example's loss; the cost's 1/m is "
                "applied once, later, in dW = dZ A^T / m.")
    raise AssertionError(
        f"{call} differs from the numerical gradient: m (J(Z + eps) - J(Z - eps)) / (2 eps), one entry of Z at a "
        f"time, with Y_hat = softmax(Z) and J the cross-entropy cost (eps = {BACKWARD_EPSILON:g}). Relative "
        f"difference ||dZ - numerical|| / (||dZ|| + ||numerical||) = {found:.3g}, above {BACKWARD_THRESHOLD:g}.{hint}")
