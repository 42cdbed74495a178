"""The course's statistics: exact tails for the property checks, and the spread of a random draw.

Exact tails (idnn.checks.properties). A property check asks whether an answer was *drawn* right: a dropout mask made of independent
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
    pairs_tests         increasing pairs among the disjoint neighbours (1st, 2nd), (3rd, 4th), ... and among
                        (2nd, 3rd), (4th, 5th), ...: Binomial(pairs, 1/2) each, exact
    parity_test         how many of the lower half of the ranks sit at the odd-numbered places (1st, 3rd, ...):
                        hypergeometric, exact
    steps_tests         the most repeated step order[i+1] - order[i] (mod the number of values) in the first and
                        in the last half of the steps: a bound by a sum of independent Bernoulli variables
                        (exact tails), times the number of possible steps (union bound)
    shift_matches_test  two independent orders of the same values: at every cyclic shift, how many places agree;
                        the fixed points of a uniform permutation (rencontres), exact
    normal_ks_test      Kolmogorov-Smirnov distance to the N(0, sigma^2) CDF, with the
                        Dvoretzky-Kiefer-Wolfowitz-Massart bound P(D_n > e) <= 2 exp(-2 n e^2) (the CDF
                        interpolated in a table of exact values, its error bounded and allowed for)
    normal_mean_test    the mean of n iid N(0, sigma^2) values is exactly N(0, sigma^2 / n)
    chi_square_test     sum x^2 / sigma^2 ~ chi-square(n), with the Laurent-Massart bounds
                        P(Q - n >= 2 sqrt(n x) + 2 x) <= e^-x and P(n - Q >= 2 sqrt(n x)) <= e^-x
    normal_max_test     the largest |z| of statistics each exactly N(0, 1): the two-sided normal tail of each
    chernoff_log_upper  P(S >= t) <= e^-mu (e mu / t)^t for a sum S of independent Bernoulli variables, mean mu

Tests belong to groups (Test.group): `failures` gives each group an equal part of the budget and shares each part
over the group's tests, so that a family of many tests (every shift of a mask, say) does not thin the budget of the
few others.

Every test also states `log_best`, the smallest log p-value any outcome could give. It depends
only on the sizes (never on the answer), and `failures` spends budget only on tests whose best
outcome could reach their threshold: a test that could never fail is not run.

The spread of a draw (random initialisations: the visible checks against the scale a formula gives, the hidden
verdicts against the reference's own draw). No exact tails here, and no false-alarm budget: each statistic may
stray SPREAD_SIGMAS standard errors (normal approximations) from its expected value, which a correct draw of
thousands of values does not do in practice, while a wrong scale or a uniform draw misses by far more.

    spread              n, mean, standard deviation (np.std: divides by n) and kurtosis E[z^4], z = (x - mean) / std
                        (3 for a normal draw, 1.8 for a uniform one)
    spread_within       how far each may stray: SPREAD_SIGMAS standard errors of n values of a normal draw with
                        standard deviation sigma, compared with exact values (draws=1) or with another draw of n
                        (draws=2, the variances add):
                            mean      sigma * sqrt(draws / n)
                            std       sigma * sqrt(draws / (2 n))
                            kurtosis  sqrt(24 draws / n), but at least KURTOSIS_FLOOR, and only on
                                      KURTOSIS_MIN_VALUES values or more
    spread_difference   the first statistic (mean, then std, then kurtosis) outside its tolerance
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
    group: str = ""   # the tests of a group share one equal part of the budget (see failures)
    level: float | None = None  # the log threshold the test was judged at (set by failures)


def in_group(group: str, tests):
    """`tests` (a Test, None, or a list of them) put into `group`; None stays None."""
    for test in tests if isinstance(tests, list) else [tests]:
        if test is not None:
            test.group = group
    return tests


def failures(tests: list[Test], alpha: float | None = None) -> tuple[list[Test], float]:
    """The tests that fail, and the log threshold of the default group ("") (each test's own is in test.level).

    The budget alpha is split equally over the groups of the tests that could fail at all, and each group's part
    equally (union bound) over its tests, `count` for a Test that stands for `count` tests: a test whose best
    possible outcome stays above its threshold is dropped and the thresholds recomputed. That choice depends on
    sizes only, so for a correct answer P(any failure) <= sum over groups of (alpha / groups) = alpha (default
    FALSE_ALARM).
    """
    alpha = FALSE_ALARM if alpha is None else alpha
    planned = list(tests)
    levels: dict[str, float] = {}
    while planned:
        counts: dict[str, int] = {}
        for t in planned:
            counts[t.group] = counts.get(t.group, 0) + t.count
        levels = {group: math.log(alpha / len(counts) / count) for group, count in counts.items()}
        powered = [t for t in planned if t.log_best < levels[t.group]]
        if len(powered) == len(planned):
            break
        planned = powered
    for t in planned:
        t.level = levels[t.group]
    level = levels.get("", min(levels.values(), default=0.0))
    return [t for t in planned if t.log_p < t.level], level


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


def _ranks(order) -> np.ndarray:
    """The rank (0 = smallest) of each entry of an order of distinct numbers."""
    return np.argsort(np.argsort(order, kind="stable"), kind="stable")


def halves_test(label: str, order, **detail) -> Test | None:
    """The order of distinct numbers against a uniform random permutation: how many of the smaller half
    stand in the first half of the order (hypergeometric for a uniform order; all for a sorted one, none for
    a reversed or rotated one)."""
    order = np.asarray(order)
    n = len(order)
    half = n // 2
    if half < 1:
        return None
    ranks = _ranks(order)
    x = int(np.sum(ranks[:half] < half))
    return hypergeometric_test(label, x, n, half, half, half=half, **detail)


def pairs_tests(label: str, order, **detail) -> list[Test]:
    """The order of distinct numbers against a uniform random permutation: of the disjoint pairs of neighbours
    (1st, 2nd), (3rd, 4th), ... (offset 0), and of (2nd, 3rd), (4th, 5th), ... (offset 1), how many increase.

    Swapping the two members of any set of pairs of one pairing is a bijection of the orders, so for a uniform
    order the directions of that pairing's pairs are independent fair coins: Binomial(pairs, 1/2), exactly. An
    order dealt alternately from a low and a high half increases at every pair of one pairing."""
    order = np.asarray(order)
    tests = []
    for offset in (0, 1):
        first, second = order[offset:len(order) - 1:2], order[offset + 1::2]
        if len(first):
            tests.append(binomial_test(label, int(np.sum(second > first)), len(first), 0.5, offset=offset, **detail))
    return tests


def parity_test(label: str, order, **detail) -> Test | None:
    """The order of distinct numbers against a uniform random permutation: how many of the smaller half stand at
    the odd-numbered places (1st, 3rd, ...). Those places hold a uniformly random subset of the values, so the
    count is hypergeometric, exactly (all of them for an order dealt low, high, low, high)."""
    order = np.asarray(order)
    n = len(order)
    half = n // 2
    if half < 1:
        return None
    ranks = _ranks(order)
    return hypergeometric_test(label, int(np.sum(ranks[0::2] < half)), n, half, (n + 1) // 2, half=half, **detail)


#: steps_tests computes the tail of its bound exactly up to this count, and bounds every larger count by it.
STEP_COUNTS = 64


@lru_cache(maxsize=256)
def step_log_tails(n: int) -> np.ndarray:
    """log P(B >= k) for k = 0..K, B a sum of independent Bernoulli(1 / (n - 1 - i)) for i < h = (n - 1) // 2,
    K = min(h, STEP_COUNTS); the counts above K are kept in K, so the entry K bounds P(B >= k) for every k >= K.

    Every step of the recursion is a positive combination: the floats lose nothing but underflow in the tail."""
    h = (n - 1) // 2
    top = min(h, STEP_COUNTS)
    pmf = np.zeros(top + 1)
    pmf[0] = 1.0
    for i in range(h):
        p = 1.0 / (n - 1 - i)
        moved = pmf * p
        pmf = pmf * (1 - p)
        pmf[1:] += moved[:-1]
        pmf[top] += moved[top]  # ">= top" stays where it is
    with np.errstate(divide="ignore"):
        return np.log(np.minimum(1.0, np.cumsum(pmf[::-1])[::-1]))


def steps_tests(label: str, order, modulus: int, **detail) -> list[Test]:
    """The order of distinct numbers in [0, modulus) against a uniformly random order of them: the most repeated
    step (order[i+1] - order[i]) mod modulus among the first h = (n - 1) // 2 steps, and among the last h.

    Revealing the order from the front, order[i+1] is uniform over the n - 1 - i values not yet placed, of which at
    most one is order[i] + d (mod modulus): the step i equals d with probability at most 1 / (n - 1 - i), whatever
    came before. So the count of steps equal to d among the first h is stochastically below a sum of independent
    Bernoulli(1 / (n - 1 - i)), i < h (step_log_tails, exact); from the back, order[i] is uniform over the i + 1
    values left, the same bound for the last h steps. A union bound over the modulus - 1 possible steps d (step 0
    never occurs) gives the p-value. A fixed progression j -> k j (mod n) repeats one step at every place."""
    order = np.asarray(order, dtype=np.int64)
    n, modulus = len(order), int(modulus)
    h = (n - 1) // 2
    if h < 1 or modulus < 2:
        return []
    steps = np.mod(np.diff(order), modulus)
    tails = step_log_tails(n)
    top = len(tails) - 1
    union = math.log(modulus - 1)
    tests = []
    for part, chosen in (("first", steps[:h]), ("last", steps[n - 1 - h:])):
        counts = np.bincount(chosen, minlength=modulus)
        step = int(np.argmax(counts))
        count = int(counts[step])
        tests.append(Test(label, min(0.0, union + float(tails[min(count, top)])), min(0.0, union + float(tails[top])),
                          detail={"part": part, "step": step, "count": count, "steps": h, "n": n,
                                  "modulus": modulus, **detail}))
    return tests


@lru_cache(maxsize=64)
def fixed_points_log_tails(m: int) -> np.ndarray:
    """log P(F >= k) for k = 0..m, F the number of fixed points of a uniform random permutation of m:
    P(F = k) = (1 / k!) sum_{j <= m - k} (-1)^j / j! (the rencontres numbers over m!)."""
    j = np.arange(m + 1)
    log_factorials = _log_factorials(max(1024, 1 << int(m).bit_length()))[:m + 1]
    partial = np.cumsum(np.where(j % 2 == 0, 1.0, -1.0) * np.exp(-log_factorials))  # partial[r] = sum_{j <= r}
    with np.errstate(divide="ignore"):
        log_pmf = np.log(np.maximum(partial[m - j], 0.0)) - log_factorials
    return _log_tails(log_pmf)[1]


def shift_matches_test(label: str, first, second, **detail) -> Test | None:
    """Two orders of the values 0..m-1, drawn independently (two calls with different seeds): for every cyclic shift
    c, the number of places i with second[i] == first[(i + c) mod m]. For each c that is the number of fixed points
    of a uniform random permutation (the second order, relabelled by the first and rotated by c), exactly; the
    smallest p-value of the m shifts is kept (count = m). Identical orders agree everywhere at c = 0; an order that
    the seed only rotates agrees everywhere at some c."""
    first, second = np.asarray(first, dtype=np.int64), np.asarray(second, dtype=np.int64)
    m = len(first)
    if m < 2:
        return None
    where = np.empty(m, dtype=np.int64)
    where[first] = np.arange(m)
    counts = np.bincount((where[second] - np.arange(m)) % m, minlength=m)
    shift = int(np.argmax(counts))
    tails = fixed_points_log_tails(m)
    return Test(label, float(tails[counts[shift]]), float(tails[m]), count=m,
                detail={"shift": shift, "count": int(counts[shift]), "n": m, **detail})


# -- normal draws ----------------------------------------------------------------------------------
_erfc = np.frompyfunc(math.erfc, 1, 1)
#: normal_cdf interpolates linearly between exact values (math.erfc) at steps of CDF_STEP on [-CDF_RANGE, CDF_RANGE],
#: and is the end value beyond: the error of linear interpolation is at most step^2 / 8 * max |Phi''| =
#: step^2 / 8 * phi(1) < 3e-8 (|Phi''(x)| = |x| phi(x) is largest at 1), and Phi(-9) < 1.2e-19 beyond. CDF_ERROR
#: bounds both (and the float rounding of the interpolation); the KS test lowers its distances by it too.
CDF_STEP, CDF_RANGE = 2.0 ** -10, 9.0
CDF_ERROR = 3e-8 + 1e-15


@lru_cache(maxsize=1)
def _cdf_table() -> tuple[np.ndarray, np.ndarray]:
    grid = np.arange(-CDF_RANGE, CDF_RANGE + CDF_STEP / 2, CDF_STEP)
    return grid, 0.5 * _erfc(-grid / math.sqrt(2.0)).astype(np.float64)


def normal_cdf(z: np.ndarray) -> np.ndarray:
    """The standard normal CDF, within CDF_ERROR of the exact value everywhere."""
    grid, values = _cdf_table()
    return np.interp(np.asarray(z, dtype=np.float64), grid, values)


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
    judged = max(0.0, distance - KS_ROUNDING - CDF_ERROR)
    return Test(label, min(0.0, LOG2 - 2 * n * judged ** 2), LOG2 - 2 * n * (1 - KS_ROUNDING - CDF_ERROR) ** 2,
                detail={"distance": distance, "n": n, **detail})


def ks_threshold(n: int, log_level: float) -> float:
    """The KS distance above which normal_ks_test fails n values at log p-value threshold log_level."""
    return math.sqrt(max(0.0, LOG2 - log_level) / (2 * n)) + KS_ROUNDING + CDF_ERROR


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


def _log_normal_tail(z: float) -> float:
    """log P(|N(0, 1)| >= z) = log erfc(z / sqrt 2), or past underflow the bound erfc(x) < e^-x^2 / (x sqrt(pi))."""
    x = z / math.sqrt(2.0)
    tail = math.erfc(x)
    return math.log(tail) if tail > 0 else -x * x - math.log(x * math.sqrt(math.pi))


def normal_max_test(label: str, z, allowance: float, **detail) -> Test | None:
    """Statistics z that are each exactly N(0, 1) for a correct answer, known only to within `allowance` (rounding of
    the values they are computed from): the largest |z|, moved `allowance` towards 0, against the two-sided normal
    tail; count = len(z) (a union bound over all of them). NaN (from overflowing values) counts as 0."""
    z = np.nan_to_num(np.abs(np.ravel(np.asarray(z, dtype=np.float64))), nan=0.0, posinf=0.0)
    if z.size == 0:
        return None
    worst = int(np.argmax(z))
    judged = max(0.0, float(z[worst]) - allowance)
    best = -math.inf if math.isfinite(allowance) else 0.0
    return Test(label, _log_normal_tail(judged), best, count=int(z.size),
                detail={"worst": worst, "z": float(z[worst]), **detail})


def chernoff_log_upper(t: float, mu: float) -> float:
    """log of the Chernoff bound P(S >= t) <= e^-mu (e mu / t)^t, for S a sum of independent Bernoulli variables of
    total mean mu (from E e^(l S) <= exp(mu (e^l - 1)), l = log(t / mu)); 0 for t <= mu."""
    if t <= mu:
        return 0.0
    if mu <= 0:
        return -math.inf
    return min(0.0, -mu + t * (1.0 + math.log(mu / t)))


# -- the spread of a draw ------------------------------------------------------------------------------
#: How many standard errors a statistic of a correct draw may stray from its expected value.
SPREAD_SIGMAS = 6.0
#: The kurtosis of a normal draw.
NORMAL_KURTOSIS = 3.0
#: A correct draw's kurtosis may always stray this far (a uniform draw's, 1.8, is 1.2 from a normal one's).
KURTOSIS_FLOOR = 0.3
#: The kurtosis is compared only on this many values or more: its standard error sqrt(24 / n) is an asymptotic
#: figure, and only large arrays tell a uniform draw from a normal one reliably.
KURTOSIS_MIN_VALUES = 20_000


@dataclass(frozen=True)
class Spread:
    """The statistics of n values x (any shape, flattened):

        mean = sum x / n        std = sqrt(sum (x - mean)^2 / n)        kurtosis = sum ((x - mean) / std)^4 / n

    kurtosis is None when std is 0.
    """

    n: int
    mean: float
    std: float
    kurtosis: float | None


def spread(values) -> Spread:
    """The Spread of `values` (real numbers, any shape), computed in float64."""
    x = np.asarray(values, dtype=np.float64).ravel()
    mean, std = float(np.mean(x)), float(np.std(x))
    kurtosis = float(np.mean(((x - mean) / std) ** 4)) if std > 0 else None
    return Spread(int(x.size), mean, std, kurtosis)


@dataclass(frozen=True)
class Within:
    """How far each statistic of a draw may be from its expected value (kurtosis None: not compared)."""

    mean: float
    std: float
    kurtosis: float | None


def spread_within(sigma: float, n: int, draws: int = 1) -> Within:
    """SPREAD_SIGMAS standard errors of the statistics of n values of a normal draw with standard deviation sigma,
    compared with exact values (draws=1) or with the statistics of another independent draw of n (draws=2):

        mean      sigma * sqrt(draws / n)
        std       sigma * sqrt(draws / (2 n))
        kurtosis  sqrt(24 draws / n), at least KURTOSIS_FLOOR; None below KURTOSIS_MIN_VALUES values
    """
    kurtosis = max(KURTOSIS_FLOOR, SPREAD_SIGMAS * math.sqrt(24.0 * draws / n)) if n >= KURTOSIS_MIN_VALUES else None
    return Within(mean=SPREAD_SIGMAS * sigma * math.sqrt(draws / n),
                  std=SPREAD_SIGMAS * sigma * math.sqrt(draws / (2.0 * n)),
                  kurtosis=kurtosis)


@dataclass(frozen=True)
class Stray:
    """A statistic of a draw outside its tolerance: its name ("mean", "standard deviation" or "kurtosis"), the
    value the draw gave, the value expected and how far it could have been."""

    statistic: str
    got: float
    expected: float
    within: float


def spread_difference(got: Spread, mean: float, std: float, kurtosis: float | None, within: Within) -> Stray | None:
    """The first statistic of `got` (mean, then standard deviation, then kurtosis) further than `within` from the
    expected mean, std and kurtosis; None when all are within (a NaN statistic is never within)."""
    checks = (("mean", got.mean, mean, within.mean), ("standard deviation", got.std, std, within.std))
    if within.kurtosis is not None and kurtosis is not None and got.kurtosis is not None:
        checks += (("kurtosis", got.kurtosis, kurtosis, within.kurtosis),)
    for statistic, value, expected, tolerance in checks:
        if not abs(value - expected) <= tolerance:
            return Stray(statistic, value, expected, tolerance)
    return None
