"""The trusted side of grading: it runs in the instructor's processes, never in a student's kernel, and
is not even visible inside the sandbox. The student side (idnn.data, nets, plots, checks, probe) never
imports it.

One submission, in the order it is handled:

    limits           what one submission may hold (entries, bytes, notebook bytes, cells)
    staging          submission -> private copy: regular files and folders only, nothing followed, within limits
    preflight        the staged copy checked and repaired before nbgrader sees it (names, cells, timestamp)
    demonstrations   which cells of a notebook only demonstrate, so that grading does not run them
    sandbox, launch  bubblewrap, a uid leased per kernel, and the launcher that sets the kernel's limits
    preprocessors    nbgrader hooks wired in by nbgrader_config.py (RefuseLinks, ProbedExecute, ApplyVerdicts)
    results          what the kernel saved, read safely (bounded, link-free, checked against the reference)
    reference        reference results from the source notebook's own definitions
    verdicts         compare a student's recorded results with the reference, one test cell at a time
    properties       the grader's entry to the property checks (idnn.checks.properties) for answers
                     with many right values
    scrub            remove any kept output that quotes the hidden checks
    sanitize         remove whatever could run in a browser from the autograded notebook and files
    runner           the class: what to grade, and the one writer of the gradebook and the journal
    pool, worker     the worker processes (crash isolation, retries, time limits) and one submission's grading
    snapshot         the workers' private gradebook: the real one's definitions (SQLite or PostgreSQL)
    shipping, cluster  grading on a Dask cluster: a submission staged and sent as data, the worker plugin that holds
                     its own copy of the course, the graded files sent back for the one writer to place
    outcome, journal what grading one submission produced, and the journal of outcomes that makes runs resumable
    feedback         the students' feedback pages (graded, or why a submission could not be graded)
    formgrader       what nbgrader's formgrader needs to list what the report lists (the autograded notebook of a
                     submission that could not be graded; timestamps read as the grader reads them)
    report, cli      what people read; cli is `idnn-grade`
    check_data       builds the expected values the visible checks compare with (utils/checks/data)
    course, gradebook_table, tethered   configuration, tables, and the start of a sandbox that dies with its worker
"""

import importlib.util
import sys

# jsonschema, which nbformat and nbgrader load, compiles some forty grammars when it is imported if the optional
# rfc3987_syntax package is installed, only to check the "iri" string format, which no notebook schema uses. That
# is about 2 s in every grading process (the grader and each worker); this makes the optional import fail, as
# jsonschema expects it may. It must run before jsonschema is first imported.
sys.modules.setdefault("rfc3987_syntax", None)


def _nbgrader_without_its_server_extensions() -> None:
    """Make `nbgrader` importable without running its package __init__, which imports its Jupyter server extensions
    (the formgrader, the assignment list, the exchange: about 1.1 s of imports) in every grading process, the grader
    and each worker, though none of them serves a web page. The package's modules (nbgrader.api, .converters,
    .preprocessors...) import as usual. A process that imported nbgrader first (`nbgrader autograde`, whose
    configuration loads this package) keeps the real one."""
    if "nbgrader" in sys.modules:
        return
    spec = importlib.util.find_spec("nbgrader")
    if spec is None:
        return
    package = importlib.util.module_from_spec(spec)  # its __path__ is set; its __init__ is not run
    sys.modules["nbgrader"] = package
    from nbgrader._version import __version__

    package.__version__ = __version__


_nbgrader_without_its_server_extensions()
