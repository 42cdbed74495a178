"""The boundary between the student side (package idnn, what notebooks import) and the trusted side (idnn.autograde).

(a) No student-side module imports the trusted side, in its source or when it is imported.
(b) Inside a real sandbox no file of the trusted side can be read and none of its modules imported; the checks can.
(c) No callable of the student side passes a single hidden test cell when a submission delegates an exercise to it:
    for every graded function, every callable found in the student-side package is plugged in as the student's
    answer, through every compatible call the harness can build, and judged by the real hidden checks and verdicts.
    Planted implementations do pass the same harness, so it can fail.
(d) The visible checks' stored expected values equal a fresh build from the source notebooks.
"""

import ast
import contextlib
import copy
import importlib
import importlib.util
import inspect
import json
import os
import shutil
import signal
import subprocess
import sys
import types
from pathlib import Path
from unittest import mock

import nbformat
import numpy as np
import pytest

from .conftest import ASSIGNMENTS, REPO
from .samples import optimization as optimization_samples

pytestmark = pytest.mark.grading

UTILS = REPO / "utils"
TRUSTED = UTILS / "autograde"
DIGITS = "0123456789_"
#: The tag of an answer cell that holds functions graded in other assignments (not graded here).
EARLIER = "earlier-assignments"


def student_side_files() -> list[Path]:
    return sorted(p for p in UTILS.rglob("*.py") if TRUSTED not in p.parents and "__pycache__" not in p.parts)


def module_name(path: Path) -> str:
    parts = path.relative_to(UTILS).with_suffix("").parts
    return ".".join(("idnn",) + (parts[:-1] if parts[-1] == "__init__" else parts))


STUDENT_MODULES = [module_name(p) for p in student_side_files()]


# -- (a) imports only run one way -------------------------------------------------------------------------------

def imported_names(path: Path) -> list[str]:
    """Every module a file imports, relative imports resolved, dynamic imports by a constant name included."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), package) if node.level \
                else node.module
            found += [base] + [f"{base}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                "import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
            found.append(str(node.args[0].value))
    return found


def test_the_student_side_is_what_the_boundary_says():
    assert "idnn.checks.optimization" in STUDENT_MODULES and "idnn.nets" in STUDENT_MODULES
    assert not any(name.startswith("idnn.autograde") for name in STUDENT_MODULES)


@pytest.mark.parametrize("path", student_side_files(), ids=lambda p: str(p.relative_to(UTILS)))
def test_no_student_side_module_imports_the_trusted_side(path):
    trusted = [name for name in imported_names(path) if name == "idnn.autograde" or name.startswith("idnn.autograde.")]
    assert not trusted, f"{path.relative_to(REPO)} imports {trusted}: the student side never imports the trusted side"


def test_importing_the_whole_student_side_loads_nothing_of_the_trusted_side(tmp_path):
    script = ("import importlib, json, sys\n"
              f"for name in {STUDENT_MODULES!r}:\n"
              "    importlib.import_module(name)\n"
              "print(json.dumps(sorted(m for m in sys.modules if m == 'idnn.autograde' or m.startswith('idnn.autograde.'))))")
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


# -- (b) the sandbox hides the trusted side ---------------------------------------------------------------------

INSIDE = r'''
import importlib, json, os, sys
trusted_dir, files, modules = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
report = {"uid": os.getuid(), "imported": [], "read": [], "listing": None}
for name in modules:
    try:
        importlib.import_module(name)
        report["imported"].append(name)
    except ImportError:
        pass
for path in files:
    try:
        with open(path, "rb") as handle:
            handle.read(1)
        report["read"].append(path)
    except OSError:
        pass
try:
    report["listing"] = os.listdir(trusted_dir)
except OSError as error:
    report["listing"] = str(error)
import idnn.checks.optimization
report["checks"] = sorted(idnn.checks.expected_values("optimization"))
print(json.dumps(report))
'''


def test_inside_the_sandbox_the_trusted_side_can_be_neither_read_nor_imported_but_the_checks_can(tmp_path):
    from idnn.autograde import sandbox

    if not shutil.which("bwrap"):
        pytest.skip("bubblewrap is not installed")
    for folder in ("work", "probe", "sock"):
        (tmp_path / folder).mkdir()
        os.chmod(tmp_path / folder, 0o777)  # a kernel with a uid of its own (grading as root) may enter them
    files = sorted(str(p) for p in TRUSTED.rglob("*") if p.is_file())
    modules = sorted({"idnn.autograde." + p.stem for p in TRUSTED.glob("*.py") if p.stem != "__init__"})
    assert "idnn.autograde.verdicts" in modules and any(f.endswith("verdicts.py") for f in files)
    uid = sandbox.Sandbox().uid - 1 if os.getuid() == 0 else 0  # outside the range the grader leases
    env = {"PATH": f"{Path(sys.prefix) / 'bin'}:/usr/bin:/bin", "HOME": "/tmp", "PYTHONDONTWRITEBYTECODE": "1"}
    # The way SandboxedKernelManager starts a kernel: tether, bwrap, launcher, then the program.
    command = ([sys.executable, "-m", "idnn.autograde.tethered", str(os.getpid()), "--"]
               + sandbox.bwrap_command("bwrap", tmp_path / "work", tmp_path / "probe", tmp_path / "sock", env)
               + sandbox.launcher_command(sandbox.Sandbox(), uid)
               + [sys.executable, "-c", INSIDE, str(TRUSTED.resolve()), json.dumps(files), json.dumps(modules)])
    assert any(sandbox.LAUNCHER == arg for arg in command) and "idnn.autograde.launch" in sandbox.LAUNCHER
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["imported"] == [], f"importable inside the sandbox: {report['imported']}"
    assert report["read"] == [], f"readable inside the sandbox: {report['read']}"
    assert report["listing"] == [], f"the trusted side's folder lists {report['listing']}"
    assert "adam" in report["checks"], "the checks' data should load inside the sandbox"
    assert report["uid"] == uid, "the launcher should have run and dropped to the kernel's uid"
    # Outside, the same package is whole (the tmpfs is the sandbox's alone).
    assert (TRUSTED / "verdicts.py").is_file()


# -- (c) nothing to delegate to ---------------------------------------------------------------------------------

class HarnessTimeout(BaseException):
    """A candidate ran too long (BaseException, so no `except Exception` in the hidden code swallows it)."""


@contextlib.contextmanager
def time_limit(seconds: float):
    def expire(signum, frame):
        raise HarnessTimeout()
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def calling(fn, *args, seconds: float = 5.0, **kwargs):
    """fn(*args, **kwargs), or the BaseException it raised (a candidate may raise anything, SystemExit included).

    What it prints is dropped, and any figure it drew is closed (plots would pile up on one axes otherwise)."""
    import matplotlib.pyplot as plt

    try:
        with time_limit(seconds), contextlib.redirect_stdout(DISCARD):
            return fn(*args, **kwargs)
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # noqa: B036 (whatever a candidate does, it only fails)
        return error
    finally:
        if plt.get_fignums():
            plt.close("all")


class _Discard:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


DISCARD = _Discard()


class AssignmentHarness:
    """A source notebook's definitions with one graded function replaced, judged by its real hidden checks.

    The student's run is the kernel's: the hidden code of each test cell runs with the probe saving to a results
    directory under the grading seed; the verdict is idnn.autograde.verdicts.judge against the reference probes of
    the same seed, as ApplyVerdicts computes them.
    """

    def __init__(self, assignment: str, results_dir: Path, seed: int = 20261201):
        from idnn.autograde.reference import definitions, hidden_code, is_test_cell, reference_probes

        self.assignment, self.results_dir, self.seed = assignment, results_dir, seed
        self.source = REPO / "source" / assignment / f"{assignment}.ipynb"
        nb = nbformat.read(self.source, as_version=4)
        self.code = compile("\n".join(definitions(c.source) for c in nb.cells if c.cell_type == "code"),
                            f"{assignment}:definitions", "exec")
        self.hidden, names = {}, {}
        for cell in nb.cells:
            if is_test_cell(cell):
                grade_id, code = cell.metadata.nbgrader.grade_id, hidden_code(cell.source)
                self.hidden[grade_id] = compile(code, f"{assignment}:{grade_id}", "exec")
                names[grade_id] = {n.id for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Name)}
        # An answer cell tagged EARLIER (Softmax's capstone tools) holds the student's own functions from other
        # assignments: graded there, and harnessed there; no hidden check of this notebook calls them.
        solutions = [node.name for cell in nb.cells if cell.cell_type == "code"
                     and cell.metadata.get("nbgrader", {}).get("solution")
                     and EARLIER not in cell.metadata.get("tags", [])
                     for node in ast.parse(cell.source).body if isinstance(node, ast.FunctionDef)]
        #: graded function -> the test cells whose hidden checks call it
        self.graded = {fn: [g for g, used in names.items() if fn in used] for fn in solutions}
        self.references = reference_probes(self.source, seed)
        self.calling_cells: dict[str, list[str]] = {}

    def namespace(self, **replaced) -> dict:
        namespace = {"__name__": "__main__"}
        exec(self.code, namespace)
        namespace.update(replaced)
        return namespace

    def verdict(self, grade_id: str, namespace: dict):
        from idnn.autograde.verdicts import judge
        from idnn.probe import PROBE_DIR_ENV, PROBE_SEED_ENV

        for stale in self.results_dir.iterdir():
            stale.unlink()
        saved = {key: os.environ.get(key) for key in (PROBE_DIR_ENV, PROBE_SEED_ENV)}
        os.environ.update({PROBE_DIR_ENV: str(self.results_dir), PROBE_SEED_ENV: str(self.seed)})
        try:
            calling(exec, self.hidden[grade_id], namespace, seconds=30)
        finally:
            for key, value in saved.items():
                os.environ.pop(key) if value is None else os.environ.__setitem__(key, value)
        return judge(self.references[grade_id], self.results_dir)

    def cells_passed(self, function: str, answer) -> list[str]:
        """The test cells whose hidden checks call `function` in the student's run that pass with `answer` as it."""
        if function not in self.calling_cells:
            self.first_calls(function)
        return [g for g in self.calling_cells[function]
                if self.verdict(g, self.namespace(**{function: answer})).passed]

    def first_calls(self, function: str, count: int = 2) -> list[tuple]:
        """The first calls the hidden checks make to `function`: (args, kwargs, numpy's random state, result).

        Also notes which cells call it in the student's run (a cell may name it for its reference run only, as the
        split's cell names split_sizes: replacing it there changes nothing, so that cell proves nothing)."""
        namespace = self.namespace()
        reference, calls, cells = namespace[function], [], []

        def recorder(*args, **kwargs):
            if len(calls) < count:
                calls.append((copy.deepcopy(args), copy.deepcopy(kwargs), np.random.get_state()))
            if cell not in cells:
                cells.append(cell)
            return reference(*args, **kwargs)

        namespace[function] = recorder
        for cell in self.graded[function]:
            self.verdict(cell, namespace)
        self.calling_cells[function] = cells
        results = []
        for args, kwargs, state in calls:
            np.random.set_state(state)
            results.append((args, kwargs, state, reference(*copy.deepcopy(args), **copy.deepcopy(kwargs))))
        return results


# A candidate is every callable the student side defines: module attributes (private ones too), what module-level
# dicts, lists and tuples hold, the functions of its classes, and the functions nested inside them (rebuilt from
# their code, as an attacker can).
def student_side_candidates(modules=None) -> dict[str, object]:
    found: dict[str, object] = {}
    seen: set[int] = set()

    def add(label: str, value, module) -> None:
        if id(value) in seen or not callable(value) or isinstance(value, types.ModuleType):
            return
        if not str(getattr(value, "__module__", "") or "").startswith("idnn"):
            return  # numpy, the standard library...: a student may call those anyway
        seen.add(id(value))
        found[label] = value
        if inspect.isclass(value):
            for name, member in vars(value).items():
                member = getattr(member, "__func__", member)  # staticmethod, classmethod
                if isinstance(member, types.FunctionType):
                    add(f"{label}.{name}", member, module)
        code = getattr(value, "__code__", None)
        if isinstance(code, types.CodeType):
            for inner in nested_code(code):
                # Only real functions (a class body or a comprehension run as a function can crash the interpreter).
                is_function = inner.co_flags & inspect.CO_OPTIMIZED and inner.co_flags & inspect.CO_NEWLOCALS and (
                    not inner.co_name.startswith("<") or inner.co_name == "<lambda>")
                if is_function and not inner.co_freevars:
                    rebuilt = types.FunctionType(inner, vars(module), inner.co_name)
                    rebuilt.__module__ = module.__name__
                    add(f"{label}.<{inner.co_name}>", rebuilt, module)

    for name in modules or STUDENT_MODULES:
        module = importlib.import_module(name)
        for attribute, value in sorted(vars(module).items()):
            add(f"{name}.{attribute}", value, module)
            if isinstance(value, dict):
                for key, item in value.items():
                    add(f"{name}.{attribute}[{key!r}]", item, module)
            elif isinstance(value, (list, tuple)):
                for index, item in enumerate(value):
                    add(f"{name}.{attribute}[{index}]", item, module)
    return found


def nested_code(code: types.CodeType):
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield constant
            yield from nested_code(constant)


def constants(candidate) -> list:
    """Short strings in the candidate's code: the values a mode argument (kind="gd") may take."""
    code = getattr(candidate, "__code__", None) or getattr(getattr(candidate, "__init__", None), "__code__", None)
    found = []
    if isinstance(code, types.CodeType):
        for each in (code, *nested_code(code)):
            found += [c for c in each.co_consts if isinstance(c, str) and 0 < len(c) <= 40 and c not in found]
    return found[:24]


MAX_PLANS = 150


def call_plans(candidate, graded: inspect.Signature) -> list[tuple[str, object]]:
    """Ways to call `candidate` with a graded function's arguments: (description, arguments -> (args, kwargs)).

    Parameters are matched by name (then by name without its digits: beta1 -> beta); a parameter left with a
    default keeps it; any other takes one of the unmatched arguments, all of them as a tuple, None, or (for one
    parameter at most) a string from the candidate's own code. Plans without such a string come first. Every plan
    uses an argument.
    """
    try:
        parameters = [p for p in inspect.signature(candidate).parameters.values()
                      if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    except (TypeError, ValueError):
        return []
    names = list(graded.parameters)
    exact = {p.name for p in parameters if p.name in names}
    options, claimed = [], set(exact)
    for p in parameters:
        stem = p.name.rstrip(DIGITS)
        similar = [g for g in names if g not in exact and stem and g.rstrip(DIGITS) == stem]
        claimed |= set(similar) if p.name not in exact else set()
        if p.name in exact:
            options.append([("arg", p.name)])
        elif similar:
            options.append([("arg", g) for g in similar])
        elif p.default is not p.empty:
            options.append([("default",)])
        else:
            options.append(None)  # free
    strings = constants(candidate)
    plans: list[list] = []

    def search(i: int, chosen: list, used: set, budget: int) -> None:
        if len(plans) >= MAX_PLANS:
            return
        if i == len(parameters):
            if budget == 0 and any(c[0] in ("arg", "pack") for c in chosen):
                plans.append(chosen)
            return
        choices = options[i]
        if choices is None:
            free = [g for g in names if g not in used and g not in claimed]
            choices = [("arg", g) for g in free] + ([("pack", tuple(free))] if len(free) > 1 else []) \
                + [("const", None)] + ([("const", s) for s in strings] if budget else [])
        for choice in choices:
            if choice[0] == "arg" and choice[1] in used:
                continue
            taken = {choice[1]} if choice[0] == "arg" else set(choice[1]) if choice[0] == "pack" else set()
            search(i + 1, chosen + [choice], used | taken, budget - (choice[0] == "const" and choice[1] is not None))

    for budget in (0, 1):
        search(0, [], set(), budget)

    def plan_of(chosen):
        def arguments(values: dict):
            args, kwargs = [], {}
            for p, choice in zip(parameters, chosen):
                if choice[0] == "default":
                    if p.kind == p.POSITIONAL_ONLY:
                        args.append(p.default)
                    continue
                value = (values[choice[1]] if choice[0] == "arg" else
                         tuple(values[n] for n in choice[1]) if choice[0] == "pack" else choice[1])
                if p.kind == p.POSITIONAL_ONLY:
                    args.append(value)
                else:
                    kwargs[p.name] = value
            return args, kwargs
        shown = ", ".join(f"{p.name}={c[1]!r}" if c[0] == "const" else f"{p.name}={c[1]}" if c[0] == "arg" else
                          f"{p.name}=({', '.join(c[1])})" if c[0] == "pack" else f"{p.name}=<default>"
                          for p, c in zip(parameters, chosen))
        return shown, arguments

    return [plan_of(chosen) for chosen in plans]


OUTPUTS = {
    "": lambda result, like: result,
    "[0]": lambda result, like: result[0] if isinstance(result, (tuple, list)) and result else result,
    "[:n]": lambda result, like: tuple(result[:len(like)]) if isinstance(result, (tuple, list)) and isinstance(
        like, tuple) else result,
}


def same_value(a, b) -> bool:
    from idnn.probe import flatten

    try:
        flat_a, flat_b = flatten("v", a), flatten("v", b)
    except (TypeError, ValueError):
        return False
    return flat_a.keys() == flat_b.keys() and all(
        flat_a[k].shape == flat_b[k].shape and np.array_equal(flat_a[k], flat_b[k]) for k in flat_a)


def shapes(value) -> dict | None:
    from idnn.probe import KEYS_SUFFIX, flatten

    try:
        return {k: a.shape for k, a in flatten("r", value).items() if not k.endswith(KEYS_SUFFIX)}
    except (TypeError, ValueError):
        return None


def raw_answers(candidate, graded: inspect.Signature):
    """Every way to call `candidate` as a graded function: (description, function). "direct" is the candidate itself."""
    yield "direct", candidate
    for shown, arguments in call_plans(candidate, graded):
        def answer(*args, _arguments=arguments, **kwargs):
            bound = graded.bind(*args, **kwargs)
            bound.apply_defaults()
            cargs, ckwargs = _arguments(bound.arguments)
            return candidate(*cargs, **ckwargs)
        yield f"({shown})", answer


def delegations_that_pass(harness: AssignmentHarness, function: str, candidates: dict[str, object],
                          tally: dict) -> list[str]:
    """The delegations of `function` that pass a test cell: "<candidate> <call><output> passes <grade_id>".

    Each call is first tried on the first calls the hidden checks make (a call that raises, or whose result, through
    one of OUTPUTS, lacks an array of the reference's or has another shape, cannot pass); the rest are judged.
    """
    reference = harness.namespace()[function]
    graded = inspect.signature(reference)
    calls = harness.first_calls(function)
    assert calls, f"the hidden checks never call {function}"
    wanted = [shapes(expected) for *_, expected in calls]
    identity = all(any(same_value(expected, given) for given in (*args, *kwargs.values()))
                   for args, kwargs, _, expected in calls)
    passing = []
    for label, candidate in candidates.items():
        tally["pairs"] += 1
        for shown, answer in raw_answers(candidate, graded):
            tally["calls"] += 1
            outputs = dict(OUTPUTS)
            for (args, kwargs, state, expected), want in zip(calls, wanted):
                np.random.set_state(state)
                result = calling(answer, *copy.deepcopy(args), **copy.deepcopy(kwargs))
                if isinstance(result, BaseException):
                    outputs = {}
                    break
                for out_name, output in list(outputs.items()):
                    out = calling(output, result, expected) if not out_name or isinstance(result, (tuple, list)) \
                        else None
                    got = shapes(out)
                    if got is None or any(got.get(key) != shape for key, shape in want.items()):
                        del outputs[out_name]
                    elif identity and any(same_value(out, given) for given in (*args, *kwargs.values())):
                        # The exercise hands back an argument unchanged (backward_propagation_1d returns its x), and so
                        # does this: it computes nothing, and any function returning its argument would "pass".
                        tally["passthrough"] = tally.get("passthrough", 0) + 1
                        del outputs[out_name]
                if not outputs:
                    break
            for out_name, output in outputs.items():
                tally["judged"] += 1

                def final(*args, _answer=answer, _output=output, _like=calls[0][3], **kwargs):
                    return _output(_answer(*args, **kwargs), _like)
                for grade_id in harness.cells_passed(function, final):
                    passing.append(f"{label} {shown}{out_name} passes {grade_id}")
    return passing


@pytest.fixture
def harness_env(tmp_path, monkeypatch):
    """A scratch folder for what candidates may write, datasets pointed there, no command line to parse."""
    import matplotlib
    matplotlib.use("Agg")
    from idnn.paths import DATASETS_ENV

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.chdir(scratch)
    monkeypatch.setenv(DATASETS_ENV, str(scratch))
    monkeypatch.setattr(sys, "argv", ["boundary-harness"])
    # Drawing is all the plotting helpers do, and what they return (axes) can never pass: pyplot is swapped for a
    # stand-in, so that thousands of calls of them cost nothing. Everything else runs for real.
    import idnn.plots
    monkeypatch.setattr(idnn.plots, "plt", mock.MagicMock(name="pyplot"))
    results = tmp_path / "results"
    results.mkdir(mode=0o700)
    before = tree_digest()
    yield results
    assert tree_digest() == before, "a candidate changed the datasets or the checks' data"


def tree_digest() -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for root in (REPO / "datasets", UTILS / "checks" / "data")
            for p in root.rglob("*") if p.is_file()}


HARNESS_TALLY = {"functions": 0, "pairs": 0, "calls": 0, "judged": 0, "passthrough": 0}


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # candidates are called with what they never expected
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_callable_of_the_student_side_passes_a_hidden_check_in_place_of_an_exercise(assignment, harness_env):
    harness = AssignmentHarness(assignment, harness_env)
    candidates = student_side_candidates()
    assert len(candidates) > 50, sorted(candidates)
    tally = {"pairs": 0, "calls": 0, "judged": 0, "passthrough": 0}
    passing = []
    for function in harness.graded:
        passing += delegations_that_pass(harness, function, candidates, tally)
    HARNESS_TALLY["functions"] += len(harness.graded)
    for key in tally:
        HARNESS_TALLY[key] += tally[key]
    print(f"\n{assignment}: {len(harness.graded)} graded functions x {len(candidates)} candidates = {tally['pairs']} "
          f"pairs, {tally['calls']} calls tried, {tally['judged']} judged by the hidden checks ({tally['passthrough']} handed an "
          f"argument back unchanged where the exercise does so); so far "
          f"{HARNESS_TALLY}")
    assert not passing, "a submission can delegate an exercise to the student side:\n" + "\n".join(passing)


# The harness itself can fail: implementations planted among the candidates are found, through the calls it builds.

def old_update_parameters(parameters: dict, grads: dict, learning_rate: float) -> dict:
    """What idnn.nets.update_parameters was: the Optimization exercise's gradient-descent step."""
    return {key: value - learning_rate * grads[f"d{key}"] for key, value in parameters.items()}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # candidates are called with what they never expected
def test_the_harness_finds_planted_implementations_of_the_optimisers(harness_env):
    from idnn.autograde.check_data import _step  # the old idnn.checks.optimization._step, now on the trusted side

    harness = AssignmentHarness("optimization", harness_env)
    planted = {"planted._step": _step, "planted.update_parameters": old_update_parameters}
    tally = {"pairs": 0, "calls": 0, "judged": 0}
    found = {fn: delegations_that_pass(harness, fn, planted, tally)
             for fn in ("update_parameters_with_gd", "update_parameters_with_momentum",
                        "update_parameters_with_rmsprop", "update_parameters_with_adam", "inverse_decay")}
    for fn in ("update_parameters_with_gd", "update_parameters_with_momentum", "update_parameters_with_rmsprop",
               "update_parameters_with_adam"):
        assert any(f.startswith("planted._step (kind=") for f in found[fn]), (fn, found[fn])
    assert any(f.startswith("planted.update_parameters direct passes test_gd") for f in found["update_parameters_with_gd"])
    assert found["inverse_decay"] == []


def old_split_sizes(m: int) -> tuple[int, int, int]:
    """What idnn.autograde.properties.split_sizes was (importable inside the sandbox then): an exercise."""
    held_out = min(int(0.2 * m), 10_000)
    return m - 2 * held_out, held_out, held_out


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # candidates are called with what they never expected
def test_the_harness_finds_the_planted_split_sizes(harness_env):
    harness = AssignmentHarness("setting_up", harness_env)
    tally = {"pairs": 0, "calls": 0, "judged": 0, "passthrough": 0}
    found = delegations_that_pass(harness, "split_sizes", {"planted.split_sizes": old_split_sizes}, tally)
    assert "planted.split_sizes direct passes test_split_sizes" in found, found


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_harness_passes_every_graded_function_with_the_reference_itself(assignment, harness_env):
    harness = AssignmentHarness(assignment, harness_env)
    assert harness.graded and all(harness.graded.values()), harness.graded
    for function in harness.graded:
        reference = harness.namespace()[function]
        passed = harness.cells_passed(function, reference)
        assert passed and passed == harness.calling_cells[function], function


def test_the_delegating_sample_would_have_scored_had_the_package_an_optimiser_step(harness_env, monkeypatch, tmp_path):
    """The delegating sample searches idnn for a step: given one to find (as idnn.checks.optimization._step was), it
    passes the four cells it now fails. Its search sees the package as the sandbox shows it: no idnn.autograde."""
    import idnn
    import idnn.checks.optimization
    from idnn.autograde.check_data import _step

    seen_as_in_the_sandbox = tmp_path / "idnn"
    seen_as_in_the_sandbox.mkdir()
    for entry in UTILS.iterdir():
        if entry.name not in ("autograde", "__pycache__"):
            (seen_as_in_the_sandbox / entry.name).symlink_to(entry)
    monkeypatch.setattr(idnn, "__path__", [str(seen_as_in_the_sandbox)])
    harness = AssignmentHarness("optimization", harness_env)
    cells = ["test_gd", "test_momentum", "test_rmsprop", "test_adam"]
    for planted in (False, True):
        if planted:
            monkeypatch.setattr(idnn.checks.optimization, "_step", _step, raising=False)
        namespace = harness.namespace()
        exec("\n".join(optimization_samples.DELEGATE_TO_IDNN.values()), namespace)
        passed = [g for g in cells if harness.verdict(g, namespace).passed]
        assert passed == (cells if planted else []), (planted, passed)


# -- (d) the stored expected values are fresh -------------------------------------------------------------------

def same(committed, fresh, where: str) -> None:
    assert type(committed) is type(fresh), f"{where}: {type(committed).__name__} != {type(fresh).__name__}"
    if isinstance(fresh, dict):
        assert sorted(committed) == sorted(fresh), f"{where}: keys {sorted(committed)} != {sorted(fresh)}"
        for key in fresh:
            same(committed[key], fresh[key], f"{where}/{key}")
    elif isinstance(fresh, list):
        assert len(committed) == len(fresh), f"{where}: {len(committed)} entries, a fresh build has {len(fresh)}"
        for index, (a, b) in enumerate(zip(committed, fresh)):
            same(a, b, f"{where}/{index}")
    elif isinstance(fresh, np.ndarray):
        assert committed.dtype == fresh.dtype and committed.shape == fresh.shape, where
        assert np.allclose(committed, fresh, rtol=1e-12, atol=1e-15, equal_nan=True) if fresh.dtype.kind in "fc" \
            else np.array_equal(committed, fresh), where
    elif isinstance(fresh, float):
        assert np.isclose(committed, fresh, rtol=1e-12, atol=1e-15, equal_nan=True), where
    else:
        assert committed == fresh, where


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_checks_stored_expected_values_equal_a_fresh_build_from_the_source(assignment):
    from idnn.autograde.check_data import build
    from idnn.checks import DATA_DIR, loads_expected

    committed = loads_expected((DATA_DIR / f"{assignment}.json").read_text())
    same(committed, loads_expected(build(assignment)), f"{assignment}.json (run python -m idnn.autograde.check_data)")


def test_the_check_data_folder_holds_one_file_per_assignment_and_ships_with_the_package():
    from idnn.checks import DATA_DIR

    assert sorted(p.name for p in DATA_DIR.iterdir()) == sorted(f"{a}.json" for a in ASSIGNMENTS)
    assert '"idnn.checks" = ["data/*.json"]' in (REPO / "pyproject.toml").read_text()
