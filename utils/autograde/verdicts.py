"""Compare a student's recorded results with the reference, in the grader's own process.

The reference run (see reference.py) decides which keys exist and how each is
compared; the student's file only supplies values. Comparison modes:

    allclose  same shape and dtype family, |got - ref| <= atol + rtol * |ref| everywhere
    exact     same shape and dtype family, equal everywhere
    shape     same shape and dtype family only (values are random or free)
    spread    same shape and dtype family, and the values look drawn from the same
              distribution as the reference: equal mean and standard deviation within
              a few standard errors, and normal-shaped (kurtosis near 3, so a uniform
              `rand` draw is told apart from a normal `randn` one)
    property:<name>  no single right value (a random split, a dropout mask): a named check
              of properties.py decides, from the student's results and the inputs the
              grader's own run recorded
    difference  a gradient check's relative difference: where the reference is below
              1e-7 (only round-off: its exact value depends on how the sum is written)
              the student's must be too; elsewhere the two agree within 1e-4 relative
"""

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..probe import ERROR_PREFIX, KEYS_SUFFIX, Probe
from .properties import check_property

RTOL = 1e-5
ATOL = 1e-8
MAX_RESULT_BYTES = 256 * 2**20  # a larger results file is refused unread
MAX_PROBLEMS_SHOWN = 5


@dataclass
class StudentResults:
    """What the student's kernel saved for one check: arrays and error messages by key."""

    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    unreadable: str | None = None


@dataclass
class Verdict:
    passed: bool
    compared: int
    problems: list[str]

    def message(self) -> str:
        if self.passed:
            return f"Hidden checks passed: {self.compared} results match the reference."
        shown = self.problems[:MAX_PROBLEMS_SHOWN]
        more = len(self.problems) - len(shown)
        lines = ["Hidden checks failed:"] + [f"  - {p}" for p in shown]
        if more:
            lines.append(f"  ... and {more} more")
        return "\n".join(lines)


def load_student_results(path: Path) -> StudentResults | None:
    """Read a probe file written in the student's kernel; None when it does not exist."""
    if not path.is_file():
        return None
    if path.stat().st_size > MAX_RESULT_BYTES:
        return StudentResults(unreadable=f"the results file is larger than {MAX_RESULT_BYTES} bytes")
    results = StudentResults()
    try:
        with np.load(path, allow_pickle=False) as data:
            for name in data.files:
                array = data[name]
                if name.startswith(ERROR_PREFIX):
                    results.errors[name[len(ERROR_PREFIX):]] = str(array)
                else:
                    results.arrays[name] = array
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        return StudentResults(unreadable=f"the results file could not be read ({error})")
    return results


def judge(references: list[Probe], results_dir: Path) -> Verdict:
    """Compare every reference probe of one test cell with the student's saved results."""
    problems: list[str] = []
    compared = 0
    for reference in references:
        student = load_student_results(results_dir / f"{reference.check_id}.npz")
        if student is None:
            problems.append(f"{reference.check_id}: no results were recorded. The cell stopped before its hidden "
                            f"check ran (see the error above), or the check never ran at all.")
            continue
        if student.unreadable:
            problems.append(f"{reference.check_id}: {student.unreadable}")
            continue
        if "(check)" in student.errors:
            problems.append(f"{reference.check_id}: the check stopped with {student.errors['(check)']}")
        for key, mode in reference.modes.items():
            note = reference.notes.get(key)
            where = f"{key} [{note}]" if note else key
            if key in student.errors:
                problems.append(f"{where}: your code raised {student.errors[key]}")
                continue
            if key in reference.errors:
                raise RuntimeError(f"The reference solution fails hidden check {reference.check_id}/{key}: "
                                   f"{reference.errors[key]}. Fix the source notebook.")
            if mode.startswith("property:"):
                compared += 1
                got = {n: a for n, a in student.arrays.items() if n == key or n.startswith(key + "/")}
                for problem in check_property(mode.removeprefix("property:"), key, got, reference.inputs.get(key, {})):
                    problems.append(f"{where}: {problem}")
                continue
            for name in sorted(n for n in reference.arrays if n == key or n.startswith(key + "/")):
                compared += 1
                problem = compare(name, student.arrays.get(name), reference.arrays[name], mode)
                if problem:
                    label = f"{where}{name[len(key):]}"
                    problems.append(f"{label}: {problem}")
    return Verdict(passed=not problems, compared=compared, problems=problems)


def compare(name: str, got: np.ndarray | None, ref: np.ndarray, mode: str) -> str | None:
    """None when `got` matches `ref` under `mode`; otherwise a sentence saying what differs."""
    if name.endswith(KEYS_SUFFIX):
        if got is None:
            return f"expected a dict or sequence with entries {list(ref)}"
        missing = sorted(set(ref.tolist()) - set(got.tolist()))
        return f"missing entries {missing}" if missing else None
    if got is None:
        return "no value was recorded"
    if got.shape != ref.shape:
        return f"shape {got.shape}, expected {ref.shape}"
    if _family(got) != _family(ref):
        return f"dtype {got.dtype}, expected {_family(ref)} values like {ref.dtype}"
    if mode == "shape":
        return None
    if mode == "spread":
        return _compare_spread(got, ref)
    if mode == "difference":
        return _compare_difference(got, ref)
    if ref.dtype.kind == "U":
        return None if np.array_equal(got, ref) else f"{got.tolist()!r}, expected {ref.tolist()!r}"
    if mode == "exact":
        wrong = got != ref
    else:
        got_f, ref_f = got.astype(np.complex128), ref.astype(np.complex128)
        with np.errstate(invalid="ignore", over="ignore"):
            wrong = ~(np.abs(got_f - ref_f) <= ATOL + RTOL * np.abs(ref_f))
        wrong &= ~(np.isnan(got_f) & np.isnan(ref_f))
    if not np.any(wrong):
        return None
    first = tuple(int(i) for i in np.argwhere(np.atleast_1d(wrong))[0]) if got.ndim else ()
    got_v, ref_v = (got[first], ref[first]) if got.ndim else (got[()], ref[()])
    count = int(np.sum(wrong))
    at = f" at index {first}" if got.ndim else ""
    return f"{count} of {got.size} values differ; first{at}: got {_show(got_v)}, expected {_show(ref_v)}"


def _show(value) -> str:
    return repr(value.item()) if isinstance(value, np.generic) else repr(value)


GRADIENT_CHECK_OK = 1e-7


def _compare_difference(got: np.ndarray, ref: np.ndarray) -> str | None:
    got_v, ref_v = float(np.asarray(got, dtype=np.float64).ravel()[0]), float(ref.ravel()[0])
    if not np.isfinite(got_v):
        return f"the difference is {got_v}"
    if ref_v < GRADIENT_CHECK_OK:
        return None if 0 <= got_v < GRADIENT_CHECK_OK else \
            f"difference {got_v:.3g}, expected a round-off-sized value below {GRADIENT_CHECK_OK:g} ({ref_v:.3g})"
    return None if abs(got_v - ref_v) <= 1e-4 * ref_v else f"difference {got_v:.6g}, expected {ref_v:.6g}"


def _family(array: np.ndarray) -> str:
    kind = array.dtype.kind
    return {"b": "integer", "i": "integer", "u": "integer", "f": "float", "c": "complex", "U": "text"}.get(kind, kind)


def _compare_spread(got: np.ndarray, ref: np.ndarray) -> str | None:
    got_f, ref_f = got.astype(np.float64).ravel(), ref.astype(np.float64).ravel()
    n = got_f.size
    if not np.all(np.isfinite(got_f)):
        return "contains NaN or infinite values"
    ref_std, got_std = float(ref_f.std()), float(got_f.std())
    if ref_std == 0.0:
        return None if np.all(got_f == ref_f[0]) else f"values vary (std {got_std:.4g}), expected all {ref_f[0]!r}"
    # Standard errors of two independent samples: mean ~ std/sqrt(n), std ~ std/sqrt(2n).
    mean_tol = 6 * ref_std * np.sqrt(2.0 / n)
    std_tol = 6 * ref_std / np.sqrt(n) + 0.005 * ref_std
    if abs(got_f.mean() - ref_f.mean()) > mean_tol:
        return f"mean {got_f.mean():.4g}, expected {ref_f.mean():.4g} (within {mean_tol:.2g})"
    if abs(got_std - ref_std) > std_tol:
        return f"standard deviation {got_std:.4g}, expected {ref_std:.4g} (within {std_tol:.2g})"
    # Kurtosis (3 for a normal, 1.8 for a uniform) has standard error about sqrt(24/n) per sample,
    # so it only separates the two reliably on large arrays.
    if n >= 20_000 and got_std > 0:
        kurtosis = float(np.mean(((got_f - got_f.mean()) / got_std) ** 4))
        ref_kurtosis = float(np.mean(((ref_f - ref_f.mean()) / ref_std) ** 4))
        if abs(kurtosis - ref_kurtosis) > max(0.3, 6 * np.sqrt(48.0 / n)):
            return (f"the values are not distributed like the reference (kurtosis {kurtosis:.2f}, "
                    f"expected {ref_kurtosis:.2f}); was the draw uniform instead of normal?")
    return None
