"""The grader's entry to the property checks: answers that have no single right value, judged outside the kernel.

A random split or a dropout mask can be right in many ways. The hidden code records the student's result
with compare="property:<name>" and the inputs it was given; the grader, in its own process, calls
check_property with the student's arrays and the inputs of its *own* run (the same seed, so the same inputs,
plus whatever the reference run adds, such as a split's expected sizes). The checks themselves hold no
solution and live on the student's side, in idnn.checks.properties, where the visible checks use them too;
this module only dispatches to them and makes sure that nothing a student's arrays can do to a check (an
exception included) escapes as anything but a problem sentence.
"""

import numpy as np

from ..checks.properties import PROPERTY_CHECKS, run_check
from .reference import ReferenceProblem


def check_property(name: str, key: str, got: dict[str, np.ndarray], inputs: dict[str, np.ndarray]) -> list[str]:
    """The problems property check `name` finds in the student's arrays `got` (empty: passed)."""
    if name not in PROPERTY_CHECKS:
        raise ReferenceProblem(f"No property check named {name!r}; the source notebook asks for one that does not "
                               f"exist.")
    try:
        copies = {k: np.array(v) for k, v in got.items()}  # a check cannot change what is judged next
        return run_check(name, key, copies, {k: np.array(v) for k, v in inputs.items()})
    except Exception as error:  # run_check catches the check's own errors; this is a last line
        return [f"the {name} check could not judge this answer ({type(error).__name__}: {error})"]
