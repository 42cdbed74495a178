"""Property checks: grading answers that have no single right value, outside the kernel.

A random split or a dropout mask can be right in many ways. The hidden code records the
student's result with compare="property:<name>" and the inputs it was given; the grader,
in its own process, calls the check registered under <name> with the student's arrays and
the inputs of its *own* run (the same seed, so the same inputs). A check returns the list
of problems it found, each a sentence for the student.

    @register("name")
    def check(key, got, inputs) -> list[str]: ...

`got` maps "key/<part>" to the student's arrays; `inputs` maps input names to arrays.
"""

from typing import Callable

import numpy as np

PROPERTY_CHECKS: dict[str, Callable[[str, dict, dict], list[str]]] = {}


def register(name: str):
    def add(check):
        PROPERTY_CHECKS[name] = check
        return check
    return add


def check_property(name: str, key: str, got: dict[str, np.ndarray], inputs: dict[str, np.ndarray]) -> list[str]:
    if name not in PROPERTY_CHECKS:
        raise RuntimeError(f"No property check named {name!r}; the source notebook asks for one that does not exist.")
    return PROPERTY_CHECKS[name](key, got, inputs)


def problems_with(name: str, value, inputs: dict) -> list[str]:
    """Run property check `name` on a value returned in this process (the visible checks use this)."""
    from ..probe import flatten

    try:
        got = flatten("value", value)
    except TypeError as error:
        return [str(error)]
    return check_property(name, "value", got, {k: np.asarray(v) for k, v in inputs.items()})


def split_sizes(m: int) -> tuple[int, int, int]:
    """The course's rule: dev and test each take 20% of m, at most 10,000 examples."""
    held_out = min(int(0.2 * m), 10_000)
    return m - 2 * held_out, held_out, held_out


@register("split")
def check_split(key: str, got: dict, inputs: dict) -> list[str]:
    """(X_train, Y_train, X_dev, Y_dev, X_test, Y_test): sizes, alignment, each example once, stratified, shuffled."""
    X, Y = inputs["X"], inputs["Y"]
    m = X.shape[1]
    parts = [got.get(f"{key}/{i}") for i in range(6)]
    if any(p is None for p in parts):
        return ["return six arrays: X_train, Y_train, X_dev, Y_dev, X_test, Y_test"]
    problems = []
    sizes = split_sizes(m)
    where_of = {tuple(np.round(X[:, j], 12)) + (int(Y[0, j]),): j for j in range(m)}
    seen: list[int] = []
    for name, (Xs, Ys), size in zip(("train", "dev", "test"), zip(parts[0::2], parts[1::2]), sizes):
        if Xs.ndim != 2 or Ys.ndim != 2 or Xs.shape[0] != X.shape[0] or Ys.shape[0] != 1:
            problems.append(f"X_{name} should have shape ({X.shape[0]}, m_{name}) and Y_{name} shape (1, m_{name}); "
                            f"got {Xs.shape} and {Ys.shape}")
            continue
        if Xs.shape[1] != size or Ys.shape[1] != size:
            problems.append(f"the {name} set has {Xs.shape[1]} examples (and {Ys.shape[1]} labels); with m = {m} "
                            f"it should have {size}")
            continue
        indices = [where_of.get(tuple(np.round(Xs[:, j], 12)) + (int(Ys[0, j]),)) for j in range(size)]
        if None in indices:
            problems.append(f"the {name} set holds an example that is not in X with that label: X and Y were not "
                            f"shuffled together")
            continue
        seen += indices
        for label in np.unique(Y):
            share = float(np.mean(Y == label))
            count = int(np.sum(Ys == label))
            if abs(count - share * size) > 2:
                problems.append(f"the {name} set has {count} examples of class {label}, but stratified it should "
                                f"have about {share * size:.1f} ({share:.0%} of {size}, within 2)")
        if name == "train" and size > 20 and np.all(np.diff(indices) > 0):
            problems.append("the training set keeps the original order of the examples: shuffle them")
    if not problems and sorted(seen) != list(range(m)):
        problems.append("some examples appear in two sets, or in none: every example belongs to exactly one")
    return problems


# -- dropout -----------------------------------------------------------------------------------
# A dropout mask is right when it is drawn right: every entry kept independently with probability
# keep_prob. The number of kept entries of an array, a row or a column is then binomial, and a
# check fails only when its count is so far out that a correct mask would do that less than once
# in a billion arrays (exact binomial tails, shared out over all the counts tested). The row and
# column counts also catch a mask of shape (n, 1) or (1, m) broadcast over the whole array.
FALSE_ALARM = 1e-9


def _binomial_tails(n: int, p: float) -> tuple[np.ndarray, np.ndarray]:
    """P(X <= k) and P(X >= k) for k = 0..n, X ~ Binomial(n, p)."""
    k = np.arange(n + 1)
    if p <= 0.0 or p >= 1.0:
        pmf = (k == (n if p >= 1.0 else 0)).astype(np.float64)
    else:
        log_factorial = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, n + 1)))])
        log_pmf = log_factorial[n] - log_factorial[k] - log_factorial[n - k] + k * np.log(p) + (n - k) * np.log1p(-p)
        pmf = np.exp(log_pmf)
    return np.cumsum(pmf), np.cumsum(pmf[::-1])[::-1]


def _unlikely(counts: np.ndarray, n: int, p: float, tests: int) -> np.ndarray:
    """Which counts (each out of n, kept with probability p) fall in a tail of probability < FALSE_ALARM / tests."""
    at_most, at_least = _binomial_tails(n, p)
    counts = np.asarray(counts, dtype=np.int64)
    return np.minimum(at_most[counts], at_least[counts]) < FALSE_ALARM / (2 * tests)


def _fraction_problems(where: str, kept: np.ndarray, keep_prob: float) -> list[str]:
    """kept: a 0/1 array whose entries should each be 1 with probability keep_prob."""
    if keep_prob >= 1.0:
        return [] if np.all(kept == 1) else [f"{where}: with keep_prob = 1 nothing may be dropped, but "
                                             f"{int(np.sum(kept == 0))} entries were"]
    overall = float(kept.mean())
    tests = 1 + kept.shape[0] + kept.shape[1]
    # First the structure: does any row or column keep a share far from the array's own?
    for axis, what in ((1, "row (unit)"), (0, "column (example)")):
        n = kept.shape[axis]
        counts = np.rint(kept.sum(axis=axis)).astype(np.int64)
        odd = _unlikely(counts, n, overall, tests)
        if np.any(odd):
            worst = int(np.argmax(odd))
            return [f"{where}: one {what} kept {counts[worst] / n:.0%} of its entries and the whole array "
                    f"{overall:.0%}: draw a separate random number for every entry (a mask shaped like A)"]
    if _unlikely(np.array([int(np.rint(kept.sum()))]), kept.size, keep_prob, tests)[0]:
        return [f"{where}: {overall:.1%} of the entries were kept, but with keep_prob = {keep_prob:.3g} about "
                f"{keep_prob:.1%} should be (units are kept with probability keep_prob, not dropped with it)"]
    return []


def _mask_problems(where: str, D: np.ndarray | None, shape: tuple, keep_prob: float) -> list[str]:
    if D is None:
        return [f"{where}: no mask D was returned"]
    if D.shape != shape:
        return [f"{where}: the mask D has shape {D.shape}, but it should have the shape of A, {shape}"]
    if not np.all((D == 0) | (D == 1)):
        return [f"{where}: the mask D should hold only 0s and 1s (or False and True); scale A by 1/keep_prob, "
                f"not the mask"]
    return _fraction_problems(where, D.astype(np.float64), keep_prob)


def _close(got: np.ndarray, expected: np.ndarray) -> bool:
    return got.shape == expected.shape and bool(np.allclose(got, expected, rtol=1e-5, atol=1e-8))


@register("dropout_forward")
def check_dropout_forward(key: str, got: dict, inputs: dict) -> list[str]:
    """Two calls of dropout_forward(A, keep_prob) -> (A_drop, D): masks drawn right, A_drop = A * D / keep_prob."""
    A, keep_prob = inputs["A"], float(inputs["keep_prob"])
    masks = []
    for draw in (0, 1):
        A_drop, D = got.get(f"{key}/{draw}/0"), got.get(f"{key}/{draw}/1")
        if A_drop is None or D is None:
            return ["return two arrays, A_drop and D"]
        problems = _mask_problems("D", D, A.shape, keep_prob)
        if problems:
            return problems
        if not _close(A_drop.astype(np.float64), A * D / keep_prob):
            return ["A_drop should be A * D / keep_prob: the kept entries scaled up by 1/keep_prob so that the "
                    "expected value of each activation stays the same (inverted dropout), the others 0"]
        masks.append(D)
    chance_of_equal_masks = (keep_prob ** 2 + (1 - keep_prob) ** 2) ** A.size
    if chance_of_equal_masks < FALSE_ALARM and np.array_equal(masks[0], masks[1]):
        return ["two calls dropped exactly the same units: draw a new random mask on every call"]
    return []


@register("dropout_network")
def check_dropout_network(key: str, got: dict, inputs: dict) -> list[str]:
    """forward_propagation_with_dropout -> (Y_hat, cache): every layer computed from the previous one, hidden
    activations masked and scaled with their layer's keep_prob, the output layer never dropped."""
    X, keep_probs = inputs["X"], [float(p) for p in np.ravel(inputs["keep_probs"])]
    L = len(keep_probs) + 1
    Y_hat = got.get(f"{key}/0")
    layers = [[got.get(f"{key}/1/{l}/{part}") for part in range(3)] for l in range(L)]
    if Y_hat is None or any(part is None for layer in layers for part in layer):
        return [f"return Y_hat and a cache holding one tuple (A_prev, Z, D) per layer, {L} in all"]
    expected_A_prev = X
    for l, (A_prev, Z, D) in enumerate(layers, start=1):
        W, b = inputs[f"W{l}"], inputs[f"b{l}"]
        if not _close(A_prev.astype(np.float64), expected_A_prev):
            what = "X" if l == 1 else f"the dropped-out activation of layer {l - 1}, relu(Z{l - 1}) * D{l - 1} / keep_prob"
            return [f"layer {l}: A_prev in the cache should be {what}"]
        if not _close(Z.astype(np.float64), W @ A_prev + b):
            return [f"layer {l}: Z should be W{l} @ A_prev + b{l}"]
        if l == L:
            if not np.all(D == 1):
                return [f"the output layer ({L}) is never dropped out: its D should be all ones"]
            if not _close(Y_hat.astype(np.float64), 1 / (1 + np.exp(-Z))):
                return ["Y_hat should be sigmoid(Z) of the output layer"]
            break
        problems = _mask_problems(f"layer {l}", D, Z.shape, keep_probs[l - 1])
        if problems:
            return problems + [f"(layer {l} uses keep_probs[{l - 1}] = {keep_probs[l - 1]:.3g})"]
        expected_A_prev = np.maximum(Z, 0) * D / keep_probs[l - 1]
    return []


# -- noise -------------------------------------------------------------------------------------
# Mean, standard deviation and kurtosis of many independent draws are close to normal; 6 standard
# errors each is a false alarm about once in a billion.
NOISE_SIGMAS = 6.0

@register("gaussian_noise")
def check_gaussian_noise(key: str, got: dict, inputs: dict) -> list[str]:
    """Two calls of add_noise(images, sigma): images + independent N(0, sigma^2) noise, a fresh draw each call."""
    images, sigma = inputs["images"], float(inputs["sigma"])
    draws = []
    for draw in (0, 1):
        noisy = got.get(f"{key}/{draw}")
        if noisy is None:
            return ["return the noisy images"]
        if noisy.shape != images.shape:
            return [f"the noisy images have shape {noisy.shape}; they should keep the shape {images.shape}"]
        noise = noisy.astype(np.float64) - images
        if not np.all(np.isfinite(noise)):
            return ["the noisy images contain NaN or infinite values"]
        n = noise.size
        mean, std = float(noise.mean()), float(noise.std())
        if abs(mean) > NOISE_SIGMAS * sigma / np.sqrt(n):
            return [f"the noise averages {mean:.3g}; it should have mean 0"]
        if abs(std - sigma) > NOISE_SIGMAS * sigma / np.sqrt(2 * n) + 1e-3 * sigma:
            return [f"the noise has standard deviation {std:.4g}; it should be sigma = {sigma:.4g} (multiply "
                    f"standard normal draws by sigma, do not add sigma itself or its square)"]
        kurtosis = float(np.mean(((noise - mean) / std) ** 4)) if std > 0 else 0.0
        if abs(kurtosis - 3) > NOISE_SIGMAS * np.sqrt(24 / n):
            return [f"the noise is not normally distributed (kurtosis {kurtosis:.2f}, a normal has 3 and a "
                    f"uniform 1.8): draw it with np.random.randn or a normal generator"]
        draws.append(noise)
    if np.array_equal(draws[0], draws[1]):
        return ["two calls added exactly the same noise: draw new noise on every call"]
    return []


# -- mini-batches --------------------------------------------------------------------------------
@register("mini_batches")
def check_mini_batches(key: str, got: dict, inputs: dict) -> list[str]:
    """random_mini_batches(X, Y, mini_batch_size) -> [(mini_batch_X, mini_batch_Y), ...]: full batches then one
    smaller, every example exactly once with its own label, in a shuffled order."""
    X, Y, size = inputs["X"], inputs["Y"], int(inputs["mini_batch_size"])
    n_x, m = X.shape
    count = -(-m // size)
    sizes = [size] * (m // size) + ([m % size] if m % size else [])
    found = sum(1 for name in got if name.count("/") == 2 and name.endswith("/0"))
    if found != count:
        return [f"with m = {m} and mini_batch_size = {size} there should be {count} mini-batches "
                f"({m // size} of {size}" + (f" and a last one of {m % size})" if m % size else ")") +
                f"; got {found}" + (" (no empty last batch when size divides m)" if found == count + 1 else "")]
    where_of = {tuple(np.round(X[:, j], 12)) + (int(Y[0, j]),): j for j in range(m)}
    order: list[int] = []
    for k, expected in enumerate(sizes):
        X_k, Y_k = got.get(f"{key}/{k}/0"), got.get(f"{key}/{k}/1")
        if X_k is None or Y_k is None:
            return [f"mini-batch {k} should be a pair (mini_batch_X, mini_batch_Y)"]
        if X_k.shape != (n_x, expected) or Y_k.shape != (1, expected):
            return [f"mini-batch {k} should hold X of shape {(n_x, expected)} and Y of shape {(1, expected)}; got "
                    f"{X_k.shape} and {Y_k.shape}" + (" (the last, smaller batch holds what is left over)"
                                                      if k == len(sizes) - 1 and expected != size else "")]
        for j in range(expected):
            index = where_of.get(tuple(np.round(X_k[:, j], 12)) + (int(Y_k[0, j]),))
            if index is None:
                return [f"mini-batch {k} holds an example that is not in X with that label: shuffle X and Y with "
                        f"the same permutation"]
            order.append(index)
    if sorted(order) != list(range(m)):
        return ["some examples appear twice and others not at all: each example belongs to exactly one mini-batch"]
    if m > 20 and order == list(range(m)):
        return ["the examples keep their original order: shuffle them (one permutation of the columns) first"]
    return []
