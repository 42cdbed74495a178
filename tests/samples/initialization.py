"""Sample submissions for the Initialization assignment (10 points, 2 per exercise)."""

from .model import SOLUTION, Sample

ASSIGNMENT = "initialization"
NOTEBOOK = "initialization"

ALL_TESTS = ["test_init_zeros", "test_init_random", "test_init_he", "test_init_xavier", "test_init_glorot"]


def _init(name: str, body: str) -> str:
    """An initialisation function whose loop body is `body` (uses l, layers_dims, parameters)."""
    indented = "\n".join("        " + line for line in body.strip().splitlines())
    return (f"def {name}(layers_dims):\n    parameters = {{}}\n"
            f"    for l in range(1, len(layers_dims)):\n{indented}\n    return parameters\n")


# Correct, but not written the way the reference is: np.random.normal with a scale, a
# dict built in one go, np.zeros_like, and a NumPy-style warning printed to stderr.
ALTERNATIVE = {
    "init_zeros": """
import warnings
def initialize_parameters_zeros(layers_dims):
    warnings.warn("this correct answer writes a warning to stderr")
    shapes = list(zip(layers_dims[1:], layers_dims[:-1]))
    parameters = {}
    for l, (n, n_prev) in enumerate(shapes, start=1):
        parameters["W" + str(l)] = np.zeros_like(np.empty((n, n_prev)))
        parameters["b" + str(l)] = np.zeros((n, 1))
    return parameters
""",
    "init_random": _init("initialize_parameters_random", """
parameters["W%d" % l] = np.random.normal(0.0, 10.0, size=(layers_dims[l], layers_dims[l - 1]))
parameters["b%d" % l] = np.zeros(layers_dims[l])[:, None]
"""),
    "init_he": _init("initialize_parameters_he", """
n, n_prev = layers_dims[l], layers_dims[l - 1]
parameters[f"W{l}"] = np.random.standard_normal((n, n_prev)) / np.sqrt(n_prev / 2.0)
parameters[f"b{l}"] = np.zeros((n, 1))
"""),
    "init_xavier": _init("initialize_parameters_xavier", """
n, n_prev = layers_dims[l], layers_dims[l - 1]
parameters[f"W{l}"] = np.random.randn(n_prev, n).T * (1.0 / n_prev) ** 0.5
parameters[f"b{l}"] = 0.0 * np.ones((n, 1))
"""),
    "init_glorot": _init("initialize_parameters_glorot", """
n, n_prev = layers_dims[l], layers_dims[l - 1]
parameters[f"W{l}"] = np.random.normal(scale=np.sqrt(2.0 / (n + n_prev)), size=(n, n_prev))
parameters[f"b{l}"] = np.zeros((n, 1))
"""),
}

# Each answer is wrong in a way students often are.
RAND_NOT_RANDN = _init("initialize_parameters_random", """
parameters[f"W{l}"] = np.random.rand(layers_dims[l], layers_dims[l - 1]) * 10
parameters[f"b{l}"] = np.zeros((layers_dims[l], 1))
""")
XAVIER_WITH_HE_SCALE = _init("initialize_parameters_xavier", """
parameters[f"W{l}"] = np.random.randn(layers_dims[l], layers_dims[l - 1]) * np.sqrt(2 / layers_dims[l - 1])
parameters[f"b{l}"] = np.zeros((layers_dims[l], 1))
""")
HE_WITH_XAVIER_SCALE = _init("initialize_parameters_he", """
parameters[f"W{l}"] = np.random.randn(layers_dims[l], layers_dims[l - 1]) * np.sqrt(1 / layers_dims[l - 1])
parameters[f"b{l}"] = np.zeros((layers_dims[l], 1))
""")

# Tricks that make the in-kernel checks pass without a correct answer.
ALWAYS_EQUAL = """
class AlwaysEqual(np.ndarray):
    \"\"\"An array that claims to equal anything.\"\"\"
    def __eq__(self, other):
        return np.ones(self.shape, dtype=bool)
    def __ne__(self, other):
        return np.zeros(self.shape, dtype=bool)

def initialize_parameters_zeros(layers_dims):
    parameters = {}
    for l in range(1, len(layers_dims)):
        parameters[f"W{l}"] = np.ones((layers_dims[l], layers_dims[l - 1])).view(AlwaysEqual)
        parameters[f"b{l}"] = np.ones((layers_dims[l], 1)).view(AlwaysEqual)
    return parameters
"""
PATCHED_ALLCLOSE = "np.allclose = lambda *args, **kwargs: True\nnp.isclose = lambda *args, **kwargs: True\n" \
    + HE_WITH_XAVIER_SCALE
BLANK_LATER_CELLS = """
def _blank_every_later_cell(lines):
    return []

get_ipython().input_transformers_post.append(_blank_every_later_cell)

def initialize_parameters_glorot(layers_dims):
    return {}
"""

SAMPLES = [
    Sample("perfect", "the reference solution in every answer cell",
           answers={cell: SOLUTION for cell in ALTERNATIVE},
           expected={test: 2 for test in ALL_TESTS}),
    Sample("blank", "the release as handed out, nothing written"),
    Sample("alternative", "correct answers written differently, one of them warning on stderr",
           answers=ALTERNATIVE, expected={test: 2 for test in ALL_TESTS}),
    Sample("partial", "zeros and He right; rand instead of randn; Xavier with He's scale; Glorot blank",
           answers={"init_zeros": SOLUTION, "init_he": SOLUTION, "init_random": RAND_NOT_RANDN,
                    "init_xavier": XAVIER_WITH_HE_SCALE},
           expected={"test_init_zeros": 2, "test_init_he": 2}),
    Sample("cheater", "an always-equal array for zeros, a patched np.allclose for a wrong He, and an input "
           "transformer that blanks every later cell; the random and Xavier answers are honest",
           answers={"init_zeros": ALWAYS_EQUAL, "init_random": SOLUTION, "init_he": PATCHED_ALLCLOSE,
                    "init_xavier": SOLUTION, "init_glorot": BLANK_LATER_CELLS},
           expected={"test_init_random": 2, "test_init_xavier": 2}),
]
