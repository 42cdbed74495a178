"""Property checks: grading answers that have no single right value, outside the kernel.

A random split or a dropout mask can be right in many ways. The hidden code records the
student's result with compare="property:<name>" and the inputs it was given; the grader,
in its own process, calls the check registered under <name> with the student's arrays and
the inputs of its *own* run (the same seed, so the same inputs). A check returns the list
of problems it found, each a sentence for the student.

    @register("name")
    def check(key, got, inputs) -> list[str]: ...

`got` maps "key/<part>" to the student's arrays; `inputs` maps input names to arrays.
"""

from typing import Callable

import numpy as np

PROPERTY_CHECKS: dict[str, Callable[[str, dict, dict], list[str]]] = {}


def register(name: str):
    def add(check):
        PROPERTY_CHECKS[name] = check
        return check
    return add


def check_property(name: str, key: str, got: dict[str, np.ndarray], inputs: dict[str, np.ndarray]) -> list[str]:
    if name not in PROPERTY_CHECKS:
        raise RuntimeError(f"No property check named {name!r}; the source notebook asks for one that does not exist.")
    return PROPERTY_CHECKS[name](key, got, inputs)


def split_sizes(m: int) -> tuple[int, int, int]:
    """The course's rule: dev and test each take 20% of m, at most 10,000 examples."""
    held_out = min(int(0.2 * m), 10_000)
    return m - 2 * held_out, held_out, held_out


@register("split")
def check_split(key: str, got: dict, inputs: dict) -> list[str]:
    """(X_train, Y_train, X_dev, Y_dev, X_test, Y_test): sizes, alignment, each example once, stratified, shuffled."""
    X, Y = inputs["X"], inputs["Y"]
    m = X.shape[1]
    parts = [got.get(f"{key}/{i}") for i in range(6)]
    if any(p is None for p in parts):
        return ["return six arrays: X_train, Y_train, X_dev, Y_dev, X_test, Y_test"]
    problems = []
    sizes = split_sizes(m)
    where_of = {tuple(np.round(X[:, j], 12)) + (int(Y[0, j]),): j for j in range(m)}
    seen: list[int] = []
    for name, (Xs, Ys), size in zip(("train", "dev", "test"), zip(parts[0::2], parts[1::2]), sizes):
        if Xs.ndim != 2 or Ys.ndim != 2 or Xs.shape[0] != X.shape[0] or Ys.shape[0] != 1:
            problems.append(f"X_{name} should have shape ({X.shape[0]}, m_{name}) and Y_{name} shape (1, m_{name}); "
                            f"got {Xs.shape} and {Ys.shape}")
            continue
        if Xs.shape[1] != size or Ys.shape[1] != size:
            problems.append(f"the {name} set has {Xs.shape[1]} examples (and {Ys.shape[1]} labels); with m = {m} "
                            f"it should have {size}")
            continue
        indices = [where_of.get(tuple(np.round(Xs[:, j], 12)) + (int(Ys[0, j]),)) for j in range(size)]
        if None in indices:
            problems.append(f"the {name} set holds an example that is not in X with that label: X and Y were not "
                            f"shuffled together")
            continue
        seen += indices
        for label in np.unique(Y):
            share = float(np.mean(Y == label))
            count = int(np.sum(Ys == label))
            if abs(count - share * size) > 2:
                problems.append(f"the {name} set has {count} examples of class {label}, but stratified it should "
                                f"have about {share * size:.1f} ({share:.0%} of {size}, within 2)")
        if name == "train" and size > 20 and np.all(np.diff(indices) > 0):
            problems.append("the training set keeps the original order of the examples: shuffle them")
    if not problems and sorted(seen) != list(range(m)):
        problems.append("some examples appear in two sets, or in none: every example belongs to exactly one")
    return problems
