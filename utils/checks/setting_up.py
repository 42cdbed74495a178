"""Visible checks for the Setting up your ML application assignment (week 1).

    split_sizes(m):   dev and test each take 20% of m, but at most 10,000 examples; train takes the rest
    diagnose:         avoidable bias = train error - base error; variance = dev error - train error;
                      each is "high" when it exceeds `tolerance`
    normalisation:    mu and sigma (standard deviation, not variance) fitted on the training set only

Expected values are stored as data (data/setting_up.json); a split is judged by its properties.
"""

import numpy as np

from . import compare, expected_values, passed
from .failures import visible_check
from .properties import check_split as split_problems

# The fixed inputs of the checks (the stored expected values are the results on exactly these).
SPLIT_SIZES_CASES = (5, 100, 1_000, 10_000, 100_000, 1_000_000)
SPLIT_M = 1500
DIAGNOSE_CASES = ((0.01, 0.11, 0.0), (0.15, 0.16, 0.0), (0.15, 0.30, 0.0), (0.005, 0.01, 0.0), (0.15, 0.16, 0.14),
                  (0.15, 0.30, 0.14))
DIAGNOSES = ("high bias", "high variance", "high bias and high variance", "low bias and low variance")


def normalization_inputs():
    X_train = np.array([[1.0, 2.0, 3.0, 6.0], [100.0, 300.0, 200.0, 400.0]])
    X_dev = np.array([[4.0, 8.0], [250.0, 650.0]])
    return X_train, X_dev


def _expected(check: str):
    return expected_values("setting_up", check)


@visible_check
def check_split_sizes(split_sizes) -> None:
    for m, expected in zip(SPLIT_SIZES_CASES, _expected("split_sizes")):
        expected = tuple(expected)
        got = tuple(int(v) for v in split_sizes(m))
        assert got == expected, (
            f"split_sizes({m}) returned {got}; expected {expected}. Dev and test each take int(0.2 * m) examples, "
            f"but never more than 10,000; the training set gets the rest.")
    passed("split_sizes")


@visible_check
def check_split(train_dev_test_split) -> None:
    # m = SPLIT_M: large enough that a split which is not stratified misses the class proportions by more than 2.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3, SPLIT_M))
    Y = (rng.random((1, SPLIT_M)) < 0.3).astype(np.int64)
    for seed in (1, 2):
        result = train_dev_test_split(X.copy(), Y.copy(), seed=seed)
        assert isinstance(result, tuple) and len(result) == 6, \
            "train_dev_test_split should return a tuple of six arrays: X_train, Y_train, X_dev, Y_dev, X_test, Y_test."
        got = {f"split/{i}": np.asarray(a) for i, a in enumerate(result)}
        problems = split_problems("split", got, {"X": X, "Y": Y, "sizes": _expected("split")["sizes"]})
        assert not problems, "train_dev_test_split: " + "; ".join(problems) + "."
    result = train_dev_test_split(X.copy(), Y.copy(), seed=1)
    again = train_dev_test_split(X.copy(), Y.copy(), seed=1)
    assert all(compare.equal(a, b) for a, b in zip(result, again)), (
        "Two calls with the same seed gave different splits: draw from np.random.default_rng(seed).")
    other = train_dev_test_split(X.copy(), Y.copy(), seed=2)
    assert not compare.equal(result[0], other[0]), "Different seeds gave the same split: use the seed argument."
    passed("train_dev_test_split")


@visible_check
def check_diagnose(diagnose, basic_recipe) -> None:
    for (train, dev, base), expected in zip(DIAGNOSE_CASES, _expected("diagnose")):
        got = diagnose(train, dev, base)
        assert got == expected, (
            f"diagnose(train_error={train}, dev_error={dev}, base_error={base}) returned {got!r}; expected "
            f"{expected!r}. Avoidable bias is train - base = {train - base:.3f}; variance is dev - train = "
            f"{dev - train:.3f}; each is high above the tolerance 0.02.")
    for diagnosis, expected in zip(DIAGNOSES, _expected("basic_recipe")):
        got = sorted(basic_recipe(diagnosis))
        assert got == expected, (
            f"basic_recipe({diagnosis!r}) returned {got}; expected {expected}."
            + (" With both problems, fix the bias first." if "and high" in diagnosis else ""))
    passed("diagnose and basic_recipe")


@visible_check
def check_normalization(fit_normalizer, normalize) -> None:
    X_train, X_dev = normalization_inputs()
    data = _expected("normalization")
    mu, sigma = fit_normalizer(X_train)
    assert np.shape(mu) == (2, 1) and np.shape(sigma) == (2, 1), (
        f"mu and sigma should have shape (n_x, 1) = (2, 1), one value per feature; got {np.shape(mu)} and "
        f"{np.shape(sigma)}. Use axis=1, keepdims=True.")
    assert compare.close(mu, data["mu"]), (
        f"mu should be the mean of each feature (row): {data['mu'].tolist()}; got {np.asarray(mu).tolist()}.")
    if compare.close(sigma, data["mistakes"]["the variance"]):
        raise AssertionError("sigma is the variance; divide by the standard deviation, its square root. "
                             "(Some course notes divide by the variance: that is a mistake.)")
    assert compare.close(sigma, data["sigma"]), (
        f"sigma should be the standard deviation of each feature, np.std(X, axis=1, keepdims=True) = "
        f"{data['sigma'].ravel().round(4).tolist()}; got {np.ravel(sigma).round(4).tolist()}.")
    Z = normalize(X_train, mu, sigma)
    n_x = X_train.shape[0]
    assert compare.close(np.mean(Z, axis=1), np.zeros(n_x)) and compare.close(np.std(Z, axis=1), np.ones(n_x)), \
        "normalize(X_train, mu, sigma) should give every feature mean 0 and standard deviation 1: (X - mu) / sigma."
    Z_dev = normalize(X_dev, mu, sigma)
    assert compare.close(Z_dev, data["Z_dev"]), (
        "normalize(X_dev, mu, sigma) must use the training set's mu and sigma, not statistics of X_dev: dev and "
        "test data go through exactly the same transformation as the training data.")
    passed("fit_normalizer and normalize")
