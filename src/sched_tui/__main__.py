"""Allow ``python -m sched_tui``."""

import sys

from sched_tui.cli import main

sys.exit(main())
