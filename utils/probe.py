"""Record what a student's functions return, so grading can happen outside the notebook.

Hidden test cells exist only in the instructor's notebooks and at grading time.
They run code like this in the student's kernel:

    with Probe("init_he") as probe:
        for case in range(3):
            layers_dims = probe.layers_dims(...)
            probe.call(f"case{case}", initialize_parameters_he, layers_dims, np_seed=probe.seed())

The inputs come from a seed chosen by the grader when grading starts. The probe
saves the results as plain arrays (np.savez, never pickle) in the directory named
by IDNN_PROBE_DIR. After the kernel has gone, the grader (a trusted process)
runs the same code on the reference solution with the same seed and compares
the two. Nothing decided inside the kernel counts: patching numpy, returning
objects that compare equal to anything, or blanking cells can only make the
results missing or wrong.

When IDNN_PROBE_DIR is not set (an instructor running the source notebook),
the probe runs the code and saves nothing.
"""

import contextlib
import copy
import os
import tempfile
import zlib
from typing import Any, Callable

import numpy as np

PROBE_DIR_ENV = "IDNN_PROBE_DIR"
PROBE_SEED_ENV = "IDNN_PROBE_SEED"

#: How an array is compared with the reference (the grader reads the modes from its own run);
#: "property:<name>" names a property check of idnn.checks.properties instead.
COMPARE_MODES = ("allclose", "exact", "shape", "spread", "difference")

ERROR_PREFIX = "__error__:"
KEYS_SUFFIX = "__keys__"
_NUMERIC_KINDS = "biufc"

# Set by the grader while it computes reference results in its own process.
_session: dict | None = None


@contextlib.contextmanager
def reference_session(seed: int, sink: Callable[["Probe"], None]):
    """Within this block every Probe uses `seed` and hands itself to `sink` instead of saving."""
    global _session
    previous, _session = _session, {"seed": seed, "sink": sink}
    try:
        yield
    finally:
        _session = previous


class Probe:
    """Collects results of one hidden check under the name `check_id`."""

    def __init__(self, check_id: str):
        self.check_id = check_id
        #: True only in the grader's reference run (reference_session), where the source notebook's own
        #: definitions are in scope: what `inputs` need from the reference solution (a split's expected
        #: sizes, say) is computed only then, never by calling the student's code in the kernel.
        self.reference = _session is not None
        if _session is not None:
            seed, self._out_dir = _session["seed"], None
        else:
            seed = int(os.environ.get(PROBE_SEED_ENV, "0"))
            self._out_dir = os.environ.get(PROBE_DIR_ENV)
        self.rng = np.random.default_rng([seed, zlib.crc32(check_id.encode())])
        self.arrays: dict[str, np.ndarray] = {}
        self.errors: dict[str, str] = {}
        self.modes: dict[str, str] = {}
        self.notes: dict[str, str] = {}
        self.inputs: dict[str, dict[str, np.ndarray]] = {}  # only the grader's own run's are used

    # -- inputs ---------------------------------------------------------------------------
    def seed(self) -> int:
        """A seed for np.random.seed, drawn from the grading seed."""
        return int(self.rng.integers(0, 2**31 - 1))

    def integers(self, low: int, high: int, size=None):
        """Random integers in [low, high), drawn from the grading seed."""
        values = self.rng.integers(low, high, size=size)
        return int(values) if size is None else [int(v) for v in values]

    def normal(self, *shape: int) -> np.ndarray:
        """Standard normal array of the given shape, drawn from the grading seed."""
        return self.rng.standard_normal(shape)

    # -- results --------------------------------------------------------------------------
    def call(self, key: str, fn: Callable, *args: Any, compare: str = "allclose", np_seed: int | None = None,
             inputs: dict | None = None, **kwargs: Any) -> Any:
        """Call fn(*args, **kwargs) and record what it returns under `key`.

        Arguments are deep-copied, so a function that modifies its inputs cannot
        change later cases. With np_seed, np.random.seed(np_seed) runs first.
        An exception is recorded as the reason the check fails. `inputs` are
        recorded beside the result for a property check (compare="property:<name>").
        """
        self.notes[key] = _describe_call(fn, args, kwargs)
        if inputs is not None:
            self.inputs[key] = {name: np.array(value) for name, value in inputs.items()}
        args, kwargs = copy.deepcopy(args), copy.deepcopy(kwargs)
        if np_seed is not None:
            np.random.seed(np_seed)
        try:
            result = fn(*args, **kwargs)
        except Exception as error:  # the student's code failed: that is the finding
            self.errors[key] = f"{type(error).__name__}: {error}"
            self.modes[key] = compare
            return None
        self.record(key, result, compare=compare)
        return result

    def record(self, key: str, value: Any, compare: str = "allclose") -> None:
        """Record `value` (an array, number, or dict/list/tuple of them) under `key`."""
        if compare not in COMPARE_MODES and not compare.startswith("property:"):
            raise ValueError(f"compare must be one of {COMPARE_MODES}, not {compare!r}")
        self.modes[key] = compare
        try:
            self.arrays.update(flatten(key, value))
        except TypeError as error:
            self.errors[key] = str(error)

    # -- saving ---------------------------------------------------------------------------
    def __enter__(self) -> "Probe":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if _session is not None:
            _session["sink"](self)
            return False  # an error in the reference run is the instructor's to see
        if self._out_dir is None:
            return False
        if exc is not None:
            self.errors["(check)"] = f"{exc_type.__name__}: {exc}"
        self._save()
        return exc_type is not None and issubclass(exc_type, Exception)

    def _save(self) -> None:
        payload = dict(self.arrays)
        payload.update({ERROR_PREFIX + key: np.array(message) for key, message in self.errors.items()})
        out_dir = self._out_dir
        fd, tmp = tempfile.mkstemp(dir=out_dir, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **payload)
        os.replace(tmp, os.path.join(out_dir, f"{self.check_id}.npz"))


def flatten(key: str, value: Any) -> dict[str, np.ndarray]:
    """Turn nested dicts/lists/tuples of arrays into {"key/sub/...": array}."""
    if isinstance(value, dict):
        flat = {f"{key}/{KEYS_SUFFIX}": np.array(sorted(str(k) for k in value), dtype=str)}
        for sub, item in value.items():
            flat.update(flatten(f"{key}/{sub}", item))
        return flat
    if isinstance(value, (list, tuple)):
        flat = {f"{key}/{KEYS_SUFFIX}": np.array([str(i) for i in range(len(value))], dtype=str)}
        for index, item in enumerate(value):
            flat.update(flatten(f"{key}/{index}", item))
        return flat
    if not isinstance(value, (np.ndarray, np.generic, int, float, bool, str)):
        raise TypeError(f"{key} is a {type(value).__name__}, where a NumPy array or a number was expected")
    array = np.array(value)  # a copy, so later changes by the student's code cannot alter it
    if array.dtype.kind not in _NUMERIC_KINDS + "U":
        raise TypeError(f"{key} has dtype {array.dtype}, where a numeric array was expected")
    return {key: array}


#: Longest description of a call shown in a verdict (arguments are shortened first).
MAX_CALL_TEXT = 160


def _describe_call(fn: Callable, args: tuple, kwargs: dict) -> str:
    """How a verdict names the call it reports on: `f(<array (3, 4)>, 0.5, seed=2)`, bounded.

    Functions and other objects are never shown by their repr: that names where they were defined
    (`<function ...<locals>.name at 0x...>`), which is hidden code. A function
    passed as an argument is `<function>`; the called function keeps its name only when it is a
    top-level one (the student's), or a lambda.
    """
    def show(value: Any, depth: int = 0) -> str:
        if isinstance(value, np.ndarray):
            return f"<array {value.shape}>"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{show(k, depth + 1)}: {show(v, depth + 1)}" for k, v in value.items()) + "}"
        if isinstance(value, (list, tuple)) and any(isinstance(v, (np.ndarray, list, tuple, dict)) for v in value):
            if depth > 0:
                return f"<{type(value).__name__} of {len(value)}>"
            inner = ", ".join(show(v, depth + 1) for v in value)
            return f"[{inner}]" if isinstance(value, list) else f"({inner})"
        if isinstance(value, (bool, int, float, complex, str, bytes, np.generic, type(None))) or \
                (isinstance(value, (list, tuple)) and all(isinstance(v, (bool, int, float, str)) for v in value)):
            text = repr(value.item() if isinstance(value, np.generic) else value)
            return text if len(text) <= 60 else text[:57] + "..."
        return "<function>" if callable(value) else "<object>"  # a type's name can be hidden code's too

    parts = [show(a) for a in args] + [f"{k}={show(v)}" for k, v in kwargs.items()]
    text = f"{_public_name(fn)}({', '.join(parts)})"
    return text if len(text) <= MAX_CALL_TEXT else text[:MAX_CALL_TEXT - 4] + "...)"


def _public_name(fn: Callable) -> str:
    """fn's name if it is a top-level function (or a lambda); otherwise 'function'."""
    name = getattr(fn, "__name__", None)
    qualname = getattr(fn, "__qualname__", None)
    if isinstance(name, str) and name == "<lambda>":
        return name
    if isinstance(name, str) and name.isidentifier() and qualname == name:
        return name
    return "<function>"
