"""The journal: one line per graded submission (autograded/.journal.jsonl), what makes a run resumable.

Each line is an Outcome (outcome.py) as JSON, appended and synced after its grades are in the gradebook. A rerun
skips every submission whose fingerprint matches its last line; a line torn by a kill is ignored.
"""

import json
import os
from dataclasses import asdict
from pathlib import Path

from .outcome import Outcome

JOURNAL = ".journal.jsonl"


def read_journal(course: Path) -> dict[tuple[str, str], dict]:
    """The last journal entry of each (assignment, student); a torn last line is ignored."""
    path = course / "autograded" / JOURNAL
    entries = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # the run was killed while writing this line
            entries[(entry["assignment"], entry["student"])] = entry
    return entries


def append(course: Path, outcome: Outcome) -> None:
    """Add one outcome to the journal, on disk before this returns (a rerun trusts every complete line)."""
    path = course / "autograded" / JOURNAL
    path.parent.mkdir(exist_ok=True)
    with open(path, "a") as handle:
        handle.write(json.dumps(asdict(outcome), sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
