"""Benchmark: stock `nbgrader autograde` against idnn-grade, on the same submissions, in one run.

    python benchmarks/autograde_speed.py [--submissions 20] [--jobs N] [--assignment initialization] [--blank 10]

Makes K submissions of one assignment (a mix of correct, partial and blank ones, from its
sample submissions), then times
  - stock: plain nbgrader, its default pipeline, sequential, no sandbox;
  - ours:  idnn-grade with the course's configuration: sandboxed, hidden checks outside the
           kernel, one worker per core;
and prints submissions per minute for each and the ratio. It also checks that both give the
same totals (these submissions are honest, so they should). Then it grades B blank submissions
with idnn-grade, on N workers and on one, and prints the wall time per notebook: what grading
costs beyond the checks themselves (the floor: a sandboxed kernel starting and answering).
This is a benchmark, not a test: the figures depend on the machine and on what else it is doing.
"""

import argparse
import importlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from idnn.autograde.gradebook_table import cell_scores  # noqa: E402
from tests.samples.generate import ASSIGNMENTS, build  # noqa: E402

MIX = ["perfect", "partial", "blank", "perfect", "alternative"]  # correct, partial, blank, correct, correct
STOCK_CONFIG = 'c = get_config()\nc.CourseDirectory.course_id = "stock"\n'
BIN = Path(sys.executable).parent


def env() -> dict:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}


def course_with_submissions(root: Path, config: str, count: int, assignment: str, mix: list[str] = MIX) -> Path:
    root.mkdir(parents=True)
    shutil.copytree(REPO / "source", root / "source")
    (root / "nbgrader_config.py").write_text(config)
    subprocess.run([str(BIN / "nbgrader"), "generate_assignment", assignment, "--force", "--log-level=ERROR"],
                   cwd=root, env=env(), check=True, capture_output=True)
    samples = importlib.import_module(f"tests.samples.{assignment}")
    chosen = [s for s in samples.SAMPLES if s.student in set(mix)]
    build(root, assignment, samples=chosen)
    templates = {s.student: root / "submitted" / s.student for s in chosen}
    for index in range(count):
        shutil.copytree(templates[mix[index % len(mix)]], root / "submitted" / f"student{index:03d}")
    for template in templates.values():
        shutil.rmtree(template)
    return root


def timed(command: list[str], cwd: Path) -> float:
    return timed_with_output(command, cwd)[0]


def timed_with_output(command: list[str], cwd: Path) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env(), capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    return seconds, result.stdout + result.stderr


def grading_clock(output: str) -> float | None:
    """The seconds idnn-grade reports for grading itself ("Graded N submissions in S s"): from the first
    submission handed to a worker (workers' start included) to the last recorded, without the grader's own
    start-up and the report."""
    found = re.search(r"Graded \d+ submissions? in ([0-9.]+) s", output)
    return float(found.group(1)) if found else None


def totals(course: Path, assignment: str) -> dict[str, float]:
    return {s: sum(v or 0 for v in row.values())
            for s, row in cell_scores(f"sqlite:///{course / 'gradebook.db'}", assignment).items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--blank", type=int, default=10, help="blank submissions for the overhead figures (0: none)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--assignment", default="initialization", choices=ASSIGNMENTS)
    args = parser.parse_args()
    assignment = args.assignment
    with tempfile.TemporaryDirectory(prefix="idnn-bench-") as tmp:
        tmp = Path(tmp)
        print(f"Making {args.submissions} submissions of {assignment} ({', '.join(MIX)}, repeated) in two course "
              f"copies...")
        stock = course_with_submissions(tmp / "stock", STOCK_CONFIG, args.submissions, assignment)
        ours = course_with_submissions(tmp / "ours", (REPO / "nbgrader_config.py").read_text(), args.submissions,
                                       assignment)

        print("stock nbgrader autograde (sequential, no sandbox)...", flush=True)
        stock_s = timed([str(BIN / "nbgrader"), "autograde", assignment, "--log-level=ERROR"], stock)
        print(f"idnn-grade --jobs {args.jobs} (sandboxed)...", flush=True)
        ours_s = timed([str(BIN / "idnn-grade"), assignment, "--jobs", str(args.jobs), "--no-feedback"], ours)

        stock_rate, ours_rate = args.submissions / stock_s * 60, args.submissions / ours_s * 60
        print()
        print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
        print(f"{'grader':<44}{'seconds':>10}{'submissions/min':>18}")
        print(f"{'stock nbgrader autograde (sequential)':<44}{stock_s:>10.1f}{stock_rate:>18.1f}")
        print(f"{f'idnn-grade, {args.jobs} workers, sandboxed':<44}{ours_s:>10.1f}{ours_rate:>18.1f}")
        print(f"speed-up: {ours_rate / stock_rate:.2f}x")
        # An alternative answer may warn on stderr, which stock nbgrader punishes; compare the others.
        same = {s: t for s, t in totals(stock, assignment).items() if MIX[int(s[7:]) % len(MIX)] != "alternative"}
        differing = [s for s, t in same.items() if totals(ours, assignment)[s] != t]
        print(f"same totals from both graders on the {len(same)} submissions without warnings: "
              f"{'yes' if not differing else 'NO: ' + ', '.join(differing)}")
        if args.blank:
            print()
            print(f"overhead: {args.blank} blank submissions of {assignment}, graded by idnn-grade (sandboxed, with "
                  f"feedback; worker start-up included)")
            for jobs in sorted({args.jobs, 1}, reverse=True):
                blank = course_with_submissions(tmp / f"blank{jobs}", (REPO / "nbgrader_config.py").read_text(),
                                                args.blank, assignment, mix=["blank"])
                seconds, output = timed_with_output([str(BIN / "idnn-grade"), assignment, "--jobs", str(jobs)], blank)
                grading = grading_clock(output)
                print(f"  {jobs} worker{'s' if jobs > 1 else ''}: {seconds:.1f} s, {seconds / args.blank:.2f} s of wall "
                      f"time per notebook" + (f" ({grading / args.blank:.2f} s without the grader's start-up and "
                                              f"report)" if grading else ""))


if __name__ == "__main__":
    main()
