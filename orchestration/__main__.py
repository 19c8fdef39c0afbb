"""`python -m orchestration`: the command line (orchestration.cli)."""

import sys

from orchestration.cli import main

sys.exit(main())
