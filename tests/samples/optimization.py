"""Sample submissions for the Optimization assignment (14 points: 1, 2, 2, 2, 2, 3, 2)."""

from .model import SOLUTION, Sample

ASSIGNMENT = "optimization"
NOTEBOOK = "optimization"
SOLUTION_PLACEHOLDER = "# <solution follows>\n"

POINTS = {"test_gd": 1, "test_mini_batches": 2, "test_ewa": 2, "test_momentum": 2, "test_rmsprop": 2,
          "test_adam": 3, "test_decay": 2}
ALL_TESTS = list(POINTS)
ANSWERS = ["gd", "mini_batches", "ewa", "momentum", "rmsprop", "adam", "decay"]

# Correct, written differently: dict comprehensions, a legacy-seeded permutation and a batch count, a
# recursive average, np.power and math functions.
ALTERNATIVE = {
    "gd": '''
def update_parameters_with_gd(parameters, grads, learning_rate):
    return {key: value - learning_rate * grads["d" + key] for key, value in parameters.items()}
''',
    "mini_batches": '''
import math

def random_mini_batches(X, Y, mini_batch_size=64, seed=0):
    np.random.seed(seed)
    order = np.random.permutation(X.shape[1])
    count = math.ceil(X.shape[1] / mini_batch_size)
    return [(X[:, order[k * mini_batch_size:(k + 1) * mini_batch_size]],
             Y[:, order[k * mini_batch_size:(k + 1) * mini_batch_size]]) for k in range(count)]
''',
    "ewa": '''
def exponentially_weighted_averages(values, beta, bias_correction=False):
    out, v = [], 0.0
    for theta in values:
        v = beta * v + (1 - beta) * theta
        out.append(v)
    out = np.array(out)
    if bias_correction:
        out = out / (1 - np.power(beta, np.arange(1, len(out) + 1)))
    return out
''',
    "momentum": '''
def initialize_velocity(parameters):
    return {"d" + key: np.zeros(value.shape) for key, value in parameters.items()}

def update_parameters_with_momentum(parameters, grads, v, beta, learning_rate):
    v = {key: beta * v[key] + (1 - beta) * grads[key] for key in v}
    parameters = {key: value - learning_rate * v["d" + key] for key, value in parameters.items()}
    return parameters, v
''',
    "rmsprop": '''
def initialize_rmsprop(parameters):
    return {"d" + key: 0 * value for key, value in parameters.items()}

def update_parameters_with_rmsprop(parameters, grads, s, beta2, learning_rate, epsilon=1e-8):
    for key in list(parameters):
        s["d" + key] = beta2 * s["d" + key] + (1 - beta2) * grads["d" + key] * grads["d" + key]
        parameters[key] -= learning_rate * grads["d" + key] / (s["d" + key] ** 0.5 + epsilon)
    return parameters, s
''',
    "adam": '''
def initialize_adam(parameters):
    zeros = lambda: {"d" + key: np.zeros_like(value) for key, value in parameters.items()}
    return zeros(), zeros()

def update_parameters_with_adam(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999,
                                epsilon=1e-8):
    new = {}
    for key, value in parameters.items():
        g = grads["d" + key]
        v["d" + key] = beta1 * v["d" + key] + (1 - beta1) * g
        s["d" + key] = beta2 * s["d" + key] + (1 - beta2) * np.power(g, 2)
        step = (v["d" + key] / (1 - np.power(beta1, t))) / (np.sqrt(s["d" + key] / (1 - np.power(beta2, t))) + epsilon)
        new[key] = value - learning_rate * step
    return new, v, s
''',
    "decay": '''
import math

def inverse_decay(learning_rate0, epoch_num, decay_rate):
    return learning_rate0 * (1 + decay_rate * epoch_num) ** -1

def exponential_decay(learning_rate0, epoch_num, base=0.95):
    return learning_rate0 * math.pow(base, epoch_num)

def inverse_sqrt_decay(learning_rate0, epoch_num, k=1.0):
    return learning_rate0 * k / math.sqrt(epoch_num)

def staircase_decay(learning_rate0, epoch_num, decay_rate, time_interval=1000):
    return learning_rate0 / (1 + decay_rate * (epoch_num // time_interval))
''',
}

# Classic mistakes.
NO_SHUFFLE = '''
def random_mini_batches(X, Y, mini_batch_size=64, seed=0):
    return [(X[:, k:k + mini_batch_size], Y[:, k:k + mini_batch_size]) for k in range(0, X.shape[1], mini_batch_size)]
'''
EMPTY_LAST_BATCH = '''
def random_mini_batches(X, Y, mini_batch_size=64, seed=0):
    order = np.random.default_rng(seed).permutation(X.shape[1])
    X, Y = X[:, order], Y[:, order]
    count = X.shape[1] // mini_batch_size + 1
    return [(X[:, k * mini_batch_size:(k + 1) * mini_batch_size], Y[:, k * mini_batch_size:(k + 1) * mini_batch_size])
            for k in range(count)]
'''
MOMENTUM_WITHOUT_ONE_MINUS_BETA = '''
def initialize_velocity(parameters):
    return {"d" + key: np.zeros_like(value) for key, value in parameters.items()}

def update_parameters_with_momentum(parameters, grads, v, beta, learning_rate):
    for key in parameters:
        v["d" + key] = beta * v["d" + key] + grads["d" + key]
        parameters[key] = parameters[key] - learning_rate * v["d" + key]
    return parameters, v
'''
RMSPROP_EPSILON_INSIDE = '''
def initialize_rmsprop(parameters):
    return {"d" + key: np.zeros_like(value) for key, value in parameters.items()}

def update_parameters_with_rmsprop(parameters, grads, s, beta2, learning_rate, epsilon=1e-8):
    for key in parameters:
        s["d" + key] = beta2 * s["d" + key] + (1 - beta2) * grads["d" + key] ** 2
        parameters[key] = parameters[key] - learning_rate * grads["d" + key] / np.sqrt(s["d" + key] + epsilon)
    return parameters, s
'''
ADAM_WITHOUT_BIAS_CORRECTION = '''
def initialize_adam(parameters):
    return ({"d" + key: np.zeros_like(value) for key, value in parameters.items()},
            {"d" + key: np.zeros_like(value) for key, value in parameters.items()})

def update_parameters_with_adam(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999,
                                epsilon=1e-8):
    for key in parameters:
        v["d" + key] = beta1 * v["d" + key] + (1 - beta1) * grads["d" + key]
        s["d" + key] = beta2 * s["d" + key] + (1 - beta2) * grads["d" + key] ** 2
        parameters[key] = parameters[key] - learning_rate * v["d" + key] / (np.sqrt(s["d" + key]) + epsilon)
    return parameters, v, s
'''
ADAM_T_FROM_ZERO = ADAM_WITHOUT_BIAS_CORRECTION.replace(
    'v["d" + key] / (np.sqrt(s["d" + key]) + epsilon)',
    '(v["d" + key] / (1 - beta1 ** (t - 1))) / (np.sqrt(s["d" + key] / (1 - beta2 ** (t - 1))) + epsilon)')
ADAM_ONLY_W = ADAM_WITHOUT_BIAS_CORRECTION.replace("    for key in parameters:\n", "    for key in [k for k in parameters if k[0] == 'W']:\n").replace(
    'v["d" + key] / (np.sqrt(s["d" + key]) + epsilon)',
    '(v["d" + key] / (1 - beta1 ** t)) / (np.sqrt(s["d" + key] / (1 - beta2 ** t)) + epsilon)')
STAIRCASE_WITHOUT_FLOOR = '''
def inverse_decay(learning_rate0, epoch_num, decay_rate):
    return learning_rate0 / (1 + decay_rate * epoch_num)

def exponential_decay(learning_rate0, epoch_num, base=0.95):
    return base ** epoch_num * learning_rate0

def inverse_sqrt_decay(learning_rate0, epoch_num, k=1.0):
    return k / np.sqrt(epoch_num) * learning_rate0

def staircase_decay(learning_rate0, epoch_num, decay_rate, time_interval=1000):
    return learning_rate0 / (1 + decay_rate * epoch_num / time_interval)
'''
# Tricks: silence the visible checks and the course's comparison in the kernel, then hand in two mistakes.
SILENCED_CHECKS = '''
import idnn.checks.optimization as visible_checks
visible_checks._explain = lambda *args, **kwargs: None
visible_checks.problems_with = lambda *args, **kwargs: []
import idnn.checks.compare
idnn.checks.compare.close = lambda *args, **kwargs: True
''' + NO_SHUFFLE

SOLVED = {cell: SOLUTION for cell in ANSWERS}
SAMPLES = [
    Sample("perfect", "the reference solution in every answer cell", answers=SOLVED, expected=POINTS),
    Sample("blank", "the release as handed out, nothing written"),
    Sample("alternative", "correct answers written differently", answers=ALTERNATIVE, expected=POINTS),
    Sample("partial", "momentum without (1 - beta), RMSprop with epsilon inside the root, Adam without bias "
           "correction and a staircase without its floor; the rest right",
           answers={**SOLVED, "momentum": MOMENTUM_WITHOUT_ONE_MINUS_BETA, "rmsprop": RMSPROP_EPSILON_INSIDE,
                    "adam": ADAM_WITHOUT_BIAS_CORRECTION, "decay": STAIRCASE_WITHOUT_FLOOR},
           expected={"test_gd": 1, "test_mini_batches": 2, "test_ewa": 2}),
    # The patched compare.close also makes the visible check of the (correct) averages raise, so that cell scores 0.
    Sample("cheater", "silenced visible checks and compare.close over unshuffled mini-batches and Adam without bias "
           "correction; the patch also trips the check of the correct averages",
           answers={**SOLVED, "mini_batches": SILENCED_CHECKS, "adam": ADAM_WITHOUT_BIAS_CORRECTION},
           expected={key: points for key, points in POINTS.items()
                     if key not in ("test_mini_batches", "test_adam", "test_ewa")}),
]

# -- An attack on the mini-batches' property check (issue 10): an order that is not a shuffle. The answer cell also
# rebinds the visible check's name to a no-op, as an attacker can, so that the hidden check alone decides.
REVERSED_MINI_BATCHES = "check_random_mini_batches = lambda *args, **kwargs: None  # the visible check, skipped\n" + '''
def random_mini_batches(X, Y, mini_batch_size=64, seed=0):
    # Every example once with its label, and almost none where it was: but only reversed, not shuffled.
    order = np.arange(X.shape[1])[::-1]
    return [(X[:, order[k:k + mini_batch_size]], Y[:, order[k:k + mini_batch_size]])
            for k in range(0, X.shape[1], mini_batch_size)]
'''
SAMPLES += [
    Sample("reversed_batches", "attack: mini-batches of the examples in reverse order (visible check skipped); the "
           "rest right", answers={**SOLVED, "mini_batches": REVERSED_MINI_BATCHES},
           expected={key: points for key, points in POINTS.items() if key != "test_mini_batches"}),
]

# -- An attack on the boundary (issue 10, item 6): answers that delegate every update to whatever the package offers,
# as an attacker would, searching every module of idnn that imports for a step or the exercise itself. The visible
# checks used to hold one (idnn.checks.optimization._step: gradient descent, momentum, RMSprop and Adam, with
# idnn.nets.update_parameters for the plain step): these answers then earned full marks. Now nothing the sandbox can
# import computes an update, so the four cells score 0 (the initialisations are right); the other cells are solved.
_FIND_IN_IDNN = '''
import importlib
import pkgutil

import idnn

def _found_in_idnn(*names):
    """The first callable with one of these names in any module of idnn that imports (never a __main__)."""
    for info in pkgutil.walk_packages(idnn.__path__, "idnn.", onerror=lambda name: None):
        if info.name.rpartition(".")[2] == "__main__":
            continue
        try:
            module = importlib.import_module(info.name)
        except Exception:
            continue
        for name in names:
            if callable(getattr(module, name, None)):
                return getattr(module, name)
    raise NotImplementedError(f"nothing in idnn to delegate to ({', '.join(names)})")
'''
_ZEROS = '''
def _zeros_like(parameters):
    return {"d" + key: np.zeros_like(value) for key, value in parameters.items()}
'''
DELEGATE_TO_IDNN = {
    "gd": _FIND_IN_IDNN + '''
def update_parameters_with_gd(parameters, grads, learning_rate):
    try:
        return _found_in_idnn("_step")("gd", parameters, grads, None, learning_rate)[0]
    except NotImplementedError:
        return _found_in_idnn("update_parameters", "update_parameters_with_gd")(parameters, grads, learning_rate)
''',
    "momentum": _FIND_IN_IDNN + _ZEROS + '''
def initialize_velocity(parameters):
    return _zeros_like(parameters)

def update_parameters_with_momentum(parameters, grads, v, beta, learning_rate):
    try:
        return _found_in_idnn("_step")("momentum", parameters, grads, v, learning_rate, beta=beta)
    except NotImplementedError:
        return _found_in_idnn("update_parameters_with_momentum")(parameters, grads, v, beta, learning_rate)
''',
    "rmsprop": _FIND_IN_IDNN + _ZEROS + '''
def initialize_rmsprop(parameters):
    return _zeros_like(parameters)

def update_parameters_with_rmsprop(parameters, grads, s, beta2, learning_rate, epsilon=1e-8):
    try:
        return _found_in_idnn("_step")("rmsprop", parameters, grads, s, learning_rate, beta2=beta2, epsilon=epsilon)
    except NotImplementedError:
        return _found_in_idnn("update_parameters_with_rmsprop")(parameters, grads, s, beta2, learning_rate, epsilon)
''',
    "adam": _FIND_IN_IDNN + _ZEROS + '''
def initialize_adam(parameters):
    return _zeros_like(parameters), _zeros_like(parameters)

def update_parameters_with_adam(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999,
                                epsilon=1e-8):
    try:
        return _found_in_idnn("_step")("adam", parameters, grads, (v, s), learning_rate, beta=beta1, beta2=beta2,
                                       epsilon=epsilon, t=t)
    except NotImplementedError:
        return _found_in_idnn("update_parameters_with_adam")(parameters, grads, v, s, t, learning_rate, beta1,
                                                             beta2, epsilon)
''',
}
SAMPLES += [
    Sample("delegator", "attack: every update delegated to whatever idnn offers (a step of the visible checks, "
           "nets' update); nothing importable computes one now, so those four cells score 0; the rest right",
           answers={**SOLVED, **DELEGATE_TO_IDNN},
           expected={"test_mini_batches": 2, "test_ewa": 2, "test_decay": 2}),
]

# -- Attacks on the mini-batches' property check (issue 10, second round), the visible check skipped: a fixed order
# with no random number, (k * arange(m)) % m for k about m / 2 (its ascents and halves look like a shuffle's), and an
# order random within each half of the examples but interleaved, low, high, low, high (ascents and halves again right).
SKIP_VISIBLE_BATCHES_CHECK = "check_random_mini_batches = lambda *args, **kwargs: None  # the visible check, skipped\n"
STEPPED_MINI_BATCHES = SKIP_VISIBLE_BATCHES_CHECK + '''
import math

def random_mini_batches(X, Y, mini_batch_size=64, seed=0):
    # The seed is ignored: the examples in the order j -> k * j mod m, k about m / 2 and coprime with m.
    m = X.shape[1]
    k = m // 2
    while math.gcd(k, m) != 1:
        k += 1
    order = (k * np.arange(m)) % m
    return [(X[:, order[s:s + mini_batch_size]], Y[:, order[s:s + mini_batch_size]])
            for s in range(0, m, mini_batch_size)]
'''
INTERLEAVED_MINI_BATCHES = SKIP_VISIBLE_BATCHES_CHECK + '''
def random_mini_batches(X, Y, mini_batch_size=64, seed=0):
    # Each half of the examples shuffled on its own, then dealt alternately: one of the first half, one of the second.
    rng = np.random.default_rng(seed)
    m = X.shape[1]
    order = np.empty(m, dtype=int)
    order[0::2] = rng.permutation((m + 1) // 2)
    order[1::2] = (m + 1) // 2 + rng.permutation(m // 2)
    return [(X[:, order[s:s + mini_batch_size]], Y[:, order[s:s + mini_batch_size]])
            for s in range(0, m, mini_batch_size)]
'''
WITHOUT_MINI_BATCHES = {key: points for key, points in POINTS.items() if key != "test_mini_batches"}
SAMPLES += [
    Sample("stepped_batches", "attack: mini-batches in the fixed order k j mod m, no random number (visible check "
           "skipped); the rest right", answers={**SOLVED, "mini_batches": STEPPED_MINI_BATCHES},
           expected=WITHOUT_MINI_BATCHES),
    Sample("interleaved_batches", "attack: each half of the examples shuffled, then dealt low, high, low, high "
           "(visible check skipped); the rest right", answers={**SOLVED, "mini_batches": INTERLEAVED_MINI_BATCHES},
           expected=WITHOUT_MINI_BATCHES),
]
