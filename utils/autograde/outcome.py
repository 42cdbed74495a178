"""What grading one submission produced: the record that travels from a worker to the gradebook and the journal."""

from dataclasses import dataclass, field

#: A reason or a note is cut to this many characters, and a submission keeps at most MAX_NOTES notes.
MAX_REASON, MAX_NOTES = 600, 20


@dataclass
class Outcome:
    """What grading one submission of one assignment produced."""

    assignment: str
    student: str
    fingerprint: str
    scores: dict[str, float] = field(default_factory=dict)  # grade_id -> auto score
    max_scores: dict[str, float] = field(default_factory=dict)
    manual: dict[str, bool] = field(default_factory=dict)  # grade_id -> needs manual grading
    comments: dict[str, str | None] = field(default_factory=dict)  # answer cell grade_id -> nbgrader's auto comment
    late_penalty: dict[str, float] = field(default_factory=dict)  # notebook -> penalty
    seconds: float = 0.0
    failure: str | None = None  # why the submission could not be graded normally
    notes: list[str] = field(default_factory=list)  # what was noticed and worked around
    hidden_failures: dict[str, list[str]] = field(default_factory=dict)  # grade_id -> problems
    infrastructure: bool = False  # the failure is the grading machine's (a kernel that never started): retry
    timestamp: str | None = None  # timestamp.txt, checked in the worker (ISO format, UTC)

    def bounded(self) -> "Outcome":
        """This outcome with its text cut to size: it comes from a submission and goes to the journal and reports."""
        if self.failure:
            self.failure = _cut(self.failure, MAX_REASON)
            self.notes = [note for note in self.notes if _cut(note, MAX_REASON) != self.failure]  # said once
        if len(self.notes) > MAX_NOTES:
            self.notes = self.notes[:MAX_NOTES] + [f"... and {len(self.notes) - MAX_NOTES} more notes"]
        self.notes = [_cut(note, MAX_REASON) for note in self.notes]
        self.hidden_failures = {_cut(cell, 100): [_cut(p, MAX_REASON) for p in problems[:5]]
                                for cell, problems in list(self.hidden_failures.items())[:50]}
        return self

    @property
    def total(self) -> float:
        return float(sum(self.scores.values()))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"
