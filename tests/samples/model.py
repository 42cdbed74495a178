"""The pieces every assignment's samples are made of."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

#: Take this answer cell from the source notebook (solution markers removed).
SOLUTION = "<solution>"


@dataclass(frozen=True)
class Sample:
    """One student's submission of one notebook.

    answers   grade_id of an answer cell -> SOLUTION or the code the student wrote;
              cells not listed keep the release stub (blank)
    expected  grade_id of a test cell -> the points it must earn (unlisted: 0)
    why       what the sample demonstrates
    damage    applied to the written submission folder: rename, corrupt or edit files
    failure   a phrase the grader's recorded failure reason must contain (None: graded normally)
    stateful  test cells whose verdict may depend on what called the student's functions before them, because
              the submission keeps state between calls (a cheat that reuses its masks): the proof that skipping
              demonstrations changes no grade leaves these cells out, since a demonstration that runs calls them
    """

    student: str
    why: str
    answers: dict[str, str] = field(default_factory=dict)
    expected: dict[str, float] = field(default_factory=dict)
    damage: Callable[[Path], None] | None = None
    failure: str | None = None
    stateful: tuple[str, ...] = ()

    @property
    def expected_total(self) -> float:
        return float(sum(self.expected.values()))
