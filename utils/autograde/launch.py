"""First program run inside the grading sandbox: set resource limits, drop privileges, start the kernel.

    python -I /launcher/idnn.autograde.launch.py --uid 61001 --cpu 300 --memory 2147483648 --processes 128 \
        --file-size 67108864 --open-files 256 -- python -m ipykernel_launcher -f kernel.json

The sandbox binds this file alone at that path (the rest of idnn.autograde is hidden there) and runs it as
a script, so it must only ever import the standard library.

It runs as root inside the sandbox only when the grader runs as root (then the kernel gets
uid `--uid`, a user of its own, so the process limit counts its processes alone; Linux does
not apply RLIMIT_NPROC to root). Only the standard library is used, and nothing of the
student's has run yet.
"""

import argparse
import os
import resource
import sys

LIMITS = {
    "cpu": resource.RLIMIT_CPU,  # seconds of CPU time; SIGXCPU then SIGKILL
    "memory": resource.RLIMIT_AS,  # bytes of address space; allocations beyond fail with MemoryError
    "processes": resource.RLIMIT_NPROC,  # processes and threads of the uid
    "file_size": resource.RLIMIT_FSIZE,  # bytes per file written
    "open_files": resource.RLIMIT_NOFILE,
}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="idnn.autograde.launch")
    parser.add_argument("--uid", type=int, default=0, help="user and group id for the kernel (0: keep)")
    for name in LIMITS:
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, required=True)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command to run")

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    for name, which in LIMITS.items():
        value = getattr(args, name)
        # CPU: a soft limit sends SIGXCPU; the hard limit a little later is SIGKILL.
        hard = value + 5 if which == resource.RLIMIT_CPU else value
        resource.setrlimit(which, (value, hard))
    if args.uid and os.getuid() == 0:
        os.setgroups([])
        os.setgid(args.uid)
        os.setuid(args.uid)  # also drops every capability
    os.execv(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
