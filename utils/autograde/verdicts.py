"""Compare a student's recorded results with the reference, in the grader's own process.

The reference run (see reference.py) decides which keys exist and how each is
compared; the student's file only supplies values. The rules are the visible checks' own
(idnn.checks.compare and idnn.checks.stats); the modes choose one, with the grader's tolerances:

    allclose  compare.first_difference, rtol = RTOL, atol = ATOL (1e-5, 1e-8): same shape and dtype
              family, |got - ref| <= atol + rtol * |ref| everywhere
    exact     compare.first_difference, rtol = atol = 0: same shape and dtype family, equal everywhere
    shape     compare.shape_difference: same shape and dtype family only (values are random or free)
    spread    same shape and dtype family, and the values look drawn from the same distribution as
              the reference's own draw (stats.spread_difference, draws=2): mean and standard deviation
              within 6 standard errors (the standard deviation also within SPREAD_STD_SLACK of the
              reference's), and on large arrays normal-shaped (kurtosis near 3, so a uniform `rand`
              draw is told apart from a normal `randn` one)
    difference  compare.gradient_check_difference: a gradient check's relative difference; where the
              reference is below 1e-7 (only round-off: its exact value depends on how the sum is
              written) the student's must be too; elsewhere the two agree within 1e-4 relative
    property:<name>  no single right value (a random split, a dropout mask): a named check
              of properties.py decides, from the student's results and the inputs the
              grader's own run recorded

The student's results are read by results.py, bounded and without following links, and only
what the reference expects. Anything that goes wrong while one check is judged (a file that
cannot be read, a comparison or property check that raises on the student's values) fails
that check with a sentence for the student; only the instructor's errors (ReferenceProblem:
the reference solution failing) stop grading.
"""

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..checks import stats
from ..checks.compare import (ATOL, DIFFERENCE_RTOL, RTOL, first_difference, gradient_check_difference,
                              shape_difference, show)
from ..probe import KEYS_SUFFIX, Probe
from .properties import check_property
from .reference import ReferenceProblem
from .results import Expectation, ResultsDir, ResultsProblem, StudentResults, read_results

MAX_PROBLEMS_SHOWN = 5
#: Longest description of an unexpected error shown to the student.
MAX_ERROR_TEXT = 300


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


def load_student_results(path: Path, reference: Probe | None = None) -> StudentResults | None:
    """Read a probe file written in the student's kernel (see results.py); None when it does not exist.

    With the reference probe of that check, only what it expects is read, bounded by its shapes.
    """
    return read_results(Path(path), Expectation.of(reference) if reference is not None else None)


def could_not_judge(error: BaseException) -> str:
    """The sentence for the student when judging raised: what, without the grader's internals."""
    text = f"{type(error).__name__}: {error}"
    if len(text) > MAX_ERROR_TEXT:
        text = text[:MAX_ERROR_TEXT - 3] + "..."
    return f"the grader could not judge this result: {text}"


def judge(references: list[Probe], results_dir: Path) -> Verdict:
    """Compare every reference probe of one test cell with the student's saved results.

    Raises ReferenceProblem only for the instructor's errors; any other failure fails the check
    concerned, with a sentence, and the others are still judged.
    """
    problems: list[str] = []
    compared = 0
    for reference in references:
        if "/" in reference.check_id or reference.check_id.startswith("."):
            raise ReferenceProblem(f"Hidden check id {reference.check_id!r} cannot name a results file; "
                                   f"fix the source notebook.")
        for key, error in reference.errors.items():
            raise ReferenceProblem(f"The reference solution fails hidden check {reference.check_id}/{key}: "
                                   f"{error}. Fix the source notebook.")
    try:
        folder = ResultsDir(results_dir)
    except ResultsProblem as problem:
        return Verdict(passed=False, compared=0, problems=[f"{r.check_id}: {problem}" for r in references])
    with folder:
        for reference in references:
            try:
                student = folder.read(f"{reference.check_id}.npz", Expectation.of(reference))
            except Exception as error:  # hostile input results.py did not foresee: this check fails, no more
                problems.append(f"{reference.check_id}: {could_not_judge(error)}")
                continue
            if student is None:
                problems.append(f"{reference.check_id}: no results were recorded. The cell stopped before its "
                                f"hidden check ran (see the error above), or the check never ran at all.")
                continue
            if student.unreadable:
                problems.append(f"{reference.check_id}: {student.unreadable}")
                continue
            if "(check)" in student.errors:
                problems.append(f"{reference.check_id}: the check stopped with {student.errors['(check)']}")
            for key, mode in reference.modes.items():
                note = reference.notes.get(key)
                where = f"{key} [{note}]" if note else key
                try:
                    counted, found = _judge_key(reference, student, key, mode, where)
                except ReferenceProblem:
                    raise
                except Exception as error:
                    counted, found = 1, [f"{where}: {could_not_judge(error)}"]
                compared += counted
                problems += found
    return Verdict(passed=not problems, compared=compared, problems=problems)


def _judge_key(reference: Probe, student: StudentResults, key: str, mode: str, where: str) -> tuple[int, list[str]]:
    """(results compared, problems) for one key of one check."""
    if key in student.errors:
        return 0, [f"{where}: your code raised {student.errors[key]}"]
    if mode.startswith("property:"):
        if key in student.refused:
            return 1, [f"{where}: {student.refused[key]}"]
        name = mode.removeprefix("property:")
        got = {n: a for n, a in student.arrays.items() if n == key or n.startswith(key + "/")}
        inputs = reference.inputs.get(key, {})
        try:
            found = check_property(name, key, got, inputs)
        except Exception as error:
            # The student's arrays made the check raise, unless the check fails on the reference's own.
            own = {n: a for n, a in reference.arrays.items() if n == key or n.startswith(key + "/")}
            try:
                check_property(name, key, own, inputs)
            except Exception as own_error:
                raise ReferenceProblem(f"Property check {name!r} of hidden check {reference.check_id}/{key} fails "
                                       f"on the reference solution's own results ({type(own_error).__name__}: "
                                       f"{own_error}). Fix the source notebook or the check.") from own_error
            return 1, [f"{where}: {could_not_judge(error)}"]
        return 1, [f"{where}: {problem}" for problem in found]
    problems, counted = [], 0
    for name in sorted(n for n in reference.arrays if n == key or n.startswith(key + "/")):
        counted += 1
        label = f"{where}{name[len(key):]}"
        if name in student.refused:
            problems.append(f"{label}: {student.refused[name]}")
            continue
        try:
            problem = compare(name, student.arrays.get(name), reference.arrays[name], mode)
        except Exception as error:
            problem = could_not_judge(error)
        if problem:
            problems.append(f"{label}: {problem}")
    return counted, problems


def compare(name: str, got: np.ndarray | None, ref: np.ndarray, mode: str) -> str | None:
    """None when `got` matches `ref` under `mode`; otherwise a sentence saying what differs (idnn.checks.compare
    and idnn.checks.stats hold the rules, shared with the visible checks)."""
    if name.endswith(KEYS_SUFFIX):
        if got is None:
            return f"expected a dict or sequence with entries {list(ref)}"
        missing = sorted(set(ref.tolist()) - set(got.tolist()))
        return f"missing entries {missing}" if missing else None
    if got is None:
        return "no value was recorded"
    if mode in ("shape", "spread", "difference"):
        problem = shape_difference(got, ref)
        if problem or mode == "shape":
            return problem
        if mode == "spread":
            return _compare_spread(got, ref)
        return gradient_check_difference(got, ref, rtol=DIFFERENCE_RTOL)
    if mode == "exact":
        return first_difference(got, ref, rtol=0.0, atol=0.0)
    return first_difference(got, ref, rtol=RTOL, atol=ATOL)  # allclose


#: The spread of a draw against the reference's own draw: both are samples (draws=2), and the standard deviation
#: may also differ by this share of the reference's.
SPREAD_STD_SLACK = 0.005


def _compare_spread(got: np.ndarray, ref: np.ndarray) -> str | None:
    if not np.all(np.isfinite(got)):
        return "contains NaN or infinite values"
    drawn, reference = stats.spread(got), stats.spread(ref)
    if reference.std == 0.0:
        first = ref.ravel()[0]
        return None if np.all(got == first) else f"values vary (std {drawn.std:.4g}), expected all {show(first)}"
    within = stats.spread_within(reference.std, drawn.n, draws=2)
    within = replace(within, std=within.std + SPREAD_STD_SLACK * reference.std)
    stray = stats.spread_difference(drawn, reference.mean, reference.std, reference.kurtosis, within)
    if stray is None:
        return None
    if stray.statistic == "kurtosis":
        return (f"the values are not distributed like the reference (kurtosis {stray.got:.2f}, "
                f"expected {stray.expected:.2f}); was the draw uniform instead of normal?")
    return f"{stray.statistic} {stray.got:.4g}, expected {stray.expected:.4g} (within {stray.within:.2g})"
