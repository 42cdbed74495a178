"""Visible "check your work" functions, one module per assignment.

Each check calls the student's function on small, fixed inputs and raises
AssertionError with a message saying what differs and what to look at.
They teach; they do not grade. Grading uses hidden inputs, outside the notebook.

Nothing here computes what an exercise computes. A check compares with fixed expected values
stored as data (data/<assignment>.json: what the instructor's solution returns on the check's
inputs, and what the classic mistakes return, built once by the grading side), and with
invariants (shapes, keys, zeros, the properties of a random draw). Values are compared by compare.py
and random draws judged by stats.py: the same rules the hidden verdicts apply, with each check's
tolerances named beside it.

A failed check shows the student its message and the line that called it, not the checker's code; an exercise
still holding its stub is reported as not implemented yet (failures.py).
"""

import json
from pathlib import Path

import numpy as np

from .failures import CheckFailed, ExerciseNotDone, register_with_ipython  # noqa: F401 (the checks' errors)

DATA_DIR = Path(__file__).resolve().parent / "data"
_ARRAY = "__ndarray__"
_loaded: dict[str, dict] = {}


def expected_values(assignment: str, check: str | None = None):
    """The stored expected values of one assignment's checks (or of one check), as fresh objects (arrays, dicts,
    lists, numbers): a check may hand them to the student's code, which may change them."""
    if assignment not in _loaded:
        _loaded[assignment] = loads_expected((DATA_DIR / f"{assignment}.json").read_text())
    return _fresh(_loaded[assignment] if check is None else _loaded[assignment][check])


def _fresh(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {key: _fresh(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_fresh(item) for item in value]
    return value


def loads_expected(text: str) -> dict:
    def revive(value: dict):
        if _ARRAY in value:
            return np.array(value[_ARRAY], dtype=value["dtype"]).reshape(value["shape"])
        return value
    return json.loads(text, object_hook=revive)


def dumps_expected(data: dict) -> str:
    """The JSON text of `data` (arrays kept with their dtype and shape; floats written exactly)."""
    def plain(value):
        if isinstance(value, np.ndarray):
            return {_ARRAY: value.ravel().tolist(), "dtype": str(value.dtype), "shape": list(value.shape)}
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, dict):
            return {str(key): plain(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(item) for item in value]
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        raise TypeError(f"cannot store a {type(value).__name__} as an expected value")

    def nested(value) -> bool:
        return (isinstance(value, dict) and _ARRAY not in value) or isinstance(value, list)

    def layout(value, indent: str) -> str:
        # Dicts and lists of them spread over lines, arrays and lists of numbers on one, so that a change
        # shows as a change of the entries it touches.
        inner = indent + "  "
        if isinstance(value, dict) and _ARRAY not in value and value:
            items = [f"{inner}{json.dumps(key)}: {layout(value[key], inner)}" for key in sorted(value)]
            return "{\n" + ",\n".join(items) + "\n" + indent + "}"
        if isinstance(value, list) and any(nested(item) or isinstance(item, dict) for item in value):
            return "[\n" + ",\n".join(inner + layout(item, inner) for item in value) + "\n" + indent + "]"
        return json.dumps(value, sort_keys=True)

    return layout(plain(data), "") + "\n"


def passed(what: str) -> None:
    print(f"All checks passed for {what}.")


def check_parameters_structure(parameters, layers_dims: list[int], call: str) -> None:
    """parameters must be a dict with exactly W1, b1, ..., WL, bL of the right shapes, as float arrays.

    W[l]: (layers_dims[l], layers_dims[l-1]) and b[l]: (layers_dims[l], 1).
    """
    assert isinstance(parameters, dict), f"{call} returned a {type(parameters).__name__}; return a dict."
    L = len(layers_dims) - 1
    expected = {f"{p}{l}" for l in range(1, L + 1) for p in "Wb"}
    missing, extra = sorted(expected - set(parameters)), sorted(set(parameters) - expected)
    assert not missing and not extra, (
        f"{call} returned keys {sorted(parameters)}; a network with layers_dims={layers_dims} has L={L} layers "
        f"and needs exactly W1..W{L} and b1..b{L} (missing {missing}, unexpected {extra}).")
    for l in range(1, L + 1):
        for name, shape in ((f"W{l}", (layers_dims[l], layers_dims[l - 1])), (f"b{l}", (layers_dims[l], 1))):
            value = parameters[name]
            assert isinstance(value, np.ndarray), (
                f"{call}: {name} is a {type(value).__name__}; it must be a NumPy array.")
            assert value.shape == shape, (
                f"{call}: {name} has shape {value.shape} but should have shape {shape} "
                f"= (layers_dims[{l}], {'layers_dims[' + str(l - 1) + ']' if name[0] == 'W' else '1'}).")
            assert value.dtype == np.float64, (
                f"{call}: {name} has dtype {value.dtype}; use float64 arrays (np.zeros and np.random.randn "
                f"give float64 by default).")


register_with_ipython()
