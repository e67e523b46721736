"""`python -m bench.chaos`: run the chaos harness from a source checkout."""

import sys

from bench.chaos.cli import main

sys.exit(main())
