"""Numbered schema scripts, applied in order by `sched_tui.storage.migrate`."""
