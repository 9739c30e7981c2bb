"""sched-tui: the weekly calendar of a therapy practice, in a terminal."""

__version__ = "0.1.0"
