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
}

NOISES = {
    "sigma * randn (the reference)": lambda images, sigma: images + sigma * np.random.randn(*images.shape),
    "np.random.normal": lambda images, sigma: images + np.random.normal(0, sigma, images.shape),
    "default_rng().normal": lambda images, sigma: images + GENERATOR.normal(0.0, sigma, size=images.shape),
    "rng.standard_normal * sigma": lambda images, sigma: images + sigma * GENERATOR.standard_normal(images.shape),
    "float32 noisy images": lambda images, sigma: (
        images + sigma * GENERATOR.standard_normal(images.shape, dtype=np.float32)).astype(np.float32),
}


def _cut(X, Y, size, order):
    order = np.asarray(order)
    return [(X[:, order[k:k + size]], Y[:, order[k:k + size]]) for k in range(0, X.shape[1], size)]


def _np_shuffle(m):
    indices = np.arange(m)
    np.random.shuffle(indices)
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


@pytest.mark.parametrize("spelling", ["rand < keep_prob (the reference)", "rng.binomial, booleans"])
def test_correct_dropout_networks_pass(spelling):
    """200 correct forward passes of networks sized like the hidden check's: false fail < 1e-9 each, 2e-7 here."""
    rng = np.random.default_rng(7)
    np.random.seed(2)
    for draw in range(DRAWS):
        X, parameters, keep_probs = network_case(rng, draw)
        result = honest_network(X, parameters, keep_probs, MASKS[spelling])
        assert judge("dropout_network", result, network_inputs(X, parameters, keep_probs)) == [], draw


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


@pytest.mark.parametrize("spelling", SPLITS)
def test_correct_splits_pass(spelling):
    """200 splits of m = 100 to 1,500 examples, two or three classes: false fail < 1e-9 per check, 2e-7 here."""
    rng = np.random.default_rng(zlib.crc32(spelling.encode()))
    for draw in range(DRAWS):
        X, Y = split_case(rng, draw)
        result = SPLITS[spelling](X.copy(), Y.copy(), int(rng.integers(0, 1000)))
        inputs = {"X": X, "Y": Y, "sizes": split_sizes(X.shape[1])}
        assert judge("split", result, inputs) == [], (draw, X.shape)


def test_correct_answers_fail_no_more_often_than_the_budget_says(monkeypatch):
    """With the budget raised from 1e-9 to 0.2, correct answers may fail, but at most 20% of the time (the tails
    are exact or conservative bounds): a check of the union bound and of the p-values themselves."""
    from idnn.checks import stats

    monkeypatch.setattr(stats, "FALSE_ALARM", 0.2)
    rng = np.random.default_rng(11)
    np.random.seed(11)
    failed = {"dropout_forward": 0, "gaussian_noise": 0, "mini_batches": 0, "split": 0}
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


def batch_inputs(rng, draw):
    """As for the hidden check, with at least the 30 examples it uses."""
    X, Y, size = batches_case(rng, draw)
    while X.shape[1] < 30:
        X, Y, size = batches_case(rng, draw)
    return X, Y, size


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

    def batches(order):
        def case(rng, draw):
            X, Y, size = batch_inputs(rng, draw)
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
    ]


ATTACKS = _attack_cases()


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
