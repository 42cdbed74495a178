"""Start a program that dies with the process that started it, with no window in between.

    python -m idnn.autograde.tethered PARENT_PID -- PROGRAM ARG ...

bwrap's --die-with-parent asks for SIGKILL when its parent dies, but only once bwrap is running: a grading
worker killed between starting bwrap and that request would leave an orphaned sandbox (and its kernel) behind.
Here the request comes first, then a check that the parent is still PARENT_PID, and only then the exec (the
request survives exec).
"""

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def main() -> None:
    parent, separator, *program = sys.argv[1:]
    if separator != "--" or not program:
        sys.exit("usage: python -m idnn.autograde.tethered PARENT_PID -- PROGRAM ARG ...")
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != int(parent):  # the parent died before the request: nobody to serve
        sys.exit(1)
    os.execvp(program[0], program)


if __name__ == "__main__":
    main()
