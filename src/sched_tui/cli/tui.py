"""``sched-tui`` without a subcommand: open the terminal interface."""

from __future__ import annotations

import argparse
import logging

from sched_tui.cli.common import load_config_or_fail

log = logging.getLogger(__name__)


def run_tui(args: argparse.Namespace) -> int:
    """Load the configuration, run the TUI until the user quits, and return the exit status."""
    # Warnings are printed and logged here, and shown again as a banner in the app.
    config = load_config_or_fail(args)

    from sched_tui.tui.app import SchedApp

    log.info("TUI starting with config %s", config.source_label)
    SchedApp(config, initial_date=getattr(args, "start_week", None)).run()
    log.info("TUI stopped")
    return 0
