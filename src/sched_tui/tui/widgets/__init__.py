"""Widgets of the sched-tui interface."""
