"""Start a program that dies with the process that started it, with no window in between.

    python -m idnn.autograde.tethered PARENT_PID [--join CGROUP_PROCS_FILE ...] -- PROGRAM ARG ...

bwrap's --die-with-parent asks for SIGKILL when its parent dies, but only once bwrap is running: a grading
worker killed between starting bwrap and that request would leave an orphaned sandbox (and its kernel) behind.
Here the request comes first, then a check that the parent is still PARENT_PID, and only then the exec (the
request survives exec). With --join, it first moves itself into each given cgroup (by writing its pid to
that cgroup's cgroup.procs), so the program and everything it starts share that cgroup's limits.
"""

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def main() -> None:
    parent, *rest = sys.argv[1:]
    joins = []
    while rest[:1] == ["--join"] and len(rest) >= 2:
        joins.append(rest[1])
        rest = rest[2:]
    separator, *program = rest or [""]
    if separator != "--" or not program:
        sys.exit("usage: python -m idnn.autograde.tethered PARENT_PID [--join CGROUP_PROCS_FILE ...] -- PROGRAM ARG ...")
    for procs in joins:
        with open(procs, "w") as handle:
            handle.write(str(os.getpid()))
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != int(parent):  # the parent died before the request: nobody to serve
        sys.exit(1)
    os.execvp(program[0], program)


if __name__ == "__main__":
    main()
