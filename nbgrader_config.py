"""nbgrader configuration for the course (read by every `nbgrader` command run from this directory).

The autograde pipeline is stock nbgrader's with two changes, so that student code cannot
fool the grade: ProbedExecute replaces Execute (hidden checks get a fresh grading seed and
save their results outside the notebook; the cells the source notebook marks as demonstrations
are not run, see utils/autograde/demonstrations.py) and ApplyVerdicts follows it (verdicts are computed
in this trusted process and written into the notebook before nbgrader saves the grades).
RestoreHiddenTests replaces OverwriteCells only to stop it warning about every hidden test
it restores, so the warnings about test cells a student really edited stand out.
CheckMetadata replaces CheckCellMetadata only to check nbgrader's metadata schema once per process.
SanitizeNotebook, last, removes from the autograded notebook whatever could run code in the
browser of whoever opens it (feedback, formgrader, live notebook), after the grades are saved;
DisarmFiles renames the submission's HTML, SVG and script files in autograded/ to plain text.
RepairCells, before the test cells are restored, makes a pasted copy of a test cell or a cell
the student marked as graded an ordinary cell, so that neither stops nbgrader.
Feedback is generated with hidden test code removed, and sanitized again.
Generating the student copies adds one step to nbgrader's: TagCheckCells tags every check cell
`raises-exception`, so that Run All in JupyterLab goes on past a failing check (utils/autograde/release.py).
"""

from pathlib import Path

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearHiddenTests, ClearMarkScheme,
                                    ClearOutput, ClearSolutions, ComputeChecksums, DeduplicateIds, GetGrades,
                                    IgnorePattern, IncludeHeaderFooter, InstantiateTests, LimitOutput, LockCells,
                                    OverwriteKernelspec, SaveAutoGrades, SaveCells)

from idnn.autograde.formgrader import read_timestamps_as_the_grader_does
from idnn.autograde.preflight import RepairCells
from idnn.autograde.release import TagCheckCells
from idnn.autograde.preprocessors import ApplyVerdicts, CheckMetadata, ProbedExecute, RefuseLinks, RestoreHiddenTests
from idnn.autograde.sanitize import DisarmFiles, SanitizeNotebook

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.course_id = "improving-deep-neural-networks"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".DS_Store"]

# The exchange, through which assignments travel: `nbgrader release_assignment` puts the student copies there,
# students `nbgrader fetch_assignment` and `nbgrader submit`, and `nbgrader collect` copies the submissions into
# submitted/ (the formgrader's Release and Collect buttons do the same). On one machine it is exchange/ beside this
# file (git-ignored), made here the way nbgrader wants it: every account may write into it, since each student's
# `submit` does. On a server shared with the students (a JupyterHub), use a folder every account reaches, made once
# by an administrator with the same permissions (README.md, "Releasing and collecting"), e.g.
#     c.Exchange.root = "/srv/nbgrader/exchange"
EXCHANGE = Path(__file__).resolve().parent / "exchange"
c.Exchange.root = str(EXCHANGE)
if not EXCHANGE.is_dir():
    EXCHANGE.mkdir(exist_ok=True)
    EXCHANGE.chmod(0o777)  # rwx for everyone, what `nbgrader release_assignment` sets (umask aside)

# The formgrader reads each submission's timestamp.txt as idnn-grade does (utils/autograde/formgrader.py): one that a
# student wrote and that is not a date must neither stop its pages nor show a graded submission as ungraded.
read_timestamps_as_the_grader_does()

# Student copies: the stub each solution region becomes.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
# ... and every check cell is tagged so that Run All goes on past a failing check (utils/autograde/release.py).
c.GenerateAssignment.preprocessors = [
    IncludeHeaderFooter, InstantiateTests, LockCells, ClearSolutions, ClearOutput, TagCheckCells, CheckCellMetadata,
    ComputeChecksums, SaveCells, ClearHiddenTests, ClearMarkScheme, ComputeChecksums, CheckCellMetadata,
]

c.Autograde.sanitize_preprocessors = [
    RefuseLinks,
    RepairCells,
    ClearOutput,
    DeduplicateIds,
    OverwriteKernelspec,
    RestoreHiddenTests,
    CheckMetadata,
]
c.Autograde.autograde_preprocessors = [
    ProbedExecute,
    ApplyVerdicts,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckMetadata,
    SanitizeNotebook,
    DisarmFiles,
]
# A deleted test cell is put back (and run), rather than silently losing its points.
c.RestoreHiddenTests.add_missing_cells = True

# Kernel time limits (seconds): per cell, and for the kernel to start.
c.Execute.timeout = 120
c.Execute.startup_timeout = 60
# The hidden checks have saved their results by the time the last cell replies: stop the kernel at
# once instead of waiting for a graceful shutdown (about 0.1 s per notebook).
c.Execute.shutdown_kernel = "immediate"

# The grading sandbox (see utils/autograde/sandbox.py); these are the defaults.
c.Sandbox.cpu_seconds = 600
c.Sandbox.memory_bytes = 2 * 2**30
c.Sandbox.processes = 128
c.Sandbox.file_bytes = 64 * 2**20
c.Sandbox.output_bytes = 2 * 2**20
c.Sandbox.notebook_seconds = 900
c.Sandbox.tmp_bytes = 256 * 2**20
# All of a kernel's processes together (a memory and a pids cgroup per kernel, where the machine has cgroup v1).
c.Sandbox.total_memory_bytes = 3 * 2**30
# Each running kernel leases a uid of its own from uid .. uid + uids - 1 (grading as root).
c.Sandbox.uid = 61000
c.Sandbox.uids = 1000

# idnn-grade's own worker processes (see utils/autograde/runner.py); these are the defaults.
c.Grader.worker_memory_bytes = 4 * 2**30
c.Grader.attempts = 2
c.Grader.submission_seconds = 1800

# What one submission may hold (see utils/autograde/limits.py); these are the defaults. Checked before anything of
# the submission is read whole: too many files and folders, or a notebook too large or of too many cells, and the
# submission scores zero with the reason; another file past the byte budget is left out unread, with a note.
c.SubmissionLimits.max_entries = 1000
c.SubmissionLimits.max_bytes = 100 * 2**20
c.SubmissionLimits.max_notebook_bytes = 32 * 2**20
c.SubmissionLimits.max_cells = 2000

c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, SanitizeNotebook, CSSHTMLHeaderPreprocessor]
