"""After grading: a summary table, grades as CSV, and an HTML report with plots.

Scores come from the gradebook (the record of truth); timings, failures and their reasons
from the grading journal.
"""

import base64
import csv
import html
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (after choosing a backend that needs no display)

from .course import gradebook_url  # noqa: E402
from .gradebook_table import cell_scores, format_table, max_scores  # noqa: E402
from .journal import read_journal  # noqa: E402
from .staging import shown  # noqa: E402


class AssignmentReport:
    """Everything known about one assignment's grading, gathered once."""

    def __init__(self, course: Path, assignment: str, db_url: str | None = None):
        db_url = db_url or gradebook_url(course)
        self.assignment = assignment
        self.scores = cell_scores(db_url, assignment)
        self.maxima = max_scores(db_url, assignment)
        self.journal = {student: entry for (name, student), entry in read_journal(course).items()
                        if name == assignment}
        self.cells = sorted(self.maxima)

    @property
    def possible(self) -> float:
        return float(sum(self.maxima.values()))

    def total(self, student: str) -> float:
        return float(sum(v or 0 for v in self.scores.get(student, {}).values()))

    def table(self) -> str:
        return format_table(self.assignment, self.scores, self.maxima)

    def failures(self) -> list[tuple[str, str]]:
        """(student, reason) for submissions that were not graded normally or had notes."""
        found = []
        for student, entry in sorted(self.journal.items()):
            if entry.get("failure"):
                found.append((student, entry["failure"]))
            for note in entry.get("notes", []):
                found.append((student, note))
        return found

    def write_csv(self, path: Path) -> None:
        with open(path, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["assignment", "student", *self.cells, "total", "max_score", "seconds", "failure"])
            for student in sorted(self.scores):
                row = self.scores[student]
                entry = self.journal.get(student, {})
                writer.writerow([self.assignment, _inert(student), *[_num(row.get(c)) for c in self.cells],
                                 _num(self.total(student)), _num(self.possible),
                                 f"{entry.get('seconds', 0):.1f}", _inert(entry.get("failure") or "")])

    def write_html(self, path: Path) -> None:
        students = sorted(self.scores)
        totals = [self.total(s) for s in students]
        pass_rates = [sum(1 for s in students if (self.scores[s].get(c) or 0) >= self.maxima[c]) / max(len(students), 1)
                      for c in self.cells]
        timed = sorted(((e.get("seconds", 0.0), s) for s, e in self.journal.items()), reverse=True)[:10]
        figures = [_figure_distribution(totals, self.possible, self.assignment),
                   _figure_pass_rates(self.cells, pass_rates, self.assignment),
                   _figure_slowest(timed, self.assignment)]
        failure_rows = "".join(f"<tr><td>{html.escape(s)}</td><td>{html.escape(r)}</td></tr>"
                               for s, r in self.failures()) or "<tr><td colspan=2>none</td></tr>"
        hidden_rows = "".join(
            f"<tr><td>{html.escape(s)}</td><td>{html.escape(cell)}</td><td>{html.escape('; '.join(problems))}</td></tr>"
            for s, e in sorted(self.journal.items()) for cell, problems in sorted(e.get("hidden_failures", {}).items()))
        mean = sum(totals) / len(totals) if totals else 0.0
        page = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(self.assignment)}: grading report</title>
<style>body{{font-family:sans-serif;max-width:1000px;margin:2em auto}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:left}} img{{max-width:100%}}</style></head><body>
<h1>{html.escape(self.assignment)}: grading report</h1>
<p>{len(students)} submissions, {self.possible:g} points each, mean score {mean:.2f}.</p>
{''.join(f'<img alt="{alt}" src="data:image/png;base64,{data}">' for alt, data in figures)}
<h2>Scores</h2><pre>{html.escape(self.table())}</pre>
<h2>Submissions not graded normally, and what was noticed</h2>
<table><tr><th>student</th><th>reason</th></tr>{failure_rows}</table>
<h2>Failed checks</h2>
<table><tr><th>student</th><th>test cell</th><th>what differed</th></tr>{hidden_rows}</table>
</body></html>
"""
        path.write_text(page)


def _inert(text: str) -> str:
    """Text from a submission for a CSV cell: a spreadsheet must not take it for a formula (=, +, -, @)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _num(value) -> str:
    return "" if value is None else f"{float(value):g}"


def _encode(fig, alt: str) -> tuple[str, str]:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return alt, base64.b64encode(buffer.getvalue()).decode()


def _figure_distribution(totals, possible, assignment):
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist(totals, bins=[x - 0.5 for x in range(int(possible) + 2)], color="tab:blue", edgecolor="white")
    ax.set_xlabel("total score")
    ax.set_ylabel("submissions")
    ax.set_title(f"{assignment}: score distribution")
    return _encode(fig, "score distribution")


def _figure_pass_rates(cells, rates, assignment):
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.barh([c.removeprefix("test_") for c in cells], [100 * r for r in rates], color="tab:green")
    ax.set_xlim(0, 100)
    ax.set_xlabel("submissions with full points (%)")
    ax.set_title(f"{assignment}: pass rate per exercise")
    return _encode(fig, "pass rate per exercise")


def _figure_slowest(timed, assignment):
    fig, ax = plt.subplots(figsize=(6, 3.5))
    names = [shown(s) for _, s in timed][::-1]  # student names: a "$" must not start mathtext
    ax.barh(range(len(names)), [t for t, _ in timed][::-1], color="tab:orange")
    ax.set_yticks(range(len(names)), labels=names, parse_math=False)
    ax.set_xlabel("grading time (s)")
    ax.set_title(f"{assignment}: slowest submissions")
    return _encode(fig, "slowest submissions")
