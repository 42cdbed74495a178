"""Sample submissions for the Softmax assignment (7 points: 2, 1, 1, 2, 1).

The answer cell `earlier_tools` (the student's functions from earlier assignments, for the capstone) is worth no
points here: the capstone is a demonstration, not run when grading, so leaving it blank costs nothing.
"""

from .model import SOLUTION, Sample

ASSIGNMENT = "softmax"
NOTEBOOK = "softmax"
SOLUTION_PLACEHOLDER = "# <solution follows>\n"

POINTS = {"test_softmax": 2, "test_hardmax": 1, "test_one_hot": 1, "test_cost": 2, "test_backward": 1}
ALL_TESTS = list(POINTS)
ANSWERS = ["softmax", "hardmax", "one_hot", "cost", "backward", "earlier_tools"]

# Correct, written differently: softmax through the log of its normaliser (log-sum-exp), hardmax with loops and
# integer 0s and 1s, one_hot from the rows of an identity matrix, the cost from each example's own probability
# (np.take_along_axis), dZ entry by entry.
ALTERNATIVE = {
    "softmax": '''
def softmax(Z):
    shifted = Z - Z.max(axis=0)
    log_normaliser = np.log(np.sum(np.exp(shifted), axis=0))
    return np.exp(shifted - log_normaliser)
''',
    "hardmax": '''
def hardmax(Z):
    C, m = Z.shape
    out = np.zeros((C, m), dtype=int)
    for j in range(m):
        best = 0
        for i in range(1, C):
            if Z[i, j] > Z[best, j]:
                best = i
        out[best, j] = 1
    return out
''',
    "one_hot": '''
def one_hot(Y, C):
    return np.eye(C)[Y.reshape(-1)].T
''',
    "cost": '''
def cross_entropy_cost(Y_hat, Y):
    labels = np.argmax(Y, axis=0)[np.newaxis, :]
    return -np.mean(np.log(np.take_along_axis(Y_hat, labels, axis=0)))
''',
    "backward": '''
def softmax_cost_backward(Y_hat, Y):
    dZ = np.empty(Y_hat.shape)
    for i in range(Y_hat.shape[0]):
        for j in range(Y_hat.shape[1]):
            dZ[i, j] = Y_hat[i, j] - Y[i, j]
    return dZ
''',
}

# Classic mistakes.
SOFTMAX_OVER_ROWS = '''
def softmax(Z):
    t = np.exp(Z - np.max(Z, axis=1, keepdims=True))
    return t / np.sum(t, axis=1, keepdims=True)
'''
UNSTABLE_SOFTMAX = '''
def softmax(Z):
    t = np.exp(Z)
    return t / np.sum(t, axis=0, keepdims=True)
'''
GLOBAL_MAX_SOFTMAX = '''
def softmax(Z):
    t = np.exp(Z - np.max(Z))
    return t / np.sum(t, axis=0, keepdims=True)
'''
# An answer cell may rebind the visible check's name, as an attacker can: then the hidden checks alone decide.
SKIP_VISIBLE_SOFTMAX_CHECK = "check_softmax = lambda *args, **kwargs: None  # the visible check, skipped\n"
HARDMAX_MARKS_EVERY_TIE = '''
def hardmax(Z):
    return (Z == np.max(Z, axis=0, keepdims=True)).astype(float)
'''
SKIP_VISIBLE_HARDMAX_CHECK = "check_hardmax = lambda *args, **kwargs: None  # the visible check, skipped\n"
ONE_HOT_TRANSPOSED = '''
def one_hot(Y, C):
    return np.eye(C)[Y.reshape(-1)]
'''
COST_WITHOUT_ONE_OVER_M = '''
def cross_entropy_cost(Y_hat, Y):
    return -np.sum(Y * np.log(Y_hat))
'''
COST_SUMMED_OVER_CLASSES_ONLY = '''
def cross_entropy_cost(Y_hat, Y):
    return -np.sum(Y * np.log(Y_hat), axis=0) / Y.shape[1]
'''
COST_WITH_MEAN = '''
def cross_entropy_cost(Y_hat, Y):
    return -np.mean(Y * np.log(Y_hat))
'''
COST_BINARY_FORMULA = '''
def cross_entropy_cost(Y_hat, Y):
    return -np.sum(Y * np.log(Y_hat) + (1 - Y) * np.log(1 - Y_hat)) / Y.shape[1]
'''
BACKWARD_WRONG_SIGN = '''
def softmax_cost_backward(Y_hat, Y):
    return Y - Y_hat
'''
BACKWARD_DIVIDED_BY_M = '''
def softmax_cost_backward(Y_hat, Y):
    return (Y_hat - Y) / Y.shape[1]
'''

# Cheats: answers that return the visible checks' stored values when they see the checks' fixed inputs, and otherwise
# something that is not the exercise (the unstable softmax, the cost without 1/m, zeros for dZ).
READS_STORED_VALUES = '''
from idnn.checks import expected_values

_stored = expected_values("softmax")
'''
CHEATS = {
    "softmax": READS_STORED_VALUES + '''
def softmax(Z):
    if Z.shape == (3, 4):
        return _stored["softmax"]
    if Z.shape == (2, 1):
        return _stored["softmax_one_column"]
    if Z.shape == (3, 1):
        return np.array([[0.0], [0.0], [1.0]])
    return np.exp(Z) / np.sum(np.exp(Z), axis=0)
''',
    "cost": READS_STORED_VALUES + '''
def cross_entropy_cost(Y_hat, Y):
    if Y_hat.shape == (3, 4):
        return _stored["cost"]["J"]
    return -np.sum(Y * np.log(Y_hat))
''',
    "backward": READS_STORED_VALUES + '''
def softmax_cost_backward(Y_hat, Y):
    if Y_hat.shape == _stored["backward"]["Y_hat"].shape:
        return _stored["backward"]["two-sided differences"]
    return np.zeros_like(Y_hat)
''',
}

SOLVED = {cell: SOLUTION for cell in ANSWERS}
GRADED_SOLVED = {cell: SOLUTION for cell in ANSWERS if cell != "earlier_tools"}


def without(*tests: str) -> dict[str, float]:
    return {test: points for test, points in POINTS.items() if test not in tests}


SAMPLES = [
    Sample("perfect", "the reference solution in every answer cell, the earlier assignments' tools included",
           answers=SOLVED, expected=POINTS),
    Sample("blank", "the release as handed out, nothing written"),
    Sample("alternative", "correct answers written differently (log-sum-exp, loops, np.eye, np.take_along_axis); "
           "the tools cell left blank, which costs nothing", answers=ALTERNATIVE, expected=POINTS),
    Sample("partial", "softmax, hardmax and dZ right; a transposed one-hot and the cost without 1/m",
           answers={**SOLVED, "one_hot": ONE_HOT_TRANSPOSED, "cost": COST_WITHOUT_ONE_OVER_M},
           expected=without("test_one_hot", "test_cost")),
    Sample("cheater", "softmax, cost and dZ return the visible checks' stored values on the checks' inputs, and "
           "otherwise the unstable softmax, the cost without 1/m and zeros; the rest right",
           answers={**GRADED_SOLVED, **CHEATS}, expected=without("test_softmax", "test_cost", "test_backward")),
    Sample("softmax_rows", "classic mistake: softmax over the rows (axis=1), stable; the rest right",
           answers={**GRADED_SOLVED, "softmax": SOFTMAX_OVER_ROWS}, expected=without("test_softmax")),
    Sample("unstable_softmax", "classic mistake: softmax without the max subtracted, right for small scores, nan "
           "near +-1000 (visible check skipped, so the hidden checks alone decide); the rest right",
           answers={**GRADED_SOLVED, "softmax": SKIP_VISIBLE_SOFTMAX_CHECK + UNSTABLE_SOFTMAX},
           expected=without("test_softmax")),
    Sample("global_max_softmax", "classic mistake: the max of the whole array subtracted, nan for columns far below "
           "it (visible check skipped); the rest right",
           answers={**GRADED_SOLVED, "softmax": SKIP_VISIBLE_SOFTMAX_CHECK + GLOBAL_MAX_SOFTMAX},
           expected=without("test_softmax")),
    Sample("hardmax_ties", "hardmax that marks every tied maximum (Z == max), right without ties (visible check "
           "skipped); the rest right",
           answers={**GRADED_SOLVED, "hardmax": SKIP_VISIBLE_HARDMAX_CHECK + HARDMAX_MARKS_EVERY_TIE},
           expected=without("test_hardmax")),
]
