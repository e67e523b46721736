"""`python -m bench`: run coachd's benchmark from a source checkout."""

import sys

from bench.cli import main

sys.exit(main())
