"""Week 1, Regularization: the notebook teaches its lesson, and every visible check fails a wrong answer."""

import re

import numpy as np
import pytest

from idnn import nets
from idnn.checks import regularization as checks

from .conftest import REPO, functions, notebook_functions, read_notebook, run_lesson
from .samples import regularization as samples

pytestmark = pytest.mark.week1

SOURCE = REPO / "source" / "regularization" / "regularization.ipynb"


@pytest.fixture(scope="module")
def lesson():
    return run_lesson(SOURCE)


def gap(run: dict) -> float:
    return run["train_accuracy"] - run["dev_accuracy"]


def test_the_unregularised_network_overfits(lesson):
    baseline = lesson["no regularization"]
    assert baseline["train_accuracy"] >= 0.9
    assert baseline["train_accuracy"] > lesson["rule_accuracy"]["train"] + 0.03  # it learned flipped labels
    assert gap(baseline) >= 0.08


@pytest.mark.parametrize("regulariser", ["L2", "dropout", "L1"])
def test_each_regulariser_raises_dev_accuracy_and_shrinks_the_gap(lesson, regulariser):
    baseline, run = lesson["no regularization"], lesson[regulariser]
    assert run["dev_accuracy"] >= baseline["dev_accuracy"] + 0.02
    assert gap(run) <= gap(baseline) / 2


@pytest.mark.parametrize("regulariser", ["L2", "dropout", "L1", "early stopping"])
def test_the_gain_holds_on_the_test_set(lesson, regulariser):
    assert lesson[regulariser]["test_accuracy"] > lesson["no regularization"]["test_accuracy"]


@pytest.mark.parametrize("sweep, hyperparameter", [("L2", "lambd"), ("L1", "lambd"), ("dropout", "keep_prob")])
def test_each_hyperparameter_is_chosen_on_the_dev_set(lesson, sweep, hyperparameter):
    runs = lesson["sweeps"][sweep]
    best = max(runs, key=lambda run: run["dev_accuracy"])  # the first of the best, as `tune` does
    assert lesson["chosen"][sweep] == f"{hyperparameter} = {best['value']:g}"
    assert lesson[sweep]["dev_accuracy"] == best["dev_accuracy"]
    assert all("test_accuracy" not in run for run in runs)  # the candidates never see the test set


def test_the_l2_sweep_goes_from_overfitting_to_underfitting(lesson):
    runs = lesson["sweeps"]["L2"]
    train = [run["train_accuracy"] for run in runs]
    assert train == sorted(train, reverse=True)  # a larger lambd always costs training accuracy
    smallest, largest = runs[0], runs[-1]
    assert gap(smallest) >= 0.1 and smallest["dev_accuracy"] < lesson["L2"]["dev_accuracy"]  # too small: overfits
    assert abs(gap(largest)) <= 0.02 and largest["dev_accuracy"] < lesson["L2"]["dev_accuracy"]  # no gap, high bias


def test_too_strong_an_l1_penalty_leaves_a_constant_network(lesson):
    strongest = lesson["sweeps"]["L1"][-1]  # lambd = 10: "the network answers 1 everywhere"
    assert strongest["train_accuracy"] == pytest.approx(lesson["share_of_ones"]["train"])
    assert strongest["dev_accuracy"] == pytest.approx(lesson["share_of_ones"]["dev"])


def test_the_weakest_dropout_leaves_the_largest_gap(lesson):
    runs = sorted(lesson["sweeps"]["dropout"], key=lambda run: run["value"])
    assert max(runs, key=gap)["value"] == runs[-1]["value"]  # the largest keep_prob leaves the largest gap


def test_l1_makes_the_weights_sparse_and_l2_less_so(lesson):
    sparsity = lesson["sparsity"]
    assert sparsity["L1"] >= 0.7
    assert sparsity["L1"] >= sparsity["L2"] + 0.2
    assert sparsity["no regularization"] <= 0.05


def test_early_stopping_returns_the_parameters_of_the_best_dev_epoch(lesson):
    early = lesson["early stopping"]
    assert early["best_epoch"] == early["argmin_dev_cost"]
    assert early["dev_cost_of_returned_parameters"] == pytest.approx(early["best_dev_cost"], rel=1e-12)
    assert 0 < early["best_epoch"] < early["epochs_run"] < early["num_epochs"]  # it stopped early, past the best
    assert early["dev_accuracy"] > lesson["no regularization"]["dev_accuracy"]


def test_augmentation_closes_most_of_the_gap_on_the_images(lesson):
    runs = lesson["augmentation"]
    none, everything = runs["no augmentation"]["dev_accuracy"], runs["flips, shifts and noise"]["dev_accuracy"]
    assert none <= 0.9
    assert everything >= none + 0.1
    assert runs["flips only"]["dev_accuracy"] > none and runs["shifts and noise"]["dev_accuracy"] > none
    assert runs["chosen"] == "flips, shifts and noise"
    assert runs["flips, shifts and noise"]["test_accuracy"] >= runs["no augmentation"]["test_accuracy"] + 0.1
    assert "test_accuracy" not in runs["flips only"] and "test_accuracy" not in runs["shifts and noise"]


def test_the_ensemble_beats_the_average_member(lesson):
    ensemble = lesson["ensemble"]
    assert len(ensemble["members"]) == 5
    assert ensemble["ensemble"] > np.mean(ensemble["members"])


# -- the notebook's "Expected results" cells say what the run gives ---------------------------------------

def percent(value: float) -> float:
    return 100 * value


def sweep(name: str, value: float, key: str):
    return lambda lesson: percent(next(run for run in lesson["sweeps"][name] if run["value"] == value)[key])


def accuracy(name: str, key: str):
    return lambda lesson: percent(lesson[name][key])


def gap_points(name: str):
    return lambda lesson: percent(gap(lesson[name]))


def lift_points(name: str):
    return lambda lesson: percent(lesson[name]["dev_accuracy"] - lesson["no regularization"]["dev_accuracy"])


def augmented(name: str, key: str):
    return lambda lesson: percent(lesson["augmentation"][name][key])


BASELINE = "no regularization"
# (cell id, a phrase of that cell, the figures its "low-high" ranges describe, in the phrase's units): one figure per
# range, or several inside a phrase's only range. Every range of every "Expected results" cell is here, and each must
# hold for the seeded run, so that the text cannot drift from what the notebook shows.
EXPECTED = [
    ("baseline-expected", "falls from 0.66-0.68 at iteration 0 to 0.21-0.25 at iteration 4000",
     [lambda lesson: lesson["baseline_cost"]["iteration 0"], lambda lesson: lesson["baseline_cost"]["iteration 4000"]]),
    ("baseline-expected", "No regularization: train 94-96%, dev 79-82%, a gap of 12-16 points",
     [accuracy(BASELINE, "train_accuracy"), accuracy(BASELINE, "dev_accuracy"), gap_points(BASELINE)]),
    ("l2-expected", "$\\lambda$ = 0.01: train 94-96%, dev 77-81%",
     [sweep("L2", 0.01, "train_accuracy"), sweep("L2", 0.01, "dev_accuracy")]),
    ("l2-expected", "$\\lambda$ = 0.1: train 89-91%, dev 83-86% (chosen, a gap of 4-7 points)",
     [sweep("L2", 0.1, "train_accuracy"), sweep("L2", 0.1, "dev_accuracy"), gap_points("L2")]),
    ("l2-expected", "$\\lambda$ = 1: train 87-89%, dev 81-84%",
     [sweep("L2", 1, "train_accuracy"), sweep("L2", 1, "dev_accuracy")]),
    ("l2-expected", "$\\lambda$ = 10: train 79-81%, dev 79-82%",
     [sweep("L2", 10, "train_accuracy"), sweep("L2", 10, "dev_accuracy")]),
    ("l1-expected", "$\\lambda$ = 0.1: train 90-92%, dev 81-84%",
     [sweep("L1", 0.1, "train_accuracy"), sweep("L1", 0.1, "dev_accuracy")]),
    ("l1-expected", "$\\lambda$ = 1: train 87-89%, dev 83-86% (chosen)",
     [sweep("L1", 1, "train_accuracy"), sweep("L1", 1, "dev_accuracy")]),
    ("l1-expected", "$\\lambda$ = 10: train 55-59%, dev 59-62%",
     [sweep("L1", 10, "train_accuracy"), sweep("L1", 10, "dev_accuracy")]),
    ("l1-expected", "no regularization 0-3%, L2 ($\\lambda$ = 0.1) 0-3%, L1 ($\\lambda$ = 1) 88-94%",
     [lambda lesson, name=name: percent(lesson["sparsity"][name]) for name in (BASELINE, "L2", "L1")]),
    ("dropout-expected", "keep_prob = 0.5: train 88-90%, dev 83-86%",
     [sweep("dropout", 0.5, "train_accuracy"), sweep("dropout", 0.5, "dev_accuracy")]),
    ("dropout-expected", "keep_prob = 0.7: train 86-89%, dev 84-87% (chosen, a gap of 0-4 points)",
     [sweep("dropout", 0.7, "train_accuracy"), sweep("dropout", 0.7, "dev_accuracy"), gap_points("dropout")]),
    ("dropout-expected", "keep_prob = 0.9: train 90-92%, dev 81-83%",
     [sweep("dropout", 0.9, "train_accuracy"), sweep("dropout", 0.9, "dev_accuracy")]),
    ("compare-expected", "no regularization 12-16 points, L2 ($\\lambda$ = 0.1) 4-7, L1 ($\\lambda$ = 1) 2-5, "
                         "dropout (keep_prob = 0.7) 0-4",
     [gap_points(name) for name in (BASELINE, "L2", "L1", "dropout")]),
    ("compare-expected", "dev accuracy is 3-6 points above", [lift_points("L2"), lift_points("L1"), lift_points("dropout")]),
    ("early-expected", "lowest at epoch 9-14", [lambda lesson: lesson["early stopping"]["best_epoch"]]),
    ("early-expected", "train 86-89%, dev 84-87% (no regularization: dev 79-82%)",
     [accuracy("early stopping", "train_accuracy"), accuracy("early stopping", "dev_accuracy"),
      accuracy(BASELINE, "dev_accuracy")]),
    ("augment-expected", "no augmentation 80-84%, flips only 87-91%, shifts and noise 87-91%, flips, shifts and "
                         "noise 98-100%",
     [augmented(name, "dev_accuracy") for name in ("no augmentation", "flips only", "shifts and noise",
                                                    "flips, shifts and noise")]),
    ("ensemble-expected", "dev accuracies lie within 75-86%",
     [lambda lesson: percent(min(lesson["ensemble"]["members"])), lambda lesson: percent(max(lesson["ensemble"]["members"]))]),
    ("ensemble-expected", "their mean within 79-82%", [lambda lesson: percent(np.mean(lesson["ensemble"]["members"]))]),
    ("ensemble-expected", "ensemble's dev accuracy is 82-85%", [lambda lesson: percent(lesson["ensemble"]["ensemble"])]),
    ("test-expected", "no regularization 81-84%, L2 84-87%, L1 84-87%, dropout 84-87%, early stopping 83-86%, "
                      "the ensemble 84-86%",
     [accuracy(name, "test_accuracy") for name in (BASELINE, "L2", "L1", "dropout", "early stopping")]
     + [lambda lesson: percent(lesson["ensemble"]["ensemble_test"])]),
    ("test-expected", "no augmentation 81-85%, flips, shifts and noise 97-100%",
     [augmented("no augmentation", "test_accuracy"), augmented("flips, shifts and noise", "test_accuracy")]),
]
RANGE = re.compile(r"(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)")


def ranges(text: str) -> list[tuple[float, float]]:
    return [(float(low), float(high)) for low, high in RANGE.findall(text)]


def words(text: str) -> str:
    return " ".join(text.split())  # line breaks in the markdown do not matter


def expected_cells() -> dict[str, str]:
    return {cell.id: words(cell.source) for cell in read_notebook(SOURCE).cells
            if cell.cell_type == "markdown" and cell.source.startswith("**Expected results.**")}


def test_every_range_of_the_expected_results_is_checked():
    cells = expected_cells()
    assert set(cells) == {cell_id for cell_id, _, _ in EXPECTED}
    for cell_id, text in cells.items():
        phrases = [phrase for other, phrase, _ in EXPECTED if other == cell_id]
        for phrase in phrases:
            assert words(phrase) in text, f"{cell_id} no longer says {phrase!r}"
        assert len(ranges(text)) == sum(len(ranges(phrase)) for phrase in phrases), f"{cell_id} has an unchecked range"


@pytest.mark.parametrize("cell_id, phrase, figures", EXPECTED, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(EXPECTED)])
def test_the_run_gives_the_expected_results(lesson, cell_id, phrase, figures):
    stated = ranges(phrase)
    if len(stated) == 1:  # "members within 75-86%", "each 3-6 points above": every figure inside the one range
        stated = stated * len(figures)
    assert len(stated) == len(figures), "one figure per range"
    for (low, high), figure in zip(stated, figures):
        assert low <= figure(lesson) <= high, f"{cell_id}: {phrase!r} says {low:g}-{high:g}, the run gives {figure(lesson):.2f}"


def test_the_chosen_settings_are_the_ones_the_text_names(lesson):
    assert lesson["chosen"] == {"no regularization": "", "L2": "lambd = 0.1", "L1": "lambd = 1",
                                "dropout": "keep_prob = 0.7", "early stopping": f"epoch {lesson['early stopping']['best_epoch']}"}
    early = lesson["early stopping"]
    assert early["epochs_run"] - early["best_epoch"] == 60  # "training stops 60 epochs later"


# -- visible checks ------------------------------------------------------------------------------

BASE = {"nets": nets, "copy": __import__("copy")}
REFERENCE = notebook_functions(SOURCE, BASE)

CHECKS = {
    "l2_cost": lambda ns: checks.check_compute_cost_with_l2(ns["compute_cost_with_l2"]),
    "l2_backward": lambda ns: checks.check_backward_propagation_with_l2(ns["backward_propagation_with_l2"]),
    "l1": lambda ns: checks.check_l1(ns["compute_cost_with_l1"], ns["backward_propagation_with_l1"]),
    "dropout_forward": lambda ns: checks.check_dropout_forward(ns["dropout_forward"]),
    "dropout_backward": lambda ns: checks.check_dropout_backward(ns["dropout_backward"]),
    "network_forward": lambda ns: checks.check_forward_propagation_with_dropout(ns["forward_propagation_with_dropout"]),
    "network_backward": lambda ns: checks.check_backward_propagation_with_dropout(ns["backward_propagation_with_dropout"]),
    "early_stopping": lambda ns: checks.check_early_stopping(ns["early_stopping"]),
    "flip_shift": lambda ns: checks.check_flip_and_shift(ns["flip_horizontal"], ns["shift_images"]),
    "noise": lambda ns: checks.check_add_noise(ns["add_noise"]),
    "ensemble": lambda ns: checks.check_ensemble_predict(ns["ensemble_predict"]),
}


@pytest.mark.parametrize("which", CHECKS)
def test_visible_check_passes_the_reference_and_a_different_correct_answer(which):
    CHECKS[which](REFERENCE)
    CHECKS[which](functions("\n".join(samples.ALTERNATIVE.values()), REFERENCE))


NO_SCALING_IN_NETWORK = '''
def forward_propagation_with_dropout(X, parameters, keep_probs):
    L = nets.num_layers(parameters)
    A, cache = X, []
    for l in range(1, L + 1):
        A_prev = A
        Z = parameters[f"W{l}"] @ A_prev + parameters[f"b{l}"]
        if l < L:
            D = np.random.rand(*Z.shape) < keep_probs[l - 1]
            A = nets.relu(Z) * D
        else:
            A, D = nets.sigmoid(Z), np.ones_like(Z)
        cache.append((A_prev, Z, D))
    return A, cache
'''
ONE_KEEP_PROB_FOR_ALL = NO_SCALING_IN_NETWORK.replace("nets.relu(Z) * D", "nets.relu(Z) * D / keep_probs[0]") \
    .replace("< keep_probs[l - 1]", "< keep_probs[0]")
DROPS_THE_OUTPUT = '''
def forward_propagation_with_dropout(X, parameters, keep_probs):
    L = nets.num_layers(parameters)
    A, cache = X, []
    for l in range(1, L + 1):
        A_prev = A
        Z = parameters[f"W{l}"] @ A_prev + parameters[f"b{l}"]
        keep_prob = keep_probs[min(l, L - 1) - 1]           # the last keep_prob again for the output layer
        D = np.random.rand(*Z.shape) < keep_prob
        A = (nets.relu(Z) if l < L else nets.sigmoid(Z)) * D / keep_prob
        cache.append((A_prev, Z, D))
    return A, cache
'''
NO_RELU_DERIVATIVE = samples.BACKWARD_DRAWS_NEW_MASKS.split("def backward_propagation_with_dropout")[0] + '''
def backward_propagation_with_dropout(Y_hat, Y, cache, parameters, keep_probs):
    L, m = len(cache), Y.shape[1]
    grads, dZ = {}, Y_hat - Y
    for l in range(L, 0, -1):
        A_prev, _, _ = cache[l - 1]
        grads[f"dW{l}"] = dZ @ A_prev.T / m
        grads[f"db{l}"] = np.sum(dZ, axis=1, keepdims=True) / m
        if l > 1:
            _, Z_prev, D_prev = cache[l - 2]
            dZ = parameters[f"W{l}"].T @ dZ * D_prev / keep_probs[l - 2]
    return grads
'''
LAST_PARAMETERS = samples.EARLY_STOPPING_WITHOUT_COPY.replace(
    "return best_parameters, best_epoch, dev_costs", "return parameters, best_epoch, dev_costs")
NO_PATIENCE = '''
def early_stopping(parameters, train_epoch, dev_cost, num_epochs, patience):
    dev_costs = [dev_cost(parameters)]
    best_epoch, best_parameters = 0, copy.deepcopy(parameters)
    for epoch in range(1, num_epochs + 1):
        parameters = train_epoch(parameters)
        dev_costs.append(dev_cost(parameters))
        if dev_costs[epoch] < dev_costs[best_epoch]:
            best_epoch, best_parameters = epoch, copy.deepcopy(parameters)
    return best_parameters, best_epoch, dev_costs
'''
WRONG = [
    ("l2_cost", samples.L2_COST_WITHOUT_HALF, "lambd / \\(2 m\\) times the sum of every squared weight"),
    ("l2_cost", "def compute_cost_with_l2(Y_hat, Y, parameters, lambd):\n    return nets.compute_cost(Y_hat, Y)\n",
     "penalty term is missing"),
    ("l2_backward", samples.L2_BACKWARD_ON_BIASES_TOO, "Biases are not regularised"),
    ("l2_backward", samples.ALTERNATIVE["l2_backward"].replace("(lambd / Y.shape[1])", "(2 * lambd / Y.shape[1])"),
     "derivative of lambd / \\(2 m\\) \\* W\\*\\*2 is \\(lambd / m\\) \\* W"),
    ("l1", samples.L1_WITH_HALF, "the notes' lambd / \\(2 m\\) is not the convention"),
    ("l1", samples.ALTERNATIVE["l1"].replace("lambd / Y.shape[1] * np.where", "2 * lambd / Y.shape[1] * np.where"),
     "sign\\(W\\), added to dW"),
    ("l1", samples.ALTERNATIVE["l1"].replace("np.where(W > 0, 1.0, -1.0)", "np.where(W == 0, 5.0, np.sign(W))"),
     "between -lambd/m and lambd/m"),
    ("dropout_forward", samples.DROPOUT_NOT_INVERTED, "A_drop should be A \\* D / keep_prob"),
    ("dropout_forward", samples.DROPS_WITH_KEEP_PROB, "kept with probability keep_prob, not dropped with it"),
    ("dropout_forward", samples.ONE_MASK_PER_UNIT, "a separate random number for every entry"),
    ("dropout_forward", "def dropout_forward(A, keep_prob):\n    np.random.seed(0)\n"
                        "    D = np.random.rand(*A.shape) < keep_prob\n    return A * D / keep_prob, D\n",
     "draw a new random mask on every call"),
    ("dropout_forward", "def dropout_forward(A, keep_prob):\n    D = np.random.rand(*A.shape) < keep_prob\n"
                        "    A *= D / keep_prob\n    return A, D\n", "changed its input A"),
    ("dropout_backward", samples.DROPOUT_NOT_INVERTED, "use the same mask D"),
    ("network_forward", NO_SCALING_IN_NETWORK, "layer 2: A_prev in the cache should be the dropped-out activation"),
    ("network_forward", ONE_KEEP_PROB_FOR_ALL, "layer 2 uses keep_probs\\[1\\]"),
    ("network_forward", DROPS_THE_OUTPUT, "output layer \\(3\\) is never dropped out"),
    ("network_backward", samples.BACKWARD_DRAWS_NEW_MASKS, "must reuse the forward pass's masks"),
    ("network_backward", NO_RELU_DERIVATIVE, "before the relu derivative"),
    ("early_stopping", samples.EARLY_STOPPING_WITHOUT_COPY, "keep a copy"),
    ("early_stopping", LAST_PARAMETERS, "best_parameters\\['W1'\\]"),
    ("early_stopping", NO_PATIENCE, "patience"),
    ("flip_shift", "def flip_horizontal(images):\n    return images[:, ::-1, :]\n", "left becomes right"),
    ("flip_shift", samples.SHIFT_WITH_ROLL, "no wrapping round"),
    ("noise", samples.UNIFORM_NOISE, "not normally distributed"),
    ("noise", "def add_noise(images, sigma):\n    return images + sigma ** 2 * np.random.randn(*images.shape)\n",
     "standard deviation"),
    ("noise", "def add_noise(images, sigma):\n    images += sigma * np.random.randn(*images.shape)\n    return images\n",
     "changed the images"),
    ("ensemble", samples.MAJORITY_VOTE, "mean of the models' probabilities"),
]


@pytest.mark.parametrize("which, code, message", WRONG, ids=[f"{w}-{i}" for i, (w, _, _) in enumerate(WRONG)])
def test_visible_check_fails_a_wrong_answer_and_says_why(which, code, message):
    with pytest.raises(AssertionError, match=message):
        CHECKS[which](functions(code, REFERENCE))


@pytest.mark.slow
def test_mask_and_noise_checks_do_not_fail_correct_random_draws():
    """The property checks allow 6 standard deviations: 300 correct draws of various sizes must all pass."""
    from idnn.checks.properties import problems_with

    rng = np.random.default_rng(123)
    for _ in range(100):
        A = np.abs(rng.standard_normal((rng.integers(20, 60), rng.integers(20, 400))))
        keep_prob = float(rng.uniform(0.3, 1.0))
        draws = [(A * D / keep_prob, D) for D in (rng.random(A.shape) < keep_prob for _ in range(2))]
        assert problems_with("dropout_forward", draws, {"A": A, "keep_prob": keep_prob}) == []
        images, sigma = rng.random((rng.integers(100, 200), 12, 12)), float(rng.uniform(0.01, 1))
        noisy = [images + sigma * rng.standard_normal(images.shape) for _ in range(2)]
        assert problems_with("gaussian_noise", noisy, {"images": images, "sigma": sigma}) == []
