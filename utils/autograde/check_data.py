"""Build the expected values of the visible checks, once, from the reference solutions.

    python -m idnn.autograde.check_data              # rewrite utils/checks/data/<assignment>.json
    python -m idnn.autograde.check_data --out DIR    # write them elsewhere (a test compares the two)

The visible checks run in the student's kernel, so the student side may not hold an implementation of
anything students write, not even inside a check. The checks compare with values computed here instead:

  * what the source notebook's own solution returns on each check's fixed inputs (the notebook's
    imports and definitions run in this process, as for the reference results of grading), and
  * what the classic mistakes return on the same inputs, for the checks that recognise a mistake by
    its result (no bias correction, epsilon inside the square root, t counted from 0, only W updated,
    momentum without (1 - beta), the variance in place of the standard deviation, a missing square
    root in a scale, ...). The mistaken variants live here; each is first shown to agree with the
    solution when its mistake is switched off, so a variant cannot drift from the exercise.

The fixed inputs come from the check modules themselves (idnn.checks.<assignment>), so a check and its
data cannot disagree about what was computed; tests/test_boundary.py proves the committed files equal a
fresh build.
"""

import argparse
import copy
from pathlib import Path

import nbformat
import numpy as np

from .. import nets
from ..checks import DATA_DIR, dumps_expected
from ..paths import REPO_ROOT
from .reference import definitions

ASSIGNMENTS = ("setting_up", "initialization", "regularization", "gradient_checking", "optimization", "hyperparameter_search", "batch_norm", "softmax")
AGREEMENT = 1e-10  # relative: a variant with its mistake switched off computes what the solution computes


def solution(source_notebook: Path) -> dict:
    """The namespace of a source notebook's imports and definitions (its solutions), as the reference uses it."""
    nb = nbformat.read(source_notebook, as_version=4)
    namespace: dict = {"__name__": "__check_data__"}
    for cell in nb.cells:
        if cell.cell_type == "code":
            exec(compile(definitions(cell.source), f"{source_notebook.name}:definitions", "exec"), namespace)
    return namespace


def _agree(solution_value, variant_value, what: str) -> None:
    """Fail loudly when a mistaken variant, with its mistake switched off, no longer computes the solution."""
    left = np.asarray(_flat(solution_value), dtype=np.float64)
    right = np.asarray(_flat(variant_value), dtype=np.float64)
    if left.shape != right.shape or not np.allclose(left, right, rtol=AGREEMENT, atol=1e-14):
        raise RuntimeError(f"check data: the variants of {what} no longer agree with the source notebook's solution "
                           f"when no mistake is made; fix utils/autograde/check_data.py")


def _flat(value) -> list[float]:
    if isinstance(value, dict):
        return [x for key in sorted(value) for x in _flat(value[key])]
    if isinstance(value, (list, tuple)):
        return [x for item in value for x in _flat(item)]
    return list(np.ravel(np.asarray(value, dtype=np.float64)))


# -- setting up ------------------------------------------------------------------------------------

def build_setting_up(ns: dict) -> dict:
    from ..checks import setting_up as checks

    X_train, X_dev = checks.normalization_inputs()
    mu, sigma = ns["fit_normalizer"](X_train.copy())
    return {
        "split_sizes": [[int(v) for v in ns["split_sizes"](m)] for m in checks.SPLIT_SIZES_CASES],
        "split": {"sizes": [int(v) for v in ns["split_sizes"](checks.SPLIT_M)]},
        "diagnose": [ns["diagnose"](train, dev, base) for train, dev, base in checks.DIAGNOSE_CASES],
        "basic_recipe": [sorted(ns["basic_recipe"](diagnosis)) for diagnosis in checks.DIAGNOSES],
        "normalization": {"mu": mu, "sigma": sigma, "Z_dev": ns["normalize"](X_dev.copy(), mu, sigma),
                          "mistakes": {"the variance": sigma ** 2}},
    }


# -- initialization --------------------------------------------------------------------------------

# The scales the check knows, in the order it tries them: the four of the exercises (each with the solution that
# must draw with it), then the classic mistakes.
SPREADS = (
    ("sqrt(2 / n_prev), He", lambda n_prev, n: np.sqrt(2 / n_prev), "initialize_parameters_he"),
    ("sqrt(1 / n_prev), Xavier", lambda n_prev, n: np.sqrt(1 / n_prev), "initialize_parameters_xavier"),
    ("sqrt(2 / (n_prev + n)), Glorot", lambda n_prev, n: np.sqrt(2 / (n_prev + n)), "initialize_parameters_glorot"),
    ("10, large random", lambda n_prev, n: 10.0, "initialize_parameters_random"),
    ("1, no scaling at all", lambda n_prev, n: 1.0, None),
    ("2 / n_prev, the square root is missing", lambda n_prev, n: 2 / n_prev, None),
    ("1 / n_prev, the square root is missing", lambda n_prev, n: 1 / n_prev, None),
)


def build_initialization(ns: dict) -> dict:
    from ..checks import initialization as checks

    dims = checks.LARGE_DIMS
    spreads = []
    for name, scale, exercise in SPREADS:
        stds = [float(scale(dims[l - 1], dims[l])) for l in range(1, len(dims))]
        if exercise is not None:  # the solution's own draws have (within sampling error) this spread
            np.random.seed(0)
            parameters = ns[exercise](list(dims))
            drawn = [float(np.std(parameters[f"W{l}"])) for l in range(1, len(dims))]
            if not np.allclose(drawn, stds, rtol=0.01):
                raise RuntimeError(f"check data: {exercise} draws weights with standard deviations {drawn}, not "
                                   f"the {stds} of the scale {name!r}")
        spreads.append([name, stds])
    return {"spreads": spreads}


# -- regularization --------------------------------------------------------------------------------

def build_regularization(ns: dict) -> dict:
    from ..checks import regularization as checks

    data = {}
    parameters, X, Y = checks.small_network(checks.COST_SEED)
    Y_hat, _ = nets.forward_propagation(X, parameters)
    for kind in ("l2", "l1"):
        data[f"{kind}_cost"] = float(ns[f"compute_cost_with_{kind}"](Y_hat, Y, copy.deepcopy(parameters), checks.LAMBD))
        data[f"{kind}_backward"] = []
        for seed in checks.BACKWARD_SEEDS:
            parameters_b, X_b, Y_b = checks.small_network(seed)
            Y_hat_b, cache = nets.forward_propagation(X_b, parameters_b)
            data[f"{kind}_backward"].append(ns[f"backward_propagation_with_{kind}"](
                Y_hat_b, Y_b, copy.deepcopy(cache), copy.deepcopy(parameters_b), checks.LAMBD))

    _, dA, D, keep_prob = checks.dropout_backward_inputs()
    data["dropout_backward"] = ns["dropout_backward"](dA.copy(), D.copy(), keep_prob)

    # The backward pass of the whole network is checked with masks held fixed: the solution's own forward pass,
    # from a fixed seed, provides them (and the cache the student's backward pass is given).
    setting = checks.NETWORK_BACKWARD
    parameters, X, Y = checks.small_network(setting["seed"], setting["layers_dims"], setting["m"])
    keep_probs = list(setting["keep_probs"])
    np.random.seed(setting["mask_seed"])
    Y_hat, cache = ns["forward_propagation_with_dropout"](X, copy.deepcopy(parameters), keep_probs)
    grads = ns["backward_propagation_with_dropout"](Y_hat, Y, copy.deepcopy(cache), copy.deepcopy(parameters),
                                                    keep_probs)
    data["dropout_network_backward"] = {"Y_hat": Y_hat, "cache": [list(layer) for layer in cache], "grads": grads}

    images = checks.flip_shift_images()
    data["flip_shift"] = {"flipped": ns["flip_horizontal"](images.copy()),
                          "shifted down 1, left 1": ns["shift_images"](images.copy(), 1, -1)}

    X, models = checks.ensemble_inputs()
    Y_hat, predictions = ns["ensemble_predict"](X, copy.deepcopy(models))
    data["ensemble"] = {"Y_hat": Y_hat, "predictions": predictions}
    return data


# -- gradient checking -----------------------------------------------------------------------------

def build_gradient_checking(ns: dict) -> dict:
    from ..checks import gradient_checking as checks

    J, dJ, wrong = checks.curved_cost()
    parameters, J_n, _, buggy = checks.gradient_check_n_inputs()
    J_quartic, quartic_gradients = checks.quartic_cost()
    l2_parameters, lambd, m = checks.l2_inputs()
    check_1d, theta_1d, wide = ns["gradient_check_1d"], checks.GRADIENT_CHECK_1D_THETA, checks.WIDE_EPSILON
    return {
        "1d": [[ns["forward_propagation_1d"](copy.copy(x), theta), ns["backward_propagation_1d"](copy.copy(x), theta)]
               for x, theta in checks.ONE_D_CASES],
        "gradient_check_1d": {"difference with the wrong derivative": float(check_1d(J, wrong, theta_1d)[1]),
                              "gradapprox with the wide epsilon": float(check_1d(J, dJ, theta_1d, wide)[0])},
        "gradient_check_n": {"difference with the planted bugs":
                             float(ns["gradient_check_n"](J_n, copy.deepcopy(parameters), buggy)[0]),
                             "gradapprox with the wide epsilon":
                             ns["gradient_check_n"](J_quartic, copy.deepcopy(parameters), quartic_gradients(parameters),
                                                    wide)[1]},
        "classify_difference": [ns["classify_difference"](difference) for difference in checks.CLASSIFY_CASES],
        "l2": {"penalty": float(ns["l2_penalty"](copy.deepcopy(l2_parameters), lambd, m)),
               "gradients": ns["l2_penalty_gradients"](copy.deepcopy(l2_parameters), lambd, m)},
    }


# -- optimization ----------------------------------------------------------------------------------

def _step(kind: str, parameters, grads, state, learning_rate, beta=0.9, beta2=0.999, epsilon=1e-8, t=1,
          variant: str = ""):
    """One step of an optimiser with a classic mistake (`variant`), on copies; returns (parameters, *states).

    With variant "" it is the correct step, which build_optimization checks against the solution."""
    parameters = copy.deepcopy(parameters)
    state = copy.deepcopy(state)
    keys = [key for key in parameters if not (variant == "only W" and key.startswith("b"))]
    if kind == "gd":
        for key in keys:
            parameters[key] = parameters[key] - learning_rate * grads["d" + key] * (-1 if variant == "plus" else 1)
        return (parameters,)
    if kind == "momentum":
        v = state
        for key in keys:
            g = grads["d" + key]
            v["d" + key] = beta * v["d" + key] + (g if variant == "no (1 - beta)" else (1 - beta) * g)
            parameters[key] = parameters[key] - learning_rate * (g if variant == "gradient step" else v["d" + key])
        return parameters, v
    if kind == "rmsprop":
        s = state
        for key in keys:
            g = grads["d" + key]
            s["d" + key] = beta2 * s["d" + key] + (1 - beta2) * (g if variant == "not squared" else g ** 2)
            if variant == "epsilon inside":
                parameters[key] = parameters[key] - learning_rate * g / np.sqrt(s["d" + key] + epsilon)
            else:
                parameters[key] = parameters[key] - learning_rate * g / (np.sqrt(s["d" + key]) + epsilon)
        return parameters, s
    if kind != "adam":
        raise ValueError(f"no optimiser {kind!r}")
    v, s = state
    for key in keys:
        g = grads["d" + key]
        v["d" + key] = beta * v["d" + key] + (1 - beta) * g
        s["d" + key] = beta2 * s["d" + key] + (1 - beta2) * g ** 2
        step_t = t - 1 if variant == "t from 0" else t
        with np.errstate(divide="ignore", invalid="ignore"):
            v_hat = v["d" + key] if variant == "no bias correction" else v["d" + key] / (1 - beta ** step_t)
            s_hat = s["d" + key] if variant == "no bias correction" else s["d" + key] / (1 - beta2 ** step_t)
            if variant == "epsilon inside":
                parameters[key] = parameters[key] - learning_rate * v_hat / np.sqrt(s_hat + epsilon)
            else:
                parameters[key] = parameters[key] - learning_rate * v_hat / (np.sqrt(s_hat) + epsilon)
    return parameters, v, s


def build_optimization(ns: dict) -> dict:
    from ..checks import optimization as checks

    data = {}
    parameters, grads, _ = checks.random_state(checks.GD_SEED)
    lr = checks.GD_LEARNING_RATE
    expected = ns["update_parameters_with_gd"](copy.deepcopy(parameters), copy.deepcopy(grads), lr)
    _agree(expected, _step("gd", parameters, grads, None, lr)[0], "gradient descent")
    data["gd"] = {"parameters": expected,
                  "mistakes": {name: _step("gd", parameters, grads, None, lr, variant=name)[0]
                               for name in ("only W", "plus")}}

    values, beta = np.array(checks.EWA_VALUES), checks.EWA_BETA
    plain = ns["exponentially_weighted_averages"](values.copy(), beta)
    data["ewa"] = {"plain": plain,
                   "corrected": ns["exponentially_weighted_averages"](values.copy(), beta, bias_correction=True),
                   # the bias correction with t counted from 0: day t divided by 1 - beta**(t - 1)
                   "mistakes": {"t from 0, after the first": np.array(
                       [plain[i] / (1 - beta ** i) for i in range(1, len(plain))])}}

    parameters, grads, v = checks.random_state(checks.MOMENTUM_SEED)
    runs = []
    for beta, lr in checks.MOMENTUM_SETTINGS:
        state, steps = (copy.deepcopy(parameters), copy.deepcopy(v)), []
        for _ in range(checks.MOMENTUM_STEPS):
            expected = ns["update_parameters_with_momentum"](copy.deepcopy(state[0]), copy.deepcopy(grads),
                                                             copy.deepcopy(state[1]), beta, lr)
            _agree(expected, _step("momentum", state[0], grads, state[1], lr, beta=beta), "momentum")
            steps.append({"parameters": expected[0], "v": expected[1],
                          "mistakes": {name: list(_step("momentum", state[0], grads, state[1], lr, beta=beta,
                                                        variant=name))
                                       for name in ("only W", "no (1 - beta)", "gradient step")}})
            state = expected
        runs.append(steps)
    data["momentum"] = {"initialize": ns["initialize_velocity"](copy.deepcopy(parameters)), "runs": runs}

    parameters, grads, s = checks.rmsprop_start()
    beta2, lr, epsilon = checks.RMSPROP_BETA2, checks.RMSPROP_LEARNING_RATE, checks.RMSPROP_EPSILON
    state, steps = (copy.deepcopy(parameters), copy.deepcopy(s)), []
    for _ in range(checks.RMSPROP_STEPS):
        expected = ns["update_parameters_with_rmsprop"](copy.deepcopy(state[0]), copy.deepcopy(grads),
                                                        copy.deepcopy(state[1]), beta2, lr, epsilon)
        _agree(expected, _step("rmsprop", state[0], grads, state[1], lr, beta2=beta2, epsilon=epsilon), "RMSprop")
        steps.append({"parameters": expected[0], "s": expected[1],
                      "mistakes": {name: list(_step("rmsprop", state[0], grads, state[1], lr, beta2=beta2,
                                                    epsilon=epsilon, variant=name))
                                   for name in ("only W", "not squared", "epsilon inside")}})
        state = expected
    data["rmsprop"] = {"initialize": ns["initialize_rmsprop"](copy.deepcopy(parameters)), "steps": steps}

    parameters, grads = checks.adam_start()
    lr, beta1, beta2, epsilon = checks.ADAM_SETTINGS
    v0, s0 = ns["initialize_adam"](copy.deepcopy(parameters))
    state, steps = (copy.deepcopy(parameters), v0, s0), []
    for t in checks.ADAM_STEPS:
        expected = ns["update_parameters_with_adam"](*copy.deepcopy((state[0], grads, state[1], state[2])), t, lr,
                                                     beta1, beta2, epsilon)
        settings = {"beta": beta1, "beta2": beta2, "epsilon": epsilon, "t": t}
        _agree(expected, _step("adam", state[0], grads, state[1:], lr, **settings), "Adam")
        steps.append({"parameters": expected[0], "v": expected[1], "s": expected[2],
                      "mistakes": {name: list(_step("adam", state[0], grads, state[1:], lr, **settings, variant=name))
                                   for name in ("only W", "no bias correction", "t from 0", "epsilon inside")}})
        state = expected
    data["adam"] = {"initialize": list(ns["initialize_adam"](copy.deepcopy(parameters))), "steps": steps}

    data["decay"] = {name: [float(ns[name](checks.DECAY_LEARNING_RATE0, epoch_num, *arguments))
                            for epoch_num in checks.DECAY_EPOCHS]
                     for name, arguments, _, _ in checks.DECAY_CASES}
    return data


# -- hyperparameter search -------------------------------------------------------------------------

def _zoom(trials, scores, k, variant: str = ""):
    """The box around the k best trials with a classic mistake (`variant`); with variant "" the correct box, which
    build_hyperparameter_search checks against the solution. None when the mistake makes no box here."""
    trials, scores = np.asarray(trials, dtype=np.float64), np.asarray(scores, dtype=np.float64)
    index = np.arange(scores.size)
    if variant == "worst":
        order = np.lexsort((index, scores))
    elif variant == "ties last":
        order = np.lexsort((-index, -scores))
    else:
        order = np.lexsort((index, -scores))  # highest score first, the earlier trial first among equal ones
    chosen = {"without the best": order[1:k + 1], "k - 1": order[:k - 1]}.get(variant, order[:k])
    if chosen.size == 0:
        return None
    box = np.stack([trials[:, chosen].min(axis=1), trials[:, chosen].max(axis=1)], axis=1)
    return 10.0 ** box if variant == "linear" else box.T if variant == "transposed" else box


def _choose(results, variant: str = "") -> int:
    """The chosen trial's index with a classic mistake (`variant`); with variant "" the correct choice."""
    def rank(t: int):
        r = results[t]
        return {"": (-r["dev_accuracy"], r["dev_cost"], t), "test": (-r["test_accuracy"], r["dev_cost"], t),
                "train": (-r["train_accuracy"], r["dev_cost"], t), "lowest": (r["dev_accuracy"], r["dev_cost"], t),
                "first tie": (-r["dev_accuracy"], t), "highest cost": (-r["dev_accuracy"], -r["dev_cost"], t),
                "last tie": (-r["dev_accuracy"], -t)}[variant]
    return min(range(len(results)), key=rank)


def build_hyperparameter_search(ns: dict) -> dict:
    from ..checks import hyperparameter_search as checks

    zooms = []
    for trials, scores, k in checks.zoom_inputs():
        box = ns["zoom_box"](trials.copy(), scores.copy(), k)
        _agree(box, _zoom(trials, scores, k), "zoom_box")
        mistakes = {name: _zoom(trials, scores, k, name) for name in checks.ZOOM_MISTAKES}
        zooms.append({"box": np.asarray(box, dtype=np.float64),
                      "mistakes": {name: wrong for name, wrong in mistakes.items()
                                   if wrong is not None and (wrong.shape != box.shape or not np.allclose(wrong, box))}})
    choices = []
    for results in checks.choose_inputs():
        best = int(ns["choose_on_dev"](copy.deepcopy(results)))
        _agree(best, _choose(results), "choose_on_dev")
        mistakes = {name: _choose(results, name) for name in checks.CHOOSE_MISTAKES}
        choices.append({"best": best, "mistakes": {name: index for name, index in mistakes.items() if index != best}})
    return {"zoom_box": zooms, "choose_on_dev": choices}


# -- batch norm ------------------------------------------------------------------------------------

def _batchnorm(Z, gamma, beta, eps, variant: str = ""):
    """Training-mode batch norm with a classic mistake (`variant`); returns (Z_tilde, Z_norm, std). With variant ""
    it is the correct forward pass, which build_batch_norm checks against the solution."""
    mu = np.mean(Z, axis=1, keepdims=True)
    m = Z.shape[1]
    var = np.sum((Z - mu) ** 2, axis=1, keepdims=True) / (m - 1 if variant == "m - 1" else m)
    std = np.sqrt(var) + eps if variant == "eps outside" else var + eps if variant == "no sqrt" else np.sqrt(var + eps)
    Z_norm = (Z - mu) / std
    return (Z_norm if variant == "no scale and shift" else gamma * Z_norm + beta), Z_norm, std


def _batchnorm_backward(Z, gamma, beta, dZ_tilde, eps, variant: str = ""):
    """(dZ, dgamma, dbeta) of the correct forward pass, with a classic mistake of the backward pass (`variant`)."""
    m = Z.shape[1]
    _, Z_norm, std = _batchnorm(Z, gamma, beta, eps)
    dbeta = np.sum(dZ_tilde, axis=1, keepdims=True)
    dgamma = dbeta.copy() if variant == "dgamma without Z_norm" else np.sum(dZ_tilde * Z_norm, axis=1, keepdims=True)
    scale = np.ones_like(gamma) if variant == "no gamma" else gamma
    if variant == "mu and var constant":
        return scale * dZ_tilde / std, dgamma, dbeta
    # The staged chain rule: dvar from every example, then dmu, then dZ (the (Z - mu) term of dmu sums to zero).
    dZ_norm = scale * dZ_tilde
    dvar = np.sum(dZ_norm * (Z - np.mean(Z, axis=1, keepdims=True)), axis=1, keepdims=True) * -0.5 / std ** 3
    dmu = -np.sum(dZ_norm, axis=1, keepdims=True) / std
    divisor = m - 1 if variant == "m - 1" else m
    dZ = dZ_norm / std + dvar * 2 * (Z - np.mean(Z, axis=1, keepdims=True)) / divisor + dmu / m
    return dZ, dgamma, dbeta


def build_batch_norm(ns: dict) -> dict:
    from ..checks import batch_norm as checks

    eps = checks.EPS
    Z, gamma, beta = checks.forward_inputs()
    Z_tilde, _ = ns["batchnorm_forward"](Z.copy(), gamma.copy(), beta.copy())
    _agree(Z_tilde, _batchnorm(Z, gamma, beta, eps)[0], "the batch-norm forward pass")
    data = {"forward": {"Z_tilde": Z_tilde,
                        "mistakes": {name: _batchnorm(Z, gamma, beta, eps, name)[0]
                                     for name in checks.FORWARD_MISTAKES}}}

    # The backward check compares with numerical gradients; only the classic mistakes' results are stored, to name
    # them. Each variant with its mistake switched off is the solution's own backward pass.
    backward = []
    for Z, gamma, beta, W in checks.backward_cases():
        _, cache = ns["batchnorm_forward"](Z.copy(), gamma.copy(), beta.copy())
        _agree(ns["batchnorm_backward"](W.copy(), copy.deepcopy(cache)), _batchnorm_backward(Z, gamma, beta, W, eps),
               "the batch-norm backward pass")
        mistakes = {}
        for name, (gradient, _) in checks.BACKWARD_MISTAKES.items():
            mistakes[name] = dict(zip(("dZ", "dgamma", "dbeta"), _batchnorm_backward(Z, gamma, beta, W, eps, name)))[
                gradient]
        backward.append(mistakes)
    data["backward"] = backward

    running_mean, running_var, mu, var = checks.running_inputs()
    data["running"] = []
    for momentum in checks.MOMENTUM_SETTINGS:
        args = [a.copy() for a in (running_mean, running_var, mu, var)]
        result = ns["update_running_averages"](*args) if momentum is None else ns["update_running_averages"](*args,
                                                                                                               momentum)
        momentum = 0.9 if momentum is None else momentum
        _agree(result, (momentum * running_mean + (1 - momentum) * mu, momentum * running_var + (1 - momentum) * var),
               "the running averages")
        data["running"].append({"result": list(result), "mistakes": {
            "momentum swapped": [(1 - momentum) * running_mean + momentum * mu,
                                 (1 - momentum) * running_var + momentum * var],
            "batch values": [mu, var]}})

    Z, gamma, beta, running_mean, running_var = checks.test_time_inputs()

    def test_time(Z_case, variant=""):
        if variant == "batch statistics":
            return _batchnorm(Z_case, gamma, beta, eps)[0]
        std = (np.sqrt(running_var) + eps if variant == "eps outside" else running_var + eps if variant == "no sqrt"
               else np.sqrt(running_var + eps))
        return gamma * (Z_case - running_mean) / std + beta

    data["test_time"] = {}
    for key, Z_case in (("Z_tilde", Z), ("single", Z[:, :1])):
        expected = ns["batchnorm_forward_test"](Z_case.copy(), gamma.copy(), beta.copy(), running_mean.copy(),
                                                running_var.copy())
        _agree(expected, test_time(Z_case), "the test-time forward pass")
        data["test_time"][key] = expected
        data["test_time"]["mistakes" if key == "Z_tilde" else "single mistakes"] = {
            name: test_time(Z_case, name) for name in checks.TEST_TIME_MISTAKES}
    return data


# -- softmax ---------------------------------------------------------------------------------------

def _softmax_cost_variant(Y_hat: np.ndarray, Y: np.ndarray, variant: str = "") -> float:
    """The cross-entropy cost with a classic mistake (`variant`); with variant "" the correct cost, which
    build_softmax checks against the solution."""
    m = Y.shape[1]
    terms = Y * np.log(Y_hat)
    if variant == "binary formula":
        terms = terms + (1 - Y) * np.log(1 - Y_hat)
    total = -np.sum(terms)
    if variant == "no minus":
        total = -total
    if variant == "no 1/m":
        return float(total)
    if variant == "mean over C and m":
        return float(total / Y.size)
    return float(total / m)


def build_softmax(ns: dict) -> dict:
    from ..checks import softmax as checks

    softmax, cost = ns["softmax"], ns["cross_entropy_cost"]
    data = {}
    with np.errstate(all="ignore"):
        data["softmax"] = softmax(np.array(checks.SOFTMAX_Z))
    data["softmax_one_column"] = softmax(np.array([[0.0], [np.log(3.0)]]))
    if not (np.all(np.isfinite(data["softmax"])) and np.allclose(data["softmax_one_column"], [[0.25], [0.75]])):
        raise RuntimeError("check data: the source notebook's softmax is not exact at +-1000 or for one example")

    Z = np.array(checks.HARDMAX_Z)
    C, m = Z.shape
    rows = np.zeros((C, m))
    rows[np.arange(C), np.argmax(Z, axis=1)] = 1.0  # the 1s of each row's largest entry: the wrong axis
    data["hardmax"] = {"Y_hat": np.asarray(ns["hardmax"](Z.copy()), dtype=np.float64),
                       "mistakes": {"rows": rows, "np.max": np.max(Z, axis=0)}}

    data["one_hot"] = {name: np.asarray(ns["one_hot"](np.array(labels, dtype=np.int64), C), dtype=np.float64)
                       for name, labels, C in (("rectangular", checks.ONE_HOT_Y, checks.ONE_HOT_C),
                                               ("square", checks.ONE_HOT_SQUARE_Y, checks.ONE_HOT_SQUARE_C))}

    Y_hat = np.array(checks.COST_Y_HAT)
    Y = np.asarray(ns["one_hot"](np.array(checks.COST_LABELS, dtype=np.int64), Y_hat.shape[0]), dtype=np.float64)
    J = float(cost(Y_hat.copy(), Y.copy()))
    _agree(J, _softmax_cost_variant(Y_hat, Y), "the cross-entropy cost")
    data["cost"] = {"Y": Y, "J": J,
                    "mistakes": {name: _softmax_cost_variant(Y_hat, Y, name)
                                 for name in ("no 1/m", "mean over C and m", "no minus", "binary formula")}}

    # dZ is checked against m times the two-sided differences of the cost through softmax, one entry at a time.
    Z, labels = checks.backward_inputs()
    C, m = Z.shape
    Y = np.asarray(ns["one_hot"](labels, C), dtype=np.float64)
    epsilon = checks.BACKWARD_EPSILON
    numerical = np.zeros_like(Z)
    for index in np.ndindex(*Z.shape):
        step = np.zeros_like(Z)
        step[index] = epsilon
        numerical[index] = m * (cost(softmax(Z + step), Y) - cost(softmax(Z - step), Y)) / (2 * epsilon)
    Y_hat = softmax(Z)
    dZ = np.asarray(ns["softmax_cost_backward"](Y_hat.copy(), Y.copy()))
    difference = np.linalg.norm(dZ - numerical) / (np.linalg.norm(dZ) + np.linalg.norm(numerical))
    if not difference < checks.BACKWARD_THRESHOLD / 100:
        raise RuntimeError(f"check data: the source notebook's softmax_cost_backward differs from the cost's two-sided "
                           f"differences by {difference:.3g}")
    data["backward"] = {"Y_hat": Y_hat, "Y": Y, "two-sided differences": numerical}
    return data


BUILDERS = {"setting_up": build_setting_up, "initialization": build_initialization,
            "regularization": build_regularization, "gradient_checking": build_gradient_checking,
            "optimization": build_optimization,
            "hyperparameter_search": build_hyperparameter_search,
            "batch_norm": build_batch_norm,
            "softmax": build_softmax}


def build(assignment: str, source_dir: Path = REPO_ROOT / "source") -> str:
    """The JSON text of one assignment's check data, computed from source_dir/<assignment>/<assignment>.ipynb."""
    ns = solution(source_dir / assignment / f"{assignment}.ipynb")
    state = np.random.get_state()
    try:
        return dumps_expected(BUILDERS[assignment](ns))
    finally:
        np.random.set_state(state)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m idnn.autograde.check_data", description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", metavar="assignment", help=f"any of {', '.join(ASSIGNMENTS)} "
                        "(default: all)")
    parser.add_argument("--source", type=Path, default=REPO_ROOT / "source", help="the source notebooks' folder")
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="output folder (default: utils/checks/data)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.assignments) - set(ASSIGNMENTS))
    if unknown:
        parser.error(f"no assignment {', '.join(unknown)}; choose from {', '.join(ASSIGNMENTS)}")
    args.out.mkdir(parents=True, exist_ok=True)
    for assignment in args.assignments or ASSIGNMENTS:
        path = args.out / f"{assignment}.json"
        path.write_text(build(assignment, args.source))
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
