"""python -m idnn.autograde: the same as idnn-grade."""

import sys

from .cli import main

sys.exit(main())
