"""Screens of the sched-tui interface; each is one app mode."""
