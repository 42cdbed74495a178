"""Sample submissions for the Setting up assignment (9 points: 1, 3, 3, 2)."""

from .model import SOLUTION, Sample

ASSIGNMENT = "setting_up"
NOTEBOOK = "setting_up"
SOLUTION_PLACEHOLDER = "# <solution follows>\n"

POINTS = {"test_split_sizes": 1, "test_split": 3, "test_diagnose": 3, "test_normalize": 2}
ALL_TESTS = list(POINTS)
ANSWERS = ["split_sizes", "split", "diagnose", "normalize"]

# Correct, written differently: a rounding-free size rule, one permutation per class then a stable sort by a
# random key, a lookup table for the recipe, np.var then a square root.
ALTERNATIVE = {
    "split_sizes": "def split_sizes(m):\n    dev = test = 10_000 if m >= 50_000 else int(m * 0.2)\n"
                   "    return m - dev - test, dev, test\n",
    "split": '''
def train_dev_test_split(X, Y, seed=0):
    rng = np.random.default_rng(seed)
    m = X.shape[1]
    sizes = split_sizes(m)
    # deal the examples of each class in turn, in random order, so every prefix is stratified
    order = []
    for label in np.unique(Y):
        members = rng.permutation(np.flatnonzero(Y[0] == label))
        order.append((members, np.arange(1, len(members) + 1) / len(members)))
    keys = np.concatenate([k for _, k in order])
    indices = np.concatenate([members for members, _ in order])[np.argsort(keys, kind="stable")]
    dev, test, train = np.split(indices, [sizes[1], sizes[1] + sizes[2]])
    train = rng.permutation(train)
    return X[:, train], Y[:, train], X[:, dev], Y[:, dev], X[:, test], Y[:, test]
''',
    "diagnose": '''
RECIPES = {"bias": ["bigger network", "train longer", "better optimizer", "new architecture"],
           "variance": ["more data", "regularization", "new architecture"]}

def diagnose(train_error, dev_error, base_error=0.0, tolerance=0.02):
    found = [name for name, gap in (("bias", train_error - base_error), ("variance", dev_error - train_error))
             if gap > tolerance]
    return " and ".join("high " + name for name in found) or "low bias and low variance"

def basic_recipe(diagnosis):
    for name in ("bias", "variance"):
        if "high " + name in diagnosis:
            return list(RECIPES[name])
    return ["done"]
''',
    "normalize": '''
def fit_normalizer(X_train):
    mu = np.mean(X_train, axis=1).reshape(-1, 1)
    return mu, np.sqrt(np.mean((X_train - mu) ** 2, axis=1)).reshape(-1, 1)

def normalize(X, mu, sigma):
    return np.divide(np.subtract(X, mu), sigma)
''',
}

NOT_STRATIFIED = '''
def train_dev_test_split(X, Y, seed=0):
    rng = np.random.default_rng(seed)
    order = rng.permutation(X.shape[1])
    m_train, m_dev, m_test = split_sizes(X.shape[1])
    train, dev, test = order[:m_train], order[m_train:m_train + m_dev], order[m_train + m_dev:]
    return X[:, train], Y[:, train], X[:, dev], Y[:, dev], X[:, test], Y[:, test]
'''
DIVIDE_BY_VARIANCE = '''
def fit_normalizer(X_train):
    return X_train.mean(axis=1, keepdims=True), X_train.var(axis=1, keepdims=True)

def normalize(X, mu, sigma):
    return (X - mu) / sigma
'''
NO_CAP = "def split_sizes(m):\n    return m - 2 * int(0.2 * m), int(0.2 * m), int(0.2 * m)\n"
# A trick: the diagnosis is an object equal to any string, and the recipe a list equal to any list.
ALWAYS_EQUAL = '''
class Anything(str):
    def __eq__(self, other):
        return True
    __hash__ = str.__hash__

class AnyList(list):
    def __eq__(self, other):
        return True

def diagnose(train_error, dev_error, base_error=0.0, tolerance=0.02):
    return Anything("high bias")

def basic_recipe(diagnosis):
    return AnyList(["done"])
'''

SOLVED = {cell: SOLUTION for cell in ANSWERS}
SAMPLES = [
    Sample("perfect", "the reference solution in every answer cell", answers=SOLVED, expected=POINTS),
    Sample("blank", "the release as handed out, nothing written"),
    Sample("alternative", "correct answers written differently", answers=ALTERNATIVE, expected=POINTS),
    Sample("partial", "diagnosis right; sizes without the 10,000 cap, an unstratified split, and dividing by "
           "the variance", answers={**SOLVED, "split_sizes": NO_CAP, "split": NOT_STRATIFIED,
                                    "normalize": DIVIDE_BY_VARIANCE},
           expected={"test_diagnose": 3}),
    Sample("cheater", "a diagnosis equal to every string and a recipe equal to every list; the rest honest",
           answers={**SOLVED, "diagnose": ALWAYS_EQUAL},
           expected={"test_split_sizes": 1, "test_split": 3, "test_normalize": 2}),
]

# -- Attacks on the split's property check (issue 10): splits that look random and are not. Each answer cell also
# rebinds the visible check's name to a no-op, as an attacker can, so that the hidden check alone decides.
SKIP_VISIBLE_SPLIT_CHECK = "check_split = lambda *args, **kwargs: None  # the visible check, skipped\n"
_STRATIFIED_COUNTS = '''
    m = X.shape[1]
    m_train, m_dev, m_test = split_sizes(m)
    classes, counts = np.unique(Y, return_counts=True)
    dev_counts = np.round(counts * m_dev / m).astype(int)
    dev_counts[-1] = m_dev - dev_counts[:-1].sum()
    test_counts = np.round(counts * m_test / m).astype(int)
    test_counts[-1] = m_test - test_counts[:-1].sum()
'''
CLASS_ORDERED_SPLIT = SKIP_VISIBLE_SPLIT_CHECK + '''
def train_dev_test_split(X, Y, seed=0):
    # Stratified, each class's members chosen at random, but every set lists each class in its original order
    # (the classes interleaved at random, so no set as a whole is sorted).
    rng = np.random.default_rng(seed)''' + _STRATIFIED_COUNTS + '''    parts = {"train": {}, "dev": {}, "test": {}}
    for c, n_dev, n_test in zip(classes, dev_counts, test_counts):
        members = rng.permutation(np.flatnonzero(Y[0] == c))
        parts["dev"][c] = np.sort(members[:n_dev])
        parts["test"][c] = np.sort(members[n_dev:n_dev + n_test])
        parts["train"][c] = np.sort(members[n_dev + n_test:])
    out = []
    for name in ("train", "dev", "test"):
        labels = rng.permutation(np.concatenate([[c] * len(parts[name][c]) for c in classes]))
        order = np.empty(len(labels), dtype=int)
        for c in classes:
            order[labels == c] = parts[name][c]
        out += [X[:, order], Y[:, order]]
    return tuple(out)
'''
FIRST_SIXTY_SPLIT = SKIP_VISIBLE_SPLIT_CHECK + '''
def train_dev_test_split(X, Y, seed=0):
    # Stratified and every set shuffled, but the first 60% of each class (in X's order) go to train, the next 20%
    # to dev and the last 20% to test.
    rng = np.random.default_rng(seed)''' + _STRATIFIED_COUNTS + '''    train, dev, test = [], [], []
    for c, n_dev, n_test in zip(classes, dev_counts, test_counts):
        members = np.flatnonzero(Y[0] == c)
        n_train = len(members) - n_dev - n_test
        train += list(members[:n_train])
        dev += list(members[n_train:n_train + n_dev])
        test += list(members[n_train + n_dev:])
    train, dev, test = (rng.permutation(part) for part in (train, dev, test))
    return X[:, train], Y[:, train], X[:, dev], Y[:, dev], X[:, test], Y[:, test]
'''
WITHOUT_SPLIT = {key: points for key, points in POINTS.items() if key != "test_split"}
SAMPLES += [
    Sample("class_ordered", "attack: a stratified split whose sets list each class in its original order (visible "
           "check skipped); the rest right", answers={**SOLVED, "split": CLASS_ORDERED_SPLIT}, expected=WITHOUT_SPLIT),
    Sample("first_sixty", "attack: a stratified, shuffled split taking each class's first 60% for training (visible "
           "check skipped); the rest right", answers={**SOLVED, "split": FIRST_SIXTY_SPLIT}, expected=WITHOUT_SPLIT),
]

# -- One bad value fails one cell, not the notebook (issue 10): labels that are NaN where the split's property check
# expects 0s and 1s (it once raised on int(nan), and the whole notebook scored 0). The visible check is skipped, so
# that the hidden one alone sees them; the other exercises keep their points.
NAN_LABELS = "check_split = lambda *args, **kwargs: None  # the visible check, skipped\n" + SOLUTION_PLACEHOLDER + '''
_split = train_dev_test_split

def train_dev_test_split(X, Y, seed=0):
    parts = list(_split(X, Y, seed))
    for i in (1, 3, 5):  # Y_train, Y_dev, Y_test
        parts[i] = np.full(parts[i].shape, np.nan)
    return tuple(parts)
'''
SAMPLES += [
    Sample("nan_labels", "a split whose labels are all NaN (visible check skipped): that exercise fails, with a "
           "reason, and the rest is graded", answers={**SOLVED, "split": NAN_LABELS},
           expected={key: points for key, points in POINTS.items() if key != "test_split"}),
]

# -- Attacks on the split's property check (issue 10, second round): a split with no random number at all. Each class
# is taken in the order j -> k * j mod n (k about n / 2, coprime with n), so that neither the ascents nor the halves
# of the order, nor which examples each set takes, look unusual; the sets are cut from it and left sorted by class (the
# notebook accepts sets in class blocks). The visible check is skipped; the hidden check calls the function twice
# with different seeds, and the steps of the order are always the same.
NO_RANDOMNESS_SPLIT = SKIP_VISIBLE_SPLIT_CHECK + '''
import math

def train_dev_test_split(X, Y, seed=0):
    # The seed is ignored: each class in the order j -> k * j mod n, cut into train, dev and test.''' + _STRATIFIED_COUNTS + '''    train, dev, test = [], [], []
    for c, n_dev, n_test in zip(classes, dev_counts, test_counts):
        members = np.flatnonzero(Y[0] == c)
        n = len(members)
        k = n // 2
        while math.gcd(k, n) != 1:
            k += 1
        members = members[(k * np.arange(n)) % n]
        n_train = n - n_dev - n_test
        train += list(members[:n_train])
        dev += list(members[n_train:n_train + n_dev])
        test += list(members[n_train + n_dev:])
    return X[:, train], Y[:, train], X[:, dev], Y[:, dev], X[:, test], Y[:, test]
'''
SAMPLES += [
    Sample("stepped_split", "attack: a stratified split with no random number, each class in the order k j mod n "
           "and the sets sorted by class (visible check skipped); the rest right",
           answers={**SOLVED, "split": NO_RANDOMNESS_SPLIT}, expected=WITHOUT_SPLIT),
]
