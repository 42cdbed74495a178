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
# Tricks: silence the visible checks and np.allclose in the kernel, then hand in two mistakes.
SILENCED_CHECKS = '''
import idnn.checks.optimization as visible_checks
visible_checks._explain = lambda *args, **kwargs: None
visible_checks.problems_with = lambda *args, **kwargs: []
np.allclose = lambda *args, **kwargs: True
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
    # The patched np.allclose also makes the visible check of the (correct) averages raise, so that cell scores 0.
    Sample("cheater", "silenced visible checks and np.allclose over unshuffled mini-batches and Adam without bias "
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
