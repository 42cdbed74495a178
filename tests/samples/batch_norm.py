"""Sample submissions for the Batch normalization assignment (8 points: 2, 3, 1, 2)."""

from .model import SOLUTION, Sample

ASSIGNMENT = "batch_norm"
NOTEBOOK = "batch_norm"
SOLUTION_PLACEHOLDER = "# <solution follows>\n"

POINTS = {"test_batchnorm_forward": 2, "test_batchnorm_backward": 3, "test_running_averages": 1,
          "test_batchnorm_forward_test": 2}
ALL_TESTS = list(POINTS)
ANSWERS = ["batchnorm_forward", "batchnorm_backward", "update_running_averages", "batchnorm_forward_test"]

# Correct, written differently: np.var and reshape instead of keepdims, a dict cache, the staged CS231n backward pass
# through the computational graph (not the compact formula), loops over the units, np.divide and ** 0.5.
ALTERNATIVE = {
    "batchnorm_forward": '''
def batchnorm_forward(Z, gamma, beta, eps=1e-5):
    n = Z.shape[0]
    mu = Z.mean(axis=1).reshape(n, 1)
    var = np.var(Z, axis=1).reshape(n, 1)
    centred = Z - mu
    inverse_std = 1.0 / np.sqrt(var + eps)
    Z_norm = centred * inverse_std
    out = Z_norm * gamma + beta
    return out, {"centred": centred, "inverse_std": inverse_std, "var": var, "eps": eps, "gamma": gamma,
                 "Z_norm": Z_norm}
''',
    "batchnorm_backward": '''
def batchnorm_backward(dZ_tilde, cache):
    n, m = dZ_tilde.shape
    centred, inverse_std, gamma = cache["centred"], cache["inverse_std"], cache["gamma"]
    dbeta = dZ_tilde.sum(axis=1).reshape(n, 1)
    dgamma = (dZ_tilde * cache["Z_norm"]).sum(axis=1).reshape(n, 1)
    dZ_norm = dZ_tilde * gamma
    # Z_norm = centred * inverse_std, inverse_std = (var + eps) ** -0.5, var = mean(centred ** 2), centred = Z - mu
    dinverse_std = (dZ_norm * centred).sum(axis=1).reshape(n, 1)
    dvar = dinverse_std * -0.5 * (cache["var"] + cache["eps"]) ** -1.5
    dcentred = dZ_norm * inverse_std + dvar * 2.0 * centred / m
    dmu = -dcentred.sum(axis=1).reshape(n, 1)
    dZ = dcentred + dmu / m
    return dZ, dgamma, dbeta
''',
    "update_running_averages": '''
def update_running_averages(running_mean, running_var, mu, var, momentum=0.9):
    new_mean = np.zeros_like(running_mean, dtype=float)
    new_var = np.zeros_like(running_var, dtype=float)
    for unit in range(running_mean.shape[0]):
        new_mean[unit] = running_mean[unit] + (1 - momentum) * (mu[unit] - running_mean[unit])
        new_var[unit] = running_var[unit] + (1 - momentum) * (var[unit] - running_var[unit])
    return new_mean, new_var
''',
    "batchnorm_forward_test": '''
def batchnorm_forward_test(Z, gamma, beta, running_mean, running_var, eps=1e-5):
    rows = []
    for unit in range(Z.shape[0]):
        Z_norm = np.divide(Z[unit] - running_mean[unit, 0], (running_var[unit, 0] + eps) ** 0.5)
        rows.append(gamma[unit, 0] * Z_norm + beta[unit, 0])
    return np.array(rows)
''',
}

# Classic mistakes.
BACKWARD_MU_VAR_CONSTANT = '''
def batchnorm_backward(dZ_tilde, cache):
    Z_norm, gamma, std = cache
    dbeta = np.sum(dZ_tilde, axis=1, keepdims=True)
    dgamma = np.sum(dZ_tilde * Z_norm, axis=1, keepdims=True)
    dZ = gamma * dZ_tilde / std
    return dZ, dgamma, dbeta
'''
BACKWARD_DGAMMA_WITHOUT_Z_NORM = '''
def batchnorm_backward(dZ_tilde, cache):
    Z_norm, gamma, std = cache
    m = dZ_tilde.shape[1]
    dbeta = np.sum(dZ_tilde, axis=1, keepdims=True)
    dgamma = np.sum(dZ_tilde, axis=1, keepdims=True)
    dZ = gamma / (m * std) * (m * dZ_tilde - dbeta - Z_norm * np.sum(dZ_tilde * Z_norm, axis=1, keepdims=True))
    return dZ, dgamma, dbeta
'''
BACKWARD_DBETA_WRONG_AXIS = '''
def batchnorm_backward(dZ_tilde, cache):
    Z_norm, gamma, std = cache
    m = dZ_tilde.shape[1]
    dbeta = np.sum(dZ_tilde, axis=0, keepdims=True)
    dgamma = np.sum(dZ_tilde * Z_norm, axis=1, keepdims=True)
    dZ = gamma / (m * std) * (m * dZ_tilde - np.sum(dZ_tilde, axis=1, keepdims=True) - Z_norm * dgamma)
    return dZ, dgamma, dbeta
'''
# The unbiased variance, in the forward pass and (consistently) in its staged backward pass.
FORWARD_UNBIASED_VARIANCE = '''
def batchnorm_forward(Z, gamma, beta, eps=1e-5):
    mu = np.mean(Z, axis=1, keepdims=True)
    var = np.var(Z, axis=1, ddof=1, keepdims=True)
    Z_norm = (Z - mu) / np.sqrt(var + eps)
    return gamma * Z_norm + beta, (Z, mu, var, eps, gamma, Z_norm)
'''
BACKWARD_UNBIASED_VARIANCE = '''
def batchnorm_backward(dZ_tilde, cache):
    Z, mu, var, eps, gamma, Z_norm = cache
    m = Z.shape[1]
    dbeta = np.sum(dZ_tilde, axis=1, keepdims=True)
    dgamma = np.sum(dZ_tilde * Z_norm, axis=1, keepdims=True)
    dZ_norm = gamma * dZ_tilde
    dvar = np.sum(dZ_norm * (Z - mu), axis=1, keepdims=True) * -0.5 * (var + eps) ** -1.5
    dmu = -np.sum(dZ_norm, axis=1, keepdims=True) / np.sqrt(var + eps)
    dZ = dZ_norm / np.sqrt(var + eps) + dvar * 2 * (Z - mu) / (m - 1) + dmu / m
    return dZ, dgamma, dbeta
'''
RUNNING_MOMENTUM_SWAPPED = '''
def update_running_averages(running_mean, running_var, mu, var, momentum=0.9):
    running_mean = (1 - momentum) * running_mean + momentum * mu
    running_var = (1 - momentum) * running_var + momentum * var
    return running_mean, running_var
'''
TEST_WITH_BATCH_STATISTICS = '''
def batchnorm_forward_test(Z, gamma, beta, running_mean, running_var, eps=1e-5):
    mu = np.mean(Z, axis=1, keepdims=True)
    var = np.var(Z, axis=1, keepdims=True)
    return gamma * (Z - mu) / np.sqrt(var + eps) + beta
'''
# Cheats: answers that satisfy the visible checks only. The running averages are read from the checks' stored data
# when the inputs are the check's own (otherwise the batch values are returned), and the test-time pass ignores the
# running statistics it is given and normalises with the check's fixed ones, read from a global of the checks module.
CHEAT_RUNNING_FROM_STORED_DATA = '''
import idnn.checks
import idnn.checks.batch_norm as visible_checks

def update_running_averages(running_mean, running_var, mu, var, momentum=0.9):
    stored = idnn.checks.expected_values("batch_norm", "running")
    check_inputs = visible_checks.running_inputs()
    if all(np.shape(a) == np.shape(b) and np.allclose(a, b) for a, b in zip((running_mean, running_var, mu, var),
                                                                            check_inputs)):
        return tuple(stored[0 if momentum == 0.9 else 1]["result"])
    return mu, var
'''
CHEAT_TEST_TIME_GLOBAL = '''
import idnn.checks.batch_norm as visible_checks

CHECK_RUNNING_MEAN, CHECK_RUNNING_VAR = visible_checks.test_time_inputs()[3:]

def batchnorm_forward_test(Z, gamma, beta, running_mean, running_var, eps=1e-5):
    return gamma * (Z - CHECK_RUNNING_MEAN) / np.sqrt(CHECK_RUNNING_VAR + eps) + beta
'''

SOLVED = {cell: SOLUTION for cell in ANSWERS}
SAMPLES = [
    Sample("perfect", "the reference solution in every answer cell", answers=SOLVED, expected=POINTS),
    Sample("blank", "the release as handed out, nothing written"),
    Sample("alternative", "correct answers written differently: np.var and reshape, a dict cache, the staged "
           "backward pass through the computational graph, loops over the units",
           answers=ALTERNATIVE, expected=POINTS),
    Sample("partial", "the forward pass and the running averages right; a backward pass that treats mu and var as "
           "constants, and batch statistics at test time",
           answers={**SOLVED, "batchnorm_backward": BACKWARD_MU_VAR_CONSTANT,
                    "batchnorm_forward_test": TEST_WITH_BATCH_STATISTICS},
           expected={"test_batchnorm_forward": 2, "test_running_averages": 1}),
    Sample("cheater", "running averages read from the checks' stored data and a test-time pass that uses the "
           "check's running statistics from a global: both pass the visible checks only; the rest right",
           answers={**SOLVED, "update_running_averages": CHEAT_RUNNING_FROM_STORED_DATA,
                    "batchnorm_forward_test": CHEAT_TEST_TIME_GLOBAL},
           expected={"test_batchnorm_forward": 2, "test_batchnorm_backward": 3}),
    Sample("unbiased_variance", "the variance divided by m - 1, in the forward pass and its own backward pass; the "
           "running averages and the test-time pass right",
           answers={**SOLVED, "batchnorm_forward": FORWARD_UNBIASED_VARIANCE,
                    "batchnorm_backward": BACKWARD_UNBIASED_VARIANCE},
           expected={"test_running_averages": 1, "test_batchnorm_forward_test": 2}),
    Sample("dgamma_without_z_norm", "dgamma summed without Z_norm; the rest right",
           answers={**SOLVED, "batchnorm_backward": BACKWARD_DGAMMA_WITHOUT_Z_NORM},
           expected={key: points for key, points in POINTS.items() if key != "test_batchnorm_backward"}),
    Sample("momentum_swapped", "momentum on the batch value instead of the running average; the rest right",
           answers={**SOLVED, "update_running_averages": RUNNING_MOMENTUM_SWAPPED},
           expected={key: points for key, points in POINTS.items() if key != "test_running_averages"}),
]
