"""Exact tail probabilities for the property checks (idnn.checks.properties).

A property check asks whether an answer was *drawn* right: a dropout mask made of independent
Bernoulli(keep_prob) entries, noise made of independent N(0, sigma^2) values, a shuffle that is a
uniform random permutation. Each test below computes a statistic whose distribution under a
correct answer is known exactly (or bounded by an inequality that holds for every n, with no
asymptotics) and returns the log of its p-value: for a correct answer P(log_p < log t) <= t for
every t. A check fails an answer only when one of its tests falls below its share of the
false-alarm budget FALSE_ALARM (a union bound over the tests of the check), so a correct answer
fails a check with probability below FALSE_ALARM = 1e-9, whatever its sizes.

    binomial_test       count ~ Binomial(n, p): exact two-sided tails
    hypergeometric_test count ~ Hypergeometric(N, K, n): exact two-sided tails
    ascents_test        ascents of a uniform random permutation: the Eulerian distribution, exact
    halves_test         how many of the lower half of the ranks sit in the first half of an order:
                        hypergeometric, exact
    normal_ks_test      Kolmogorov-Smirnov distance to the N(0, sigma^2) CDF, with the
                        Dvoretzky-Kiefer-Wolfowitz-Massart bound P(D_n > e) <= 2 exp(-2 n e^2)
    normal_mean_test    the mean of n iid N(0, sigma^2) values is exactly N(0, sigma^2 / n)
    chi_square_test     sum x^2 / sigma^2 ~ chi-square(n), with the Laurent-Massart bounds
                        P(Q - n >= 2 sqrt(n x) + 2 x) <= e^-x and P(n - Q >= 2 sqrt(n x)) <= e^-x

Every test also states `log_best`, the smallest log p-value any outcome could give. It depends
only on the sizes (never on the answer), and `failures` spends budget only on tests whose best
outcome could reach their threshold: a test that could never fail is not run.
"""

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

#: The probability that a correct answer fails one property check (all its tests together).
FALSE_ALARM = 1e-9
#: KS distances are lowered by this much before they are judged: it covers rounding of the values
#: (float32 answers included: a change of every value by at most d * sigma moves the distance by at
#: most 0.4 d) so that the bound stays rigorous for values that are not exact reals.
KS_ROUNDING = 1e-5
LOG2 = math.log(2.0)


@dataclass
class Test:
    """One statistical test (or `count` tests of the same size, of which the smallest p-value is kept)."""

    label: str        # what was tested, to choose the message
    log_p: float      # log p-value of what the answer gave (the smallest of the `count` tests)
    log_best: float   # the smallest log p-value any outcome could give: sizes only, never the answer
    count: int = 1
    detail: dict | None = None  # figures for the message


def failures(tests: list[Test], alpha: float | None = None) -> tuple[list[Test], float]:
    """The tests that fail, and the log threshold each was judged at.

    The budget alpha is shared equally (union bound) over the tests that could fail at all: a test
    whose best possible outcome stays above the threshold is dropped and the threshold recomputed.
    That choice depends on sizes only, so for a correct answer P(any failure) <= alpha (default FALSE_ALARM).
    """
    alpha = FALSE_ALARM if alpha is None else alpha
    planned = list(tests)
    level = 0.0
    while planned:
        level = math.log(alpha / sum(t.count for t in planned))
        powered = [t for t in planned if t.log_best < level]
        if len(powered) == len(planned):
            break
        planned = powered
    return [t for t in planned if t.log_p < level], level


# -- discrete distributions ----------------------------------------------------------------------

@lru_cache(maxsize=8)
def _log_factorials(n: int) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, n + 1, dtype=np.float64)))])


def _log_choose(n: int, k: np.ndarray) -> np.ndarray:
    table = _log_factorials(max(1024, 1 << int(n).bit_length()))
    return table[n] - table[k] - table[n - k]


def _log_tails(log_pmf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """log P(X <= k) and log P(X >= k) from log P(X = k) (values below e^-700 may come out as -inf)."""
    top = float(np.max(log_pmf))
    pmf = np.exp(log_pmf - top)
    with np.errstate(divide="ignore"):
        return np.log(np.cumsum(pmf)) + top, np.log(np.cumsum(pmf[::-1])[::-1]) + top


def _two_sided(log_at_most: float, log_at_least: float) -> float:
    return min(0.0, LOG2 + min(log_at_most, log_at_least))


@lru_cache(maxsize=64)
def binomial_log_tails(n: int, p: float) -> tuple[np.ndarray, np.ndarray]:
    """log P(X <= k) and log P(X >= k) for k = 0..n, X ~ Binomial(n, p)."""
    k = np.arange(n + 1)
    if p <= 0.0 or p >= 1.0:
        where = n if p >= 1.0 else 0
        with np.errstate(divide="ignore"):
            log_pmf = np.log((k == where).astype(np.float64))
    else:
        log_pmf = _log_choose(n, k) + k * math.log(p) + (n - k) * math.log1p(-p)
    return _log_tails(log_pmf)


def binomial_test(label: str, counts, n: int, p: float, **detail) -> Test:
    """counts (one or many, each out of n) against Binomial(n, p), two-sided; the most extreme one is kept."""
    at_most, at_least = binomial_log_tails(int(n), float(p))
    counts = np.atleast_1d(np.asarray(counts, dtype=np.int64))
    log_p = np.minimum(0.0, LOG2 + np.minimum(at_most[counts], at_least[counts]))
    worst = int(np.argmin(log_p))
    best = _two_sided(float(at_most[0]), float(at_least[n]))
    return Test(label, float(log_p[worst]), best, count=len(counts),
                detail={"worst": worst, "count": int(counts[worst]), "n": int(n), "p": float(p), **detail})


@lru_cache(maxsize=64)
def hypergeometric_log_tails(N: int, K: int, n: int) -> tuple[int, np.ndarray, np.ndarray]:
    """(lowest possible x, log P(X <= x), log P(X >= x)) for X ~ Hypergeometric: x of the K marked among N,
    in n drawn without replacement."""
    low, high = max(0, n + K - N), min(K, n)
    x = np.arange(low, high + 1)
    log_pmf = _log_choose(K, x) + _log_choose(N - K, n - x) - _log_choose(N, np.array(n))
    return (low,) + _log_tails(log_pmf)


def hypergeometric_test(label: str, x: int, N: int, K: int, n: int, **detail) -> Test:
    low, at_most, at_least = hypergeometric_log_tails(int(N), int(K), int(n))
    i = int(x) - low
    log_p = _two_sided(float(at_most[i]), float(at_least[i])) if 0 <= i < len(at_most) else -math.inf
    best = _two_sided(float(at_most[0]), float(at_least[-1]))
    return Test(label, log_p, best, detail={"x": int(x), "N": int(N), "K": int(K), "n": int(n), **detail})


@lru_cache(maxsize=64)
def eulerian_log_tails(n: int) -> tuple[np.ndarray, np.ndarray]:
    """log P(A <= k), log P(A >= k) for k = 0..n-1, A the number of ascents of a uniform permutation of n.

    P_n(k) = ((k + 1) P_{n-1}(k) + (n - k) P_{n-1}(k - 1)) / n, from P_1(0) = 1 (the Eulerian numbers / n!).
    Every step is a positive combination, so the floats lose nothing but underflow far in the tails.
    """
    pmf = np.array([1.0])
    for size in range(2, n + 1):
        k = np.arange(size)
        previous = np.concatenate([pmf, [0.0]])
        shifted = np.concatenate([[0.0], pmf])
        pmf = ((k + 1) * previous + (size - k) * shifted) / size
    with np.errstate(divide="ignore"):
        return _log_tails(np.log(pmf))


def ascents_test(label: str, order, **detail) -> Test | None:
    """The order of distinct numbers against a uniform random permutation: how many neighbours increase."""
    order = np.asarray(order)
    n = len(order)
    if n < 2:
        return None
    ascents = int(np.sum(order[1:] > order[:-1]))
    at_most, at_least = eulerian_log_tails(n)
    return Test(label, _two_sided(float(at_most[ascents]), float(at_least[ascents])),
                _two_sided(float(at_most[0]), float(at_least[-1])),
                detail={"ascents": ascents, "n": n, **detail})


def halves_test(label: str, order, **detail) -> Test | None:
    """The order of distinct numbers against a uniform random permutation: how many of the smaller half
    stand in the first half of the order (hypergeometric for a uniform order; all for a sorted one, none for
    a reversed or rotated one)."""
    order = np.asarray(order)
    n = len(order)
    half = n // 2
    if half < 1:
        return None
    ranks = np.argsort(np.argsort(order, kind="stable"), kind="stable")
    x = int(np.sum(ranks[:half] < half))
    return hypergeometric_test(label, x, n, half, half, half=half, **detail)


# -- normal draws ----------------------------------------------------------------------------------
_erfc = np.frompyfunc(math.erfc, 1, 1)


def normal_cdf(z: np.ndarray) -> np.ndarray:
    return 0.5 * _erfc(-np.asarray(z, dtype=np.float64) / math.sqrt(2.0)).astype(np.float64)


def normal_ks_test(label: str, values: np.ndarray, sigma: float, **detail) -> Test | None:
    """Independent N(0, sigma^2) values? The Kolmogorov-Smirnov distance D of their empirical CDF to the
    normal CDF, judged with P(D > e) <= 2 exp(-2 n e^2) (Massart's form of the DKW inequality: every n)."""
    x = np.sort(np.ravel(values))
    n = x.size
    if n == 0:
        return None
    F = normal_cdf(x / sigma)
    i = np.arange(1, n + 1)
    distance = float(max(np.max(i / n - F), np.max(F - (i - 1) / n)))
    judged = max(0.0, distance - KS_ROUNDING)
    return Test(label, min(0.0, LOG2 - 2 * n * judged ** 2), LOG2 - 2 * n * (1 - KS_ROUNDING) ** 2,
                detail={"distance": distance, "n": n, **detail})


def ks_threshold(n: int, log_level: float) -> float:
    """The KS distance above which normal_ks_test fails n values at log p-value threshold log_level."""
    return math.sqrt(max(0.0, LOG2 - log_level) / (2 * n)) + KS_ROUNDING


def normal_mean_test(label: str, values: np.ndarray, sigma: float, **detail) -> Test | None:
    """The mean of n iid N(0, sigma^2) values is N(0, sigma^2 / n): exact two-sided normal tail."""
    n = np.size(values)
    if n == 0:
        return None
    mean = float(np.mean(values))
    z = abs(mean) * math.sqrt(n) / sigma
    tail = math.erfc(z / math.sqrt(2.0))
    return Test(label, math.log(tail) if tail > 0 else -math.inf, -math.inf, detail={"mean": mean, "n": n, **detail})


def chi_square_test(label: str, values: np.ndarray, sigma: float, **detail) -> Test | None:
    """Q = sum x^2 / sigma^2 of n iid N(0, sigma^2) values is chi-square(n). Laurent and Massart (2000):
    P(Q >= n + 2 sqrt(n x) + 2 x) <= e^-x and P(Q <= n - 2 sqrt(n x)) <= e^-x for every x > 0, so the
    p-value of an observed Q is at most 2 e^-x with x solved from the side Q falls on."""
    n = np.size(values)
    if n == 0:
        return None
    Q = float(np.sum(np.square(values, dtype=np.float64))) / sigma ** 2
    if Q >= n:
        x = ((math.sqrt(2 * Q - n) - math.sqrt(n)) / 2) ** 2
    else:
        x = (n - Q) ** 2 / (4 * n)
    rms = math.sqrt(Q / n) * sigma
    return Test(label, min(0.0, LOG2 - x), -math.inf, detail={"rms": rms, "n": n, **detail})
