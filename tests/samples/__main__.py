"""python -m tests.samples: write the sample submissions (see generate.py)."""

from .generate import main

main()
