"""idnn-grade: autograde a whole class, sandboxed and in parallel, then report.

    idnn-grade [ASSIGNMENT ...] [--jobs N] [--force] [--unsandboxed] [--no-feedback]
               [--db URL] [--cluster local:N | --scheduler tcp://HOST:8786]

Run it from the course directory (or pass --course-dir). The gradebook is the course's gradebook.db, or the
database nbgrader_config.py names (c.CourseDirectory.db_url), or --db's (postgresql://user@host/db). Grading
runs in local worker processes, or on a Dask cluster (cluster.py; README.md, "Grading at scale"). Without ASSIGNMENT it grades every
assignment in the gradebook. Grading is resumable: rerun after an interruption and only the
submissions not yet recorded (or changed since) are graded. Afterwards it prints a table per
assignment and writes reports/<assignment>-grades.csv, reports/<assignment>.html, and the
students' feedback (feedback/, without hidden check code).
"""

import argparse
import importlib
import os
import resource
import sys
import threading
import time
from pathlib import Path

from .course import configured_gradebook, gradebook_url, load_config, shown_url
from .runner import Outcome, run
from .sandbox import Sandbox, SandboxUnavailable
from .staging import shown


class Progress:
    """A progress bar with an ETA on a terminal; one line per submission otherwise."""

    def __init__(self, stream=sys.stderr, jobs: int = 1):
        self.stream, self.jobs = stream, jobs
        self.tty = stream.isatty()

    def start(self, total: int, skipped: int) -> None:
        self.total, self.done, self.started = total, 0, time.perf_counter()
        note = f" ({skipped} unchanged since the last run, skipped)" if skipped else ""
        print(f"Grading {total} submissions with {self.jobs} workers{note}", file=self.stream, flush=True)

    def advance(self, outcome: Outcome) -> None:
        self.done += 1
        elapsed = time.perf_counter() - self.started
        eta = elapsed / self.done * (self.total - self.done)
        status = "FAILED: " + shown(outcome.failure) if outcome.failure else f"{outcome.total:g}"
        if self.tty:
            width = 30
            filled = int(width * self.done / max(self.total, 1))
            line = (f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
                    f"elapsed {_clock(elapsed)} ETA {_clock(eta)}  {shown(outcome.student)}: {status}"[:150])
            print(line.ljust(150), end="", file=self.stream, flush=True)
        else:
            print(f"  [{self.done}/{self.total}] {outcome.assignment}/{shown(outcome.student)}: {status} "
                  f"({outcome.seconds:.1f} s, ETA {_clock(eta)})", file=self.stream, flush=True)

    def finish(self, interrupted: bool) -> None:
        if self.tty:
            print(file=self.stream)
        if interrupted:
            print(f"Interrupted after {self.done} of {self.total}; rerun the same command to grade the rest.",
                  file=self.stream, flush=True)


def peak_mib() -> float:
    """This process's peak resident memory, in MiB (its workers not included).

    Read from /proc (VmHWM, this program's own address space): getrusage's figure also counts the memory of
    the process this one was forked from before it started (Linux keeps the larger of the two across exec).
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}:{seconds:02d}"


def assignments_in_gradebook(db_url: str) -> list[str]:
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        return [a.name for a in gb.assignments]


def report_assignment(course: Path, assignment: str, report_dir: Path, db_url: str | None = None) -> None:
    """Print the grade table and notes of one assignment; write its CSV and its HTML report."""
    from .report import AssignmentReport

    report = AssignmentReport(course, assignment, db_url)
    print()
    print(report.table())
    for student, reason in report.failures():
        print(f"  note: {shown(student)}: {shown(reason)}")
    report.write_csv(report_dir / f"{assignment}-grades.csv")
    report.write_html(report_dir / f"{assignment}.html")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="idnn-grade", description=__doc__.splitlines()[0])
    parser.add_argument("assignment", nargs="*", help="assignments to grade (default: all in the gradebook)")
    parser.add_argument("--course-dir", type=Path, default=Path("."))
    parser.add_argument("--jobs", type=int, default=os.cpu_count(), help="parallel workers (default: one per core)")
    parser.add_argument("--force", action="store_true", help="regrade every submission, even unchanged ones")
    parser.add_argument("--unsandboxed", action="store_true",
                        help="accept grading without bubblewrap (student code runs with your permissions)")
    parser.add_argument("--no-feedback", action="store_true", help="do not generate feedback for students")
    parser.add_argument("--report-dir", type=Path, default=Path("reports"))
    parser.add_argument("--db", metavar="URL", help="the gradebook's database URL, e.g. postgresql://user@host/course "
                        "(default: c.CourseDirectory.db_url of nbgrader_config.py, else the course's gradebook.db)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--cluster", metavar="local:N", help="grade on a Dask LocalCluster of N worker processes")
    where.add_argument("--scheduler", metavar="ADDRESS", help="grade on the Dask cluster of this scheduler "
                       "(tcp://HOST:8786), whose workers run with --preload idnn.autograde.cluster")
    args = parser.parse_args(argv)

    course = args.course_dir.resolve()
    overrides = {"Sandbox": {"allow_unsandboxed": True}} if args.unsandboxed else {}
    config = load_config(course, overrides)
    db_url = args.db or configured_gradebook(config) or gradebook_url(course)
    if db_url == gradebook_url(course) and not (course / "gradebook.db").exists():
        print(f"No gradebook in {course}. Run `nbgrader generate_assignment <assignment>` there first.",
              file=sys.stderr)
        return 2
    try:
        known = assignments_in_gradebook(db_url)
    except Exception as error:  # noqa: BLE001 - a wrong URL, a server that is down, a missing driver
        print(f"Could not open the gradebook {shown_url(db_url)}: {type(error).__name__}: "
              f"{shown(str(error).replace(db_url, shown_url(db_url)))[:300]}", file=sys.stderr)
        return 2
    assignments = args.assignment or known
    sandbox = Sandbox(config=config)
    try:
        sandboxed = True if args.scheduler else sandbox.use_bwrap()  # a remote cluster's workers check their own
    except SandboxUnavailable as error:
        print(error, file=sys.stderr)
        return 2
    if not sandboxed:
        why = (f"{sandbox.bwrap} not found, and --unsandboxed allows that" if sandbox.enabled
               else "the sandbox is turned off (Sandbox.enabled = False)")
        print(f"warning: grading WITHOUT a sandbox: {why}; student code runs with your permissions.", file=sys.stderr)
    cluster = None
    if args.cluster or args.scheduler:
        from .cluster import ClusterGrader, ClusterProblem

        try:
            cluster = ClusterGrader(course, args.cluster or args.scheduler)
        except ClusterProblem as error:
            print(error, file=sys.stderr)
            return 2
        try:
            cluster.check(assignments)  # every worker has this course's versions of them, before anything is sent
        except ClusterProblem as error:
            print(error, file=sys.stderr)
            cluster.close()
            return 2
    # The report needs matplotlib (most of a second to import): import it while the workers grade, not after.
    threading.Thread(target=importlib.import_module, args=(f"{__package__}.report",), daemon=True).start()
    try:
        summary = run(course, assignments, jobs=args.jobs, force=args.force, config_overrides=overrides,
                      progress=Progress(jobs=cluster.threads if cluster else args.jobs), feedback=not args.no_feedback,
                      db_url=db_url, cluster=cluster)
    finally:
        if cluster is not None:
            cluster.close()
    if summary.lost:
        print(f"Stopped: {summary.lost}. What was graded is recorded; rerun the same command to grade the rest.",
              file=sys.stderr)
    if summary.interrupted:
        return 130

    report_dir = args.report_dir if args.report_dir.is_absolute() else course / args.report_dir
    report_dir.mkdir(parents=True, exist_ok=True)
    for assignment in assignments:
        try:
            report_assignment(course, assignment, report_dir, db_url)
        except Exception as error:  # noqa: BLE001 - one assignment's report must not stop the others'
            print(f"warning: the report of {assignment} could not be written ({type(error).__name__}: "
                  f"{shown(str(error))[:300]})", file=sys.stderr)
    graded = len(summary.outcomes)
    rate = graded / summary.seconds * 60 if summary.seconds else 0.0
    print(f"\nGraded {graded} submissions in {summary.seconds:.1f} s ({rate:.1f} per minute); "
          f"{summary.skipped} unchanged and skipped. Reports in {report_dir}"
          + ("" if args.no_feedback else f", feedback in {course / 'feedback'}") + ".")
    print(f"Memory at its peak: {peak_mib():.0f} MiB in this process " + (
        "(each submission read here only to be sent, within the submission limits)." if cluster else
        "(submissions are read only by the workers)."))
    if summary.failed:
        print(f"{len(summary.failed)} of them could not be graded normally and scored zero; the notes above say why.")
    if summary.not_graded:
        print(f"\n{len(summary.not_graded)} submissions could NOT be graded (nothing was recorded for them; once the "
              f"reason is dealt with, rerun the same command to grade them):", file=sys.stderr)
        for outcome in summary.not_graded:
            print(f"  {outcome.assignment}/{shown(outcome.student)}: {shown(outcome.failure or '')}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
