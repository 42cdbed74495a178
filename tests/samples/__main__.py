"""Write every sample submission into submitted/<student>/<assignment>/<notebook>.ipynb.

    python -m tests.samples [--course-dir DIR] [--assignment NAME]

Needs release/ to be generated first (`nbgrader generate_assignment`): samples start from
the student copy, and answer cells are filled from source/ or from the sample's own code.
"""

import argparse
import importlib
from pathlib import Path

import nbformat

from idnn.autograde.gradebook_table import cell_scores, format_table, max_scores

from .model import SOLUTION

ASSIGNMENTS = ["initialization"]


def assignment_module(name: str):
    return importlib.import_module(f"tests.samples.{name}")


def solution_code(source: str) -> str:
    """A source answer cell as the student who solved it would have it: markers removed."""
    return "\n".join(line for line in source.splitlines()
                     if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))


def build(course_dir: Path, assignment: str) -> list[Path]:
    module = assignment_module(assignment)
    release = nbformat.read(course_dir / "release" / assignment / f"{module.NOTEBOOK}.ipynb", as_version=4)
    source = nbformat.read(course_dir / "source" / assignment / f"{module.NOTEBOOK}.ipynb", as_version=4)
    solutions = {c.metadata["nbgrader"]["grade_id"]: solution_code(c.source)
                 for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")}
    written = []
    for sample in module.SAMPLES:
        nb = nbformat.reads(nbformat.writes(release), as_version=4)
        unknown = set(sample.answers) - set(solutions)
        if unknown:
            raise KeyError(f"sample {sample.student!r} answers cells that are not answer cells: {sorted(unknown)}")
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in sample.answers:
                answer = sample.answers[grade_id]
                cell.source = solutions[grade_id] if answer == SOLUTION else answer.strip("\n")
        out = course_dir / "submitted" / sample.student / assignment / f"{module.NOTEBOOK}.ipynb"
        out.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, out)
        written.append(out)
    return written


def report(course_dir: Path, assignment: str) -> bool:
    """Print the grade table with each sample's expected total; True when every total matches."""
    db_url = f"sqlite:///{(course_dir / 'gradebook.db').resolve()}"
    scores = cell_scores(db_url, assignment)
    print(format_table(assignment, scores, max_scores(db_url, assignment)))
    print()
    all_match = True
    for sample in assignment_module(assignment).SAMPLES:
        got = sum(v or 0 for v in scores.get(sample.student, {}).values())
        match = sample.student in scores and got == sample.expected_total
        all_match &= match
        print(f"  {'ok  ' if match else 'FAIL'} {sample.student:<12} {got:g} (expected {sample.expected_total:g}): "
              f"{sample.why}")
    return all_match


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the sample submissions into submitted/.")
    parser.add_argument("--course-dir", type=Path, default=Path("."))
    parser.add_argument("--assignment", action="append", choices=ASSIGNMENTS)
    parser.add_argument("--report", metavar="ASSIGNMENT", choices=ASSIGNMENTS,
                        help="instead of writing samples, print the grade table and compare with the expected scores")
    args = parser.parse_args(argv)
    if args.report:
        raise SystemExit(0 if report(args.course_dir, args.report) else 1)
    for assignment in args.assignment or ASSIGNMENTS:
        paths = build(args.course_dir, assignment)
        print(f"{assignment}: wrote {len(paths)} sample submissions under {args.course_dir / 'submitted'}")


if __name__ == "__main__":
    main()
