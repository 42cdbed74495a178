"""Benchmark: the local worker pool against a Dask cluster, on 1 and 2 workers, and the costs that limit scale.

    python benchmarks/cluster_scaling.py [--submissions 20] [--assignment initialization] [--commits 200]

Makes K submissions of one assignment (correct, partial and blank ones, from its samples) and grades them four
times with idnn-grade --force: the local pool with --jobs 1 and 2, and a Dask LocalCluster of 1 and 2 worker
processes (--cluster local:N). For each it prints the grading clock idnn-grade reports (from the first submission
sent to the last recorded; the cluster's start is not in it, and is printed apart), the throughput, and the
gap between submissions: the clock x workers / K, less the mean time a worker spent grading one (the Outcome's
seconds, from the journal). Dask's overhead is the difference of the clocks on the same worker count, per
submission and as a share of the local pool's time per submission (the target: below 5 %).

Then it measures what only the instructor's process does, one submission at a time, whatever the number of
workers: staging and packing a submission (shipping.pack), and writing one outcome into the gradebook and the
journal (runner.commit) on SQLite and on a PostgreSQL server it starts (tests/postgres.py). Those set the ceiling
of a run's throughput; the README's table of projections is made from these figures.
This is a benchmark, not a test: the figures depend on the machine and on what else it is doing.
"""

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.autograde_speed import BIN, course_with_submissions, env  # noqa: E402


def grade(course: Path, args: list[str]) -> dict:
    """Run idnn-grade --force with `args`; its wall time, grading clock and the journal's per-submission seconds."""
    journal = course / "autograded" / ".journal.jsonl"
    journal.unlink(missing_ok=True)
    start = time.perf_counter()
    result = subprocess.run([str(BIN / "idnn-grade"), "--force", "--no-feedback", *args], cwd=course, env=env(),
                            capture_output=True, text=True)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"idnn-grade {' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    found = re.search(r"Graded (\d+) submissions? in ([0-9.]+) s", result.stdout)
    seconds = [json.loads(line)["seconds"] for line in journal.read_text().splitlines()]
    return {"wall": wall, "graded": int(found.group(1)), "clock": float(found.group(2)), "seconds": seconds}


def overhead(run: dict, workers: int) -> float:
    """The gap: seconds per submission spent outside a worker's grading, clock x workers / K - mean grading time."""
    return run["clock"] * workers / run["graded"] - statistics.mean(run["seconds"])


def client_costs(course: Path, assignment: str, commits: int) -> dict:
    """Seconds per submission of the instructor's process: pack one, commit one (SQLite, PostgreSQL)."""
    import idnn.autograde  # noqa: F401 - sets up nbgrader's imports
    from idnn.autograde.course import gradebook_url, load_config
    from idnn.autograde.limits import SubmissionLimits
    from idnn.autograde.outcome import Outcome
    from idnn.autograde.gradebook_table import max_scores
    from idnn.autograde.runner import Writer, commit, notebooks_of
    from idnn.autograde.shipping import pack
    from idnn.autograde.snapshot import copy_definitions, snapshot
    from tests.postgres import postgres_server

    db_url = gradebook_url(course)
    limits = SubmissionLimits(config=load_config(course))
    notebooks = notebooks_of(db_url, assignment)
    folders = sorted((course / "submitted").iterdir())
    start = time.perf_counter()
    sizes = [pack(folder / assignment, limits, notebooks).nbytes for folder in folders]
    costs = {"pack": (time.perf_counter() - start) / len(folders), "parcel_bytes": statistics.mean(sizes)}
    maxima = max_scores(db_url, assignment)

    def commit_many(url: str, folder: Path) -> float:
        """Seconds per outcome written as a run writes them: one connection (runner.Writer), a new student each."""
        writer = Writer(url)
        start = time.perf_counter()
        for number in range(commits):
            commit(folder, writer, Outcome(assignment, f"learner{number:05d}", "fp", scores=dict(maxima),
                                           max_scores=maxima))
        seconds = (time.perf_counter() - start) / commits
        writer.close()
        return seconds

    with tempfile.TemporaryDirectory() as scratch:
        snapshot(db_url, Path(scratch) / "gradebook.db")
        costs["commit_sqlite"] = commit_many(f"sqlite:///{Path(scratch) / 'gradebook.db'}", Path(scratch))
    with tempfile.TemporaryDirectory() as scratch, postgres_server() as server:
        url = server.create_database("benchmark")
        copy_definitions(db_url, url)
        costs["commit_postgresql"] = commit_many(url, Path(scratch))
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--assignment", default="initialization")
    parser.add_argument("--commits", type=int, default=200, help="outcomes written to time a gradebook write")
    args = parser.parse_args()
    config = (REPO / "nbgrader_config.py").read_text()
    with tempfile.TemporaryDirectory(prefix="idnn-cluster-bench-") as scratch:
        course = course_with_submissions(Path(scratch) / "course", config, args.submissions, args.assignment)
        print(f"{args.submissions} submissions of {args.assignment}, graded with --force --no-feedback", flush=True)
        runs = {}
        for label, workers, flags in (("local pool", 1, ["--jobs", "1"]), ("Dask", 1, ["--cluster", "local:1"]),
                                      ("local pool", 2, ["--jobs", "2"]), ("Dask", 2, ["--cluster", "local:2"])):
            run = runs[(label, workers)] = grade(course, [args.assignment, *flags])
            print(f"  {label:10} {workers} worker{'s' if workers > 1 else ' '}: grading {run['clock']:6.1f} s "
                  f"({run['graded'] / run['clock'] * 60:5.1f} per minute), command {run['wall']:5.1f} s, "
                  f"{statistics.mean(run['seconds']):.2f} s per submission in a worker, "
                  f"gap {overhead(run, workers):.3f} s per submission", flush=True)
        print("Dask against the local pool, same workers: the grading clock, and the gap between submissions:")
        for workers in (1, 2):
            dask, pool = runs[("Dask", workers)], runs[("local pool", workers)]
            extra = (dask["clock"] - pool["clock"]) * workers / dask["graded"]
            per_submission = pool["clock"] * workers / pool["graded"]
            print(f"  {workers} worker{'s' if workers > 1 else ' '}: {dask['clock'] - pool['clock']:+.1f} s "
                  f"({extra:+.3f} s per submission, {extra / per_submission * 100:+.1f} %); gap "
                  f"{overhead(dask, workers):.3f} s against {overhead(pool, workers):.3f} s; outside the clock "
                  f"(start, report) {dask['wall'] - dask['clock']:.1f} s against {pool['wall'] - pool['clock']:.1f} s")
        costs = client_costs(course, args.assignment, args.commits)
        print("The instructor's process, per submission (serial, whatever the number of workers):")
        print(f"  stage and pack a submission: {costs['pack'] * 1000:.1f} ms "
              f"(parcel {costs['parcel_bytes'] / 1024:.0f} KiB)")
        print(f"  commit an outcome, SQLite:     {costs['commit_sqlite'] * 1000:.1f} ms")
        print(f"  commit an outcome, PostgreSQL: {costs['commit_postgresql'] * 1000:.1f} ms")
        per_submission = statistics.mean(runs[("local pool", 2)]["seconds"])
        ceiling = 1 / (costs["pack"] + costs["commit_postgresql"])
        print(f"  so one client keeps at most about {ceiling * per_submission:.0f} workers busy "
              f"({ceiling:.0f} submissions per second, {per_submission:.2f} s each)")


if __name__ == "__main__":
    main()
