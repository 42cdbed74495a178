"""Property checks: every correct way of drawing passes, every lookalike fails, nothing raises, and the student
side (idnn.checks.properties) needs nothing from the trusted side.

Each property check fails a correct answer with probability below 1e-9 (idnn.checks.stats: exact tails and
bounds, shared by a union bound). The honest tests grade DRAWS = 200 draws of each correct spelling: all of them
pass but with probability below (draws x spellings) x 1e-9, at most 1.2e-6 per test (the draws are seeded, so a
run is reproducible anyway).

The attack tests reach the checks only through idnn.autograde.properties.check_property, the grader's entry,
which had the same signature before the checks moved to the student side: against the code before the move they
fail, because the old checks passed every attack (lattice masks, three-point and broadcast noise, reversed
mini-batches, class-ordered and first-60% splits).
"""

import ast
import math
import random
import re
import subprocess
import sys
import zlib

import numpy as np
import pytest

from idnn.autograde.properties import check_property
from idnn.probe import flatten

from .conftest import REPO, functions, notebook_functions
from .samples import optimization as optimization_samples
from .samples import regularization as regularization_samples
from .samples import setting_up as setting_up_samples

pytestmark = pytest.mark.grading

DRAWS = 200
FALSE_ALARM = 1e-9
SETTING_UP = notebook_functions(REPO / "source" / "setting_up" / "setting_up.ipynb")
split_sizes = SETTING_UP["split_sizes"]


def judge(name: str, value, inputs: dict) -> list[str]:
    """What the grader says of `value` (as the student's kernel would record it) under property check `name`."""
    return check_property(name, "case", flatten("case", value), {k: np.asarray(v) for k, v in inputs.items()})


# -- cases like the hidden checks' (and the visible checks') -------------------------------------------------

def dropout_case(rng, draw: int):
    if draw == 0:
        return np.abs(np.random.default_rng(4).standard_normal((40, 300))), 0.8  # the visible check's
    A = np.abs(rng.standard_normal((int(rng.integers(20, 61)), int(rng.integers(100, 401)))))
    keep_prob = [0.5, 0.8, 1.0][draw % 3] if draw < 6 else float(rng.uniform(0.3, 0.97))
    return A, keep_prob


def noise_case(rng, draw: int):
    if draw == 0:
        return np.random.default_rng(9).random((150, 12, 12)), 0.1  # the visible check's
    return rng.random((int(rng.integers(20, 201)), 12, 12)), float(rng.uniform(0.02, 0.5))


def batches_case(rng, draw: int):
    m = int(rng.integers(7, 301))
    size = [1, m, 2 ** int(rng.integers(3, 7)), max(1, m // 3), int(rng.integers(1, m + 1))][draw % 5]
    X = rng.standard_normal((int(rng.integers(1, 5)), m))
    return X, (rng.random((1, m)) < 0.5).astype(np.int64), size


def split_case(rng, draw: int):
    m = int(rng.integers(100, 1501))
    X = rng.standard_normal((int(rng.integers(1, 5)), m))
    if draw % 4 == 3:  # three classes
        Y = rng.choice(3, size=(1, m), p=[0.5, 0.3, 0.2]).astype(np.int64)
    else:
        Y = (rng.random((1, m)) < rng.uniform(0.2, 0.5)).astype(np.int64)
    return X, Y


def network_case(rng, draw: int):
    dims = [int(rng.integers(2, 7)), int(rng.integers(40, 71)), int(rng.integers(30, 51)), 1]
    parameters = {}
    for l in range(1, 4):
        parameters[f"W{l}"] = rng.standard_normal((dims[l], dims[l - 1])) * 0.5
        parameters[f"b{l}"] = rng.standard_normal((dims[l], 1)) * 0.1
    X = rng.standard_normal((dims[0], int(rng.integers(150, 251))))
    keep_probs = [1.0 if draw % 4 == 1 else float(rng.uniform(0.5, 0.95)), float(rng.uniform(0.5, 0.95))]
    return X, parameters, keep_probs


def network_inputs(X, parameters, keep_probs):
    return {"X": X, "keep_probs": np.array(keep_probs), **parameters}


# -- honest spellings ------------------------------------------------------------------------------------------
GENERATOR = np.random.default_rng(2024)


def _dropped(A, D, keep_prob):
    return A * D / keep_prob, D


MASKS = {
    "rand < keep_prob (the reference)": lambda A, p: _dropped(A, (np.random.rand(*A.shape) < p).astype(A.dtype), p),
    "np.random.binomial": lambda A, p: _dropped(A, np.random.binomial(1, p, size=A.shape), p),
    "default_rng().random < keep_prob, np.where": lambda A, p: (
        lambda D: (np.where(D, A / p, 0.0), D))(GENERATOR.random(A.shape) < p),
    "rng.binomial, booleans": lambda A, p: _dropped(A, GENERATOR.binomial(1, p, A.shape).astype(bool), p),
    "uniform <= keep_prob, float32 mask": lambda A, p: _dropped(
        A, (np.random.uniform(0, 1, A.shape) <= p).astype(np.float32), p),
    "float32 default_rng().random < keep_prob": lambda A, p: _dropped(
        A, (GENERATOR.random(A.shape, dtype=np.float32) < p).astype(np.float32), p),
}

NOISES = {
    "sigma * randn (the reference)": lambda images, sigma: images + sigma * np.random.randn(*images.shape),
    "np.random.normal": lambda images, sigma: images + np.random.normal(0, sigma, images.shape),
    "default_rng().normal": lambda images, sigma: images + GENERATOR.normal(0.0, sigma, size=images.shape),
    "rng.standard_normal * sigma": lambda images, sigma: images + sigma * GENERATOR.standard_normal(images.shape),
    "float32 noisy images": lambda images, sigma: (
        images + sigma * GENERATOR.standard_normal(images.shape, dtype=np.float32)).astype(np.float32),
    "float32 normal draws added to float64 images": lambda images, sigma: (
        images + sigma * GENERATOR.standard_normal(images.shape, dtype=np.float32)),
    "Box-Muller from np.random.rand": lambda images, sigma: images + sigma * _box_muller(images.shape),
}


def _box_muller(shape):
    radius = np.sqrt(-2 * np.log(1 - np.random.rand(*shape)))  # 1 - rand is in (0, 1]
    return radius * np.cos(2 * np.pi * np.random.rand(*shape))


def _cut(X, Y, size, order):
    order = np.asarray(order)
    return [(X[:, order[k:k + size]], Y[:, order[k:k + size]]) for k in range(0, X.shape[1], size)]


def _np_shuffle(m):
    indices = np.arange(m)
    np.random.shuffle(indices)
    return indices


def _rng_shuffle(m, seed):
    indices = np.arange(m)
    np.random.default_rng(seed).shuffle(indices)
    return indices


def _python_shuffle(m, seed):
    indices = list(range(m))
    random.Random(seed).shuffle(indices)
    return indices


def _together(X, Y, size, seed):
    both = np.vstack([X, Y]).T.copy()
    np.random.default_rng(seed).shuffle(both)  # rows = examples, shuffled in place
    X_s, Y_s = both[:, :-1].T, both[:, -1:].T.astype(Y.dtype)
    return [(X_s[:, k:k + size], Y_s[:, k:k + size]) for k in range(0, X.shape[1], size)]


BATCHES = {
    "rng.permutation (the reference)": lambda X, Y, size, seed: _cut(X, Y, size, np.random.default_rng(seed).permutation(X.shape[1])),
    "np.random.seed, permutation": lambda X, Y, size, seed: (np.random.seed(seed), _cut(X, Y, size, np.random.permutation(X.shape[1])))[1],
    "np.random.shuffle": lambda X, Y, size, seed: _cut(X, Y, size, _np_shuffle(X.shape[1])),
    "random.Random(seed).shuffle": lambda X, Y, size, seed: _cut(X, Y, size, _python_shuffle(X.shape[1], seed)),
    "argsort of random keys": lambda X, Y, size, seed: _cut(X, Y, size, np.argsort(np.random.default_rng(seed).random(X.shape[1]))),
    "rng.choice without replacement": lambda X, Y, size, seed: _cut(X, Y, size, np.random.default_rng(seed).choice(X.shape[1], X.shape[1], replace=False)),
    "X and Y stacked, rows shuffled": _together,
    "rng.shuffle of an index array": lambda X, Y, size, seed: _cut(X, Y, size, _rng_shuffle(X.shape[1], seed)),
    "rng.permuted": lambda X, Y, size, seed: _cut(X, Y, size, np.random.default_rng(seed).permuted(np.arange(X.shape[1]))),
}


def _class_counts(Y, sizes):
    """Per class, how many go to dev and test: the share of each set, the rest of the rounding to the last class."""
    classes = np.unique(Y)
    counts = np.array([np.sum(Y == c) for c in classes])
    per_set = []
    for total in sizes[1:]:
        share = np.round(counts * total / Y.shape[1]).astype(int)
        share[-1] = total - share[:-1].sum()
        per_set.append(share)
    return classes, per_set


def split_legacy_shuffles(X, Y, seed):
    """np.random.shuffle each class, cut it by rounded shares, then np.random.permutation each set."""
    np.random.seed(seed)
    classes, (dev_counts, test_counts) = _class_counts(Y, split_sizes(X.shape[1]))
    parts = {"train": [], "dev": [], "test": []}
    for c, n_dev, n_test in zip(classes, dev_counts, test_counts):
        members = np.flatnonzero(Y[0] == c)
        np.random.shuffle(members)
        parts["dev"].append(members[:n_dev])
        parts["test"].append(members[n_dev:n_dev + n_test])
        parts["train"].append(members[n_dev + n_test:])
    train, dev, test = (np.random.permutation(np.concatenate(parts[s])) for s in ("train", "dev", "test"))
    return X[:, train], Y[:, train], X[:, dev], Y[:, dev], X[:, test], Y[:, test]


def split_random_keys(X, Y, seed):
    """A random key per example, each class sorted by key and cut; every set shuffled in place with rng.shuffle."""
    rng = np.random.default_rng(seed)
    keys = rng.random(X.shape[1])
    classes, (dev_counts, test_counts) = _class_counts(Y, split_sizes(X.shape[1]))
    train, dev, test = [], [], []
    for c, n_dev, n_test in zip(classes, dev_counts, test_counts):
        members = np.flatnonzero(Y[0] == c)
        members = members[np.argsort(keys[members])]
        dev += list(members[:n_dev])
        test += list(members[n_dev:n_dev + n_test])
        train += list(members[n_dev + n_test:])
    for part in (train, dev, test):
        rng.shuffle(part)
    return X[:, train], Y[:, train], X[:, dev], Y[:, dev], X[:, test], Y[:, test]


def split_class_blocks(X, Y, seed):
    """Each class shuffled and cut; the sets are left in blocks of one class after another (each class random)."""
    rng = np.random.default_rng(seed)
    classes, (dev_counts, test_counts) = _class_counts(Y, split_sizes(X.shape[1]))
    train, dev, test = [], [], []
    for c, n_dev, n_test in zip(classes, dev_counts, test_counts):
        members = rng.permutation(np.flatnonzero(Y[0] == c))
        dev += list(members[:n_dev])
        test += list(members[n_dev:n_dev + n_test])
        train += list(members[n_dev + n_test:])
    return X[:, train], Y[:, train], X[:, dev], Y[:, dev], X[:, test], Y[:, test]


SPLITS = {
    "the reference (rng.permutation per class, then per set)": SETTING_UP["train_dev_test_split"],
    "the alternative sample (classes dealt by random keys)": functions(setting_up_samples.ALTERNATIVE["split"],
                                                                        {"split_sizes": split_sizes})["train_dev_test_split"],
    "np.random.shuffle per class, np.random.permutation per set": split_legacy_shuffles,
    "random keys, rng.shuffle per set": split_random_keys,
    "each class shuffled, sets in class blocks": split_class_blocks,
}


def honest_network(X, parameters, keep_probs, mask):
    """The forward pass of the three-layer networks of the hidden check, with masks drawn by `mask`."""
    A, cache = X, []
    for l in range(1, 4):
        A_prev = A
        Z = parameters[f"W{l}"] @ A_prev + parameters[f"b{l}"]
        if l < 3:
            A, D = mask(np.maximum(Z, 0), keep_probs[l - 1])
        else:
            A, D = 1 / (1 + np.exp(-Z)), np.ones_like(Z)
        cache.append((A_prev, Z, D))
    return A, cache


# -- every correct spelling passes -----------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("spelling", MASKS)
def test_correct_masks_pass(spelling):
    """200 draws (two calls each) of one correct spelling, on the visible check's array and hidden-sized ones,
    keep_prob 0.5, 0.8, 1 and between 0.3 and 0.97: a false fail has probability < 1e-9 per check, 2e-7 here."""
    rng = np.random.default_rng(zlib.crc32(spelling.encode()))
    np.random.seed(1)
    for draw in range(DRAWS):
        A, keep_prob = dropout_case(rng, draw)
        two = (MASKS[spelling](A, keep_prob), MASKS[spelling](A, keep_prob))
        assert judge("dropout_forward", two, {"A": A, "keep_prob": keep_prob}) == [], (draw, A.shape, keep_prob)


@pytest.mark.slow
@pytest.mark.parametrize("spelling", ["rand < keep_prob (the reference)", "rng.binomial, booleans"])
def test_correct_dropout_networks_pass(spelling):
    """200 correct forward passes of networks sized like the hidden check's: false fail < 1e-9 each, 2e-7 here."""
    rng = np.random.default_rng(7)
    np.random.seed(2)
    for draw in range(DRAWS):
        X, parameters, keep_probs = network_case(rng, draw)
        result = honest_network(X, parameters, keep_probs, MASKS[spelling])
        assert judge("dropout_network", result, network_inputs(X, parameters, keep_probs)) == [], draw


@pytest.mark.slow
@pytest.mark.parametrize("spelling", NOISES)
def test_correct_noise_passes(spelling):
    """200 draws (two calls each) of 20 to 200 images of 12 x 12, sigma 0.02 to 0.5, and the visible check's:
    false fail < 1e-9 per check, 2e-7 here."""
    rng = np.random.default_rng(zlib.crc32(spelling.encode()))
    np.random.seed(3)
    for draw in range(DRAWS):
        images, sigma = noise_case(rng, draw)
        two = (NOISES[spelling](images, sigma), NOISES[spelling](images, sigma))
        assert judge("gaussian_noise", two, {"images": images, "sigma": sigma}) == [], (draw, images.shape, sigma)


@pytest.mark.slow
@pytest.mark.parametrize("spelling", BATCHES)
def test_correct_mini_batches_pass(spelling):
    """200 shuffles of m = 7 to 300 examples cut like the hidden check's (SGD, batch GD, powers of 2, m // 3,
    any): false fail < 1e-9 per check, 2e-7 here."""
    rng = np.random.default_rng(zlib.crc32(spelling.encode()))
    np.random.seed(4)
    for draw in range(DRAWS):
        X, Y, size = batches_case(rng, draw)
        batches = BATCHES[spelling](X, Y, size, int(rng.integers(0, 1000)))
        assert judge("mini_batches", batches, {"X": X, "Y": Y, "mini_batch_size": size}) == [], (draw, X.shape, size)


@pytest.mark.slow
@pytest.mark.parametrize("spelling", SPLITS)
def test_correct_splits_pass(spelling):
    """200 splits of m = 100 to 1,500 examples, two or three classes: false fail < 1e-9 per check, 2e-7 here."""
    rng = np.random.default_rng(zlib.crc32(spelling.encode()))
    for draw in range(DRAWS):
        X, Y = split_case(rng, draw)
        result = SPLITS[spelling](X.copy(), Y.copy(), int(rng.integers(0, 1000)))
        inputs = {"X": X, "Y": Y, "sizes": split_sizes(X.shape[1])}
        assert judge("split", result, inputs) == [], (draw, X.shape)


def _two_seeds(rng) -> tuple[int, int]:
    """Two different seeds, as the hidden checks draw them."""
    first = int(rng.integers(0, 1000))
    return first, (first + int(rng.integers(1, 1000))) % 1000


@pytest.mark.slow
@pytest.mark.parametrize("spelling", BATCHES)
def test_correct_mini_batches_pass_with_two_seeds(spelling):
    """The hidden check's other form: the same examples shuffled with two different seeds (200 draws): each order
    judged as above, and the two independent of each other. False fail < 1e-9 per check, 2e-7 here."""
    rng = np.random.default_rng(zlib.crc32(spelling.encode()) + 1)
    np.random.seed(6)
    for draw in range(DRAWS):
        X, Y, size = batches_case(rng, draw)
        seeds = _two_seeds(rng)
        two = tuple(BATCHES[spelling](X, Y, size, seed) for seed in seeds)
        inputs = {"X": X, "Y": Y, "mini_batch_size": size, "seeds": seeds}
        assert judge("mini_batches", two, inputs) == [], (draw, X.shape, size, seeds)


@pytest.mark.slow
@pytest.mark.parametrize("spelling", SPLITS)
def test_correct_splits_pass_with_two_seeds(spelling):
    """The same data split with two different seeds (200 draws): each split judged as above, and for every set and
    class the two choices' overlap hypergeometric. False fail < 1e-9 per check, 2e-7 here."""
    rng = np.random.default_rng(zlib.crc32(spelling.encode()) + 1)
    for draw in range(DRAWS):
        X, Y = split_case(rng, draw)
        seeds = _two_seeds(rng)
        two = tuple(SPLITS[spelling](X.copy(), Y.copy(), seed) for seed in seeds)
        inputs = {"X": X, "Y": Y, "sizes": split_sizes(X.shape[1]), "seeds": seeds}
        assert judge("split", two, inputs) == [], (draw, X.shape, seeds)


@pytest.mark.slow
def test_correct_answers_fail_no_more_often_than_the_budget_says(monkeypatch):
    """With the budget raised from 1e-9 to 0.2, correct answers may fail, but at most 20% of the time (the tails
    are exact or conservative bounds): a check of the union bound and of the p-values themselves."""
    from idnn.checks import stats

    monkeypatch.setattr(stats, "FALSE_ALARM", 0.2)
    rng = np.random.default_rng(11)
    np.random.seed(11)
    failed = {"dropout_forward": 0, "gaussian_noise": 0, "mini_batches": 0, "split": 0, "two seeds": 0,
              "split, two seeds": 0}
    runs = 150
    for draw in range(runs):
        A, keep_prob = dropout_case(rng, 1 + (draw % 2))
        two = (MASKS["np.random.binomial"](A, 0.7), MASKS["np.random.binomial"](A, 0.7))
        failed["dropout_forward"] += bool(judge("dropout_forward", two, {"A": A, "keep_prob": 0.7}))
        images, sigma = rng.random((30, 6, 6)), 0.3
        two = (NOISES["np.random.normal"](images, sigma), NOISES["np.random.normal"](images, sigma))
        failed["gaussian_noise"] += bool(judge("gaussian_noise", two, {"images": images, "sigma": sigma}))
        X, Y = rng.standard_normal((1, 60)), (rng.random((1, 60)) < 0.5).astype(np.int64)
        batches = BATCHES["np.random.shuffle"](X, Y, 16, 0)
        failed["mini_batches"] += bool(judge("mini_batches", batches, {"X": X, "Y": Y, "mini_batch_size": 16}))
        result = SPLITS["random keys, rng.shuffle per set"](X, Y, int(rng.integers(0, 10**6)))
        failed["split"] += bool(judge("split", result, {"X": X, "Y": Y, "sizes": split_sizes(60)}))
        seeds = _two_seeds(rng)
        two = tuple(BATCHES["rng.permutation (the reference)"](X, Y, 16, seed) for seed in seeds)
        failed["two seeds"] += bool(judge("mini_batches", two, {"X": X, "Y": Y, "mini_batch_size": 16, "seeds": seeds}))
        two = tuple(SPLITS["the reference (rng.permutation per class, then per set)"](X, Y, seed) for seed in seeds)
        failed["split, two seeds"] += bool(judge("split", two, {"X": X, "Y": Y, "sizes": split_sizes(60), "seeds": seeds}))
    limit = 0.2 + 3 * math.sqrt(0.2 * 0.8 / runs)
    assert all(count / runs <= limit for count in failed.values()), failed


# -- the attacks fail, and say what is wrong -------------------------------------------------------------------

def lattice_mask(A, keep_prob, shift):
    """Entry (i, j) dropped where frac((i + j + shift) (1 - keep_prob)) < 1 - keep_prob: exactly the right share
    of every row and column, no random number at all (for keep_prob 0.8: (i + j + shift) % 5 == 0)."""
    q = 1 - keep_prob
    t = np.add.outer(np.arange(A.shape[0]), np.arange(A.shape[1])) + shift
    return _dropped(A, ((t * q) % 1 >= q).astype(np.float64), keep_prob)


def five_lattice(A, shift):
    i, j = np.indices(A.shape)
    return _dropped(A, ((i + j + shift) % 5 != 0).astype(np.float64), 0.8)


def three_point(images, sigma):
    return images + sigma * math.sqrt(3) * np.random.choice([-1.0, 0.0, 1.0], p=[1 / 6, 2 / 3, 1 / 6], size=images.shape)


def broadcast_columns(images, sigma):  # one value per column of an image, the same down its rows
    return images + sigma * np.random.randn(images.shape[0], 1, images.shape[2])


def broadcast_images(images, sigma):  # one value per image, the same for all of its pixels
    return images + sigma * np.random.randn(images.shape[0], 1, 1)


def class_ordered_split(X, Y, seed):
    """Stratified, each class's members chosen at random, but every set lists each class in its original order
    (the classes interleaved at random, so no set as a whole is sorted)."""
    rng = np.random.default_rng(seed)
    classes, (dev_counts, test_counts) = _class_counts(Y, split_sizes(X.shape[1]))
    parts = {"train": {}, "dev": {}, "test": {}}
    for c, n_dev, n_test in zip(classes, dev_counts, test_counts):
        members = rng.permutation(np.flatnonzero(Y[0] == c))
        parts["dev"][c] = np.sort(members[:n_dev])
        parts["test"][c] = np.sort(members[n_dev:n_dev + n_test])
        parts["train"][c] = np.sort(members[n_dev + n_test:])
    out = []
    for name in ("train", "dev", "test"):
        labels = rng.permutation(np.concatenate([[c] * len(parts[name][c]) for c in classes]))
        order = np.empty(len(labels), dtype=np.int64)
        for c in classes:
            order[labels == c] = parts[name][c]
        out += [X[:, order], Y[:, order]]
    return tuple(out)


def first_sixty_split(X, Y, seed):
    """Stratified and every set shuffled, but each class's first 60% (in X's order) go to train, then dev, test."""
    rng = np.random.default_rng(seed)
    classes, (dev_counts, test_counts) = _class_counts(Y, split_sizes(X.shape[1]))
    train, dev, test = [], [], []
    for c, n_dev, n_test in zip(classes, dev_counts, test_counts):
        members = np.flatnonzero(Y[0] == c)
        n_train = len(members) - n_dev - n_test
        train += list(members[:n_train])
        dev += list(members[n_train:n_train + n_dev])
        test += list(members[n_train + n_dev:])
    train, dev, test = (rng.permutation(part) for part in (train, dev, test))
    return X[:, train], Y[:, train], X[:, dev], Y[:, dev], X[:, test], Y[:, test]


def _same_noise_twice(images, sigma):
    np.random.seed(0)
    return images + sigma * np.random.randn(*images.shape)


def five_lattice_case(rng, draw):
    A = dropout_case(rng, draw)[0]
    return (five_lattice(A, 0), five_lattice(A, 1)), {"A": A, "keep_prob": 0.8}


def batch_inputs(rng, draw, least=30):
    """As for the hidden check, with at least the 30 examples it uses (or `least`)."""
    X, Y, size = batches_case(rng, draw)
    while X.shape[1] < least:
        X, Y, size = batches_case(rng, draw)
    return X, Y, size


def _coprime_near_half(n):
    k = max(1, n // 2)
    while math.gcd(k, n) != 1:
        k += 1
    return k


def stepped_order(m):
    """No random number: j -> k j mod m, k about m / 2 (ascents and halves like a shuffle's)."""
    return (_coprime_near_half(m) * np.arange(m)) % m


def interleaved_order(m):
    """Each half shuffled on its own, then dealt alternately, one of the first half, one of the second."""
    order = np.empty(m, dtype=np.int64)
    order[0::2] = np.random.permutation((m + 1) // 2)
    order[1::2] = (m + 1) // 2 + np.random.permutation(m // 2)
    return order


def stepped_split(X, Y, seed):
    """No random number (the seed ignored): each class in the order j -> k j mod n, cut into the sets, every set
    left sorted by class."""
    classes, (dev_counts, test_counts) = _class_counts(Y, split_sizes(X.shape[1]))
    train, dev, test = [], [], []
    for c, n_dev, n_test in zip(classes, dev_counts, test_counts):
        members = np.flatnonzero(Y[0] == c)
        members = members[stepped_order(len(members))]
        n_train = len(members) - n_dev - n_test
        train += list(members[:n_train])
        dev += list(members[n_train:n_train + n_dev])
        test += list(members[n_train + n_dev:])
    return X[:, train], Y[:, train], X[:, dev], Y[:, dev], X[:, test], Y[:, test]


def fixed_choice_split(X, Y, seed):
    """The sets chosen as by a correct split with seed 0, whatever the seed; only the order within them seeded."""
    parts = SPLITS["the reference (rng.permutation per class, then per set)"](X, Y, 0)
    rng = np.random.default_rng(seed)
    out = []
    for Xs, Ys in zip(parts[0::2], parts[1::2]):
        order = rng.permutation(Xs.shape[1])
        out += [Xs[:, order], Ys[:, order]]
    return tuple(out)


def rolled_masks():
    """A fresh attack: one mask per shape, drawn at the first call, rolled one column on at every later call."""
    drawn = {}

    def attack(A, keep_prob, shift):
        drawn[A.shape] = (np.roll(drawn[A.shape], 1, axis=1) if A.shape in drawn
                          else (np.random.rand(*A.shape) < keep_prob).astype(np.float64))
        return _dropped(A, drawn[A.shape], keep_prob)
    return attack


def rolled_noise():
    """A fresh attack: noise drawn once per shape, rolled one column on at every later call."""
    drawn = {}

    def attack(images, sigma):
        drawn[images.shape] = (np.roll(drawn[images.shape], 1, axis=2) if images.shape in drawn
                               else sigma * np.random.randn(*images.shape))
        return images + drawn[images.shape]
    return attack


def copied_neighbours(values, axes):
    """`values` with index 2k along each of `axes` copied from index 2k - 1: across the pairs (0, 1), (2, 3), ..."""
    values = np.array(values)
    for axis in axes:
        n = values.shape[axis]
        target = [slice(None)] * values.ndim
        source = [slice(None)] * values.ndim
        target[axis], source[axis] = slice(2, None, 2), slice(1, n - 1, 2)
        values[tuple(target)] = values[tuple(source)]
    return values


def _attack_cases():
    """(check, description, a function of (rng, draw) giving (value, inputs), the message it must give)."""
    def masks(attack):
        def case(rng, draw):
            A, keep_prob = dropout_case(rng, draw)
            keep_prob = keep_prob if keep_prob < 1 else 0.9
            return (attack(A, keep_prob, 1), attack(A, keep_prob, 2)), {"A": A, "keep_prob": keep_prob}
        return case

    def noise(attack, twice=False):
        def case(rng, draw):
            images, sigma = noise_case(rng, draw)
            first = attack(images, sigma)
            second = (2 * images - first) if twice else attack(images, sigma)
            return (first, second), {"images": images, "sigma": sigma}
        return case

    def batches(order, least=30):
        def case(rng, draw):
            X, Y, size = batch_inputs(rng, draw, least)
            return _cut(X, Y, size, order(X.shape[1])), {"X": X, "Y": Y, "mini_batch_size": size}
        return case

    def split(attack):
        def case(rng, draw):
            X, Y = split_case(rng, draw)
            return attack(X, Y, draw), {"X": X, "Y": Y, "sizes": split_sizes(X.shape[1])}
        return case

    def network(rng, draw):
        X, parameters, keep_probs = network_case(rng, draw)
        shift = iter(range(10))
        result = honest_network(X, parameters, keep_probs, lambda A, p: lattice_mask(A, p, next(shift)))
        return result, network_inputs(X, parameters, keep_probs)

    kernel_lattice = functions(regularization_samples.LATTICE_MASKS)["dropout_forward"]
    kernel_reversed = functions(optimization_samples.REVERSED_MINI_BATCHES)["random_mini_batches"]
    kernel_split = {name: functions(code, {"split_sizes": split_sizes})["train_dev_test_split"]
                    for name, code in (("ordered", setting_up_samples.CLASS_ORDERED_SPLIT),
                                       ("first", setting_up_samples.FIRST_SIXTY_SPLIT))}
    kernel_noise = {name: functions(code)["add_noise"] for name, code in
                    (("three", regularization_samples.THREE_POINT_NOISE),
                     ("broadcast", regularization_samples.BROADCAST_NOISE))}
    return [
        ("dropout_forward", "lattice masks, shifted on each call", masks(lattice_mask), "the mask has a pattern"),
        ("dropout_forward", "the (i + j + shift) % 5 lattice at keep_prob 0.8", five_lattice_case,
         "the mask has a pattern"),
        ("dropout_forward", "the lattice sample's code", masks(lambda A, p, shift: kernel_lattice(A, p)),
         "the mask has a pattern"),
        ("dropout_network", "a network with lattice masks", network, "layer [12]: the mask has a pattern"),
        ("gaussian_noise", "three-point noise (mean 0, std sigma, kurtosis 3)", noise(three_point),
         "not normally distributed"),
        ("gaussian_noise", "the three-point sample's code", noise(kernel_noise["three"]), "not normally distributed"),
        ("gaussian_noise", "one value per image column, broadcast down the rows", noise(broadcast_columns),
         "neighbouring rows of an image is not independent"),
        ("gaussian_noise", "the broadcast sample's code", noise(kernel_noise["broadcast"]),
         "neighbouring rows of an image is not independent"),
        ("gaussian_noise", "one value per image", noise(broadcast_images), "neighbouring .* is not independent"),
        ("gaussian_noise", "the same noise on every call", noise(_same_noise_twice), "two calls added the same noise"),
        ("gaussian_noise", "the second call's noise the first's negated", noise(lambda i, s: i + s * np.random.randn(*i.shape), twice=True),
         "two calls added opposite noise"),
        ("mini_batches", "the examples reversed", batches(lambda m: np.arange(m)[::-1]), "reverse order"),
        ("mini_batches", "the reversed sample's code",
         lambda rng, draw: (lambda X, Y, size: (kernel_reversed(X, Y, size, draw),
                                                {"X": X, "Y": Y, "mini_batch_size": size}))(*batch_inputs(rng, draw)),
         "reverse order"),
        ("mini_batches", "the examples in their original order", batches(np.arange), "keep their original order"),
        ("mini_batches", "the examples rotated by half", batches(lambda m: np.roll(np.arange(m), m // 2)),
         "not in a random order"),
        ("split", "each class in its original order within every set", split(class_ordered_split),
         "class .* keep their original order"),
        ("split", "the class-ordered sample's code", split(kernel_split["ordered"]), "class .* keep their original order"),
        ("split", "the first 60% of each class to train", split(first_sixty_split), "not a random choice from the class"),
        ("split", "the first-60% sample's code", split(kernel_split["first"]), "not a random choice from the class"),
    ] + _second_round_attacks(masks, noise, batches, split)


def _second_round_attacks(masks, noise, batches, split):
    """The attacks that passed the first checks: no randomness at all, draws reused shifted, copies across the
    boundaries of the disjoint pairs, an interleaved shuffle (issue 10, second round)."""
    kernel_split = functions(setting_up_samples.NO_RANDOMNESS_SPLIT, {"split_sizes": split_sizes})["train_dev_test_split"]
    kernel_batches = {name: functions(getattr(optimization_samples, name))["random_mini_batches"]
                      for name in ("STEPPED_MINI_BATCHES", "INTERLEAVED_MINI_BATCHES")}
    copied_masks = functions(regularization_samples.COPIED_NEIGHBOUR_MASKS)["dropout_forward"]
    copied_noise = functions(regularization_samples.COPIED_NEIGHBOUR_NOISE)["add_noise"]

    def fresh(make_case, factory):
        """A new attacker for every draw: what one reuses is per shape, and shapes recur across the draws here with
        other keep_probs and sigmas (in a notebook each hidden case has its own)."""
        return lambda rng, draw: make_case(factory())(rng, draw)

    def kernel(code, name):
        return lambda: functions(code)[name]

    def unshifted(forward):
        return lambda A, keep_prob, shift: forward(A, keep_prob)

    def split_two_seeds(attack):
        def case(rng, draw):
            X, Y = split_case(rng, draw)
            seeds = _two_seeds(rng)
            return (tuple(attack(X, Y, seed) for seed in seeds),
                    {"X": X, "Y": Y, "sizes": split_sizes(X.shape[1]), "seeds": seeds})
        return case

    def batches_two_seeds(attack):
        def case(rng, draw):
            X, Y, size = batch_inputs(rng, draw)
            seeds = _two_seeds(rng)
            return (tuple(attack(X, Y, size, seed) for seed in seeds),
                    {"X": X, "Y": Y, "mini_batch_size": size, "seeds": seeds})
        return case

    def kernel_batches_case(name, least=30):
        def case(rng, draw):
            X, Y, size = batch_inputs(rng, draw, least)
            return kernel_batches[name](X, Y, size, draw), {"X": X, "Y": Y, "mini_batch_size": size}
        return case

    return [
        ("split", "no random number: each class in the order k j mod n, the sets sorted by class",
         split(stepped_split), "class .* follow a rule"),
        ("split", "the stepped split sample's code", split(kernel_split), "class .* follow a rule"),
        ("mini_batches", "the fixed order k j mod m", batches(stepped_order), "follow a rule"),
        ("mini_batches", "the stepped mini-batches sample's code", kernel_batches_case("STEPPED_MINI_BATCHES"),
         "follow a rule"),
        # At 60 examples or more: this order is a uniform choice among ((m/2)!)^2 of the m! orders, so no test that
        # fails a correct shuffle with probability below 1e-10 can catch it with probability above
        # 1e-10 * m! / ((m/2)!)^2 (Neyman-Pearson), below 1 up to m = 40.
        ("mini_batches", "each half shuffled, then dealt low, high, low, high", batches(interleaved_order, least=60),
         "not in a random order"),
        ("mini_batches", "the interleaved mini-batches sample's code",
         kernel_batches_case("INTERLEAVED_MINI_BATCHES", least=60), "not in a random order"),
        ("dropout_forward", "one mask per shape, rolled one column on at the next call", fresh(masks, rolled_masks),
         "the second call's mask is the first's shifted"),
        ("dropout_forward", "the rolled masks sample's code",
         fresh(masks, lambda: unshifted(kernel(regularization_samples.ROLLED_MASKS, "dropout_forward")())),
         "the second call's mask is the first's shifted"),
        ("dropout_forward", "masks with column 2k copied from 2k - 1 and row 2r from 2r - 1",
         masks(lambda A, p, shift: _dropped(A, copied_neighbours(np.random.rand(*A.shape) < p, (0, 1)).astype(float), p)),
         "the mask has a pattern"),
        ("dropout_forward", "the copied masks sample's code",
         masks(unshifted(copied_masks)), "the mask has a pattern"),
        ("gaussian_noise", "noise drawn once per shape, rolled one column on at the next call", fresh(noise, rolled_noise),
         "two calls added related noise"),
        ("gaussian_noise", "the rolled noise sample's code",
         fresh(noise, kernel(regularization_samples.ROLLED_NOISE, "add_noise")), "two calls added related noise"),
        ("gaussian_noise", "noise with column 2k copied from 2k - 1 and row 2r from 2r - 1",
         noise(lambda images, sigma: images + copied_neighbours(sigma * np.random.randn(*images.shape), (1, 2))),
         "neighbouring (rows|columns) of an image is not independent"),
        ("gaussian_noise", "the copied noise sample's code", noise(copied_noise),
         "neighbouring (rows|columns) of an image is not independent"),
        # The hidden checks' second form: the same inputs with two different seeds.
        ("split", "no random number, called with two seeds", split_two_seeds(stepped_split),
         "two calls with different seeds gave the same split"),
        ("split", "the stepped split sample's code, called with two seeds", split_two_seeds(kernel_split),
         "two calls with different seeds gave the same split"),
        ("split", "the same examples chosen whatever the seed, only the order seeded", split_two_seeds(fixed_choice_split),
         "two calls with different seeds chose nearly the same examples"),
        ("mini_batches", "the fixed order, called with two seeds", batches_two_seeds(
            lambda X, Y, size, seed: _cut(X, Y, size, stepped_order(X.shape[1]))),
         "two calls with different seeds gave the examples in the same order"),
        ("mini_batches", "the stepped sample's code, called with two seeds",
         batches_two_seeds(kernel_batches["STEPPED_MINI_BATCHES"]),
         "two calls with different seeds gave the examples in the same order"),
        ("mini_batches", "one fixed random order, rotated by the seed", batches_two_seeds(
            lambda X, Y, size, seed: _cut(X, Y, size, np.roll(np.random.default_rng(0).permutation(X.shape[1]), seed))),
         "the orders of two calls with different seeds are related"),
    ]


ATTACKS = _attack_cases()


@pytest.mark.slow
@pytest.mark.parametrize("check, what, case, message", ATTACKS, ids=[a[1] for a in ATTACKS])
def test_each_attack_fails_and_the_message_names_what_is_wrong(check, what, case, message):
    """20 draws of the attack, sized like the hidden checks (and the visible check's inputs): every one fails."""
    rng = np.random.default_rng(5)
    np.random.seed(5)
    for draw in range(20):
        value, inputs = case(rng, draw)
        problems = judge(check, value, inputs)
        assert problems, f"{what}: passed on draw {draw}"
        assert re.search(message, problems[0]), problems


# -- any array the student could send gives sentences, never an exception -----------------------------------

def _records() -> dict[str, tuple[dict, dict]]:
    """What a correct answer's kernel records for each check (as flattened arrays), and the grader's inputs."""
    rng = np.random.default_rng(0)
    np.random.seed(0)
    A = np.abs(rng.standard_normal((20, 50)))
    X_net, parameters, keep_probs = network_case(rng, 0)
    images = rng.random((20, 6, 6))
    X, Y = rng.standard_normal((2, 60)), (rng.random((1, 60)) < 0.4).astype(np.int64)
    mask = MASKS["rand < keep_prob (the reference)"]
    noise = NOISES["sigma * randn (the reference)"]
    values = {
        "dropout_forward": ((mask(A, 0.7), mask(A, 0.7)), {"A": A, "keep_prob": 0.7}),
        "dropout_network": (honest_network(X_net, parameters, keep_probs, mask),
                            network_inputs(X_net, parameters, keep_probs)),
        "gaussian_noise": ((noise(images, 0.2), noise(images, 0.2)), {"images": images, "sigma": 0.2}),
        "mini_batches": (BATCHES["rng.permutation (the reference)"](X, Y, 16, 3), {"X": X, "Y": Y, "mini_batch_size": 16}),
        "split": (SPLITS["the reference (rng.permutation per class, then per set)"](X, Y, 3),
                  {"X": X, "Y": Y, "sizes": split_sizes(60)}),
        "mini_batches (two seeds)": (tuple(BATCHES["rng.permutation (the reference)"](X, Y, 16, seed) for seed in (3, 4)),
                                     {"X": X, "Y": Y, "mini_batch_size": 16, "seeds": [3, 4]}),
        "split (two seeds)": (tuple(SPLITS["the reference (rng.permutation per class, then per set)"](X, Y, seed)
                                    for seed in (3, 4)), {"X": X, "Y": Y, "sizes": split_sizes(60), "seeds": [3, 4]}),
    }
    return {name: (flatten("case", value), {k: np.asarray(v) for k, v in inputs.items()})
            for name, (value, inputs) in values.items()}


RECORDS = _records()

# Each replaces one recorded array; the ones in WRONG can never be a correct answer.
GARBAGE = {
    "all NaN": lambda a: np.full(a.shape, np.nan),
    "one NaN": lambda a: np.where(np.arange(a.size).reshape(a.shape) == 0, np.nan, a.astype(np.float64)),
    "inf": lambda a: np.full(a.shape, np.inf),
    "-inf in places": lambda a: np.where(np.arange(a.size).reshape(a.shape) % 3 == 0, -np.inf, a.astype(np.float64)),
    "huge": lambda a: np.where(np.arange(a.size).reshape(a.shape) % 2 == 0, 1e308, -1e308),
    "complex": lambda a: a.astype(np.complex128) + 1j,
    "text": lambda a: np.full(a.shape, "0.5"),
    "bytes": lambda a: np.full(a.shape, b"1"),
    "datetime": lambda a: np.zeros(a.shape, dtype="datetime64[s]"),
    "timedelta": lambda a: np.ones(a.shape, dtype="timedelta64[s]"),
    "structured": lambda a: np.zeros(a.shape, dtype=[("x", np.float64), ("y", np.int8)]),
    "objects": lambda a: np.full(a.shape, None, dtype=object),
    "a scalar": lambda a: np.array(0.5),
    "empty": lambda a: np.zeros((0,)),
    "flattened": lambda a: np.ravel(a),
    "an extra axis": lambda a: a[np.newaxis],
    "largest uint64": lambda a: np.full(a.shape, 2**64 - 1, dtype=np.uint64),
    "int8 zeros": lambda a: np.zeros(a.shape, dtype=np.int8),
    "booleans": lambda a: np.asarray(a).astype(bool),
    "float16": lambda a: np.asarray(a).astype(np.float16),
    "transposed": lambda a: np.asarray(a).T,
}
WRONG = {"all NaN", "one NaN", "inf", "-inf in places", "huge", "complex", "text", "bytes", "datetime", "timedelta",
         "structured", "objects", "a scalar", "empty", "flattened", "an extra axis", "largest uint64"}


def _arrays(got: dict) -> list[str]:
    return [name for name in got if not name.endswith("__keys__")]


@pytest.mark.parametrize("garbage", GARBAGE)
@pytest.mark.parametrize("check", RECORDS)
def test_any_array_in_any_place_gives_sentences_never_an_exception(check, garbage):
    """Every recorded array of a correct answer replaced, one at a time, by something strange: the check itself
    (without the grader's safety net) returns sentences, and for a value no correct answer holds, at least one."""
    from idnn.checks.properties import PROPERTY_CHECKS

    got, inputs = RECORDS[check]
    check_named = PROPERTY_CHECKS[check.partition(" ")[0]]  # "split (two seeds)" is the split check's other form
    assert check_named("case", dict(got), inputs) == []
    for name in _arrays(got):
        with np.errstate(all="ignore"):
            problems = check_named("case", {**got, name: GARBAGE[garbage](got[name])}, inputs)
        assert isinstance(problems, list) and all(isinstance(p, str) and p for p in problems), (name, problems)
        assert not any("could not judge" in p for p in problems)
        if garbage in WRONG:
            assert problems, f"{check}: {name} as {garbage} passed"


@pytest.mark.parametrize("check", RECORDS)
def test_missing_or_extra_parts_give_sentences(check):
    from idnn.checks.properties import PROPERTY_CHECKS

    got, inputs = RECORDS[check]
    check_named = PROPERTY_CHECKS[check.partition(" ")[0]]
    for name in _arrays(got):
        problems = check_named("case", {k: v for k, v in got.items() if k != name}, inputs)
        assert problems and all(isinstance(p, str) for p in problems), name
    assert check_named("case", {}, inputs)
    assert check_named("case", {"case": np.zeros(3)}, inputs)


def test_nan_labels_in_a_split_are_a_problem_not_an_exception():
    """The bug that once failed the whole notebook: int(nan) raised inside the split's check."""
    got, inputs = RECORDS["split"]
    for part in ("case/1", "case/3", "case/5"):
        problems = judge("split", tuple(np.full(got[f"case/{i}"].shape, np.nan) if f"case/{i}" == part else got[f"case/{i}"]
                                        for i in range(6)), inputs)
        assert problems and "NaN" in problems[0], problems


def test_the_visible_entry_refuses_what_the_kernel_could_not_record():
    from idnn.checks.properties import problems_with

    got, inputs = RECORDS["gaussian_noise"]
    for value in ([object(), object()], {"a": {1, 2}}, (np.zeros(3, dtype=object),), None):
        problems = problems_with("gaussian_noise", value, inputs)
        assert problems and all(isinstance(p, str) for p in problems)
    assert problems_with("no such check", 1.0, {}) == ["there is no property check named 'no such check'"]


def test_the_grader_turns_an_error_inside_a_check_into_a_problem(monkeypatch):
    from idnn.checks import properties

    def broken(key, got, inputs):
        raise ZeroDivisionError("boom")

    monkeypatch.setitem(properties.PROPERTY_CHECKS, "split", broken)
    got, inputs = RECORDS["split"]
    assert check_property("split", "case", got, inputs) == [
        "the split check could not judge this answer (ZeroDivisionError: boom)"]
    with pytest.raises(RuntimeError, match="No property check named"):  # the source notebook's fault, not the student's
        check_property("no such check", "case", got, inputs)


def test_a_check_cannot_change_what_is_judged_next(monkeypatch):
    from idnn.checks import properties

    def vandal(key, got, inputs):
        for array in list(got.values()) + list(inputs.values()):
            array[...] = 0
        return []

    monkeypatch.setitem(properties.PROPERTY_CHECKS, "split", vandal)
    got, inputs = RECORDS["split"]
    before = {k: v.copy() for k, v in {**got, **inputs}.items()}
    check_property("split", "case", got, inputs)
    assert all(np.array_equal(v, before[k]) for k, v in {**got, **inputs}.items())


# -- the statistics themselves ------------------------------------------------------------------------------

def test_eulerian_tails_are_the_ascents_of_every_permutation():
    import itertools

    from idnn.checks import stats

    for n in range(2, 8):
        ascents = [sum(p[i + 1] > p[i] for i in range(n - 1)) for p in itertools.permutations(range(n))]
        exact = np.bincount(ascents, minlength=n) / math.factorial(n)
        at_most, at_least = stats.eulerian_log_tails(n)
        assert np.allclose(np.exp(at_most), np.cumsum(exact)) and np.allclose(np.exp(at_least), np.cumsum(exact[::-1])[::-1])


def test_binomial_and_hypergeometric_tails_are_exact():
    from idnn.checks import stats

    n, p = 30, 0.3
    pmf = np.array([math.comb(n, k) * p ** k * (1 - p) ** (n - k) for k in range(n + 1)])
    at_most, at_least = stats.binomial_log_tails(n, p)
    assert np.allclose(np.exp(at_most), np.cumsum(pmf), rtol=1e-12)
    assert np.allclose(np.exp(at_least), np.cumsum(pmf[::-1])[::-1], rtol=1e-12)
    N, K, draws = 40, 20, 15
    pmf = np.array([math.comb(K, x) * math.comb(N - K, draws - x) / math.comb(N, draws) for x in range(draws + 1)])
    low, at_most, at_least = stats.hypergeometric_log_tails(N, K, draws)
    assert low == 0 and np.allclose(np.exp(at_most), np.cumsum(pmf), rtol=1e-12)
    assert stats.hypergeometric_test("t", 0, N, K, draws).log_p == pytest.approx(math.log(2 * pmf[0]))


def test_pairs_and_odd_places_of_every_permutation_are_binomial_and_hypergeometric():
    """Exact: over all n! orders, the increasing pairs of each pairing are Binomial(pairs, 1/2), and the smaller half
    at the odd-numbered places hypergeometric (the tests' statistics, read back from their details)."""
    import itertools

    from idnn.checks import stats

    for n in range(2, 8):
        orders = list(itertools.permutations(range(n)))
        for offset in (0, 1):
            pairs = len(range(offset, n - 1, 2))
            if not pairs:
                continue
            counts = [stats.pairs_tests("t", order)[offset].detail["count"] for order in orders]
            expected = [math.comb(pairs, k) / 2 ** pairs for k in range(pairs + 1)]
            assert np.allclose(np.bincount(counts, minlength=pairs + 1) / len(orders), expected)
        half, places = n // 2, (n + 1) // 2
        counts = [stats.parity_test("t", order).detail["x"] for order in orders]
        expected = [math.comb(half, x) * math.comb(n - half, places - x) / math.comb(n, places) for x in range(half + 1)]
        assert np.allclose(np.bincount(counts, minlength=half + 1) / len(orders), expected)


def test_the_steps_bound_holds_for_every_permutation():
    """The bound of steps_tests, against enumeration: for every n up to 8, every step d and every count k, the share
    of the n! orders (of 0..n-1, and of n values out of 0..n+2) whose first (or last) half repeats d at least k times
    is at most the bound's tail; the most repeated step at least k times, at most (modulus - 1) times that."""
    import itertools

    from idnn.checks import stats

    for n in range(3, 9):
        h = (n - 1) // 2
        tails = np.exp(stats.step_log_tails(n))
        assert len(tails) == h + 1
        for values, modulus in ((range(n), n), ((0, 1, 3, 4, 6, 7, 9, 10)[:n], n + 3)):
            orders = np.array(list(itertools.permutations(values)))
            steps = np.mod(np.diff(orders, axis=1), modulus)
            for part in (steps[:, :h], steps[:, n - 1 - h:]):
                per_step = np.stack([np.sum(part == d, axis=1) for d in range(modulus)])  # (modulus, orders)
                for k in range(h + 1):
                    assert np.all(np.mean(per_step >= k, axis=1) <= tails[k] + 1e-12), (n, modulus, k)
                    assert np.mean(per_step.max(axis=0) >= k) <= (modulus - 1) * tails[k] + 1e-12
        # and the statistic the test reports is that count
        order = (2 * np.arange(n)) % n if n % 2 else np.arange(n)
        test = stats.steps_tests("t", order, n)[0]
        assert test.detail["count"] == h and test.log_p == pytest.approx(min(0.0, math.log(n - 1) + math.log(tails[h])))


def test_fixed_points_and_shift_matches_are_exact():
    """The rencontres tails against all permutations; shift_matches_test's count at each shift is that statistic
    (all pairs of orders of 5: at a given shift, the second order relabelled by the first has those fixed points)."""
    import itertools

    from idnn.checks import stats

    for m in range(1, 8):
        fixed = [sum(p[i] == i for i in range(m)) for p in itertools.permutations(range(m))]
        exact = np.cumsum((np.bincount(fixed, minlength=m + 1) / math.factorial(m))[::-1])[::-1]
        assert np.allclose(np.exp(stats.fixed_points_log_tails(m)), exact, atol=1e-15)
    m = 5
    orders = list(itertools.permutations(range(m)))
    at_shift = {c: [] for c in range(m)}
    for first in orders:
        for second in orders:
            where = np.argsort(first)
            shifts = (where[list(second)] - np.arange(m)) % m
            for c in range(m):
                at_shift[c].append(int(np.sum(shifts == c)))
    tails = np.exp(stats.fixed_points_log_tails(m))
    for counts in at_shift.values():
        share = np.cumsum((np.bincount(counts, minlength=m + 1) / len(counts))[::-1])[::-1]
        assert np.allclose(share, tails)
    same = stats.shift_matches_test("t", np.arange(9), np.arange(9))
    assert same.detail == {"shift": 0, "count": 9, "n": 9} and same.log_p == pytest.approx(-math.log(math.factorial(9)))
    rotated = stats.shift_matches_test("t", np.arange(9), np.roll(np.arange(9), 2))
    assert rotated.detail["count"] == 9 and rotated.count == 9


def test_the_chernoff_and_normal_tails_are_upper_bounds():
    from idnn.checks import stats

    rng = np.random.default_rng(1)
    for _ in range(20):
        p = rng.random(int(rng.integers(5, 60))) * rng.choice([0.01, 0.1, 0.5])
        pmf = np.array([1.0])
        for q in p:
            pmf = np.concatenate([pmf * (1 - q), [0.0]]) + np.concatenate([[0.0], pmf * q])
        tail = np.cumsum(pmf[::-1])[::-1]
        for t in range(len(tail)):
            assert tail[t] <= math.exp(stats.chernoff_log_upper(t, float(p.sum()))) * (1 + 1e-9) + 1e-300
    for z in (0.0, 1.0, 5.0, 30.0, 37.0, 38.0, 50.0, 500.0):
        test = stats.normal_max_test("t", [z / 2, -z], 0.0)
        exact = math.erfc(z / math.sqrt(2))
        assert test.count == 2 and (test.log_p == pytest.approx(math.log(exact)) if exact > 1e-300 else
                                     test.log_p <= math.log(1e-300))
    assert stats.normal_max_test("t", [10.0], 9.0).log_p == pytest.approx(math.log(math.erfc(1 / math.sqrt(2))))


def test_groups_share_the_budget_equally():
    """Two groups: each gets half of the budget, shared over its own tests (a family of 10^5 shifts does not thin
    the few others' share)."""
    from idnn.checks import stats

    few = [stats.Test("few", log_p=-30.0, log_best=-math.inf) for _ in range(4)]
    many = stats.in_group("calls", [stats.Test("many", log_p=-30.0, log_best=-math.inf, count=100_000)])
    failed, level = stats.failures(few + many)
    assert level == pytest.approx(math.log(1e-9 / 2 / 4)) and many[0].level == pytest.approx(math.log(1e-9 / 2 / 1e5))
    assert failed == few  # -30 is below log(1.25e-10) = -22.8, above log(5e-15) = -33.0


def test_the_normal_cdf_and_the_ks_distance():
    from idnn.checks import stats

    assert np.allclose(stats.normal_cdf(np.array([-1.959963984540054, 0.0, 1.0])), [0.025, 0.5, 0.8413447460685429])
    test = stats.normal_ks_test("t", np.zeros(1000), 1.0)  # every value at the median: D = 1/2
    assert test.detail["distance"] == pytest.approx(0.5)
    assert test.log_p == pytest.approx(math.log(2) - 2 * 1000 * (0.5 - stats.KS_ROUNDING - stats.CDF_ERROR) ** 2)
    # The interpolated CDF is within CDF_ERROR of the exact one, between the table's points and far out.
    z = np.concatenate([np.linspace(-10, 10, 200_001), np.random.default_rng(0).standard_normal(10_000) * 3])
    exact = 0.5 * np.array([math.erfc(-x / math.sqrt(2)) for x in z])
    assert np.max(np.abs(stats.normal_cdf(z) - exact)) < stats.CDF_ERROR


def test_tests_that_could_never_fail_spend_no_budget():
    """Seven examples reversed pass: 1/7! > 1e-9, so no order of 7 is unlikely enough to fail a correct shuffle."""
    from idnn.checks import stats

    X, Y = np.arange(7.0)[np.newaxis], np.zeros((1, 7), dtype=np.int64)
    assert judge("mini_batches", _cut(X, Y, 64, np.arange(7)[::-1]), {"X": X, "Y": Y, "mini_batch_size": 64}) == []
    weak = stats.Test("weak", log_p=-1.0, log_best=-5.0)  # its best outcome is far above any share of 1e-9
    strong = stats.Test("strong", log_p=-40.0, log_best=-math.inf)
    failed, level = stats.failures([weak, strong])
    assert failed == [strong] and level == pytest.approx(math.log(1e-9))


# -- the boundary: the student side needs nothing from the trusted side ---------------------------------------
UTILS = REPO / "utils"
STUDENT_SIDE = [path for path in sorted(UTILS.rglob("*.py")) if "autograde" not in path.relative_to(UTILS).parts]


def _module_name(path) -> str:
    parts = ["idnn", *path.relative_to(UTILS).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path) -> set[str]:
    """Every module `path` imports, as an absolute name (and 'package.name' for `from package import name`)."""
    package = _module_name(path).split(".") if path.name == "__init__.py" else _module_name(path).split(".")[:-1]
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[:len(package) - node.level + 1] + ([node.module] if node.module else [])) \
                if node.level else node.module
            names |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return names


def test_no_student_side_module_imports_the_trusted_side():
    assert STUDENT_SIDE and any(path.name == "properties.py" for path in STUDENT_SIDE)
    for path in STUDENT_SIDE:
        trusted = sorted(name for name in _imported(path) if name == "idnn.autograde" or name.startswith("idnn.autograde."))
        assert not trusted, f"{path.relative_to(REPO)} imports {trusted}"


def test_importing_the_whole_student_side_loads_nothing_of_the_trusted_side():
    modules = [_module_name(path) for path in STUDENT_SIDE]
    code = ("import importlib, sys\n"
            f"for name in {modules!r}:\n    importlib.import_module(name)\n"
            "print(sorted(name for name in sys.modules if name.startswith('idnn.autograde')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                            env={"MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"


def test_the_student_side_holds_no_graded_function():
    """No student-side module defines a function or class named like an answer of a source notebook (split_sizes,
    once a helper of the property checks, was the Setting up exercise's solution)."""
    import glob

    import nbformat

    graded = set()
    for notebook in glob.glob(str(REPO / "source" / "*" / "*.ipynb")):
        for cell in nbformat.read(notebook, as_version=4).cells:
            if cell.metadata.get("nbgrader", {}).get("solution"):
                graded |= {node.name for node in ast.parse(cell.source).body
                           if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    assert {"split_sizes", "dropout_forward", "add_noise", "random_mini_batches"} <= graded
    for path in STUDENT_SIDE:
        defined = {node.name for node in ast.walk(ast.parse(path.read_text()))
                   if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
        assert not defined & graded, f"{path.relative_to(REPO)} defines {sorted(defined & graded)}"


# -- hidden checks: what they need from the reference comes from the grader's run -----------------------------

def _hidden(assignment: str, grade_id: str) -> str:
    import nbformat

    from idnn.autograde.reference import hidden_code

    notebook = nbformat.read(REPO / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    return next(hidden_code(c.source) for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def test_probe_reference_is_true_only_in_the_graders_reference_run():
    from idnn.probe import Probe, reference_session

    assert Probe("x").reference is False
    with reference_session(1, lambda probe: None):
        assert Probe("x").reference is True
    assert Probe("x").reference is False


def test_the_split_sizes_come_from_the_reference_run_and_never_from_the_kernel(tmp_path, monkeypatch):
    from idnn.autograde.reference import reference_probes

    probe, = reference_probes(REPO / "source" / "setting_up" / "setting_up.ipynb", 7)["test_split"]
    for key, inputs in probe.inputs.items():
        assert tuple(inputs["sizes"]) == split_sizes(inputs["X"].shape[1]), key
    # In the kernel the student's split_sizes is never called to build inputs: here it would raise.
    monkeypatch.setenv("IDNN_PROBE_DIR", str(tmp_path))
    monkeypatch.setenv("IDNN_PROBE_SEED", "7")

    def split_sizes_that_raises(m):
        raise AssertionError("the hidden check called the student's split_sizes")

    namespace = {"np": np, "split_sizes": split_sizes_that_raises,
                 "train_dev_test_split": SPLITS["random keys, rng.shuffle per set"]}
    exec(_hidden("setting_up", "test_split"), namespace)
    with np.load(tmp_path / "split.npz") as saved:
        assert not [name for name in saved.files if name.startswith("__error__")], saved.files


def test_the_dropout_network_hidden_check_builds_its_own_cache():
    """It used the student side's dropout_cache (which implements the dropout forward pass): no longer."""
    code = _hidden("regularization", "test_dropout_network")
    assert "idnn.checks" not in code and "dropout_cache" not in code
