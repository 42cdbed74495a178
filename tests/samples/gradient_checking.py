"""Sample submissions for the Gradient checking assignment (9 points: 1, 2, 3, 1, 2)."""

from .model import SOLUTION, Sample

ASSIGNMENT = "gradient_checking"
NOTEBOOK = "gradient_checking"
SOLUTION_PLACEHOLDER = "# <solution follows>\n"

POINTS = {"test_1d": 1, "test_gradcheck_1d": 2, "test_gradcheck_n": 3, "test_classify": 1, "test_l2": 2}
ALL_TESTS = list(POINTS)
ANSWERS = ["forward_1d", "backward_1d", "gradcheck_1d", "gradcheck_n", "classify", "l2"]

# Correct, written differently: np.multiply, np.sqrt of sums for the norms, np.copy, a lookup for the verdict.
ALTERNATIVE = {
    "forward_1d": "def forward_propagation_1d(x, theta):\n    return np.multiply(x, theta)\n",
    "backward_1d": "def backward_propagation_1d(x, theta):\n    return x * 1.0\n",
    "gradcheck_1d": '''
def gradient_check_1d(J, dJ, theta, epsilon=1e-7):
    plus, minus = J(theta + epsilon), J(theta - epsilon)
    gradapprox = (plus - minus) / epsilon / 2
    grad = dJ(theta)
    norm = lambda v: np.sqrt(np.sum(np.square(v)))
    return gradapprox, norm(grad - gradapprox) / (norm(grad) + norm(gradapprox))
''',
    "gradcheck_n": '''
def gradient_check_n(J, parameters, gradients, epsilon=1e-7):
    theta, _ = gradcheck.dictionary_to_vector(parameters)
    grad = gradcheck.gradients_to_vector(gradients, like=parameters)
    estimates = []
    for i in range(theta.size):
        shifted = [np.copy(theta), np.copy(theta)]
        shifted[0][i] += epsilon
        shifted[1][i] -= epsilon
        costs = [J(gradcheck.vector_to_dictionary(t, like=parameters)) for t in shifted]
        estimates.append((costs[0] - costs[1]) / (2 * epsilon))
    gradapprox = np.array(estimates).reshape(-1, 1)
    difference = np.sqrt(np.sum((grad - gradapprox) ** 2)) / (np.sqrt(np.sum(grad ** 2)) + np.sqrt(np.sum(gradapprox ** 2)))
    return difference, gradapprox
''',
    "classify": '''
def classify_difference(difference):
    for limit, verdict in ((1e-7, "correct"), (1e-3, "inspect")):
        if difference < limit:
            return verdict
    return "bug"
''',
    "l2": '''
def l2_penalty(parameters, lambd, m):
    weights = [value for key, value in parameters.items() if key.startswith("W")]
    return sum(np.linalg.norm(W) ** 2 for W in weights) * lambd / m / 2

def l2_penalty_gradients(parameters, lambd, m):
    return {"d" + key: (lambd / m) * value for key, value in parameters.items() if key.startswith("W")}
''',
}

ONE_SIDED = '''
def gradient_check_1d(J, dJ, theta, epsilon=1e-7):
    gradapprox = (J(theta + epsilon) - J(theta)) / epsilon
    grad = dJ(theta)
    return gradapprox, np.linalg.norm(grad - gradapprox) / (np.linalg.norm(grad) + np.linalg.norm(gradapprox))
'''
INCLUSIVE_BOUNDARIES = '''
def classify_difference(difference):
    if difference <= 1e-7:
        return "correct"
    if difference <= 1e-3:
        return "inspect"
    return "bug"
'''
L2_WITHOUT_HALF = '''
def l2_penalty(parameters, lambd, m):
    return lambd / m * sum(np.sum(parameters[f"W{l}"] ** 2) for l in range(1, len(parameters) // 2 + 1))

def l2_penalty_gradients(parameters, lambd, m):
    return {f"dW{l}": 2 * lambd / m * parameters[f"W{l}"] for l in range(1, len(parameters) // 2 + 1)}
'''
# Tricks: a verdict that equals any string, and a numpy patched so that every closeness test passes.
ALWAYS_EQUAL_VERDICT = '''
class Verdict(str):
    def __eq__(self, other):
        return True
    __hash__ = str.__hash__

def classify_difference(difference):
    return Verdict("bug")
'''
PATCHED_NUMPY = '''
np.allclose = lambda *args, **kwargs: True
def gradient_check_1d(J, dJ, theta, epsilon=1e-7):
    return 0.0, 0.0
'''

SOLVED = {cell: SOLUTION for cell in ANSWERS}
SAMPLES = [
    Sample("perfect", "the reference solution in every answer cell", answers=SOLVED, expected=POINTS),
    Sample("blank", "the release as handed out, nothing written"),
    Sample("alternative", "correct answers written differently", answers=ALTERNATIVE, expected=POINTS),
    Sample("partial", "1-D passes and the N-D check right; a one-sided difference, <= at the thresholds, "
           "and an L2 penalty without its 1/2",
           answers={**SOLVED, "gradcheck_1d": ONE_SIDED, "classify": INCLUSIVE_BOUNDARIES, "l2": L2_WITHOUT_HALF},
           expected={"test_1d": 1, "test_gradcheck_n": 3}),
    Sample("cheater", "a verdict string equal to anything, and np.allclose patched over a fake 1-D check",
           answers={**SOLVED, "classify": ALWAYS_EQUAL_VERDICT, "gradcheck_1d": PATCHED_NUMPY},
           expected={"test_1d": 1, "test_gradcheck_n": 3, "test_l2": 2}),
]
