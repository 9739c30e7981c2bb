"""``sched-tui`` without a subcommand: open the terminal interface."""

from __future__ import annotations

import argparse
import logging
import sys

from sched_tui.config import ConfigError, load_config

log = logging.getLogger(__name__)


def run_tui(args: argparse.Namespace) -> int:
    """Load the configuration, run the TUI until the user quits, and return the exit status."""
    try:
        config = load_config(getattr(args, "config", None))
    except ConfigError as error:
        print(f"sched-tui: {error}", file=sys.stderr)
        return 2
    for warning in config.warnings:
        log.warning("%s", warning)

    from sched_tui.tui.app import SchedApp

    log.info("TUI starting with config %s", config.source_label)
    SchedApp(config).run()
    log.info("TUI stopped")
    return 0
