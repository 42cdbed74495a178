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
PATCHED_COMPARISON = '''
import idnn.checks.compare
idnn.checks.compare.close = lambda *args, **kwargs: True
idnn.checks.compare.gradient_check_difference = lambda *args, **kwargs: None
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
    Sample("cheater", "a verdict string equal to anything, and the course's comparison patched over a fake 1-D check",
           answers={**SOLVED, "classify": ALWAYS_EQUAL_VERDICT, "gradcheck_1d": PATCHED_COMPARISON},
           expected={"test_1d": 1, "test_gradcheck_n": 3, "test_l2": 2}),
]

# -- What the kernel leaves behind is hostile input (issue 10): results files replaced from a later cell, and
# answers that print what they can find of the hidden checks. The grading results directory is the one the kernel
# knows from IDNN_PROBE_DIR; a hidden check writes <check id>.npz there when its test cell runs.
RESULTS_BOMB = '''
import os, struct, zlib

def _results_bomb(path, elements):
    """An .npz of about 4 MB whose one array, "forward0" (float64, `elements` long), inflates to 8 bytes each."""
    text = ("{'descr': '<f8', 'fortran_order': False, 'shape': (%d,), }" % elements).ljust(117) + "\\n"
    header = b"\\x93NUMPY\\x01\\x00" + struct.pack("<H", len(text)) + text.encode("latin1")
    squeeze = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = squeeze.compress(header) + squeeze.flush(zlib.Z_FULL_FLUSH)
    piece = squeeze.compress(bytes(2**22)) + squeeze.flush(zlib.Z_FULL_FLUSH)  # the same bytes every time
    pieces, rest = divmod(8 * elements, 2**22)
    data = head + piece * pieces + squeeze.compress(bytes(rest)) + squeeze.flush()
    size, name = len(header) + 8 * elements, b"forward0.npy"
    local = struct.pack("<4s5H3L2H", b"PK\\x03\\x04", 20, 0, 8, 0, 0, 0, len(data), size, len(name), 0) + name
    central = struct.pack("<4s6H3L5H2L", b"PK\\x01\\x02", 20, 20, 0, 8, 0, 0, 0, len(data), size, len(name),
                          0, 0, 0, 0, 0, 0) + name
    end = struct.pack("<4s4H2LH", b"PK\\x05\\x06", 0, 0, 1, 1, len(central), len(local) + len(data), 0)
    with open(path, "wb") as handle:
        handle.write(local + data + central + end)

if os.environ.get("IDNN_PROBE_DIR"):  # test_1d has run: its results become a 4 GB zip bomb
    _results_bomb(os.path.join(os.environ["IDNN_PROBE_DIR"], "gradcheck_1d_passes.npz"), 536_870_000)
''' + SOLUTION_PLACEHOLDER


def results_link(host_file: str) -> str:
    """An answer cell that replaces test_gradcheck_n's results, already written, by a link to `host_file`."""
    return f'''
import os
if os.environ.get("IDNN_PROBE_DIR"):  # test_gradcheck_n has run: its results become a link to a host file
    _results = os.path.join(os.environ["IDNN_PROBE_DIR"], "gradcheck_n.npz")
    os.remove(_results)
    os.symlink({host_file!r}, _results)
''' + SOLUTION_PLACEHOLDER


# Inside a graded function: every frame of the kernel's cells that called it, with its code, its locals' names and
# the whole cached source of its cell (the hidden checks call classify_difference, so they are among them).
LEAK_FROM_INSIDE = SOLUTION_PLACEHOLDER + '''
import inspect, linecache
_answer, _shown = classify_difference, set()

def classify_difference(difference):
    for frame in inspect.stack()[1:]:
        if "ipykernel_" in frame.filename and (frame.filename, frame.function) not in _shown:
            _shown.add((frame.filename, frame.function))
            print("frame:", frame.function, frame.code_context, sorted(frame.frame.f_locals))
            print("its code:", frame.frame.f_code.co_varnames, frame.frame.f_code.co_names)
            print("its cell:", "".join(linecache.getlines(frame.filename)))
    return _answer(difference)
'''
# From a later cell: the kernel's input and output history, its namespace, its line cache, and the code of every
# function it holds.
LEAK_FROM_LATER_CELL = '''
import inspect, linecache, sys
print("In:", In)
print("_ih:", _ih)
print("Out:", Out)
print("globals:", sorted(globals()))
for _name, _entry in list(linecache.cache.items()):
    if "ipykernel_" in _name:
        print("line cache:", _name, "".join(_entry[2]))
for _name, _value in list(globals().items()):
    _code = getattr(_value, "__code__", None)
    if _code is not None and "ipykernel_" in _code.co_filename:
        print("function:", _name, _code.co_varnames, _code.co_names, _code.co_consts)
        try:
            print(inspect.getsource(_value))
        except (OSError, TypeError) as _error:
            print("no source:", _error)
print("modules:", sorted(name for name in sys.modules if name.startswith("idnn")))
''' + SOLUTION_PLACEHOLDER


def hostile_samples(host_file: str = "/etc/passwd") -> list[Sample]:
    """The results-file attacks; `host_file` is the host file the link points to."""
    return [
        Sample("results_bomb_link", "correct answers, but test_1d's results replaced by a 4 GB zip bomb and "
               "test_gradcheck_n's by a link to a host file, from later cells: both refused unread",
               answers={**SOLVED, "gradcheck_1d": RESULTS_BOMB, "classify": results_link(host_file)},
               expected={"test_gradcheck_1d": 2, "test_classify": 1, "test_l2": 2}),
    ]


LEAKY = Sample("leaky", "correct answers that print the kernel's history, namespace, line cache and frames, from a "
               "later cell and from inside a graded function: full marks, and none of it reaches the feedback",
               answers={**SOLVED, "classify": LEAK_FROM_INSIDE, "l2": LEAK_FROM_LATER_CELL}, expected=POINTS)
SAMPLES += hostile_samples() + [LEAKY]

# -- Gradient checks that never differentiate numerically: each takes the gradient from somewhere else and reports it
# as its gradapprox. Every other answer is the solution, so each loses only the points of the check it fakes. Each
# answer cell also rebinds its visible check's name to a no-op, so that the hidden check alone decides.
SKIP_VISIBLE_1D = "check_gradient_check_1d = lambda *args, **kwargs: None  # the visible check, skipped\n"
SKIP_VISIBLE_N = "check_gradient_check_n = lambda *args, **kwargs: None  # the visible check, skipped\n"
# The N-D check finds the examples X and Y behind the cost (its closure, defaults, a functools.partial's arguments,
# its globals) and asks the given backward pass, gradcheck.network_gradients, for the exact gradient.
CLOSURE_GRADCHECK_N = """
import functools

def _reachable(J):
    \"\"\"{name: value} for what J holds: closure cells, defaults, a partial's arguments, then its globals.\"\"\"
    found, functions = {}, [J]
    while functions:
        f = functions.pop()
        if isinstance(f, functools.partial):
            functions.append(f.func)
            found.update(f.keywords)
            continue
        code = getattr(f, "__code__", None)
        if code is None:
            continue
        cells = [cell.cell_contents for cell in f.__closure__ or ()]
        found.update(zip(code.co_freevars, cells))
        found.update(zip(code.co_varnames[code.co_argcount - len(f.__defaults__ or ()):], f.__defaults__ or ()))
        functions += [value for value in cells if callable(value)]
        found = {**getattr(f, "__globals__", {}), **found}
    return found

def gradient_check_n(J, parameters, gradients, epsilon=1e-7):
    \"\"\"Never nudges theta: the 'estimate' is backpropagation on the X and Y found behind J.\"\"\"
    grad = gradcheck.gradients_to_vector(gradients, like=parameters)
    reachable = _reachable(J)
    X, Y = reachable.get("X"), reachable.get("Y")
    if isinstance(X, np.ndarray) and isinstance(Y, np.ndarray) and X.shape[0] == parameters["W1"].shape[1]:
        gradapprox = gradcheck.gradients_to_vector(gradcheck.network_gradients(X, Y, parameters), like=parameters)
    else:  # nothing to read: trust the given gradients
        gradapprox = grad
    difference = np.linalg.norm(grad - gradapprox) / (np.linalg.norm(grad) + np.linalg.norm(gradapprox))
    return difference, gradapprox
"""
# The 1-D check reads the coefficients k and c of the hidden checks' cost, c * np.exp(k * t) (a student can read the
# hidden code from the frames that call gradient_check_1d), from the cost's defaults or closure, and differentiates by
# hand; on any other cost (the visible check's theta**4) it does the real two-sided difference.
CLOSURE_GRADCHECK_1D = """
def gradient_check_1d(J, dJ, theta, epsilon=1e-7):
    \"\"\"The exact derivative of c * exp(k * theta) when J carries k and c; a two-sided difference otherwise.\"\"\"
    code = J.__code__
    coefficients = dict(zip(code.co_varnames[code.co_argcount - len(J.__defaults__ or ()):], J.__defaults__ or ()))
    coefficients.update(zip(code.co_freevars, [cell.cell_contents for cell in J.__closure__ or ()]))
    if {"k", "c"} <= set(coefficients):
        gradapprox = coefficients["c"] * coefficients["k"] * np.exp(coefficients["k"] * theta)
    else:
        gradapprox = (J(theta + epsilon) - J(theta - epsilon)) / (2 * epsilon)
    grad = dJ(theta)
    return gradapprox, np.linalg.norm(grad - gradapprox) / (np.linalg.norm(grad) + np.linalg.norm(gradapprox))
"""
# Lazier still: the given gradients (or derivative) are returned as their own estimate, so the difference is 0.
GIVEN_DERIVATIVE_1D = """
def gradient_check_1d(J, dJ, theta, epsilon=1e-7):
    return dJ(theta), 0.0
"""
GIVEN_GRADIENTS_N = """
def gradient_check_n(J, parameters, gradients, epsilon=1e-7):
    return 0.0, gradcheck.gradients_to_vector(gradients, like=parameters)
"""
NEVER_DIFFERENTIATES = [
    Sample("closure_gradcheck", "an N-D check that never nudges theta: X and Y taken from the cost's closure, the "
           "'estimate' is the given backward pass on them",
           answers={**SOLVED, "gradcheck_n": SKIP_VISIBLE_N + CLOSURE_GRADCHECK_N},
           expected={test: points for test, points in POINTS.items() if test != "test_gradcheck_n"}),
    Sample("closure_gradcheck_1d", "a 1-D check that reads the hidden cost's coefficients from its defaults or "
           "closure and returns the exact derivative as its estimate",
           answers={**SOLVED, "gradcheck_1d": SKIP_VISIBLE_1D + CLOSURE_GRADCHECK_1D},
           expected={test: points for test, points in POINTS.items() if test != "test_gradcheck_1d"}),
    Sample("given_gradients", "both checks return the given gradients as their own estimate, difference 0",
           answers={**SOLVED, "gradcheck_1d": SKIP_VISIBLE_1D + GIVEN_DERIVATIVE_1D,
                    "gradcheck_n": SKIP_VISIBLE_N + GIVEN_GRADIENTS_N},
           expected={test: points for test, points in POINTS.items()
                     if test not in ("test_gradcheck_1d", "test_gradcheck_n")}),
]
SAMPLES += NEVER_DIFFERENTIATES

# -- Attacks on what lies outside the kernel (issue 11), each in a module of its own: the submission's files and
# metadata (names, pipes, sizes, timestamps, copied or invented test cells), and the pages instructors and students
# open (scripts in outputs and markdown).
from .attacks_on_files import FILE_ATTACKS  # noqa: E402 (they build on the answers above)
from .attacks_on_pages import PAGE_ATTACKS  # noqa: E402

SAMPLES += FILE_ATTACKS + PAGE_ATTACKS
