"""Benchmark: how long each source notebook takes to execute top to bottom, in a real kernel.

    python benchmarks/notebook_times.py [--repeat 3] [--limit 30]

Prints the best of `repeat` runs for every notebook under source/, and flags any above
`limit` seconds (the course's budget on a 2-core machine). Figures, not a test.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parent.parent


def execute_seconds(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--limit", type=float, default=30.0)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; best of {args.repeat} runs")
    print(f"{'notebook':<60}{'seconds':>10}")
    over = []
    for path in sorted((REPO / "source").rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        seconds = min(execute_seconds(path) for _ in range(args.repeat))
        flag = "  OVER BUDGET" if seconds > args.limit else ""
        if flag:
            over.append(path.name)
        print(f"{str(path.relative_to(REPO)):<60}{seconds:>10.1f}{flag}")
    print(f"budget {args.limit:g} s: " + ("all within" if not over else f"over: {', '.join(over)}"))


if __name__ == "__main__":
    main()
