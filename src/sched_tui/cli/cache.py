"""``sched-tui cache``: invalidate cached provider data in every running copy.

A command has no cache of its own that lives past it, so ``cache invalidate``
only appends the invalidation to the shared database's log. Every running copy
reads the log every ``[cache] invalidation_poll_s`` and drops the entries.
``cache log`` prints the newest invalidations of that log.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
from datetime import datetime

from sched_tui.cache.admin import is_admin, not_admin_message
from sched_tui.cache.invalidation import Invalidation, InvalidationLog
from sched_tui.cache.store import NAMESPACES
from sched_tui.cli.common import load_config_or_fail
from sched_tui.config import Config

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``cache`` subcommand and its ``invalidate`` and ``log`` actions."""
    from sched_tui.cli import add_config_argument

    parser = subparsers.add_parser(
        "cache",
        help="invalidate cached provider data in every running copy",
        description="Work with the cache that every running copy keeps in front of the providers.",
    )
    actions = parser.add_subparsers(dest="cache_action", metavar="ACTION", required=True)

    invalidate = actions.add_parser(
        "invalidate",
        help="drop cached data so that the next read fetches it again (admins only)",
        description="Drop cached data in every running copy that shares the database; "
        "they apply it within 2 s. Needs the user to be listed in [admin] users. "
        "Exit status: 0 when written, 1 when the database write failed, "
        "2 for invalid usage, invalid config or missing admin rights.",
    )
    add_config_argument(invalidate)
    target = invalidate.add_mutually_exclusive_group(required=True)
    target.add_argument(
        "key",
        nargs="?",
        metavar="KEY",
        help="a therapist id or provider name: drop every entry about it",
    )
    target.add_argument(
        "--namespace",
        choices=NAMESPACES,
        help="drop every entry of one namespace",
    )
    target.add_argument("--all", action="store_true", help="drop every entry")
    invalidate.set_defaults(handler=run_invalidate)

    log_parser = actions.add_parser(
        "log",
        help="print the newest invalidations of the shared log",
        description="Print the newest invalidations, newest first, with who made them. "
        "Rows are kept for one hour.",
    )
    add_config_argument(log_parser)
    log_parser.add_argument(
        "--limit", type=int, default=20, metavar="N", help="rows to print (default: 20)"
    )
    log_parser.set_defaults(handler=run_log)


def run_invalidate(args: argparse.Namespace) -> int:
    """Append one invalidation to the shared log and return the exit status."""
    config = load_config_or_fail(args)
    if not is_admin(config):
        print(f"sched-tui: cache invalidate {not_admin_message(config)}", file=sys.stderr)
        return EXIT_USAGE

    if args.all:
        scope, key = "all", ""
    elif args.namespace:
        scope, key = "namespace", args.namespace
    else:
        scope, key = "key", args.key
    try:
        event = asyncio.run(_publish(config, scope, key))
    except (sqlite3.Error, OSError) as error:
        print(
            f"sched-tui: writing the invalidation to {config.storage.path} failed: {error}",
            file=sys.stderr,
        )
        return EXIT_FAILED
    print(f"invalidated {event.describe()} (log id {event.id}); running copies apply it within 2 s")
    return EXIT_OK


def run_log(args: argparse.Namespace) -> int:
    """Print the newest invalidations and return the exit status."""
    config = load_config_or_fail(args)
    if args.limit < 1:
        print(f"sched-tui: invalid --limit {args.limit}; expected 1 or more", file=sys.stderr)
        return EXIT_USAGE
    try:
        events = asyncio.run(_recent(config, args.limit))
    except (sqlite3.Error, OSError) as error:
        print(f"sched-tui: reading {config.storage.path} failed: {error}", file=sys.stderr)
        return EXIT_FAILED
    if not events:
        print("no invalidations in the last hour")
    for event in events:
        print(_describe_row(event, config))
    return EXIT_OK


async def _publish(config: Config, scope: str, key: str) -> Invalidation:
    invalidation_log = await InvalidationLog.open(
        config.storage.path, busy_timeout_s=config.storage.busy_timeout_s
    )
    try:
        return await invalidation_log.publish(scope, key)
    finally:
        await invalidation_log.aclose()


async def _recent(config: Config, limit: int) -> list[Invalidation]:
    invalidation_log = await InvalidationLog.open(
        config.storage.path, busy_timeout_s=config.storage.busy_timeout_s
    )
    try:
        return await invalidation_log.recent(limit)
    finally:
        await invalidation_log.aclose()


def _describe_row(event: Invalidation, config: Config) -> str:
    when = datetime.fromtimestamp(event.created_at, config.practice.tz)
    user = event.origin_user or "unknown user"
    return (
        f"{event.id:>6}  {when:%Y-%m-%d %H:%M:%S}  {event.describe()}"
        f"  by {user} (pid {event.origin_pid})"
    )
