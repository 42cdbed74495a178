"""Sample submissions for the Initialization assignment (10 points, 2 per exercise)."""

import json
from pathlib import Path

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
PATCHED_COMPARISON = ("import idnn.checks.stats\n"
                      "idnn.checks.stats.spread_difference = lambda *args, **kwargs: None  # every spread matches\n"
                      + HE_WITH_XAVIER_SCALE)
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
    Sample("cheater", "an always-equal array for zeros, a patched spread comparison for a wrong He, and an input "
           "transformer that blanks every later cell; the random and Xavier answers are honest",
           answers={"init_zeros": ALWAYS_EQUAL, "init_random": SOLUTION, "init_he": PATCHED_COMPARISON,
                    "init_xavier": SOLUTION, "init_glorot": BLANK_LATER_CELLS},
           expected={"test_init_random": 2, "test_init_xavier": 2}),
]


# -- broken submissions: each gets a recorded score and a reason, and the rest of the class is graded --

NB_FILE = f"{NOTEBOOK}.ipynb"


def _edit_notebook(folder, edit) -> None:
    path = folder / NB_FILE
    nb = json.loads(path.read_text())
    edit(nb)
    path.write_text(json.dumps(nb))


def _rename(folder) -> None:
    (folder / NB_FILE).rename(folder / f"{NOTEBOOK} (1).ipynb")


def _corrupt(folder) -> None:
    text = (folder / NB_FILE).read_text()
    (folder / NB_FILE).write_text(text[: len(text) // 2])


def _remove_notebook(folder) -> None:
    (folder / NB_FILE).unlink()
    (folder / "notes.txt").write_text("I could not find the notebook, sorry.\n")


def _tamper_with_tests(nb) -> None:
    cells = nb["cells"]
    for cell in cells:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "test_init_he":
            cell["source"] = "pass  # no checks here"
    nb["cells"] = [c for c in cells if c["metadata"].get("nbgrader", {}).get("grade_id") != "test_init_zeros"]


def _wrong_kernel(nb) -> None:
    nb["metadata"]["kernelspec"] = {"name": "julia-1.9", "display_name": "Julia 1.9", "language": "julia"}


def _duplicate_ids(nb) -> None:
    nb["cells"][3]["id"] = nb["cells"][2]["id"]


def _huge_outputs(nb) -> None:
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x" * (20 * 2**20)}]
            break


ALL_TWO = {test: 2 for test in ALL_TESTS}
SOLVED = {cell: SOLUTION for cell in ALTERNATIVE}
EXIT_IN_XAVIER = "import os\nos._exit(3)\n"

SAMPLES += [
    Sample("renamed", "a correct notebook saved as 'initialization (1).ipynb'", answers=SOLVED,
           expected=ALL_TWO, damage=_rename),
    Sample("corrupt", "a notebook file cut in half (invalid JSON)", answers=SOLVED, damage=_corrupt,
           failure="not a readable notebook"),
    Sample("missing", "no notebook in the submission, only a text file", damage=_remove_notebook,
           failure="initialization.ipynb is missing"),
    Sample("edited_tests", "correct answers; one test cell emptied, another deleted (both restored)",
           answers=SOLVED, expected=ALL_TWO,
           damage=lambda folder: _edit_notebook(folder, _tamper_with_tests)),
    Sample("wrong_kernel", "correct answers, kernel set to Julia (restored to Python)", answers=SOLVED,
           expected=ALL_TWO, damage=lambda folder: _edit_notebook(folder, _wrong_kernel)),
    Sample("duplicate_ids", "correct answers, two cells sharing one id", answers=SOLVED, expected=ALL_TWO,
           damage=lambda folder: _edit_notebook(folder, _duplicate_ids)),
    Sample("huge_outputs", "correct answers saved with 20 MB of output (cleared before grading)",
           answers=SOLVED, expected=ALL_TWO, damage=lambda folder: _edit_notebook(folder, _huge_outputs)),
    Sample("kernel_exit", "the kernel exits in the Xavier cell: the three exercises before it still count",
           answers={**SOLVED, "init_xavier": EXIT_IN_XAVIER},
           expected={"test_init_zeros": 2, "test_init_random": 2, "test_init_he": 2}),
]


# -- attacks on the grader itself: graded in the tests, under small limits ---------------------------

def adversarial_samples(course, port: int) -> list[Sample]:
    """Submissions that attack the sandbox. `course` is the course directory, `port` a loopback listener."""
    snoop = f"""
import os, socket
def attempt(what, action):
    try:
        action()
        print("LEAKED:", what)
    except Exception as error:
        print("blocked:", what, "-", type(error).__name__)
attempt("read source", lambda: open({str(course / "source" / ASSIGNMENT / NB_FILE)!r}).read())
attempt("read another student", lambda: open({str(course / "submitted" / "perfect" / ASSIGNMENT / NB_FILE)!r}).read())
attempt("write gradebook", lambda: open({str(course / "gradebook.db")!r}, "ab").write(b"0"))
attempt("write helpers", lambda: open({str(Path(__file__).resolve().parents[2] / "utils" / "evil.py")!r}, "w").write("x"))
attempt("list instructor home", lambda: os.listdir(os.path.expanduser("~root")) and None or open("/root/.bashrc").read())
attempt("connect to loopback", lambda: socket.create_connection(("127.0.0.1", {port}), timeout=2))
""" + SOLUTION_PLACEHOLDER
    return [
        Sample("snoop", "correct answers that also try to read, write and connect outside the sandbox",
               answers={**SOLVED, "init_zeros": snoop}, expected=ALL_TWO),
        Sample("infinite_loop", "an endless loop before the He function: that cell times out, the rest count",
               answers={**SOLVED, "init_he": "while True:\n    pass\n"},
               expected={t: 2 for t in ALL_TESTS if t != "test_init_he"}),
        Sample("memory_hog", "allocates 3 GiB before the random function: MemoryError, the rest count",
               answers={**SOLVED, "init_random": "hog = bytearray(3 * 2**30)\n"},
               expected={t: 2 for t in ALL_TESTS if t != "test_init_random"}),
        Sample("output_flood", "prints without end in the Glorot cell: output cut, kernel stopped",
               answers={**SOLVED, "init_glorot": "while True:\n    print('x' * 10000)\n"},
               expected={t: 2 for t in ALL_TESTS if t != "test_init_glorot"}),
        Sample("file_hog", "writes a 100 MB file before the Xavier function: refused past the file-size limit",
               answers={**SOLVED, "init_xavier": "with open('big.bin', 'wb') as f:\n"
                                                 "    f.write(b'0' * 100 * 2**20)\n"},
               expected={t: 2 for t in ALL_TESTS if t != "test_init_xavier"}),
        Sample("fork_bomb", "starts processes until refused, before the zeros function",
               answers={**SOLVED, "init_zeros": "import subprocess\nchildren = []\nwhile True:\n"
                                                "    children.append(subprocess.Popen(['sleep', '600']))\n"},
               expected={t: 2 for t in ALL_TESTS if t != "test_init_zeros"}),
    ]


#: In an adversarial answer, replaced by the reference solution of that cell.
SOLUTION_PLACEHOLDER = "# <solution follows>\n"


# -- links in the submission folder: refused, never followed -------------------------------------------

def _read_solution(path: str, function: str) -> str:
    """A cell that execs `function`'s solution out of the notebook at `path` (works only if the grader follows links)."""
    return f"""
import json
_cells = json.load(open({path!r}))["cells"]
exec(next("".join(c["source"]) for c in _cells if "def {function}(" in "".join(c["source"])))
"""


def _plant_links(folder: Path) -> None:
    """Links to the instructor's source notebook and to a classmate's, a hard link, a named pipe, a linked timestamp."""
    import os

    course = folder.parents[2]
    source = course / "source" / ASSIGNMENT / NB_FILE
    (folder / "answers.ipynb").symlink_to(source)
    (folder / "classmate.ipynb").symlink_to(Path("..") / ".." / "perfect" / ASSIGNMENT / NB_FILE)
    os.link(source, folder / "hard.ipynb")
    os.mkfifo(folder / "pipe")
    (folder / "timestamp.txt").symlink_to("/etc/hostname")


SAMPLES += [
    Sample("linker", "links to the source notebook (symbolic and hard) and to a classmate's, a named pipe and a "
           "linked timestamp; three answers read their solutions through the links. Links are refused, never "
           "followed: zeros and random (honest) count, the three others fail",
           answers={"init_zeros": SOLUTION, "init_random": SOLUTION,
                    "init_he": _read_solution("hard.ipynb", "initialize_parameters_he"),
                    "init_xavier": _read_solution("classmate.ipynb", "initialize_parameters_xavier"),
                    "init_glorot": _read_solution("answers.ipynb", "initialize_parameters_glorot")},
           expected={"test_init_zeros": 2, "test_init_random": 2}, damage=_plant_links),
]


def _plant_start_up_files(folder: Path) -> None:
    """Files Python or IPython might run at kernel start if the submission folder came first on sys.path."""
    for name in ("ipykernel_launcher.py", "ipython_config.py", "ipython_kernel_config.py", "sitecustomize.py"):
        (folder / name).write_text("import os\nos._exit(7)  # the kernel would never answer\n")
    (folder / "my_helpers.py").write_text("SCALE = 2\n")


SAMPLES += [
    Sample("start_up_files", "correct answers beside files named ipykernel_launcher.py, sitecustomize.py and IPython "
           "configs that exit at once, and a helper module of the student's own that the zeros cell imports: the "
           "kernel starts anyway (the submission's folder is never first on its path) and the helper still imports",
           answers={**SOLVED, "init_zeros": "import my_helpers\nassert my_helpers.SCALE == 2\n" + SOLUTION_PLACEHOLDER},
           expected=ALL_TWO, damage=_plant_start_up_files),
]


def _plant_optional_modules(folder: Path) -> None:
    """Modules the kernel only *tries* to import at start-up (missing from the environment, so Python would look
    further along sys.path): if the submission's folder were on the path then, each would stop every start."""
    for name in ("orjson", "msgpack", "storemagic", "argcomplete", "colorama"):
        (folder / f"{name}.py").write_text("import os\nos._exit(3)\n")


# A zeros function that, each time the hidden check calls it, sends its caller's source (the hidden check) out
# over a widget comm: a channel outside the kernel's printed output.
WIDGET_LEAK = """
import sys, linecache
from comm import create_comm
_sent = []
def initialize_parameters_zeros(layers_dims):
    caller = sys._getframe(1).f_code
    state = {"_model_name": "LeakModel", "_model_module": "leak", "_model_module_version": "1.0",
             "text": "".join(linecache.getlines(caller.co_filename)), "names": list(caller.co_names)}
    _sent.append(create_comm(target_name="jupyter.widget", data={"state": state, "buffer_paths": []}))
    return {f"{p}{l}": np.zeros((layers_dims[l], layers_dims[l - 1]) if p == "W" else (layers_dims[l], 1))
            for l in range(1, len(layers_dims)) for p in "Wb"}
"""

SAMPLES += [
    Sample("optional_modules", "correct answers beside orjson.py, msgpack.py, storemagic.py... that exit at once: "
           "the kernel starts anyway, since nothing of the submission is on its path until it has answered",
           answers=SOLVED, expected=ALL_TWO, damage=_plant_optional_modules),
    Sample("widget_leak", "a correct zeros function that sends the hidden check's source out over a widget comm on "
           "every call: widget state is never kept in the notebook (it counts towards the output cap too)",
           answers={**SOLVED, "init_zeros": WIDGET_LEAK}, expected=ALL_TWO),
]


TMP_FILLER = """
import errno
try:
    for piece in range(10):  # 320 MiB, in files under the 64 MiB file-size limit
        with open(f"/tmp/filler{piece}.bin", "wb") as handle:
            handle.write(b"0" * 32 * 2**20)
except OSError as error:
    print("refused:", errno.errorcode.get(error.errno))
"""

SAMPLES += [
    Sample("tmp_filler", "correct answers, and a cell that tries to write 320 MiB into /tmp (memory): refused when "
           "the sandbox's sized /tmp is full, and everything still counts",
           answers={**SOLVED, "init_random": TMP_FILLER + SOLUTION_PLACEHOLDER}, expected=ALL_TWO),
]


# -- attacks on skipping the demonstrations (utils/autograde/demonstrations.py) ------------------------

# A student's own line that reads the training data, which only a demonstration cell loads: grading must run
# that demonstration for them (and not the training runs, which nothing of theirs reads).
READS_DEMO_DATA = "print('training examples:', train_X.shape[1])\n\n"


def _bomb_marked_as_demonstration(nb) -> None:
    """A cell of the student's own, tagged as a demonstration, that kills the kernel before any check runs."""
    bomb = {"cell_type": "code", "execution_count": None, "id": "my-demo", "outputs": [],
            "metadata": {"tags": ["demonstration"]}, "source": EXIT_IN_XAVIER}
    nb["cells"].insert(3, bomb)


SAMPLES += [
    Sample("reads_demo_data", "correct answers; the He cell also prints train_X.shape, which only the data-loading "
           "demonstration defines: that demonstration runs while grading, and everything counts",
           answers={**SOLVED, "init_he": READS_DEMO_DATA + SOLUTION_PLACEHOLDER}, expected=ALL_TWO),
    Sample("self_marked_demo", "correct answers below a cell the student tagged as a demonstration, which kills the "
           "kernel: which cells to skip comes from the source notebook only, so it runs and nothing after it counts",
           answers=SOLVED, damage=lambda folder: _edit_notebook(folder, _bomb_marked_as_demonstration)),
]
