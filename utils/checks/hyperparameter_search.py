"""Visible checks for the Hyperparameter search assignment (week 3).

    sample_log_uniform(low, high, n, seed)   10**r, r uniform on [log10 low, log10 high]: the same share of draws in
                                             every decade
    sample_beta(low, high, n, seed)          beta = 1 - 10**r, r uniform on [log10(1 - high), log10(1 - low)]
    zoom_box(trials, scores, k)              trials (n_h, T) of log10 values, scores (T,), higher is better: for each
                                             hyperparameter the smallest and largest value among the k best trials,
                                             box (n_h, 2) = [low, high] per row; equal scores rank the earlier
                                             trial first
    choose_on_dev(results)                   the index of the trial with the highest dev accuracy; equal dev
                                             accuracies go to the lower dev cost, then to the earlier trial

The samplers are judged by the distribution of what they draw (the property checks log_uniform and beta of
idnn.checks.properties). The other two are compared with stored results (data/hyperparameter_search.json) and,
when wrong, with the stored results of the classic mistakes, which the message then names.
"""

import copy

import numpy as np

from . import compare, expected_values, passed
from .failures import visible_check
from .properties import problems_with

# The fixed inputs of the checks (the stored expected values are the results on exactly these).
#: (low, high, n): three calls each, with SEEDS; the samplers' draws are judged by their distribution.
LOG_UNIFORM_CASES = ((1e-4, 1.0, 1000), (0.5, 50.0, 600))
BETA_CASES = ((0.9, 0.999, 1000), (0.5, 0.99, 600))
SEEDS = (1, 1, 2)
SHAPE_N = 3


def zoom_inputs() -> list[tuple[np.ndarray, np.ndarray, int]]:
    """The zoom_box cases: (trials (n_h, T) of log10 values, scores (T,), k)."""
    rng = np.random.default_rng(5)
    trials = np.stack([rng.uniform(-4, 0, 20), rng.uniform(-3, 1, 20)])
    # a bump of dev accuracy around learning_rate = 10**-1.5 whatever lambd, plus noise
    scores = 0.95 - 0.1 * (trials[0] + 1.5) ** 2 + 0.01 * rng.standard_normal(20)
    tied_trials = np.array([[-3.0, -2.5, -2.0, -1.5, -1.0, -0.5, 0.0, 0.5],
                            [1.0, 0.5, -1.0, -0.5, 0.0, -2.0, -1.5, -3.0]])
    tied_scores = np.array([0.7, 0.9, 0.8, 0.9, 0.6, 0.8, 0.5, 0.8])  # k = 3: two 0.9, then the first of three 0.8
    three = np.stack([rng.uniform(-5, -1, 12), rng.uniform(-4, 0, 12), rng.uniform(0, 2, 12)])
    return [(trials, scores, 5), (tied_trials, tied_scores, 3), (three, rng.standard_normal(12), 4),
            (trials[:, :6], scores[:6], 1)]


def _result(train, dev, cost, test, learning_rate, lambd) -> dict:
    return {"learning_rate": learning_rate, "lambd": lambd, "train_accuracy": train, "dev_accuracy": dev,
            "dev_cost": cost, "test_accuracy": test}


def choose_inputs() -> list[list[dict]]:
    """The choose_on_dev cases: lists of trial results."""
    rows = [  # train, dev, dev cost, test
        (0.80, 0.70, 0.60, 0.71), (0.99, 0.80, 0.45, 0.78), (0.85, 0.90, 0.30, 0.86), (0.88, 0.60, 0.90, 0.60),
        (0.90, 0.90, 0.25, 0.87), (0.86, 0.85, 0.33, 0.95), (0.89, 0.90, 0.50, 0.84), (0.87, 0.90, 0.28, 0.83),
        (0.82, 0.75, 0.55, 0.76), (0.84, 0.65, 0.70, 0.66)]
    first = [_result(*row, 10.0 ** -(1 + 0.2 * t), 10.0 ** (t / 4 - 2)) for t, row in enumerate(rows)]
    second = [_result(0.9 - 0.01 * t, 0.8 + 0.01 * t, 0.5 - 0.01 * t, 0.95 - 0.02 * t, 0.1, 0.01) for t in range(6)]
    return [first, second, first[3:4]]


def _expected(check: str):
    return expected_values("hyperparameter_search", check)


def _sampler_check(name: str, sampler, cases, property_name: str) -> None:
    for low, high, n in cases:
        calls = tuple(np.asarray(sampler(low, high, n, seed)) for seed in SEEDS)
        problems = problems_with(property_name, calls, {"low": low, "high": high, "n": n, "seeds": SEEDS})
        assert not problems, f"{name}({low}, {high}, {n}, seed) with seeds {SEEDS}: " + "; ".join(problems) + "."
    low, high, _ = cases[0]
    got = np.asarray(sampler(low, high, SHAPE_N, 0))
    assert got.shape == (SHAPE_N,), f"{name}({low}, {high}, {SHAPE_N}) returned shape {got.shape}; expected ({SHAPE_N},)."


@visible_check
def check_sample_log_uniform(sample_log_uniform) -> None:
    _sampler_check("sample_log_uniform", sample_log_uniform, LOG_UNIFORM_CASES, "log_uniform")
    passed("sample_log_uniform")


@visible_check
def check_sample_beta(sample_beta) -> None:
    _sampler_check("sample_beta", sample_beta, BETA_CASES, "beta")
    passed("sample_beta")


ZOOM_MISTAKES = {
    "worst": "the box holds the k worst trials: rank the trials by score, highest (best) first",
    "linear": "the box is in linear values (10**): trials are log10 values, and so is the box",
    "without the best": "the box leaves out the best trial: the k best are ranks 1 to k, the best included",
    "k - 1": "the box holds only k - 1 trials: take the k best",
    "ties last": "among equal scores the later trial was taken: rank the earlier trial first (a stable sort)",
    "transposed": "the box is transposed: one row per hyperparameter, [low, high]",
}


@visible_check
def check_zoom_box(zoom_box) -> None:
    for case, ((trials, scores, k), expected) in enumerate(zip(zoom_inputs(), _expected("zoom_box"))):
        call = f"zoom_box(trials of shape {trials.shape}, scores, k={k}) (case {case + 1})"
        got = zoom_box(trials.copy(), scores.copy(), k)
        try:
            got = np.asarray(got, dtype=np.float64)
        except (TypeError, ValueError):
            raise AssertionError(f"{call} returned a {type(got).__name__}; return an array of shape "
                                 f"({trials.shape[0]}, 2)") from None
        problem = compare.first_difference(got, expected["box"])
        if problem is None:
            continue
        for mistake, box in expected["mistakes"].items():
            if compare.close(got, box):
                raise AssertionError(f"{call}: {problem}. Your box is what you get when {ZOOM_MISTAKES[mistake]}.")
        raise AssertionError(f"{call}: {problem}. Expected box (one row per hyperparameter, [low, high]): "
                             f"{np.round(expected['box'], 4).tolist()}.")
    passed("zoom_box")


CHOOSE_MISTAKES = {
    "test": "choosing on the test accuracy: the test set must not decide anything, choose on dev",
    "train": "choosing on the training accuracy: it rewards overfitting, choose on dev",
    "lowest": "taking the lowest dev accuracy: take the highest",
    "first tie": "equal dev accuracies go to the first trial: among them, take the lowest dev cost",
    "highest cost": "equal dev accuracies go to the highest dev cost: take the lowest",
    "last tie": "equal dev accuracies go to the last trial: among them, take the lowest dev cost",
}


@visible_check
def check_choose_on_dev(choose_on_dev) -> None:
    for case, (results, expected) in enumerate(zip(choose_inputs(), _expected("choose_on_dev"))):
        call = f"choose_on_dev(results of {len(results)} trials) (case {case + 1})"
        got = choose_on_dev(copy.deepcopy(results))
        assert isinstance(got, (int, np.integer)) and not isinstance(got, (bool, np.bool_)), (
            f"{call} returned a {type(got).__name__}; return the index of the chosen trial, an int.")
        if got == expected["best"]:
            continue
        for mistake, index in expected["mistakes"].items():
            if got == index:
                raise AssertionError(f"{call} returned {got}, expected {expected['best']}. That is the trial you get "
                                     f"by {CHOOSE_MISTAKES[mistake]}.")
        raise AssertionError(f"{call} returned {got}, expected {expected['best']} (the highest dev accuracy, then the "
                             f"lowest dev cost, then the earliest trial).")
    passed("choose_on_dev")
