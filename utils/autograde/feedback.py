"""The students' feedback pages (feedback/<student>/<assignment>/<notebook>.html): the one place they are written.

    graded_page(config, db_url, assignment, student)   a graded submission's page: nbgrader's GenerateFeedback
                                                       (nbgrader_config.py: hidden checks removed, outputs
                                                       sanitised), written by the worker that graded it
    failure_page(course, assignment, student, reason, notebooks, possible)
                                                       the page of a submission that could not be graded: why,
                                                       and that it scored zero, written when its zero is recorded
"""

import html
from pathlib import Path

import jinja2
from nbconvert.exporters import HTMLExporter


class _CompiledTemplates(jinja2.BytecodeCache):
    """nbconvert's templates, compiled once per process and kept in memory (jinja checks each against its source):
    compiling them was a third of every feedback page's time, and a worker writes one page per submission."""

    def __init__(self):
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self._code:
            bucket.bytecode_from_string(self._code[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_COMPILED = _CompiledTemplates()


class FeedbackExporter(HTMLExporter):
    """nbconvert's HTMLExporter (configured as c.HTMLExporter) whose compiled templates outlive it."""

    def _create_environment(self):
        environment = super()._create_environment()
        environment.bytecode_cache = _COMPILED
        return environment


def graded_page(config, db_url: str, assignment: str, student: str) -> str | None:
    """Write the feedback page of one autograded submission, from its autograded notebook and the gradebook at
    `db_url`; returns why it could not be written, or None."""
    from nbgrader.converters import GenerateFeedback

    from .worker import convert

    return convert(GenerateFeedback, config, db_url, assignment, student, exporter_class=FeedbackExporter)


def failure_page(course: Path, assignment: str, student: str, reason: str, notebooks: list[str],
                 possible: float) -> None:
    """Write, for each notebook of the assignment, a page saying why the submission could not be graded."""
    folder = course / "feedback" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    for notebook in notebooks:
        (folder / f"{notebook}.html").write_text(
            f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(notebook)}</title></head>"
            f"<body><h1>{html.escape(assignment)}: your submission could not be graded</h1>"
            f"<p>{html.escape(reason)}.</p><p>Score: 0 of {possible:g}. Fix the problem "
            f"and submit again, or ask your instructor.</p></body></html>\n")
