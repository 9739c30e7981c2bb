"""Command line: ``sched-tui`` opens the TUI; subcommands work without a terminal UI.

Exit status: 0 on success, 1 when the command ran but something failed (for
example a provider did not answer), 2 for invalid usage or configuration.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from sched_tui import __version__
from sched_tui.cli.common import UsageError
from sched_tui.storage import StorageError

# Modules that each add one subcommand: `register(subparsers)` adds the parser
# and sets `handler` to a function taking the parsed arguments and returning
# the exit status.
SUBCOMMAND_MODULES = (
    "sched_tui.cli.week",
    "sched_tui.cli.sandbox",
    "sched_tui.cli.cache",
    "sched_tui.cli.kpi",
    "sched_tui.cli.metrics",
    "sched_tui.cli.alerts",
    "sched_tui.cli.queue",
    "sched_tui.cli.worker",
)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="sched-tui",
        description="Weekly calendar of a therapy practice, in the terminal.",
    )
    parser.add_argument("--version", action="version", version=f"sched-tui {__version__}")
    add_config_argument(parser)
    from sched_tui.cli.week import parse_date

    # A dest of its own, because the `week` subcommand has a --week option too.
    parser.add_argument(
        "--week",
        metavar="YYYY-MM-DD",
        dest="start_week",
        type=parse_date,
        default=None,
        help="open the TUI on the week that contains this date "
        "(default: today in the practice time zone)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    """Add the --config option shared by every command."""
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=argparse.SUPPRESS,
        help="config file (default: $SCHED_TUI_CONFIG, then the user config folder, "
        "then the embedded demo practice)",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        default=argparse.SUPPRESS,
        help="ignore every config file and use the embedded demo practice",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "config"):
        args.config = None
    if not hasattr(args, "demo"):
        args.demo = False

    from sched_tui.logs import configure_logging

    configure_logging()
    handler = getattr(args, "handler", None)
    if handler is None:
        from sched_tui.cli.tui import run_tui

        handler = run_tui
    try:
        return int(handler(args))
    except UsageError as error:
        # Invalid usage or configuration: one message, no traceback.
        print(f"sched-tui: {error}", file=sys.stderr)
        return EXIT_USAGE
    except StorageError as error:
        print(f"sched-tui: {error}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:
        # The reader went away (for example `sched-tui kpi --watch 5 | head`). Point
        # stdout at /dev/null so the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
