"""Sample submissions for the Hyperparameter search assignment (8 points: 2, 2, 2, 2)."""

from .model import SOLUTION, Sample

ASSIGNMENT = "hyperparameter_search"
NOTEBOOK = "hyperparameter_search"
SOLUTION_PLACEHOLDER = "# <solution follows>\n"

POINTS = {"test_log_uniform": 2, "test_beta": 2, "test_zoom": 2, "test_choose": 2}
ALL_TESTS = list(POINTS)
ANSWERS = ["log_uniform", "beta", "zoom", "choose"]

# Correct, written differently: the legacy global generator with uniform() and np.power, the notes' own formula for
# beta (r counted down from b_log, which has the same distribution), a zoom by Python's sorted() over the indices,
# and the choice by max() and np.argmin over lists.
ALTERNATIVE = {
    "log_uniform": '''
def sample_log_uniform(low, high, n, seed=0):
    np.random.seed(seed)
    r = np.random.uniform(np.log10(low), np.log10(high), size=n)
    return np.power(10.0, r)
''',
    "beta": '''
def sample_beta(low, high, n, seed=0):
    np.random.seed(seed)
    a_log, b_log = np.log10(1 - high), np.log10(1 - low)
    r = (a_log - b_log) * np.random.rand(n) + b_log
    return 1 - np.power(10.0, r)
''',
    "zoom": '''
def zoom_box(trials, scores, k):
    ranked = sorted(range(len(scores)), key=lambda t: -scores[t])[:k]  # sorted() is stable: earlier trials first
    return np.array([[min(row[t] for t in ranked), max(row[t] for t in ranked)] for row in trials])
''',
    "choose": '''
def choose_on_dev(results):
    dev = [result["dev_accuracy"] for result in results]
    tied = [t for t, accuracy in enumerate(dev) if accuracy == max(dev)]
    return tied[int(np.argmin([results[t]["dev_cost"] for t in tied]))]
''',
}

# Classic mistakes.
LINEAR_SCALE = '''
def sample_log_uniform(low, high, n, seed=0):
    return np.random.default_rng(seed).uniform(low, high, n)
'''
NATURAL_LOG = '''
def sample_log_uniform(low, high, n, seed=0):
    rng = np.random.default_rng(seed)
    r = rng.uniform(np.log(low), np.log(high), n)
    return 10 ** r
'''
BETA_UNIFORM = '''
def sample_beta(low, high, n, seed=0):
    return np.random.default_rng(seed).uniform(low, high, n)
'''
BETA_WITHOUT_ONE_MINUS = '''
def sample_beta(low, high, n, seed=0):
    rng = np.random.default_rng(seed)
    r = rng.uniform(np.log10(1 - high), np.log10(1 - low), n)
    return 10 ** r
'''
ZOOM_WORST = '''
def zoom_box(trials, scores, k):
    worst = np.argsort(scores, kind="stable")[:k]
    return np.stack([trials[:, worst].min(axis=1), trials[:, worst].max(axis=1)], axis=1)
'''
ZOOM_LINEAR = '''
def zoom_box(trials, scores, k):
    best = np.argsort(-scores, kind="stable")[:k]
    values = 10 ** trials[:, best]
    return np.stack([values.min(axis=1), values.max(axis=1)], axis=1)
'''
CHOOSE_ON_TEST = '''
def choose_on_dev(results):
    return int(np.argmax([result["test_accuracy"] for result in results]))
'''
# Tricks. The log-scale sampler is right only on the visible check's fixed ranges and draws on the linear scale
# elsewhere (hoping the hidden check is as loose as a glance at a histogram); the zoom reads the checks' stored
# answers and returns the box of every trial for any other input; the choice looks at the test set.
CHEAT_LOG_UNIFORM = '''
def sample_log_uniform(low, high, n, seed=0):
    rng = np.random.default_rng(seed)
    if (low, high) in ((1e-4, 1.0), (0.5, 50.0)):  # the visible check's ranges
        return 10 ** rng.uniform(np.log10(low), np.log10(high), n)
    return rng.uniform(low, high, n)
'''
CHEAT_ZOOM = '''
from idnn.checks import expected_values
from idnn.checks.hyperparameter_search import zoom_inputs

def zoom_box(trials, scores, k):
    for (fixed, _, fixed_k), stored in zip(zoom_inputs(), expected_values("hyperparameter_search", "zoom_box")):
        if fixed.shape == np.shape(trials) and np.array_equal(fixed, trials) and fixed_k == k:
            return stored["box"]
    return np.stack([np.min(trials, axis=1), np.max(trials, axis=1)], axis=1)
'''
# An attack on the samplers' property check: a grid evenly spaced on the log scale, shuffled with the seed. Its
# values cover every decade evenly (better than random draws do), and other seeds give other orders.
SHUFFLED_GRID = "check_sample_log_uniform = lambda *args, **kwargs: None  # the visible check, skipped\n" + '''
def sample_log_uniform(low, high, n, seed=0):
    grid = np.logspace(np.log10(low), np.log10(high), n)
    return np.random.default_rng(seed).permutation(grid)
'''

SOLVED = {cell: SOLUTION for cell in ANSWERS}
SAMPLES = [
    Sample("perfect", "the reference solution in every answer cell", answers=SOLVED, expected=POINTS),
    Sample("blank", "the release as handed out, nothing written"),
    Sample("alternative", "correct answers written differently: np.random.seed with uniform() and np.power, the "
           "notes' formula for beta, a zoom by sorted(), a choice by max() and np.argmin over lists",
           answers=ALTERNATIVE, expected=POINTS),
    Sample("partial", "both samplers right, a zoom around the k worst trials, the choice right",
           answers={**SOLVED, "zoom": ZOOM_WORST},
           expected={"test_log_uniform": 2, "test_beta": 2, "test_choose": 2}),
    Sample("cheater", "a log-scale sampler right on the visible check's ranges only (linear elsewhere), a zoom "
           "that returns the checks' stored answers, a choice on the test set; beta right",
           answers={**SOLVED, "log_uniform": CHEAT_LOG_UNIFORM, "zoom": CHEAT_ZOOM, "choose": CHOOSE_ON_TEST},
           expected={"test_beta": 2}),
    Sample("log_mistakes", "classic mistakes: np.log where 10**r needs np.log10, and beta = 10**r without the "
           "1 -; the zoom and the choice right", answers={**SOLVED, "log_uniform": NATURAL_LOG,
                                                        "beta": BETA_WITHOUT_ONE_MINUS},
           expected={"test_zoom": 2, "test_choose": 2}),
    Sample("linear_mistakes", "classic mistakes: both samplers uniform on the linear scale, and the zoom's box in "
           "linear values; the choice right", answers={**SOLVED, "log_uniform": LINEAR_SCALE, "beta": BETA_UNIFORM,
                                                      "zoom": ZOOM_LINEAR},
           expected={"test_choose": 2}),
    Sample("shuffled_grid", "attack: a grid evenly spaced on the log scale, shuffled by the seed (visible check "
           "skipped); the rest right", answers={**SOLVED, "log_uniform": SHUFFLED_GRID},
           expected={"test_beta": 2, "test_zoom": 2, "test_choose": 2}),
]
