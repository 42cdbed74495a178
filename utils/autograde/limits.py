"""How much of a submission the grader accepts, checked before anything of it is read whole.

    c.SubmissionLimits.max_entries = 1000               files and folders in a submission, all levels
    c.SubmissionLimits.max_bytes = 100 * 2**20          its files other than the notebooks, together
    c.SubmissionLimits.max_notebook_bytes = 32 * 2**20  each notebook of the assignment
    c.SubmissionLimits.max_cells = 2000                 cells in each notebook

A submission over max_entries is not graded (zero, with the reason); a notebook over its size or
cell limit gives the same; any other file that would take the submission past max_bytes is left out
unread, with a note, and the rest is graded. The course's notebooks have at most a few dozen cells
and a few hundred kilobytes with their plots, so an honest submission is far from every limit; a
notebook saved with a flood of printed output (20 MB, say) is still graded, its outputs cleared.
"""

from traitlets import Integer
from traitlets.config import LoggingConfigurable


class SubmissionLimits(LoggingConfigurable):
    """Limits on one submission (c.SubmissionLimits.<name> in nbgrader_config.py)."""

    max_entries = Integer(1000, help="Files and folders a submission may hold, at every level; more, and "
                          "it is not graded.").tag(config=True)
    max_bytes = Integer(100 * 2**20, help="Bytes of a submission's files other than its notebooks, together; "
                        "a file that would go past it is left out unread, with a note.").tag(config=True)
    max_notebook_bytes = Integer(32 * 2**20, help="Bytes of each notebook; a larger one is not read, and "
                                 "scores zero with the reason.").tag(config=True)
    max_cells = Integer(2000, help="Cells of each notebook; more, and it scores zero with the reason."
                        ).tag(config=True)


class SubmissionTooLarge(Exception):
    """The submission breaks a limit that stops it being graded at all (the message says which, and what to do)."""


def size(n: int) -> str:
    """A byte count for people: '29.3 MiB'."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"
