"""Property checks: judging answers that have no single right value, by what they must be.

A random split, a dropout mask or noise can be right in many ways. A check is handed the arrays an
answer returned and the inputs it was called with, and returns the problems it found, each a sentence
for the student (an empty list: nothing wrong). The visible checks call them in the notebook through
`problems_with`; at grading time the grader calls the same checks, in its own process, on what the
student's kernel recorded and the inputs of the grader's own run (see idnn.autograde.properties).
They hold no solution: what they need to know (a split's sizes, say) comes in `inputs`.

    @register("name")
    def check(key, got, inputs) -> list[str]: ...

`got` maps "key/<part>" to the answer's arrays (as idnn.probe.flatten names them); `inputs` maps input
names to arrays. A check must return sentences, never raise, whatever arrays it is given.

Random answers are judged with exact tails (idnn.checks.stats): each check fails a correct answer with
probability below FALSE_ALARM = 1e-9, the budget shared by the union bound over all of its tests.

    split           sizes, alignment, every example once, stratified (deterministic); for every class in
                    every set, which examples were chosen (hypergeometric) and their order (ascents, halves,
                    both pairings of neighbours and the odd-numbered places of a uniform permutation, exact; the
                    most repeated step, bounded); with two seeds (inputs["seeds"]), each split so and the overlap
                    of the two calls' choices (hypergeometric, exact)
    dropout_forward 0/1 masks of A's shape, A * D / keep_prob; the kept count of the array, of every row and
                    column (binomial); neighbours that differ, horizontally, vertically, diagonally and
                    anti-diagonally, each in two pairings ((0, 1), (2, 3), ... and (1, 2), (3, 4), ...), the same
                    entry in two calls, and the second call's mask against every cyclic shift and flip of the
                    first's (each Binomial(pairs, 2 p (1 - p)), exact)
    dropout_network every layer recomputed from the previous one, each hidden mask as above
    gaussian_noise  mean (exact normal tail), mean square (chi-square), KS distance to N(0, sigma^2) of the
                    values, and of (a - b) / sqrt(2) and (a + b) / sqrt(2) over disjoint pairs: neighbours
                    along every axis of the images in two pairings and the same pixel in two calls (iid
                    N(0, sigma^2) again for independent normal draws; 0 for copied noise or negated noise); the
                    second call's noise against every cyclic shift and flip of the first's (exactly normal given
                    the second); values repeated within a call or from one call to the next (bounds that rest on
                    a stated resolution of the values)
    mini_batches    batch sizes, every example once with its label (deterministic); the order of the
                    examples (as for a split's sets); with two seeds, each order so and the places where the two
                    agree at every cyclic shift (fixed points of a uniform permutation, exact)
    log_uniform     three calls with seeds (s, s, s'): shape (n,), every value in [low, high], the same seed giving the
                    same values (deterministic); the log10 positions of the two calls with different seeds uniform
                    (KS, DKW), not a grid (the smallest gap between neighbours, exact), and independent of each other
                    at every cyclic shift (Kuiper, one-sided DKW twice)
    beta            the same for beta = 1 - 10**r: 1 - beta log-uniform between 1 - high and 1 - low
"""

import math
from typing import Callable

import numpy as np

from ..probe import flatten
from . import compare, stats

PROPERTY_CHECKS: dict[str, Callable[[str, dict, dict], list[str]]] = {}


def register(name: str):
    def add(check):
        PROPERTY_CHECKS[name] = check
        return check
    return add


def run_check(name: str, key: str, got: dict, inputs: dict) -> list[str]:
    """Property check `name` on recorded arrays: its problems; an error inside the check is a problem too."""
    if name not in PROPERTY_CHECKS:
        return [f"there is no property check named {name!r}"]
    try:
        problems = PROPERTY_CHECKS[name](key, got, inputs)
    except Exception as error:  # an answer the check cannot judge is not a correct one
        return [f"the {name} check could not judge this answer ({type(error).__name__}: {error})"]
    return [str(problem) for problem in problems]


def problems_with(name: str, value, inputs: dict) -> list[str]:
    """Run property check `name` on a value returned in this process (the visible checks use this)."""
    try:
        got = flatten("value", value)
    except TypeError as error:
        return [str(error)]
    return run_check(name, "value", got, {k: np.asarray(v) for k, v in inputs.items()})


# -- reading arrays safely ---------------------------------------------------------------------------

def _real(array) -> np.ndarray | None:
    """`array` as float64 when it holds real numbers (booleans, integers, floats), else None."""
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf":
        return None
    return array.astype(np.float64)


def _finite(array) -> np.ndarray | None:
    """`array` as float64 when it holds finite real numbers, else None."""
    values = _real(array)
    return values if values is not None and bool(np.all(np.isfinite(values))) else None


def _close(got: np.ndarray, expected: np.ndarray) -> bool:
    """Whether `got` holds real numbers that match `expected` (float64) by compare.close."""
    values = _real(got)
    return values is not None and compare.close(values, expected)


def _example_keys(X: np.ndarray, Y: np.ndarray) -> list[tuple]:
    """One hashable key per example (column): its features rounded to 12 decimals, then its label."""
    return [tuple(column) + (label,) for column, label in zip(np.round(X, 12).T.tolist(), Y[0].tolist())]


def _example_finder(X: np.ndarray, Y: np.ndarray):
    """A function from examples (Xs, Ys) to their indices in (X, Y), None for an example that is not there; an
    example found more often than X holds it is not there the extra times."""
    where: dict[tuple, list[int]] = {}
    for j, key in enumerate(_example_keys(X, Y)):
        where.setdefault(key, []).append(j)
    taken: dict[tuple, int] = {}

    def find(Xs: np.ndarray, Ys: np.ndarray) -> list[int | None]:
        found = []
        for key in _example_keys(Xs, Ys):
            indices, used = where.get(key, []), taken.get(key, 0)
            found.append(indices[used] if used < len(indices) else None)
            taken[key] = used + 1
        return found

    return find


def _order_tests(what: str, order, modulus: int, **detail) -> list[stats.Test]:
    """Is `order` (distinct original indices in [0, modulus), in the order returned) a uniformly random order of its
    values? Ascents, halves, disjoint pairs (two pairings), odd-numbered places, and the most repeated step."""
    tests = [stats.ascents_test(f"{what}:ascents", order, **detail), stats.halves_test(f"{what}:halves", order, **detail),
             *stats.pairs_tests(f"{what}:pairs", order, **detail), stats.parity_test(f"{what}:parity", order, **detail),
             *stats.steps_tests(f"{what}:steps", order, modulus, **detail)]
    return [t for t in tests if t is not None]


def _first_order_failure(failed: list[stats.Test]) -> stats.Test:
    """The failure that explains the most: an order kept or reversed, a choice that is not random, a rule (one
    step repeated), then the others."""
    def rank(test: stats.Test) -> int:
        kind = test.label.rpartition(":")[2]
        if kind == "ascents" and test.detail["ascents"] in (0, test.detail["n"] - 1):
            return 0
        if kind == "steps" and test.detail["step"] in (1, test.detail["modulus"] - 1):
            return 4  # the original order, or its reverse, rotated: the ascents say it better
        return {"selection": 1, "steps": 2, "ascents": 3, "halves": 5, "pairs": 6, "parity": 7}.get(kind, 8)
    return min(failed, key=rank)


def _order_message(test: stats.Test, what: str, advice: str) -> str:
    d = test.detail
    kind = test.label.rpartition(":")[2]
    if kind == "ascents":
        n, ascents = d["n"], d["ascents"]
        if ascents == n - 1:
            return f"{what} keep their original order: {advice}"
        if ascents == 0:
            return f"{what} are in reverse order, which is not a shuffle: {advice}"
        return (f"{what} are not in a random order: {ascents} of their {n - 1} neighbours are in increasing order "
                f"of the original position, where a shuffle gives about {(n - 1) / 2:.0f}: {advice}")
    if kind == "pairs":
        which = "1st and 2nd, 3rd and 4th" if d["offset"] == 0 else "2nd and 3rd, 4th and 5th"
        return (f"{what} are not in a random order: of the {d['n']} pairs of neighbours {which}, and so on, "
                f"{d['count']} are in increasing order of the original position, where a shuffle gives about "
                f"{d['n'] / 2:.0f}: {advice}")
    if kind == "parity":
        return (f"{what} are not in a random order: the odd-numbered places (1st, 3rd, ...) hold {d['x']} of the "
                f"{d['half']} that come first in the original order, where a shuffle gives about "
                f"{d['n'] * d['K'] / d['N']:.0f}: {advice}")
    if kind == "steps":
        return (f"{what} follow a rule, not a random order: {d['count']} of the {d['steps']} steps from one to the next "
                f"in the {d['part']} half of them go the same way, {d['step']} places on in the original order (of "
                f"{d['modulus']}, counting round the end), where a shuffle repeats a step only a few times: {advice}")
    return (f"{what} are not in a random order: the first half of them holds {d['x']} of the {d['half']} that come "
            f"first in the original order, where a shuffle gives about {d['half'] / 2:.0f}: {advice}")


# -- the split ---------------------------------------------------------------------------------------

def _split_sets(prefix: str, got: dict, X: np.ndarray, Y: np.ndarray, sizes: list[int]) -> tuple[dict, list[str]]:
    """The original indices of each set of the split recorded under `prefix` ({"train": [...], ...}), or problems."""
    m = X.shape[1]
    parts = [got.get(f"{prefix}/{i}") for i in range(6)]
    if any(p is None for p in parts) or f"{prefix}/6" in got:
        return {}, ["return six arrays: X_train, Y_train, X_dev, Y_dev, X_test, Y_test"]
    problems: list[str] = []
    find = _example_finder(X, Y)
    labels = np.unique(Y)
    chosen: dict[str, list[int]] = {}
    for name, (Xs, Ys), size in zip(("train", "dev", "test"), zip(parts[0::2], parts[1::2]), sizes):
        if Xs.ndim != 2 or Ys.ndim != 2 or Xs.shape[0] != X.shape[0] or Ys.shape[0] != 1:
            problems.append(f"X_{name} should have shape ({X.shape[0]}, m_{name}) and Y_{name} shape (1, m_{name}); "
                            f"got {Xs.shape} and {Ys.shape}")
            continue
        if Xs.shape[1] != size or Ys.shape[1] != size:
            problems.append(f"the {name} set has {Xs.shape[1]} examples (and {Ys.shape[1]} labels); with m = {m} "
                            f"it should have {size}")
            continue
        Xs, Ys = _finite(Xs), _finite(Ys)
        if Xs is None or Ys is None:
            problems.append(f"X_{name} and Y_{name} should hold finite numbers, the examples and labels of X and Y; "
                            f"they hold NaN, infinite or non-numeric values")
            continue
        indices = find(Xs, Ys)
        if None in indices:
            problems.append(f"the {name} set holds an example that is not in X with that label (or holds one "
                            f"twice): X and Y were not shuffled together")
            continue
        chosen[name] = indices
        for label in labels:
            share = float(np.mean(Y == label))
            count = int(np.sum(Ys == label))
            if abs(count - share * size) > 2:
                problems.append(f"the {name} set has {count} examples of class {label:g}, but stratified it should "
                                f"have about {share * size:.1f} ({share:.0%} of {size}, within 2)")
    if problems:
        return {}, problems
    if sorted(i for indices in chosen.values() for i in indices) != list(range(m)):
        return {}, ["some examples appear in two sets, or in none: every example belongs to exactly one"]
    return chosen, []


def _class_ranks(Y: np.ndarray) -> dict:
    """For each class: (its size, the position of each of its examples within the class, in X's order)."""
    ranks = {}
    for label in np.unique(Y):
        members = np.flatnonzero(Y[0] == label)
        ranks[float(label)] = (len(members), {int(j): r for r, j in enumerate(members)})
    return ranks


def _split_tests(chosen: dict, classes: dict, **where) -> list[stats.Test]:
    """For every (set, class): which of the class's examples the set holds (hypergeometric), and their order."""
    tests: list[stats.Test] = []
    for label, (size, rank) in classes.items():
        lower = size // 2
        for name, indices in chosen.items():
            ranks = [rank[i] for i in indices if i in rank]
            here = {"set": name, "cls": label, **where}
            tests.append(stats.hypergeometric_test("selection", sum(r < lower for r in ranks), size, lower,
                                                   len(ranks), **here))
            tests += _order_tests("order", ranks, size, **here)
    return tests


def _overlap_tests(calls: list[dict], classes: dict) -> list[stats.Test]:
    """Two splits of the same data with different seeds: for every (set, class), how many of the class's examples
    in the second call's set were in the first call's. Given how many each call takes, the two choices are
    independent uniform subsets of the class, so the overlap is hypergeometric, exactly."""
    tests = []
    for label, (size, rank) in classes.items():
        for name in calls[0]:
            first, second = ({i for i in call[name] if i in rank} for call in calls)
            tests.append(stats.hypergeometric_test("seeds", len(first & second), size, len(first), len(second),
                                                   set=name, cls=label))
    return tests


@register("split")
def check_split(key: str, got: dict, inputs: dict) -> list[str]:
    """(X_train, Y_train, X_dev, Y_dev, X_test, Y_test) of (X, Y): the sizes inputs["sizes"], every example once
    with its own label, stratified (each class within 2 of its share of every set), and random: for each class
    in each set, which of the class's examples the set holds, and their order.

    For a correct split, given how many examples of each class each set takes, the examples are a uniformly
    random subset of the class and stand in a uniformly random order (the sets may list the classes in any way:
    the notebook asks for stratified sets drawn from rng, not for the classes mixed within a set). For each
    (set, class) the number of chosen examples from the class's first half (in X's order) is then hypergeometric,
    and their order (as positions within the class) has the ascents, halves, pairs and odd places of a uniform
    permutation (exact) and no step repeated more than a uniform order allows (steps_tests): 8 tests per
    (set, class). With inputs["seeds"] (two seeds) the answer is two splits of the same data, one per seed: each
    is judged so, and for every (set, class) the overlap of the two choices is hypergeometric (exact): a split that
    ignores its seed chooses the same examples twice. The budget is shared over all of them: false fail for a
    correct split below 1e-9 (sizes and stratification are exact, not random).
    """
    X, Y = _finite(np.asarray(inputs["X"])), _finite(np.asarray(inputs["Y"]))
    if "sizes" not in inputs:
        return ["the split check was given no expected sizes (inputs['sizes']): the hidden check is incomplete"]
    sizes = [int(s) for s in np.ravel(inputs["sizes"])]
    two = "seeds" in inputs
    if two and (f"{key}/0/0" not in got or f"{key}/2" in got):
        return ["return the two splits of the two calls (with different seeds)"]
    calls = []
    for prefix in ([f"{key}/0", f"{key}/1"] if two else [key]):
        chosen, problems = _split_sets(prefix, got, X, Y, sizes)
        if problems:
            return problems
        calls.append(chosen)
    classes = _class_ranks(Y)
    tests = [t for call, chosen in enumerate(calls) for t in _split_tests(chosen, classes, call=call)]
    if two:
        tests += _overlap_tests(calls, classes)
    failed, _ = stats.failures(tests)
    if not failed:
        return []
    seeds = [t for t in failed if t.label == "seeds"]
    if seeds:
        if calls[0] == calls[1]:
            return ["two calls with different seeds gave the same split (the same examples in every set, in the same "
                    "order): draw from rng = np.random.default_rng(seed), the generator made from the seed"]
        d = seeds[0].detail
        return [f"two calls with different seeds chose nearly the same examples: {d['x']} of the {d['n']} examples of "
                f"class {d['cls']:g} in the second call's {d['set']} set were in the first call's, where independent "
                f"random choices share about {d['n'] * d['K'] / d['N']:.0f}. Choose them with rng = "
                f"np.random.default_rng(seed)"]
    test = _first_order_failure(failed)
    d = test.detail
    what = f"the {d['set']} set's examples of class {d['cls']:g}"
    if test.label == "selection":
        return [f"{what} are not a random choice from the class: {d['x']} of its {d['n']} come from the first "
                f"half of the class's {d['N']} examples (in X's order), where a random choice takes about "
                f"{d['n'] * d['K'] / d['N']:.0f}. Shuffle each class before cutting it into train, dev and test"]
    return [_order_message(test, what, "shuffle every set (or each class before cutting it) with rng, so that neither "
                                       "the sets nor their order follow the original order")]


# -- dropout ----------------------------------------------------------------------------------------
# A dropout mask is right when it is drawn right: every entry kept independently with probability keep_prob.
# The number of kept entries of the array, of a row or of a column is then Binomial(size, keep_prob); over
# disjoint pairs of entries (neighbours in a row, in a column, on a diagonal, on an anti-diagonal, each in two
# pairings: rows or columns (0, 1), (2, 3), ... and (1, 2), (3, 4), ...) the number of pairs whose two entries
# differ is Binomial(pairs, 2 p (1 - p)). Two calls' masks are independent of each other, so for any bijection T of
# the entries (the same entry, or any cyclic shift of the array, flipped or not along each axis) the entries D1[x]
# and D2[T x] are again independent pairs: the count of differing ones is Binomial(size, 2 p (1 - p)) for every T.
# All are exact two-sided tails. One check shares FALSE_ALARM over them (union bound): half to the tests of each
# mask and the same entry in two calls, half to the 4 n m shifted comparisons of the calls (a mask reused, moved
# or flipped, by the next call: np.roll(D, 1, axis=1) agrees with its predecessor everywhere at shift (0, 1)). A
# correct mask, or two, or a whole network of them, fails less than once in a billion checks. A test is run only
# when some outcome could fail it (stats.failures), so a small array spends no budget on counts that cannot be
# unusual.

_DIRECTIONS = ("horizontal", "vertical", "diagonal", "anti-diagonal")


def _pairs(D: np.ndarray) -> dict[tuple[str, int], tuple[np.ndarray, np.ndarray]]:
    """Disjoint pairs of neighbours of a 2-D array, as two arrays of partners, for each direction and offset: the
    columns (offset, offset + 1), (offset + 2, offset + 3), ... for horizontal neighbours, the rows so paired for
    the others (every column; diagonally (i, j)-(i + 1, j + 1), anti-diagonally (i, j + 1)-(i + 1, j)). Within one
    (direction, offset) every entry is in at most one pair: a row or column is either the first or the second of
    its pair."""
    n, m = D.shape
    pairs = {}
    for offset in (0, 1):
        rows_a, rows_b = slice(offset, n - 1, 2), slice(offset + 1, n, 2)
        pairs[("horizontal", offset)] = (D[:, offset:m - 1:2], D[:, offset + 1:m:2])
        pairs[("vertical", offset)] = (D[rows_a, :], D[rows_b, :])
        pairs[("diagonal", offset)] = (D[rows_a, :-1], D[rows_b, 1:])
        pairs[("anti-diagonal", offset)] = (D[rows_a, 1:], D[rows_b, :-1])
    return pairs


def _mask_tests(where: str, D: np.ndarray, keep_prob: float) -> list[stats.Test]:
    """The tests of one mask (0/1 floats) drawn with keep_prob in (0, 1)."""
    n, m = D.shape
    tests = [stats.binomial_test("kept", int(D.sum()), D.size, keep_prob, where=where),
             stats.binomial_test("rows", np.rint(D.sum(axis=1)), m, keep_prob, where=where, axis=1),
             stats.binomial_test("columns", np.rint(D.sum(axis=0)), n, keep_prob, where=where, axis=0)]
    differ = 2 * keep_prob * (1 - keep_prob)
    for (direction, offset), (a, b) in _pairs(D).items():
        if a.size:
            tests.append(stats.binomial_test("pairs", int(np.sum(a != b)), a.size, differ, where=where,
                                             direction=direction, offset=offset))
    return tests


def _orientations(ndim: int) -> list[tuple[bool, ...]]:
    """Every choice of axes to flip: (False, ...) first (no flip)."""
    return [tuple(bool(code >> axis & 1) for axis in range(ndim)) for code in range(2 ** ndim)]


def _shifted_products(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """sum_x a[x] * b'[(x + s) mod shape] for every orientation b' of b (flipped along some axes, _orientations
    order) and every cyclic shift s: an array of shape (2^ndim, *shape), computed by FFT."""
    axes = tuple(range(a.ndim))
    A = np.conj(np.fft.rfftn(a, axes=axes))
    out = []
    for flips in _orientations(a.ndim):
        flipped = b[tuple(slice(None, None, -1) if f else slice(None) for f in flips)]
        out.append(np.fft.irfftn(A * np.fft.rfftn(flipped, axes=axes), s=a.shape, axes=axes))
    return np.stack(out)


def _describe_shift(index: int, shape: tuple, names: list[str]) -> str:
    """Where an index of _shifted_products' output points: 'shifted by (0, 1) (rows, columns)', flips named."""
    orientation, *shift = np.unravel_index(index, (2 ** len(shape),) + tuple(shape))
    shift = tuple(int(s) if s <= n // 2 else int(s) - n for s, n in zip(shift, shape))
    flips = [name for name, flipped in zip(names, _orientations(len(shape))[orientation]) if flipped]
    text = f"shifted by {shift} ({', '.join(names)}, round the edges)"
    return text + (f" and flipped along the {' and the '.join(flips)}" if flips else "")


def _calls_shifted_test(first: np.ndarray, second: np.ndarray, keep_prob: float) -> stats.Test:
    """The second mask against every cyclic shift and flip of the first: for each, how many entries differ."""
    signs = _shifted_products(2 * first - 1, 2 * second - 1)  # agreements - disagreements, per shift
    differ = np.rint((first.size - signs.ravel()) / 2)
    return stats.in_group("calls", stats.binomial_test("calls:shifted", differ, first.size,
                                                       2 * keep_prob * (1 - keep_prob), where="D", shape=first.shape))


def _mask_shape_problem(where: str, D, shape: tuple, keep_prob: float) -> str | None:
    if D is None:
        return f"{where}: no mask D was returned"
    if D.shape != shape:
        return f"{where}: the mask D has shape {D.shape}, but it should have the shape of A, {shape}"
    values = _real(D)
    if values is None or not np.all((values == 0) | (values == 1)):
        return (f"{where}: the mask D should hold only 0s and 1s (or False and True); scale A by 1/keep_prob, "
                f"not the mask")
    if keep_prob >= 1.0 and not np.all(values == 1):
        return f"{where}: with keep_prob = 1 nothing may be dropped, but {int(np.sum(values == 0))} entries were"
    return None


def _mask_message(test: stats.Test, masks: dict[str, np.ndarray]) -> str:
    d = test.detail
    where, p = d["where"], d["p"]
    if test.label in ("rows", "columns"):
        what = "row (unit)" if test.label == "rows" else "column (example)"
        return (f"{where}: one {what} kept {d['count'] / d['n']:.0%} of its entries and the whole array "
                f"{masks[where].mean():.0%}: draw a separate random number for every entry (a mask shaped like A)")
    if test.label == "kept":
        return (f"{where}: {d['count'] / d['n']:.1%} of the entries were kept, but with keep_prob = {p:.3g} about "
                f"{p:.1%} should be (units are kept with probability keep_prob, not dropped with it)")
    if test.label == "calls":
        if d["count"] == 0:
            return "two calls dropped exactly the same units: draw a new random mask on every call"
        return (f"the masks of two calls are not independent: {d['count']} of their {d['n']} entries differ, where "
                f"independent masks differ in about {d['n'] * p:.0f}: draw a new random mask on every call")
    if test.label == "calls:shifted":
        how = _describe_shift(d["worst"], d["shape"], ["rows", "columns"])
        return (f"the second call's mask is the first's {how}: only {d['count']:.0f} of its {d['n']} entries differ "
                f"from that, where independent masks differ in about {d['n'] * p:.0f}. Draw a new random mask on "
                f"every call, never one made from an earlier mask" if d["count"] < d["n"] * p else
                f"the second call's mask is the first's {how}, inverted: {d['count']:.0f} of its {d['n']} entries "
                f"differ from that, where independent masks differ in about {d['n'] * p:.0f}. Draw a new random "
                f"mask on every call, never one made from an earlier mask")
    pairing = "0-1, 2-3, ..." if d["offset"] == 0 else "1-2, 3-4, ..."
    lines = "columns" if d["direction"] == "horizontal" else "rows"
    return (f"{where}: the mask has a pattern: of {d['n']} disjoint pairs of {d['direction']} neighbours ({lines} "
            f"{pairing}), {d['count']} differ, where independent entries kept with probability keep_prob differ in "
            f"about {d['n'] * p:.0f}. Draw a separate random number for every entry (np.random.rand(*A.shape) < "
            f"keep_prob), not a regular arrangement")


def _first_mask_failure(failed: list[stats.Test], masks: dict[str, np.ndarray], level: float) -> stats.Test:
    """The failure that explains the most: a row or column far even from the array's own share (a mask
    broadcast along one axis), then a wrong share overall, then rows or columns, then patterns, then calls."""
    for test in failed:
        if test.label in ("rows", "columns"):
            D = masks[test.detail["where"]]
            share = min(max(float(D.mean()), 1e-12), 1 - 1e-12)
            counts = np.rint(D.sum(axis=test.detail["axis"]))
            if stats.binomial_test(test.label, counts, test.detail["n"], share).log_p < test.level:
                return test
    order = ["kept", "rows", "columns", "pairs", "calls", "calls:shifted"]
    return min(failed, key=lambda t: order.index(t.label))


@register("dropout_forward")
def check_dropout_forward(key: str, got: dict, inputs: dict) -> list[str]:
    """Two calls of dropout_forward(A, keep_prob) -> (A_drop, D): masks of 0s and 1s, A_drop = A * D / keep_prob,
    and each mask drawn right (kept counts, neighbours, and the two calls' masks independent of each other: at
    the same entry, and at every cyclic shift and flip). False fail for correct masks: below 1e-9 for the two
    calls together."""
    A, keep_prob = _finite(np.asarray(inputs["A"])), float(inputs["keep_prob"])
    masks: dict[str, np.ndarray] = {}
    for draw in (0, 1):
        A_drop, D = got.get(f"{key}/{draw}/0"), got.get(f"{key}/{draw}/1")
        if A_drop is None or D is None or f"{key}/{draw}/2" in got:
            return ["return two arrays, A_drop and D"]
        problem = _mask_shape_problem("D", D, A.shape, keep_prob)
        if problem:
            return [problem]
        D = _real(D)
        if not _close(A_drop, A * D / keep_prob):
            return ["A_drop should be A * D / keep_prob: the kept entries scaled up by 1/keep_prob so that the "
                    "expected value of each activation stays the same (inverted dropout), the others 0"]
        masks["D of the second call" if draw else "D"] = D
    if keep_prob >= 1.0:
        return []
    tests = [t for where, D in masks.items() for t in _mask_tests(where, D, keep_prob)]
    first, second = masks.values()
    tests.append(stats.binomial_test("calls", int(np.sum(first != second)), first.size,
                                     2 * keep_prob * (1 - keep_prob), where="D"))
    if first.ndim == 2 and first.size:
        tests.append(_calls_shifted_test(first, second, keep_prob))
    failed, level = stats.failures(tests)
    return [_mask_message(_first_mask_failure(failed, masks, level), masks)] if failed else []


@register("dropout_network")
def check_dropout_network(key: str, got: dict, inputs: dict) -> list[str]:
    """forward_propagation_with_dropout -> (Y_hat, cache): every layer computed from the previous one, hidden
    activations masked and scaled with their layer's keep_prob, the output layer never dropped, and every
    hidden mask drawn right (as for dropout_forward, within one call). False fail for correct masks: below
    1e-9 for all layers together."""
    X = _finite(np.asarray(inputs["X"]))
    keep_probs = [float(p) for p in np.ravel(inputs["keep_probs"])]
    L = len(keep_probs) + 1
    Y_hat = got.get(f"{key}/0")
    layers = [[got.get(f"{key}/1/{l}/{part}") for part in range(3)] for l in range(L)]
    if Y_hat is None or any(part is None for layer in layers for part in layer) or f"{key}/1/{L}/0" in got:
        return [f"return Y_hat and a cache holding one tuple (A_prev, Z, D) per layer, {L} in all"]
    expected_A_prev = X
    # The budget is shared equally by the hidden layers that drop anything, each layer's share by its tests.
    dropping = sum(1 for p in keep_probs if p < 1.0)
    for l, (A_prev, Z, D) in enumerate(layers, start=1):
        W, b = _finite(np.asarray(inputs[f"W{l}"])), _finite(np.asarray(inputs[f"b{l}"]))
        if not _close(A_prev, expected_A_prev):
            what = "X" if l == 1 else f"the dropped-out activation of layer {l - 1}, relu(Z{l - 1}) * D{l - 1} / keep_prob"
            return [f"layer {l}: A_prev in the cache should be {what}"]
        A_prev = _real(A_prev)
        if not _close(Z, W @ A_prev + b):
            return [f"layer {l}: Z should be W{l} @ A_prev + b{l}"]
        Z = _real(Z)
        if l == L:
            values = _real(D)
            if values is None or values.shape != Z.shape or not np.all(values == 1):
                return [f"the output layer ({L}) is never dropped out: its D should be all ones"]
            if not _close(Y_hat, 1 / (1 + np.exp(-Z))):
                return ["Y_hat should be sigmoid(Z) of the output layer"]
            break
        keep_prob = keep_probs[l - 1]
        uses = f"(layer {l} uses keep_probs[{l - 1}] = {keep_prob:.3g})"
        problem = _mask_shape_problem(f"layer {l}", D, Z.shape, keep_prob)
        if problem:
            return [problem, uses]
        D = _real(D)
        if keep_prob < 1.0:
            masks = {f"layer {l}": D}
            failed, level = stats.failures(_mask_tests(f"layer {l}", D, keep_prob), stats.FALSE_ALARM / dropping)
            if failed:
                return [_mask_message(_first_mask_failure(failed, masks, level), masks), uses]
        expected_A_prev = np.maximum(Z, 0) * D / keep_prob
    return []


# -- noise ------------------------------------------------------------------------------------------
# Noise is right when every value is an independent N(0, sigma^2) draw. Tested on the noise of both calls:
# its mean (exactly normal), its mean square (chi-square, Laurent-Massart bounds) and the Kolmogorov-Smirnov
# distance of its values to the N(0, sigma^2) CDF (the DKW-Massart bound, exact for every n); then, over
# disjoint pairs (a, b) of values, (a - b) / sqrt(2) and (a + b) / sqrt(2), which for independent N(0, sigma^2)
# draws are again independent N(0, sigma^2) values, by the same KS test. The pairs are neighbours along each
# axis of the images (rows of an image, columns of an image, images of the batch), in two pairings each ((0, 1),
# (2, 3), ... and (1, 2), (3, 4), ...), and the same pixel in the two calls: noise copied along an axis, or from
# one call to the next, makes the differences 0; negated noise makes the sums 0. Then two families that catch
# noise made from other noise, wherever it was put:
#
#   calls:shifted  for every cyclic shift s of the images and every flip of their axes T, z = <a, T b> / (sigma |b|)
#                  with a, b the two calls' noise: given b, a bijection of b's pixels, so z is exactly N(0, 1) for
#                  independent draws; the largest |z| of the 2^ndim n of them against the normal tail (noise reused
#                  moved one column on gives z = |b| / sigma, about sqrt(n))
#   repeats        how many values of one call equal (up to sign) an earlier value of it; calls:repeats, how many
#                  of the second call's equal (up to sign) one of the first's (any rearrangement of reused noise)
#
# Continuous draws never repeat, but the values an answer returns are rounded, so these two rest on a stated model
# of rounding (_resolution), the one assumption here beyond ideal draws (the KS tests make the same kind, with
# KS_ROUNDING): every value of correct noise is within rho sigma of an ideal N(0, sigma^2) draw, the draws of
# different values independent, with rho = 2^-20 for the generator (numpy's float32 ziggurat puts its values on
# grids of spacing below 4 * 2^-23; float64 generators are far finer) plus 2^(1 - p) (max |images| + 12 sigma) /
# sigma for values returned in a float type of p mantissa bits (a few roundings, each at most half a unit in the
# last place of a number below max |images| + 12 sigma; an ideal draw goes beyond 12 sigma with probability below
# 4e-33, which adds n * 4e-33 to the false-alarm bound, 2e-28 at the hidden check's sizes). An observed value then
# equals a given value (up to sign) only if its ideal draw lies in one of two intervals of width 2 rho sigma:
# probability at most c = 4 rho / sqrt(2 pi), whatever came before. So the repeats of a call are at most a sum of
# independent Bernoulli(min(1, j c)), j = 0..n-1 (Chernoff bound), and the second call's values among the first's k
# distinct ones at most Binomial(n, min(1, k c)) (exact tail). Each z moves by at most rho sqrt(n) with that
# rounding (Cauchy-Schwarz), which it is given as allowance. A float32 answer with a small sigma has a coarse
# resolution: tests that could then never fail are dropped, as everywhere.
#
# One check shares FALSE_ALARM over these tests (union bound): half to the families comparing the calls (shifted
# and repeated values), half to all the others. Correct noise fails less than once in a billion checks.

GENERATOR_RESOLUTION = 2.0 ** -20
NORMAL_DENSITY_MAX = 1 / math.sqrt(2 * math.pi)


def _resolution(arrays: list, images: np.ndarray, sigma: float) -> float:
    """rho (see above) for noisy images returned as `arrays`: infinite for values of no float type."""
    if not sigma > 0 or not all(isinstance(a, np.ndarray) and a.dtype.kind == "f" for a in arrays):
        return math.inf
    bits = min(np.finfo(a.dtype).nmant for a in arrays)
    bound = float(np.max(np.abs(images), initial=0.0)) + 12 * sigma
    return GENERATOR_RESOLUTION + 2.0 ** (1 - bits) * bound / sigma


def _repeat_tests(noises: list[np.ndarray], rho: float) -> list[stats.Test]:
    """The repeats of each call and the second call's values among the first's (see above)."""
    c = 4 * rho * NORMAL_DENSITY_MAX
    if not math.isfinite(c):
        return []
    tests = []
    for call, noise in enumerate(noises):
        n = noise.size
        repeats = n - np.unique(np.abs(noise)).size
        mean = float(np.sum(np.minimum(1.0, np.arange(n) * c)))
        tests.append(stats.Test("repeats", stats.chernoff_log_upper(repeats, mean),
                                stats.chernoff_log_upper(n - 1, mean), detail={"count": repeats, "n": n, "call": call}))
    earlier, later = np.unique(np.abs(noises[0])), np.abs(np.ravel(noises[1]))
    found = int(np.sum(np.isin(later, earlier)))
    _, at_least = stats.binomial_log_tails(later.size, min(1.0, earlier.size * c))
    tests.append(stats.in_group("calls", stats.Test("calls:repeats", float(at_least[found]), float(at_least[-1]),
                                                    detail={"count": found, "n": later.size})))
    return tests


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    scale = math.sqrt(float(np.mean(a * a)) * float(np.mean(b * b)))
    r = float(np.mean(a * b)) / scale if scale > 0 else 1.0
    return r if math.isfinite(r) else 0.0


def _noise_message(test: stats.Test, sigma: float, noises: list[np.ndarray], r: float, names: list[str]) -> str:
    d = test.detail
    if test.label == "mean":
        return f"the noise averages {d['mean']:.3g}; it should have mean 0"
    if test.label == "square":
        return (f"the noise has standard deviation {d['rms']:.4g}; it should be sigma = {sigma:.4g} (multiply "
                f"standard normal draws by sigma, do not add sigma itself or its square)")
    if test.label == "calls:shifted":
        how = _describe_shift(d["worst"], noises[0].shape, names)
        return (f"two calls added related noise: the second call's is like the first's {how} (correlation "
                f"{d['r']:.2f} there, where independent draws give about 0): draw new noise on every call, never noise "
                f"made from earlier noise")
    if test.label == "calls:repeats":
        return (f"two calls added related noise: {d['count']} of the {d['n']} values of the second call's noise are, "
                f"up to sign, values of the first call's, where fresh normal draws practically never repeat one: "
                f"draw new noise on every call, never noise made from earlier noise")
    if test.label == "repeats":
        return (f"the noise repeats itself: {d['count']} of the {d['n']} values of one call's noise equal (up to "
                f"sign) another of its values, where independent normal draws practically never repeat one. Draw "
                f"one value for every pixel of every image: noise of the images' full shape")
    limit = stats.ks_threshold(d["n"], test.level)
    if test.label == "values":
        distinct = np.unique(np.concatenate([np.ravel(n) for n in noises])).size
        few = f"; it takes only {distinct} distinct values" if distinct <= 100 else ""
        return (f"the noise is not normally distributed: the distribution of its values is {d['distance']:.3f} away "
                f"from N(0, sigma^2) (largest gap between the CDFs), where normal draws stay within {limit:.3f}"
                f"{few}. Draw it with np.random.randn (times sigma) or a normal generator")
    pair = d["pair"]
    if abs(r) >= 0.3:
        evidence = f"correlation {r:.2f}, where independent draws give about 0"
    else:
        evidence = (f"the {d['sign']}s of paired values are {d['distance']:.3f} away from N(0, sigma^2), where "
                    f"independent normal draws stay within {limit:.3f}")
    if pair == "calls":
        what = ("the same noise" if r > 0.999 else "opposite noise" if r < -0.999 else "related noise")
        return f"two calls added {what} ({evidence}): draw new noise on every call"
    return (f"the noise of neighbouring {pair} is not independent ({evidence}). Draw one value for every pixel of "
            f"every image: noise of the images' full shape")


_AXIS_NAMES = {3: ["images", "rows of an image", "columns of an image"]}


@register("gaussian_noise")
def check_gaussian_noise(key: str, got: dict, inputs: dict) -> list[str]:
    """Two calls of add_noise(images, sigma): images + independent N(0, sigma^2) noise for every pixel, a fresh
    draw each call. False fail for correct noise: below 1e-9 for the two calls together."""
    images, sigma = _finite(np.asarray(inputs["images"])), float(inputs["sigma"])
    noises, returned = [], []
    for draw in (0, 1):
        noisy = got.get(f"{key}/{draw}")
        if noisy is None:
            return ["return the noisy images"]
        if noisy.shape != images.shape:
            return [f"the noisy images have shape {noisy.shape}; they should keep the shape {images.shape}"]
        values = _finite(noisy)
        if values is None:
            return ["the noisy images should hold finite real numbers; they contain NaN, infinite or non-numeric values"]
        noises.append(values - images)
        returned.append(noisy)
    with np.errstate(all="ignore"):  # absurd values may overflow the statistics: they fail all the same
        return _noise_problems(noises, images.shape, sigma, _resolution(returned, images, sigma))


def _noise_problems(noises: list[np.ndarray], shape: tuple, sigma: float, rho: float = math.inf) -> list[str]:
    everything = np.concatenate([np.ravel(n) for n in noises])
    tests = [stats.normal_mean_test("mean", everything, sigma), stats.chi_square_test("square", everything, sigma),
             stats.normal_ks_test("values", everything, sigma)]
    names = _AXIS_NAMES.get(len(shape), [f"entries along axis {axis}" for axis in range(len(shape))])
    pairings = {("calls", 0): (noises[0], noises[1])}
    for axis, name in enumerate(names):
        for offset in (0, 1):
            first = np.arange(offset, shape[axis] - 1, 2)
            if first.size:
                a, b = ([np.take(n, indices, axis=axis) for n in noises] for indices in (first, first + 1))
                pairings[(name, offset)] = (np.concatenate([np.ravel(x) for x in a]),
                                            np.concatenate([np.ravel(x) for x in b]))
    for (pair, offset), (a, b) in pairings.items():
        for sign, values in (("difference", (a - b) / math.sqrt(2)), ("sum", (a + b) / math.sqrt(2))):
            tests.append(stats.normal_ks_test("pairs", values, sigma, pair=pair, offset=offset, sign=sign))
    first, second = noises
    scale = sigma * math.sqrt(float(np.sum(second * second)))
    if first.size and scale > 0 and math.isfinite(scale):
        z = _shifted_products(first, second) / scale
        shifted = stats.normal_max_test("calls:shifted", z, (rho + 1e-9) * math.sqrt(first.size) + 1e-6)
        worst = float(np.ravel(z)[shifted.detail["worst"]])
        shifted.detail["r"] = worst * sigma / math.sqrt(float(np.sum(first * first)))  # the correlation at that shift
        tests.append(stats.in_group("calls", shifted))
    tests += _repeat_tests(noises, rho)
    tests = [t for t in tests if t is not None]
    failed, _ = stats.failures(tests)
    if not failed:
        return []
    # Explain by the most telling failure: a mean or spread far off, noise shared between neighbours or calls,
    # then mean, spread, shape.
    by_label = {test.label: test for test in reversed(failed)}
    if "mean" in by_label and abs(by_label["mean"].detail["mean"]) > sigma:
        return [_noise_message(by_label["mean"], sigma, noises, 0.0, names)]
    if "square" in by_label and not 0.5 < by_label["square"].detail["rms"] / sigma < 2:
        return [_noise_message(by_label["square"], sigma, noises, 0.0, names)]
    correlations = {pair: _correlation(a, b) for pair, (a, b) in pairings.items()}
    for test in failed:
        if test.label == "pairs" and abs(correlations[test.detail["pair"], test.detail["offset"]]) >= 0.3:
            return [_noise_message(test, sigma, noises, correlations[test.detail["pair"], test.detail["offset"]], names)]
    order = ["mean", "square", "values", "pairs", "calls:shifted", "calls:repeats", "repeats"]
    test = min(failed, key=lambda t: order.index(t.label))
    detail = test.detail or {}
    return [_noise_message(test, sigma, noises, correlations.get((detail.get("pair"), detail.get("offset")), 0.0),
                           names)]


# -- mini-batches ------------------------------------------------------------------------------------

def _batch_order(prefix: str, got: dict, X: np.ndarray, Y: np.ndarray, size: int) -> tuple[list[int], str | None]:
    """The original indices of the examples, batch after batch, of the mini-batches recorded under `prefix`."""
    n_x, m = X.shape
    count = -(-m // size)
    sizes = [size] * (m // size) + ([m % size] if m % size else [])
    depth = prefix.count("/") + 2
    found = sum(1 for name in got if name.startswith(prefix + "/") and name.count("/") == depth and name.endswith("/0"))
    if found != count:
        return [], (f"with m = {m} and mini_batch_size = {size} there should be {count} mini-batches "
                    f"({m // size} of {size}" + (f" and a last one of {m % size})" if m % size else ")") +
                    f"; got {found}" + (" (no empty last batch when size divides m)" if found == count + 1 else ""))
    find = _example_finder(X, Y)
    order: list[int] = []
    for k, expected in enumerate(sizes):
        X_k, Y_k = got.get(f"{prefix}/{k}/0"), got.get(f"{prefix}/{k}/1")
        if X_k is None or Y_k is None or f"{prefix}/{k}/2" in got:
            return [], f"mini-batch {k} should be a pair (mini_batch_X, mini_batch_Y)"
        if X_k.shape != (n_x, expected) or Y_k.shape != (1, expected):
            return [], (f"mini-batch {k} should hold X of shape {(n_x, expected)} and Y of shape {(1, expected)}; got "
                        f"{X_k.shape} and {Y_k.shape}" + (" (the last, smaller batch holds what is left over)"
                                                          if k == len(sizes) - 1 and expected != size else ""))
        X_k, Y_k = _finite(X_k), _finite(Y_k)
        if X_k is None or Y_k is None:
            return [], (f"mini-batch {k} should hold finite numbers, examples and labels of X and Y; it holds NaN, "
                        f"infinite or non-numeric values")
        indices = find(X_k, Y_k)
        if None in indices:
            return [], (f"mini-batch {k} holds an example that is not in X with that label (or one already used): "
                        f"shuffle X and Y with the same permutation")
        order += indices
    if sorted(order) != list(range(m)):
        return [], "some examples appear twice and others not at all: each example belongs to exactly one mini-batch"
    return order, None


@register("mini_batches")
def check_mini_batches(key: str, got: dict, inputs: dict) -> list[str]:
    """random_mini_batches(X, Y, mini_batch_size) -> [(mini_batch_X, mini_batch_Y), ...]: full batches then one
    smaller, every example exactly once with its own label (deterministic), in a shuffled order: the examples,
    batch after batch, must stand in an order with the ascents, halves, pairs and odd places of a uniform random
    permutation (exact tests) and no step repeated more than a uniform order allows (steps_tests). With
    inputs["seeds"] (two seeds) the answer is the mini-batches of two calls with those seeds, each judged so, and
    the two orders must be independent: at no cyclic shift may they agree in more places than two independent
    uniform orders do (shift_matches_test, exact; the same order twice agrees everywhere). False fail for a
    correct shuffle: below 1e-9."""
    X, Y, size = _finite(np.asarray(inputs["X"])), _finite(np.asarray(inputs["Y"])), int(inputs["mini_batch_size"])
    two = "seeds" in inputs
    if two and (f"{key}/0/0/0" not in got or f"{key}/2" in got):
        return ["return the mini-batches of the two calls (with different seeds)"]
    orders = []
    for prefix in ([f"{key}/0", f"{key}/1"] if two else [key]):
        order, problem = _batch_order(prefix, got, X, Y, size)
        if problem:
            return [problem]
        orders.append(order)
    m = X.shape[1]
    tests = [t for call, order in enumerate(orders) for t in _order_tests("order", order, m, call=call)]
    if two:
        tests.append(stats.shift_matches_test("seeds", orders[0], orders[1]))
    failed, _ = stats.failures([t for t in tests if t is not None])
    if not failed:
        return []
    seeds = [t for t in failed if t.label == "seeds"]
    if seeds:
        d = seeds[0].detail
        if d["count"] == m and d["shift"] == 0:
            return ["two calls with different seeds gave the examples in the same order: shuffle with a generator made "
                    "from the seed you are given (rng = np.random.default_rng(seed))"]
        return [f"the orders of two calls with different seeds are related: {d['count']} of the {m} examples of the "
                f"second call stand where the first call put them, moved {d['shift']} places on, where independent "
                f"shuffles agree in about 1 place at any shift: shuffle with rng = np.random.default_rng(seed)"]
    return [_order_message(_first_order_failure(failed), "the examples", "shuffle them (one random permutation of "
                                                                         "the columns) before cutting the batches")]


# -- log-uniform samples -------------------------------------------------------------------------------
# A hyperparameter sampled "on a log scale" between low and high is 10**r with r uniform on [log10 low, log10 high]:
# whatever the spelling (default_rng or np.random.seed with rand, r scaled by hand or drawn by uniform(), 10**r,
# np.power, or np.exp of a natural-log range, which is the same distribution), the positions
#
#     u = (log10 v - log10 low) / (log10 high - log10 low)
#
# of the values are independent U[0, 1) draws. Beta sampled through 1 - beta = 10**r is the same with v = 1 - beta
# between 1 - high and 1 - low. The checks judge the draws of three calls with seeds (s, s, s'), s' != s:
#
#   * deterministic: every value in the range (a relative allowance of RANGE_SLACK for rounding), shape (n,), the
#     same seed twice gives the same values;
#   * values: the Kolmogorov-Smirnov distance of the 2n positions of the two calls with different seeds to U[0, 1],
#     with Massart's form of the DKW inequality P(D > e) <= 2 exp(-2 N e^2) (exact, every N);
#   * spacing, for each of those two calls: the smallest gap between neighbouring sorted positions. For n
#     independent uniforms the n - 1 inner gaps are exchangeable spacings and P(every inner gap > t) =
#     (1 - (n - 1) t)^n exactly (for t <= 1 / (n - 1)), so values too evenly spread (a grid, shuffled or not)
#     fail while random ones practically never do;
#   * calls, one group of its own: for every cyclic shift c, w_i = u'_i - u_(i + c) (mod 1). Given the first call's
#     positions, the second call's u'_i are independent uniforms, so each w of one shift is again n independent
#     uniforms on the circle. Their Kuiper distance V = D+ + D- to the uniform does not depend on where the circle is
#     cut, and P(V > e) <= P(D+ > e/2) + P(D- > e/2) <= 2 exp(-n e^2 / 2) (the one-sided DKW bound, twice). A seed
#     that changes nothing, or only rotates the draws, gives V near 1 at some shift.
#
# Rounding: positions are computed in float64 from values that carry a few ulps of error, and the hidden checks use
# ranges of at least one decade (for beta, 1 - high >= 1e-6), so a position is off by far less than POSITION_ROUNDING;
# KS and Kuiper distances move by at most one and two such amounts (density 1), and are lowered by as much before
# they are judged; the smallest gap is lowered by twice POSITION_ROUNDING. One check shares FALSE_ALARM over its
# tests (stats.failures): half to the values and spacings, half to the n shifted comparisons. A correct sampler
# fails less than once in a billion checks.

#: Values may leave [low, high] by this share of the bound (10**np.log10(high) can exceed high by an ulp or two).
RANGE_SLACK = 1e-9
#: An upper bound on the rounding error of a position u computed from a returned value (see above).
POSITION_ROUNDING = 1e-9


def _uniform_ks_test(label: str, u: np.ndarray, **detail) -> stats.Test | None:
    """Independent U[0, 1) positions? The KS distance to the uniform CDF, judged with P(D > e) <= 2 exp(-2 n e^2)."""
    x = np.sort(np.ravel(u))
    n = x.size
    if n == 0:
        return None
    F = np.clip(x, 0.0, 1.0)
    i = np.arange(1, n + 1)
    distance = float(max(np.max(i / n - F), np.max(F - (i - 1) / n)))
    judged = max(0.0, distance - POSITION_ROUNDING)
    return stats.Test(label, min(0.0, stats.LOG2 - 2 * n * judged ** 2),
                      stats.LOG2 - 2 * n * (1 - POSITION_ROUNDING) ** 2, detail={"distance": distance, "n": n, **detail})


def _gap_test(label: str, u: np.ndarray, **detail) -> stats.Test | None:
    """Independent U[0, 1) positions, not a grid? The smallest inner gap t: P(every gap >= t) = (1 - (n - 1) t)^n."""
    x = np.sort(np.ravel(u))
    n = x.size
    if n < 2:
        return None
    gap = float(np.min(np.diff(x)))
    judged = max(0.0, gap - 2 * POSITION_ROUNDING)
    covered = (n - 1) * judged
    log_p = n * math.log1p(-covered) if covered < 1 else -math.inf
    return stats.Test(label, min(0.0, log_p), -math.inf, detail={"gap": gap, "n": n, **detail})


def _shifted_kuiper_test(label: str, first: np.ndarray, second: np.ndarray, **detail) -> stats.Test | None:
    """Two independent draws of n uniform positions: at every cyclic shift c the Kuiper distance of
    (second_i - first_(i + c)) mod 1 to the uniform, judged with P(V > e) <= 2 exp(-n e^2 / 2); count = n."""
    n = first.size
    if n == 0 or second.size != n:
        return None
    shifts = (np.arange(n)[:, None] + np.arange(n)[None, :]) % n
    w = np.sort(np.mod(second[None, :] - first[shifts], 1.0), axis=1)
    i = np.arange(1, n + 1)
    above, below = np.max(i / n - w, axis=1), np.max(w - (i - 1) / n, axis=1)
    distances = above + below
    worst = int(np.argmax(distances))
    judged = max(0.0, float(distances[worst]) - 2 * POSITION_ROUNDING)
    return stats.Test(label, min(0.0, stats.LOG2 - n * judged ** 2 / 2), stats.LOG2 - n * (1 - POSITION_ROUNDING) ** 2 / 2,
                      count=n, detail={"distance": float(distances[worst]), "shift": worst, "n": n, **detail})


def _within(values: np.ndarray, a: float, b: float) -> bool:
    """Whether every value lies between a and b (either order), within rounding."""
    lower, upper = min(a, b), max(a, b)
    slack = 1e-9 * max(1.0, abs(lower), abs(upper))
    return bool(np.all((values >= lower - slack) & (values <= upper + slack)))


def _spans(values: np.ndarray, a: float, b: float) -> bool:
    """Whether the values lie between a and b (either order) and reach within a tenth of the way to either end."""
    lower, upper = min(a, b), max(a, b)
    reach = 0.1 * (upper - lower)
    return _within(values, a, b) and float(np.min(values)) <= lower + reach and float(np.max(values)) >= upper - reach


def _base_hint(v: np.ndarray, v_low: float, v_high: float, quantity: str) -> str:
    """What a logarithm of one base with a power of another gives, when the log-uniform quantity v looks like it."""
    if not np.all(v > 0):
        return ""
    if _spans(np.log10(v), math.log(v_low), math.log(v_high)):
        return (f"{quantity} run between 10**ln({v_low:.6g}) and 10**ln({v_high:.6g}). np.log is the natural logarithm; "
                f"with 10**r, r must lie between the np.log10 of the bounds")
    if _spans(np.log(v), math.log10(v_low), math.log10(v_high)):
        return (f"{quantity} run between e**log10({v_low:.6g}) and e**log10({v_high:.6g}): np.exp undoes the natural "
                f"logarithm, not log10. Use 10**r with r between the np.log10 of the bounds (or np.exp with r between "
                f"their natural logarithms)")
    return ""


def _log_uniform_problems(key: str, got: dict, inputs: dict, beta: bool) -> list[str]:
    """The log_uniform and beta checks: the three calls (seeds s, s, s') recorded under key/0, key/1, key/2."""
    low, high, n = float(inputs["low"]), float(inputs["high"]), int(inputs["n"])
    name = "sample_beta" if beta else "sample_log_uniform"
    what = "beta" if beta else "value"
    calls = [got.get(f"{key}/{call}") for call in range(3)]
    if any(c is None for c in calls) or f"{key}/3" in got:
        return [f"return one array of {n} values from each call of {name}"]
    values = []
    for call in calls:
        if call.ndim != 1 or call.shape[0] != n:
            if call.size == n:
                return [f"{name}(..., n={n}) returned an array of shape {call.shape}; return shape ({n},)"]
            return [f"{name}(..., n={n}) returned {call.size} values (shape {call.shape}); it should return n = {n} "
                    f"values, an array of shape ({n},)"]
        real = _finite(call)
        if real is None:
            return [f"{name} should return finite real numbers; it returned NaN, infinite or non-numeric values"]
        values.append(real)
    if not compare.close(values[0], values[1]):
        return [f"two calls of {name} with the same seed returned different values: draw from a generator made "
                f"from the seed you are given (np.random.default_rng(seed), or np.random.seed(seed) first)"]
    # v is the log-uniform quantity: the value itself, or 1 - beta.
    v_low, v_high = (1.0 - high, 1.0 - low) if beta else (low, high)
    drawn = [1.0 - x for x in values] if beta else values
    everything = np.concatenate([values[0], values[2]])
    pooled = np.concatenate([drawn[0], drawn[2]])
    outside = (pooled < v_low * (1 - RANGE_SLACK)) | (pooled > v_high * (1 + RANGE_SLACK))
    if np.any(outside):
        count, smallest, largest = int(np.sum(outside)), float(np.min(everything)), float(np.max(everything))
        message = (f"{count} of the {pooled.size} {what}s drawn lie outside [{low:.6g}, {high:.6g}] (they range "
                   f"from {smallest:.6g} to {largest:.6g})")
        if beta and np.all((everything >= v_low * (1 - RANGE_SLACK)) & (everything <= v_high * (1 + RANGE_SLACK))):
            return [message + f": these are values of 1 - beta, which lies between 1 - high = {v_low:.6g} and "
                              f"1 - low = {v_high:.6g}. Return beta = 1 - 10**r"]
        hint = _base_hint(pooled, v_low, v_high, "1 - beta" if beta else "the values")
        return [message + (f": {hint}" if hint else "")]
    if np.any(pooled <= 0):
        return [f"{name} returned {what}s at the edge of the range, where the logarithm is not defined"]
    span = math.log10(v_high) - math.log10(v_low)
    if not span > 0:
        return [f"the {name} check needs low < high (got low = {low!r}, high = {high!r})"]
    positions = [(np.log10(d) - math.log10(v_low)) / span for d in drawn]
    tests = [_uniform_ks_test("values", np.concatenate([positions[0], positions[2]])),
             _gap_test("spacing", positions[0], call=0), _gap_test("spacing", positions[2], call=2),
             stats.in_group("calls", _shifted_kuiper_test("calls", positions[0], positions[2]))]
    failed, _ = stats.failures([t for t in tests if t is not None])
    if not failed:
        return []
    labels = {t.label: t for t in failed}
    quantity = "1 - beta" if beta else "the values"
    if np.ptp(pooled) == 0:
        return [f"{name} returned the same {what} every time ({float(everything[0])!r}): draw n random {what}s"]
    if "values" in labels:
        d = labels["values"].detail
        limit = math.sqrt(max(0.0, stats.LOG2 - labels["values"].level) / (2 * d["n"])) + POSITION_ROUNDING
        linear = (pooled - v_low) / (v_high - v_low)
        linear_ks = _uniform_ks_test("linear", linear)
        top = float(np.mean(pooled > v_high / 10))
        if linear_ks is not None and linear_ks.detail["distance"] <= limit:
            if beta:
                return [f"beta looks drawn uniformly between low and high: 1 - beta should be log-uniform between "
                        f"{v_low:.6g} and {v_high:.6g}, so that each decade of 1 - beta gets the same share of the draws, "
                        f"but {top:.0%} of your values of 1 - beta lie in its top decade. Draw r uniformly between "
                        f"log10(1 - high) and log10(1 - low), then beta = 1 - 10**r"]
            return [f"the values look drawn uniformly on the linear scale: {top:.0%} of them lie in the top decade "
                    f"[high / 10, high], where a log scale puts the same share in every decade. Draw r uniformly "
                    f"between log10(low) and log10(high), then return 10**r"]
        hint = _base_hint(pooled, v_low, v_high, quantity)
        if hint:
            return [f"log10 of {quantity} is not spread uniformly over [{math.log10(v_low):.4g}, "
                    f"{math.log10(v_high):.4g}]: {hint}"]
        reach = [float(np.min(np.log10(pooled))), float(np.max(np.log10(pooled)))]
        return [f"log10 of {quantity} should be spread uniformly over [{math.log10(v_low):.4g}, "
                f"{math.log10(v_high):.4g}], but its distribution is {d['distance']:.3f} away from that uniform one "
                f"(largest gap between the CDFs), where correct draws stay within {limit:.3f}; your values of log10 "
                f"{quantity} run from {reach[0]:.4g} to {reach[1]:.4g}"]
    if "spacing" in labels:
        d = labels["spacing"].detail
        return [f"the {what}s of one call are too evenly spread to be random: on the log scale no two of the {d['n']} "
                f"are closer than {d['gap']:.3g} of the range, where independent random draws practically always put "
                f"some pair far closer. Draw each value at random; do not space them on a grid"]
    d = labels["calls"].detail
    if d["shift"] == 0:
        relation = "the same draws, or draws moved by the same amount on the log scale"
    else:
        relation = f"the first call's draws moved {d['shift']} places along"
    return [f"two calls with different seeds returned related draws ({relation}; Kuiper distance "
            f"{d['distance']:.2f} from independent draws): draw from a generator made from the seed you are given"]


@register("log_uniform")
def check_log_uniform(key: str, got: dict, inputs: dict) -> list[str]:
    """sample_log_uniform(low, high, n, seed) called with seeds (s, s, s'): three arrays of shape (n,), in
    [low, high], the first two equal, and 10**r with r uniform on [log10 low, log10 high], independently within a
    call and between the calls with different seeds (KS, smallest gap, Kuiper at every shift; see above). False fail
    for a correct sampler: below 1e-9."""
    with np.errstate(all="ignore"):
        return _log_uniform_problems(key, got, inputs, beta=False)


@register("beta")
def check_beta(key: str, got: dict, inputs: dict) -> list[str]:
    """sample_beta(low, high, n, seed) called with seeds (s, s, s'): as log_uniform, for 1 - beta between 1 - high
    and 1 - low. False fail for a correct sampler: below 1e-9."""
    with np.errstate(all="ignore"):
        return _log_uniform_problems(key, got, inputs, beta=True)
