"""Week 3, Hyperparameter search: the notebook teaches its lesson, every visible check fails a wrong answer, and the
samplers' property checks pass every correct way of drawing and fail the classic mistakes."""

import math
import zlib

import numpy as np
import pytest

from idnn.checks import hyperparameter_search as checks
from idnn.checks.properties import problems_with

from .conftest import REPO, functions, notebook_functions, run_lesson
from .samples import hyperparameter_search as samples

pytestmark = pytest.mark.week3

SOURCE = REPO / "source" / "hyperparameter_search" / "hyperparameter_search.ipynb"


@pytest.fixture(scope="module")
def lesson():
    return run_lesson(SOURCE)


def test_uniform_draws_waste_nine_tenths_of_the_learning_rates_on_the_top_decade(lesson):
    # The ranges the notebook's expected results state, after the log-scale demonstration.
    share = lesson["share of learning rates above 0.1"]
    assert 0.88 <= share["uniform"] <= 0.92
    assert 0.22 <= share["log scale"] <= 0.28


def test_uniform_betas_rarely_reach_the_sensitive_end_and_log_scaled_ones_do_half_the_time(lesson):
    share = lesson["share of beta above 0.99"]
    assert 0.07 <= share["uniform"] <= 0.11  # (0.999 - 0.99) / (0.999 - 0.9) = 0.091
    assert 0.47 <= share["log scale of 1 - beta"] <= 0.53


def test_a_grid_tries_five_learning_rates_where_random_search_tries_twenty_five(lesson):
    assert lesson["distinct learning rates in 25 trials"] == {"grid": 5, "random": 25}
    best = lesson["best made-up score"]
    assert best["grid"] == pytest.approx(0.47, abs=0.005) and 0.45 <= best["grid"] <= 0.49
    assert 0.90 <= best["random"] <= 0.99
    assert best["random"] >= best["grid"] + 0.3


def test_the_search_chooses_a_good_model_on_dev_and_its_test_accuracy_holds(lesson):
    """The ranges of the expected results after the search, which any correct sampler should meet."""
    search = lesson["search"]
    assert search["trials"] == 28
    chosen = search["chosen"]
    assert 0.94 <= search["best coarse dev accuracy"] <= 0.98
    assert search["best fine dev accuracy"] >= 0.93
    assert 0.1 <= chosen["learning_rate"] <= 3
    assert 0.94 <= chosen["dev_accuracy"] <= 0.98
    assert chosen["dev_accuracy"] >= search["best coarse dev accuracy"]
    assert 0.92 <= chosen["test_accuracy"] <= 0.99


def test_the_search_gives_the_figures_the_notebook_quotes_for_the_samplers_it_describes(lesson):
    """The expected results quote this run's figures (the reference's draws), to the digits they show."""
    search, chosen = lesson["search"], lesson["search"]["chosen"]
    assert search["best coarse dev accuracy"] == pytest.approx(0.96)
    assert search["best fine dev accuracy"] == pytest.approx(0.95)
    (low_rate, high_rate), (low_lambd, high_lambd) = 10 ** np.array(search["box"])
    # Each within half a unit of the last digit quoted.
    assert low_rate == pytest.approx(0.14, abs=0.005) and high_rate == pytest.approx(1.4, abs=0.05)
    assert low_lambd == pytest.approx(0.004, abs=0.0005) and high_lambd == pytest.approx(0.5, abs=0.05)
    assert chosen["learning_rate"] == pytest.approx(1.42, abs=0.005)
    assert chosen["lambd"] == pytest.approx(0.48, abs=0.005)
    assert chosen["dev_accuracy"] == pytest.approx(0.96)
    assert chosen["test_accuracy"] == pytest.approx(0.963, abs=0.0005)


def test_the_zoomed_box_holds_the_best_coarse_trial_and_is_smaller_than_the_first_box(lesson):
    search = lesson["search"]
    assert search["best coarse trial in the box"]
    box = np.array(search["box"])
    widths = box[:, 1] - box[:, 0]
    assert np.all(widths >= 0) and np.all(widths < 4)  # the coarse box spans 4 decades on each axis
    assert widths[0] <= 1.5  # the good learning rates are a narrow band: at most 1.5 decades (expected results)


def test_babysitting_beats_leaving_the_run_alone_and_caviar_spreads_widely(lesson):
    panda = lesson["panda"]
    assert panda["learning rates"] == pytest.approx([0.02, 0.04, 0.08, 0.16, 0.32, 0.64])  # doubled five times
    assert 0.03 <= panda["final cost"] <= 0.08 and panda["final cost"] == pytest.approx(0.051, abs=0.0005)
    assert 0.25 <= panda["never nudged"] <= 0.35 and panda["never nudged"] == pytest.approx(0.29, abs=0.005)
    assert panda["final cost"] < panda["never nudged"] / 2
    caviar = lesson["caviar final costs"]
    assert len(caviar) == 6 and 0.03 <= min(caviar) <= 0.08 and min(caviar) < max(caviar) / 3
    assert min(caviar) == pytest.approx(0.049, abs=0.0005) and max(caviar) == pytest.approx(0.70, abs=0.005)


# -- visible checks ------------------------------------------------------------------------------

REFERENCE = notebook_functions(SOURCE)

CHECKS = {
    "log_uniform": lambda ns: checks.check_sample_log_uniform(ns["sample_log_uniform"]),
    "beta": lambda ns: checks.check_sample_beta(ns["sample_beta"]),
    "zoom": lambda ns: checks.check_zoom_box(ns["zoom_box"]),
    "choose": lambda ns: checks.check_choose_on_dev(ns["choose_on_dev"]),
}

# More correct spellings: np.exp of a natural-log range, a Python random.Random list, beta through the log-scale
# sampler, argsort with lexsort for the zoom, np.lexsort for the choice.
OTHER_CORRECT = {
    "log_uniform": '''
def sample_log_uniform(low, high, n, seed=0):
    return np.exp(np.random.default_rng(seed).uniform(np.log(low), np.log(high), n))
''',
    "log_uniform_python": '''
import random

def sample_log_uniform(low, high, n, seed=0):
    generator = random.Random(seed)
    return np.array([10 ** generator.uniform(np.log10(low), np.log10(high)) for _ in range(n)])
''',
    "beta": '''
def sample_beta(low, high, n, seed=0):
    rng = np.random.default_rng(seed)
    return 1 - np.exp(rng.uniform(np.log(1 - high), np.log(1 - low), n))
''',
    "zoom": '''
def zoom_box(trials, scores, k):
    best = np.lexsort((np.arange(len(scores)), -np.asarray(scores)))[:k]
    return np.column_stack([np.min(trials[:, best], axis=1), np.max(trials[:, best], axis=1)])
''',
    "choose": '''
def choose_on_dev(results):
    return int(np.lexsort(([r["dev_cost"] for r in results], [-r["dev_accuracy"] for r in results]))[0])
''',
}


@pytest.mark.parametrize("which", CHECKS)
def test_visible_check_passes_the_reference_and_different_correct_answers(which):
    CHECKS[which](REFERENCE)
    CHECKS[which](functions("\n".join(samples.ALTERNATIVE.values()), REFERENCE))
    for name, code in OTHER_CORRECT.items():
        if name.startswith(which):
            CHECKS[which](functions(code, REFERENCE))


ZOOM_WITHOUT_BEST = '''
def zoom_box(trials, scores, k):
    best = np.argsort(-scores, kind="stable")[1:k + 1]
    return np.stack([trials[:, best].min(axis=1), trials[:, best].max(axis=1)], axis=1)
'''
ZOOM_TIES_LAST = '''
def zoom_box(trials, scores, k):
    best = np.argsort(scores, kind="stable")[::-1][:k]
    return np.stack([trials[:, best].min(axis=1), trials[:, best].max(axis=1)], axis=1)
'''
ZOOM_TRANSPOSED = '''
def zoom_box(trials, scores, k):
    best = np.argsort(-scores, kind="stable")[:k]
    return np.stack([trials[:, best].min(axis=1), trials[:, best].max(axis=1)])
'''
CHOOSE_ON_TRAIN = samples.CHOOSE_ON_TEST.replace("test_accuracy", "train_accuracy")
CHOOSE_IGNORING_COST = samples.CHOOSE_ON_TEST.replace("test_accuracy", "dev_accuracy")
CHOOSE_LAST_TIE = '''
def choose_on_dev(results):
    dev = [r["dev_accuracy"] for r in results]
    return len(dev) - 1 - int(np.argmax(dev[::-1]))
'''
CHOOSE_FLOAT = samples.ALTERNATIVE["choose"].replace("return tied", "return 1.0 * tied")
SAMPLER_CONSTANT = '''
def sample_log_uniform(low, high, n, seed=0):
    return np.full(n, np.sqrt(low * high))
'''
SAMPLER_WRONG_SIZE = '''
def sample_log_uniform(low, high, n, seed=0):
    return 10 ** np.random.default_rng(seed).uniform(np.log10(low), np.log10(high), (1, n))
'''
SAMPLER_IGNORES_SEED = '''
def sample_log_uniform(low, high, n, seed=0):
    return 10 ** np.random.uniform(np.log10(low), np.log10(high), n)
'''
SAMPLER_SAME_DRAWS = '''
def sample_log_uniform(low, high, n, seed=0):
    return 10 ** np.random.default_rng(0).uniform(np.log10(low), np.log10(high), n)
'''
SAMPLER_EXP_OF_LOG10 = '''
def sample_log_uniform(low, high, n, seed=0):
    return np.exp(np.random.default_rng(seed).uniform(np.log10(low), np.log10(high), n))
'''
BETA_CONSTANT = SAMPLER_CONSTANT.replace("sample_log_uniform", "sample_beta").replace("np.sqrt(low * high)", "(low + high) / 2")
WRONG = [
    ("log_uniform", samples.LINEAR_SCALE, "uniformly on the linear scale"),
    ("log_uniform", samples.NATURAL_LOG, "np.log is the natural logarithm"),
    ("log_uniform", SAMPLER_EXP_OF_LOG10, "np.exp undoes the natural logarithm"),
    ("log_uniform", SAMPLER_CONSTANT, "the same value every time"),
    ("log_uniform", SAMPLER_WRONG_SIZE, r"shape \(1, 1000\); return shape \(1000,\)"),
    ("log_uniform", SAMPLER_IGNORES_SEED, "same seed returned different values"),
    ("log_uniform", SAMPLER_SAME_DRAWS, "different seeds returned related draws"),
    ("log_uniform", samples.SHUFFLED_GRID.split("\n", 1)[1], "too evenly spread"),
    ("beta", samples.BETA_UNIFORM, "beta looks drawn uniformly"),
    ("beta", samples.BETA_WITHOUT_ONE_MINUS, "values of 1 - beta"),
    ("beta", BETA_CONSTANT, "the same beta every time"),
    ("zoom", samples.ZOOM_WORST, "k worst trials"),
    ("zoom", samples.ZOOM_LINEAR, "linear values"),
    ("zoom", ZOOM_WITHOUT_BEST, "leaves out the best trial"),
    ("zoom", ZOOM_TIES_LAST, "the later trial was taken"),
    ("zoom", ZOOM_TRANSPOSED, "transposed"),
    ("zoom", samples.CHEAT_ZOOM.replace("return stored[\"box\"]", "return stored[\"box\"] + 0.1"), "Expected box"),
    ("choose", samples.CHOOSE_ON_TEST, "choosing on the test accuracy"),
    ("choose", CHOOSE_ON_TRAIN, "choosing on the training accuracy"),
    ("choose", CHOOSE_IGNORING_COST, "go to the first trial"),
    ("choose", CHOOSE_LAST_TIE, "go to the last trial"),
    ("choose", CHOOSE_FLOAT, "an int"),
]


@pytest.mark.parametrize("which, code, message", WRONG, ids=[f"{w}-{i}" for i, (w, _, _) in enumerate(WRONG)])
def test_visible_check_fails_a_wrong_answer_and_says_why(which, code, message):
    with pytest.raises(AssertionError, match=message):
        CHECKS[which](functions(code, REFERENCE))


def test_the_cheaters_log_scale_sampler_passes_the_visible_check_but_not_another_range():
    cheat = functions(samples.CHEAT_LOG_UNIFORM, REFERENCE)["sample_log_uniform"]
    checks.check_sample_log_uniform(cheat)
    problems = problems_with("log_uniform", tuple(cheat(1e-3, 10.0, 800, seed) for seed in (4, 4, 5)),
                             {"low": 1e-3, "high": 10.0, "n": 800, "seeds": [4, 4, 5]})
    assert problems and "linear scale" in problems[0]


# -- the samplers' property checks on hidden-check-like inputs -----------------------------------------------------

def hidden_like_inputs(count: int, beta: bool, n_range=(600, 1200), seed: int = 0):
    """(low, high, n, seeds) as the hidden checks draw them."""
    rng = np.random.default_rng([seed, int(beta)])
    for _ in range(count):
        if beta:
            log_gap = -0.3 - 1.2 * rng.random()
            low, high = 1 - 10 ** log_gap, 1 - 10 ** (log_gap - 1 - 3 * rng.random())
        else:
            log_low = -7 + 6 * rng.random()
            low, high = 10 ** log_low, 10 ** (log_low + 1 + 4 * rng.random())
        first = int(rng.integers(0, 10_000))
        yield float(low), float(high), int(rng.integers(*n_range)), [first, first, first + int(rng.integers(1, 10_000))]


def judge(sampler, beta: bool, low, high, n, seeds) -> list[str]:
    calls = tuple(np.asarray(sampler(low, high, n, seed)) for seed in seeds)
    return problems_with("beta" if beta else "log_uniform", calls, {"low": low, "high": high, "n": n, "seeds": seeds})


CORRECT_SAMPLERS = {
    "reference": (REFERENCE["sample_log_uniform"], REFERENCE["sample_beta"]),
    "alternative": (functions(samples.ALTERNATIVE["log_uniform"])["sample_log_uniform"],
                    functions(samples.ALTERNATIVE["beta"])["sample_beta"]),
    "natural logarithm and np.exp": (functions(OTHER_CORRECT["log_uniform"])["sample_log_uniform"],
                                     functions(OTHER_CORRECT["beta"])["sample_beta"]),
    "python random": (functions(OTHER_CORRECT["log_uniform_python"])["sample_log_uniform"],
                      lambda low, high, n, seed=0: 1 - functions(OTHER_CORRECT["log_uniform_python"])[
                          "sample_log_uniform"](1 - high, 1 - low, n, seed)),
}
#: Honest draws per spelling and sampler: all of them pass, but with probability below 1e-9 each.
DRAWS = 40


@pytest.mark.slow
@pytest.mark.parametrize("spelling", CORRECT_SAMPLERS)
@pytest.mark.parametrize("beta", [False, True], ids=["log_uniform", "beta"])
def test_every_correct_spelling_passes_the_property_check(spelling, beta):
    sampler = CORRECT_SAMPLERS[spelling][beta]
    seed = zlib.crc32(spelling.encode())
    for low, high, n, seeds in hidden_like_inputs(DRAWS, beta, n_range=(300, 900), seed=seed):
        assert judge(sampler, beta, low, high, n, seeds) == [], (spelling, low, high, n, seeds)


WRONG_SAMPLERS = {
    "linear scale": (False, samples.LINEAR_SCALE, "linear scale"),
    "natural log": (False, samples.NATURAL_LOG, "natural logarithm"),
    "exp of log10": (False, SAMPLER_EXP_OF_LOG10, "np.exp undoes"),
    "constant": (False, SAMPLER_CONSTANT, "same value every time"),
    "seed ignored": (False, SAMPLER_SAME_DRAWS, "related draws"),
    "shuffled grid": (False, samples.SHUFFLED_GRID.split("\n", 1)[1], "too evenly spread"),
    "beta uniform": (True, samples.BETA_UNIFORM, "drawn uniformly"),
    "beta without 1 -": (True, samples.BETA_WITHOUT_ONE_MINUS, "values of 1 - beta"),
    "beta constant": (True, BETA_CONSTANT, "same beta every time"),
}


@pytest.mark.parametrize("name", WRONG_SAMPLERS)
def test_every_classic_mistake_fails_the_property_check_on_hidden_inputs(name):
    beta, code, message = WRONG_SAMPLERS[name]
    sampler = functions(code)["sample_beta" if beta else "sample_log_uniform"]
    for low, high, n, seeds in hidden_like_inputs(8, beta, seed=1):
        problems = judge(sampler, beta, low, high, n, seeds)
        assert problems and message in problems[0], (name, low, high, problems)


def test_a_wrong_size_and_a_small_n_are_judged_by_shape():
    sampler = REFERENCE["sample_log_uniform"]
    assert judge(sampler, False, 1e-3, 1.0, 3, [1, 1, 2]) == []
    too_many = lambda low, high, n, seed=0: sampler(low, high, n + 1, seed)
    assert "returned 4 values" in judge(too_many, False, 1e-3, 1.0, 3, [1, 1, 2])[0]


def test_the_property_checks_never_raise_on_strange_answers():
    inputs = {"low": 1e-3, "high": 1.0, "n": 5, "seeds": [1, 1, 2]}
    strange = [(np.full(5, np.nan),) * 3, (np.array(["a"] * 5),) * 3, (np.zeros(5),) * 3, (np.full(5, -1.0),) * 3,
               (np.ones((5, 5)),) * 3, (np.arange(5),), ()]
    for value in strange:
        for name in ("log_uniform", "beta"):
            problems = problems_with(name, value, inputs)
            assert problems and all(isinstance(p, str) for p in problems), (name, value)


def test_the_false_alarm_budget_is_below_one_in_a_billion_per_check():
    """The thresholds come from the union bound: at the sizes of the hidden checks, a correct sampler's KS, gap
    and shifted Kuiper tests together fail with probability at most FALSE_ALARM."""
    from idnn.checks import stats
    from idnn.checks.properties import _gap_test, _shifted_kuiper_test, _uniform_ks_test

    rng = np.random.default_rng(3)
    u = [rng.random(1000) for _ in range(2)]
    tests = [_uniform_ks_test("values", np.concatenate(u)), _gap_test("spacing", u[0]), _gap_test("spacing", u[1]),
             stats.in_group("calls", _shifted_kuiper_test("calls", u[0], u[1]))]
    failed, _ = stats.failures(tests)
    assert failed == []
    levels = {t.label: t.level for t in tests}
    assert math.exp(levels["values"]) * 3 <= stats.FALSE_ALARM / 2 * (1 + 1e-9)
    assert math.exp(levels["calls"]) * 1000 <= stats.FALSE_ALARM / 2 * (1 + 1e-9)
