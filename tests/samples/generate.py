"""Write every sample submission into submitted/<student>/<assignment>/<notebook>.ipynb.

    python -m tests.samples [--course-dir DIR] [--assignment NAME]

Needs release/ to be generated first (`nbgrader generate_assignment`): samples start from
the student copy, and answer cells are filled from source/ or from the sample's own code.
"""

import argparse
import importlib
import shutil
from pathlib import Path

import nbformat

from idnn.autograde.course import gradebook_url
from idnn.autograde.gradebook_table import cell_scores
from idnn.autograde.runner import read_journal

from .model import SOLUTION

ASSIGNMENTS = ["setting_up", "initialization", "regularization", "gradient_checking", "optimization", "hyperparameter_search", "batch_norm", "softmax"]


def assignment_module(name: str):
    return importlib.import_module(f"tests.samples.{name}")


def solution_code(source: str) -> str:
    """A source answer cell as the student who solved it would have it: markers removed."""
    return "\n".join(line for line in source.splitlines()
                     if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))


def build(course_dir: Path, assignment: str, samples=None) -> list[Path]:
    """Write `samples` (default: the assignment's SAMPLES) into course_dir/submitted/."""
    module = assignment_module(assignment)
    released = course_dir / "release" / assignment / f"{module.NOTEBOOK}.ipynb"
    if not released.is_file():
        raise SystemExit(f"{released} does not exist: run `nbgrader generate_assignment {assignment}` first.")
    release = nbformat.read(released, as_version=4)
    source = nbformat.read(course_dir / "source" / assignment / f"{module.NOTEBOOK}.ipynb", as_version=4)
    solutions = {c.metadata["nbgrader"]["grade_id"]: solution_code(c.source)
                 for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")}
    written = []
    for sample in module.SAMPLES if samples is None else samples:
        nb = nbformat.reads(nbformat.writes(release), as_version=4)
        unknown = set(sample.answers) - set(solutions)
        if unknown:
            raise KeyError(f"sample {sample.student!r} answers cells that are not answer cells: {sorted(unknown)}")
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in sample.answers:
                answer = sample.answers[grade_id]
                if answer == SOLUTION:
                    cell.source = solutions[grade_id]
                else:  # an answer may end with the placeholder, meaning "then the reference solution"
                    cell.source = answer.replace(module.SOLUTION_PLACEHOLDER, solutions[grade_id]).strip("\n")
        out = course_dir / "submitted" / sample.student / assignment / f"{module.NOTEBOOK}.ipynb"
        out.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, out)
        if sample.damage:
            sample.damage(out.parent)
        written.append(out)
    return written


def check(course_dir: Path, assignment: str) -> bool:
    """Compare each sample's graded total (and failure reason) with what it expects; True when all match."""
    db_url = gradebook_url(course_dir)
    scores = cell_scores(db_url, assignment)
    journal = read_journal(course_dir.resolve())
    print(f"Sample submissions of {assignment}, graded against what each expects:")
    all_match = True
    for sample in assignment_module(assignment).SAMPLES:
        got = sum(v or 0 for v in scores.get(sample.student, {}).values())
        failure = journal.get((assignment, sample.student), {}).get("failure") or ""
        match = (sample.student in scores and got == sample.expected_total
                 and (sample.failure or "") in failure and bool(sample.failure) == bool(failure))
        all_match &= match
        print(f"  {'ok  ' if match else 'FAIL'} {sample.student:<14} {got:>4g} of {sample.expected_total:g} "
              f"expected: {sample.why}")
    return all_match


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the sample submissions into submitted/.")
    parser.add_argument("--course-dir", type=Path, default=Path("."))
    parser.add_argument("--assignment", action="append", choices=ASSIGNMENTS)
    parser.add_argument("--check", metavar="ASSIGNMENT", choices=ASSIGNMENTS,
                        help="instead of writing samples, compare the graded scores with the expected ones")
    args = parser.parse_args(argv)
    if args.check:
        raise SystemExit(0 if check(args.course_dir, args.check) else 1)
    for assignment in args.assignment or ASSIGNMENTS:
        for old in (args.course_dir / "submitted").glob(f"*/{assignment}"):
            shutil.rmtree(old)  # samples are regenerated whole: no stale student from an earlier version
        paths = build(args.course_dir, assignment)
        print(f"{assignment}: wrote {len(paths)} sample submissions under {args.course_dir / 'submitted'}")

