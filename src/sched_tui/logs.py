"""Logging to a file under the user's state folder.

The TUI owns the terminal, so log records go to
``platformdirs.user_log_path("sched-tui") / "sched-tui.log"`` (override with
``SCHED_TUI_LOG``). Records name ids and reasons; they never carry patient
names, notes or secrets.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

import platformdirs

ENV_LOG = "SCHED_TUI_LOG"
ENV_LOG_LEVEL = "SCHED_TUI_LOG_LEVEL"


def log_path() -> Path:
    """Return the log file's path."""
    override = os.environ.get(ENV_LOG)
    if override:
        return Path(override).expanduser()
    return platformdirs.user_log_path("sched-tui") / "sched-tui.log"


def configure_logging() -> Path | None:
    """Send the app's log records to the log file; return its path, or None if unwritable."""
    path = log_path()
    root = logging.getLogger("sched_tui")
    for existing in root.handlers:
        # Calling this twice in one process (tests, `main` run again) must not
        # write every record twice.
        if getattr(existing, "baseFilename", None) == str(path.absolute()):
            return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=5_000_000, backupCount=3, encoding="utf-8"
        )
    except OSError:
        return None
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")
    )
    root.addHandler(handler)
    root.setLevel(os.environ.get(ENV_LOG_LEVEL, "INFO").upper())
    return path
