"""Sample submissions for the Regularization assignment (15 points: 1, 1, 2, 2, 3, 2, 2, 1, 1)."""

from .model import SOLUTION, Sample

ASSIGNMENT = "regularization"
NOTEBOOK = "regularization"
SOLUTION_PLACEHOLDER = "# <solution follows>\n"

POINTS = {"test_l2_cost": 1, "test_l2_backward": 1, "test_l1": 2, "test_dropout_pieces": 2,
          "test_dropout_network": 3, "test_early_stopping": 2, "test_flip_shift": 2, "test_noise": 1,
          "test_ensemble": 1}
ALL_TESTS = list(POINTS)
ANSWERS = ["l2_cost", "l2_backward", "l1", "dropout_pieces", "dropout_network", "early_stopping", "flip_shift",
           "noise", "ensemble"]

# Correct, written differently: Frobenius norms, new dicts, boolean masks from a Generator, np.where, a while
# loop, np.roll with the wrapped pixels cleared, a sum over models, and a subgradient of -1 at zero.
ALTERNATIVE = {
    "l2_cost": '''
def compute_cost_with_l2(Y_hat, Y, parameters, lambd):
    squares = 0.0
    for key, W in parameters.items():
        if key.startswith("W"):
            squares += np.linalg.norm(W, "fro") ** 2
    return nets.compute_cost(Y_hat, Y) + squares * lambd / (2 * Y.shape[1])
''',
    "l2_backward": '''
def backward_propagation_with_l2(Y_hat, Y, cache, parameters, lambd):
    grads = nets.backward_propagation(Y_hat, Y, cache, parameters)
    return {key: value + (lambd / Y.shape[1]) * parameters[key[1:]] if key.startswith("dW") else value
            for key, value in grads.items()}
''',
    "l1": '''
def compute_cost_with_l1(Y_hat, Y, parameters, lambd):
    weights = np.concatenate([W.ravel() for key, W in parameters.items() if key[0] == "W"])
    return nets.compute_cost(Y_hat, Y) + lambd * np.linalg.norm(weights, 1) / Y.shape[1]

def backward_propagation_with_l1(Y_hat, Y, cache, parameters, lambd):
    grads = nets.backward_propagation(Y_hat, Y, cache, parameters)
    for key, W in parameters.items():
        if key[0] == "W":
            grads["d" + key] = grads["d" + key] + lambd / Y.shape[1] * np.where(W > 0, 1.0, -1.0)
    return grads
''',
    "dropout_pieces": '''
generator = np.random.default_rng()

def dropout_forward(A, keep_prob):
    D = generator.random(A.shape) < keep_prob
    return np.where(D, A / keep_prob, 0.0), D

def dropout_backward(dA, D, keep_prob):
    return np.where(D, dA / keep_prob, 0.0)
''',
    "dropout_network": '''
def forward_propagation_with_dropout(X, parameters, keep_probs):
    L = nets.num_layers(parameters)
    cache, A = [], X
    for l in range(1, L):
        Z = np.dot(parameters["W" + str(l)], A) + parameters["b" + str(l)]
        A_next, D = dropout_forward(np.maximum(Z, 0), keep_probs[l - 1])
        cache.append((A, Z, D))
        A = A_next
    Z = np.dot(parameters["W" + str(L)], A) + parameters["b" + str(L)]
    cache.append((A, Z, np.ones(Z.shape)))
    return 1 / (1 + np.exp(-Z)), cache

def backward_propagation_with_dropout(Y_hat, Y, cache, parameters, keep_probs):
    m, L = Y.shape[1], len(cache)
    grads, dA = {}, None
    for l in reversed(range(1, L + 1)):
        A_prev, Z, D = cache[l - 1]
        if l == L:
            dZ = Y_hat - Y
        else:
            dZ = dropout_backward(dA, D, keep_probs[l - 1]) * (Z > 0)
        grads["dW" + str(l)] = np.dot(dZ, A_prev.T) / m
        grads["db" + str(l)] = dZ.sum(axis=1, keepdims=True) / m
        dA = np.dot(parameters["W" + str(l)].T, dZ)
    return grads
''',
    "early_stopping": '''
def early_stopping(parameters, train_epoch, dev_cost, num_epochs, patience):
    dev_costs = [dev_cost(parameters)]
    best_epoch = 0
    best_parameters = {key: value.copy() for key, value in parameters.items()}
    epoch = 0
    while epoch < num_epochs and epoch - best_epoch < patience:
        epoch += 1
        parameters = train_epoch(parameters)
        dev_costs.append(dev_cost(parameters))
        if dev_costs[-1] < min(dev_costs[:-1]):
            best_epoch = epoch
            best_parameters = {key: value.copy() for key, value in parameters.items()}
    return best_parameters, best_epoch, dev_costs
''',
    "flip_shift": '''
def flip_horizontal(images):
    return np.flip(images, axis=2)

def shift_images(images, dy, dx):
    moved = np.roll(images, (dy, dx), axis=(1, 2))
    if dy > 0:
        moved[:, :dy, :] = 0
    elif dy < 0:
        moved[:, dy:, :] = 0
    if dx > 0:
        moved[:, :, :dx] = 0
    elif dx < 0:
        moved[:, :, dx:] = 0
    return moved
''',
    "noise": '''
def add_noise(images, sigma):
    return images + np.random.default_rng().normal(0.0, sigma, size=images.shape)
''',
    "ensemble": '''
def ensemble_predict(X, models):
    total = 0
    for parameters in models:
        total = total + nets.forward_propagation(X, parameters)[0]
    Y_hat = total / len(models)
    return Y_hat, np.where(Y_hat > 0.5, 1, 0)
''',
}

# Mistakes, one per exercise, each a classic.
L2_COST_WITHOUT_HALF = '''
def compute_cost_with_l2(Y_hat, Y, parameters, lambd):
    L = nets.num_layers(parameters)
    return nets.compute_cost(Y_hat, Y) + lambd / Y.shape[1] * sum(np.sum(parameters[f"W{l}"] ** 2) for l in range(1, L + 1))
'''
L2_BACKWARD_ON_BIASES_TOO = '''
def backward_propagation_with_l2(Y_hat, Y, cache, parameters, lambd):
    grads = nets.backward_propagation(Y_hat, Y, cache, parameters)
    return {key: value + lambd / Y.shape[1] * parameters[key[1:]] for key, value in grads.items()}
'''
L1_WITH_HALF = '''
def compute_cost_with_l1(Y_hat, Y, parameters, lambd):
    L = nets.num_layers(parameters)
    return nets.compute_cost(Y_hat, Y) + lambd / (2 * Y.shape[1]) * sum(np.sum(np.abs(parameters[f"W{l}"])) for l in range(1, L + 1))

def backward_propagation_with_l1(Y_hat, Y, cache, parameters, lambd):
    grads = nets.backward_propagation(Y_hat, Y, cache, parameters)
    for l in range(1, nets.num_layers(parameters) + 1):
        grads[f"dW{l}"] = grads[f"dW{l}"] + lambd / (2 * Y.shape[1]) * np.sign(parameters[f"W{l}"])
    return grads
'''
DROPOUT_NOT_INVERTED = '''
def dropout_forward(A, keep_prob):
    D = np.random.rand(*A.shape) < keep_prob
    return A * D, D

def dropout_backward(dA, D, keep_prob):
    return dA * D
'''
DROPS_WITH_KEEP_PROB = '''
def dropout_forward(A, keep_prob):
    D = (np.random.rand(*A.shape) < 1 - keep_prob).astype(float)
    return A * D / keep_prob, D

def dropout_backward(dA, D, keep_prob):
    return dA * D / keep_prob
'''
ONE_MASK_PER_UNIT = '''
def dropout_forward(A, keep_prob):
    D = (np.random.rand(A.shape[0], 1) < keep_prob) * np.ones(A.shape)
    return A * D / keep_prob, D

def dropout_backward(dA, D, keep_prob):
    return dA * D / keep_prob
'''
BACKWARD_DRAWS_NEW_MASKS = '''
def forward_propagation_with_dropout(X, parameters, keep_probs):
    L = nets.num_layers(parameters)
    A, cache = X, []
    for l in range(1, L + 1):
        A_prev = A
        Z = parameters[f"W{l}"] @ A_prev + parameters[f"b{l}"]
        if l < L:
            A, D = dropout_forward(nets.relu(Z), keep_probs[l - 1])
        else:
            A, D = nets.sigmoid(Z), np.ones_like(Z)
        cache.append((A_prev, Z, D))
    return A, cache

def backward_propagation_with_dropout(Y_hat, Y, cache, parameters, keep_probs):
    L, m = len(cache), Y.shape[1]
    grads, dZ = {}, Y_hat - Y
    for l in range(L, 0, -1):
        A_prev, _, _ = cache[l - 1]
        grads[f"dW{l}"] = dZ @ A_prev.T / m
        grads[f"db{l}"] = np.sum(dZ, axis=1, keepdims=True) / m
        if l > 1:
            _, Z_prev, _ = cache[l - 2]
            _, D_new = dropout_forward(np.ones_like(Z_prev), keep_probs[l - 2])   # a new mask: wrong
            dZ = dropout_backward(parameters[f"W{l}"].T @ dZ, D_new, keep_probs[l - 2]) * (Z_prev > 0)
    return grads
'''
EARLY_STOPPING_WITHOUT_COPY = '''
def early_stopping(parameters, train_epoch, dev_cost, num_epochs, patience):
    dev_costs = [dev_cost(parameters)]
    best_epoch, best_parameters = 0, parameters
    for epoch in range(1, num_epochs + 1):
        parameters = train_epoch(parameters)
        dev_costs.append(dev_cost(parameters))
        if dev_costs[epoch] < dev_costs[best_epoch]:
            best_epoch, best_parameters = epoch, parameters
        elif epoch - best_epoch >= patience:
            break
    return best_parameters, best_epoch, dev_costs
'''
SHIFT_WITH_ROLL = '''
def shift_images(images, dy, dx):
    return np.roll(images, (dy, dx), axis=(1, 2))
'''
UNIFORM_NOISE = '''
def add_noise(images, sigma):
    return images + sigma * np.sqrt(12) * (np.random.rand(*images.shape) - 0.5)
'''
MAJORITY_VOTE = '''
def ensemble_predict(X, models):
    votes = np.mean([nets.predict(X, parameters) for parameters in models], axis=0)
    return votes, (votes > 0.5).astype(int)
'''
# Tricks: silence the property checks and the course's comparison in the kernel, then skip the 1/keep_prob scaling;
# and an ensemble that returns arrays claiming to equal anything.
SILENCED_CHECKS = '''
import idnn.checks.regularization as visible_checks
visible_checks.problems_with = lambda *args, **kwargs: []
import idnn.checks.compare
idnn.checks.compare.first_difference = lambda *args, **kwargs: None  # every value matches

def dropout_forward(A, keep_prob):
    D = np.random.rand(*A.shape) < keep_prob
    return A * D, D

def dropout_backward(dA, D, keep_prob):
    return dA * D
'''
ALWAYS_EQUAL_ENSEMBLE = '''
class Anything(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(other), dtype=bool)

def ensemble_predict(X, models):
    Y_hat = nets.forward_propagation(X, models[0])[0]
    return Y_hat.view(Anything), (Y_hat > 0.5).view(Anything)
'''

SOLVED = {cell: SOLUTION for cell in ANSWERS}
SAMPLES = [
    Sample("perfect", "the reference solution in every answer cell", answers=SOLVED, expected=POINTS),
    Sample("blank", "the release as handed out, nothing written"),
    Sample("alternative", "correct answers written differently", answers=ALTERNATIVE, expected=POINTS),
    Sample("partial", "L2 cost without its 1/2, a backward pass drawing new masks, early stopping without a copy, "
           "uniform noise and a majority vote; the rest right",
           answers={**SOLVED, "l2_cost": L2_COST_WITHOUT_HALF, "dropout_network": BACKWARD_DRAWS_NEW_MASKS,
                    "early_stopping": EARLY_STOPPING_WITHOUT_COPY, "noise": UNIFORM_NOISE,
                    "ensemble": MAJORITY_VOTE},
           expected={"test_l2_backward": 1, "test_l1": 2, "test_dropout_pieces": 2, "test_flip_shift": 2}),
    Sample("cheater", "silenced visible checks and compare.first_difference over dropout without scaling, and an "
           "ensemble of one model whose arrays equal anything",
           answers={**SOLVED, "dropout_pieces": SILENCED_CHECKS, "ensemble": ALWAYS_EQUAL_ENSEMBLE},
           expected={key: points for key, points in POINTS.items()
                     if key not in ("test_dropout_pieces", "test_dropout_network", "test_ensemble")}),
]

# -- Attacks on the mask and noise property checks (issue 10): draws that look random and are not. Each answer
# cell also rebinds the visible checks' names to no-ops, as an attacker can, so that the hidden checks alone decide.
SKIP_VISIBLE_DROPOUT_CHECKS = (
    "check_dropout_forward = check_dropout_backward = lambda *args, **kwargs: None  # the visible checks, skipped\n"
    "check_forward_propagation_with_dropout = check_backward_propagation_with_dropout = lambda *args, **kwargs: None\n")
LATTICE_MASKS = SKIP_VISIBLE_DROPOUT_CHECKS + '''
_shift = [0]

def dropout_forward(A, keep_prob):
    # No random number: entry (i, j) is dropped where frac((i + j + shift) * (1 - keep_prob)) < 1 - keep_prob, the
    # right share of every row and column (for keep_prob 0.8: where (i + j + shift) % 5 == 0), shifted on each call.
    _shift[0] += 1
    q = 1 - keep_prob
    t = np.add.outer(np.arange(A.shape[0]), np.arange(A.shape[1])) + _shift[0]
    D = ((t * q) % 1 >= q).astype(A.dtype)
    return A * D / keep_prob, D

def dropout_backward(dA, D, keep_prob):
    return dA * D / keep_prob
'''
SKIP_VISIBLE_NOISE_CHECK = "check_add_noise = lambda *args, **kwargs: None  # the visible check, skipped\n"
THREE_POINT_NOISE = SKIP_VISIBLE_NOISE_CHECK + '''
def add_noise(images, sigma):
    # Mean 0, standard deviation sigma and kurtosis exactly 3, like a normal, but only three values.
    steps = np.random.choice([-1.0, 0.0, 1.0], p=[1 / 6, 2 / 3, 1 / 6], size=images.shape)
    return images + sigma * np.sqrt(3) * steps
'''
BROADCAST_NOISE = SKIP_VISIBLE_NOISE_CHECK + '''
def add_noise(images, sigma):
    # Normal draws of the right spread, but one for each column of an image, the same all down its rows.
    m, height, width = images.shape
    return images + sigma * np.random.randn(m, 1, width)
'''
SAMPLES += [
    Sample("lattice_masks", "attack: dropout masks on a shifted lattice with the right share kept (visible checks "
           "skipped); the network, which uses them, fails too; the rest right",
           answers={**SOLVED, "dropout_pieces": LATTICE_MASKS},
           expected={key: points for key, points in POINTS.items()
                     if key not in ("test_dropout_pieces", "test_dropout_network")}),
    Sample("three_point_noise", "attack: noise of three values with the mean, spread and kurtosis of a normal "
           "(visible check skipped); the rest right", answers={**SOLVED, "noise": THREE_POINT_NOISE},
           expected={key: points for key, points in POINTS.items() if key != "test_noise"}),
    Sample("broadcast_noise", "attack: normal noise drawn once per image column and copied down its rows (visible "
           "check skipped); the rest right", answers={**SOLVED, "noise": BROADCAST_NOISE},
           expected={key: points for key, points in POINTS.items() if key != "test_noise"}),
]

# -- No hidden code in the feedback (issue 10): a wrong early stopping (no copy of the best parameters), so that its
# verdict describes the call it failed, whose arguments include functions the hidden check defined; the answer also
# prints them (their repr names the hidden code). The visible check is skipped so that the hidden one runs.
SHOWS_HIDDEN_FUNCTIONS = ("check_early_stopping = lambda *args, **kwargs: None  # the visible check, skipped\n"
                          + EARLY_STOPPING_WITHOUT_COPY.replace(
                              "    dev_costs = [dev_cost(parameters)]\n",
                              "    print('training with', train_epoch, 'judged by', dev_cost)\n"
                              "    dev_costs = [dev_cost(parameters)]\n"))
SAMPLES += [
    Sample("shows_functions", "early stopping without a copy, printing the functions it is given (visible check "
           "skipped): that exercise fails, and neither its verdict nor its output names the hidden code",
           answers={**SOLVED, "early_stopping": SHOWS_HIDDEN_FUNCTIONS},
           expected={key: points for key, points in POINTS.items() if key != "test_early_stopping"}),
]

# -- Attacks on the mask and noise property checks (issue 10, second round), the visible checks skipped: a mask or
# noise drawn once per shape and reused by later calls shifted by one column (np.roll), which the same-entry
# comparison of two calls cannot see; and masks or noise with column 2k copied from column 2k - 1 and row 2r from
# row 2r - 1, across the boundaries of the disjoint pairs (0, 1), (2, 3), ... that the neighbour tests compared.
ROLLED_MASKS = SKIP_VISIBLE_DROPOUT_CHECKS + '''
_masks = {}

def dropout_forward(A, keep_prob):
    # One mask per shape, drawn on the first call; every later call reuses it moved one column on.
    if A.shape in _masks:
        _masks[A.shape] = np.roll(_masks[A.shape], 1, axis=1)
    else:
        _masks[A.shape] = (np.random.rand(*A.shape) < keep_prob).astype(A.dtype)
    D = _masks[A.shape]
    return A * D / keep_prob, D

def dropout_backward(dA, D, keep_prob):
    return dA * D / keep_prob
'''
COPIED_NEIGHBOUR_MASKS = SKIP_VISIBLE_DROPOUT_CHECKS + '''
def dropout_forward(A, keep_prob):
    # A fresh mask, but column 2k is column 2k - 1 again and row 2r is row 2r - 1 again.
    D = (np.random.rand(*A.shape) < keep_prob).astype(A.dtype)
    D[:, 2::2] = D[:, 1:D.shape[1] - 1:2]
    D[2::2, :] = D[1:D.shape[0] - 1:2, :]
    return A * D / keep_prob, D

def dropout_backward(dA, D, keep_prob):
    return dA * D / keep_prob
'''
ROLLED_NOISE = SKIP_VISIBLE_NOISE_CHECK + '''
_noise = {}

def add_noise(images, sigma):
    # Noise of one shape drawn on the first call; every later call reuses it moved one column on.
    if images.shape in _noise:
        _noise[images.shape] = np.roll(_noise[images.shape], 1, axis=2)
    else:
        _noise[images.shape] = sigma * np.random.randn(*images.shape)
    return images + _noise[images.shape]
'''
COPIED_NEIGHBOUR_NOISE = SKIP_VISIBLE_NOISE_CHECK + '''
def add_noise(images, sigma):
    # Fresh normal noise, but in every image column 2k is column 2k - 1 again and row 2r is row 2r - 1 again.
    noise = sigma * np.random.randn(*images.shape)
    noise[:, :, 2::2] = noise[:, :, 1:noise.shape[2] - 1:2]
    noise[:, 2::2, :] = noise[:, 1:noise.shape[1] - 1:2, :]
    return images + noise
'''
SAMPLES += [
    Sample("rolled_masks", "attack: one dropout mask per shape, reused by later calls moved one column on (visible "
           "checks skipped); the network, which draws each of its masks once, passes; the rest right",
           answers={**SOLVED, "dropout_pieces": ROLLED_MASKS},
           expected={key: points for key, points in POINTS.items() if key != "test_dropout_pieces"},
           # With the training demonstrations run, a hidden check's layer of a shape a demonstration used gets
           # that demonstration's mask (keep_prob 1, all ones), and the network fails as well.
           stateful=("test_dropout_network",)),
    Sample("copied_masks", "attack: dropout masks with column 2k copied from column 2k - 1 and row 2r from row 2r - 1 "
           "(visible checks skipped); the network, which uses them, fails too; the rest right",
           answers={**SOLVED, "dropout_pieces": COPIED_NEIGHBOUR_MASKS},
           expected={key: points for key, points in POINTS.items()
                     if key not in ("test_dropout_pieces", "test_dropout_network")}),
    Sample("rolled_noise", "attack: noise drawn once per shape, reused by later calls moved one column on (visible "
           "check skipped); the rest right", answers={**SOLVED, "noise": ROLLED_NOISE},
           expected={key: points for key, points in POINTS.items() if key != "test_noise"}),
    Sample("copied_noise", "attack: normal noise with column 2k copied from column 2k - 1 and row 2r from row 2r - 1 "
           "in every image (visible check skipped); the rest right", answers={**SOLVED, "noise": COPIED_NEIGHBOUR_NOISE},
           expected={key: points for key, points in POINTS.items() if key != "test_noise"}),
]
