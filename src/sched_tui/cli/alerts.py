"""``sched-tui alerts``: export the alert rules, list past alerts, acknowledge one."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sqlite3
import sys
from datetime import tzinfo
from pathlib import Path

from sched_tui.cli.common import load_config_or_fail
from sched_tui.cli.kpi import format_time
from sched_tui.config import Config
from sched_tui.monitoring.rules import export_prometheus_rules
from sched_tui.monitoring.runtime import Monitoring


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``alerts`` subcommand and its ``export``, ``history`` and ``ack`` actions."""
    from sched_tui.cli import add_config_argument

    parser = subparsers.add_parser(
        "alerts",
        help="export alert rules, list past alerts, acknowledge a firing one",
        description="Work with the alert rules of [[alerts]] in config.toml.",
    )
    actions = parser.add_subparsers(dest="alerts_action", metavar="ACTION", required=True)

    export = actions.add_parser(
        "export",
        help="print the rules as a Prometheus alerting-rules file",
        description="Print the alert rules as a Prometheus alerting-rules file (YAML) over "
        "the metrics `sched-tui metrics` serves. Exit status: 0, 1 when the file cannot be "
        "written, 2 for invalid usage or config.",
    )
    add_config_argument(export)
    export.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of stdout")
    export.set_defaults(handler=run_export)

    history = actions.add_parser(
        "history",
        help="list the latest alerts, newest first",
        description="List the latest firings with when they resolved and who acknowledged them.",
    )
    add_config_argument(history)
    history.add_argument("--limit", type=int, default=20, help="rows to print (default: 20)")
    history.add_argument("--rule", default=None, help="only alerts of this rule")
    history.set_defaults(handler=run_history)

    ack = actions.add_parser(
        "ack",
        help="acknowledge a firing alert; it stays listed until it resolves",
        description="Acknowledge the firing alert of RULE. Exit status: 0 when acknowledged, "
        "1 when the rule does not fire, 2 for invalid usage or config.",
    )
    add_config_argument(ack)
    ack.add_argument("rule", metavar="RULE", help="rule name, for example HighErrorRate")
    ack.set_defaults(handler=run_ack)


def run_export(args: argparse.Namespace) -> int:
    """Print or write the Prometheus rules file."""
    config = load_config_or_fail(args)
    text = export_prometheus_rules(config.monitoring.alerts, config.monitoring.min_samples)
    if not args.output:
        sys.stdout.write(text)
        return 0
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as error:
        print(f"sched-tui: writing {args.output} failed: {error.strerror}", file=sys.stderr)
        return 1
    return 0


def run_history(args: argparse.Namespace) -> int:
    """Print the latest firings."""
    config = load_config_or_fail(args)
    try:
        entries = asyncio.run(_history(config, args.limit, args.rule))
    except sqlite3.Error as error:
        print(f"sched-tui: reading the alert history failed: {error}", file=sys.stderr)
        return 1
    tz = config.practice.tz
    if not entries:
        print("no alerts recorded")
    for entry in entries:
        resolved = (
            f"resolved {_when(entry.resolved_at, tz)}"
            if entry.resolved_at is not None
            else "FIRING"
        )
        line = f"{_when(entry.fired_at, tz)}  {entry.severity.upper():8}  {entry.rule}  {resolved}"
        if entry.acknowledged_by:
            line += f"  acknowledged by {entry.acknowledged_by}"
        print(line)
    return 0


def run_ack(args: argparse.Namespace) -> int:
    """Acknowledge a firing alert."""
    config = load_config_or_fail(args)
    names = [rule.name for rule in config.monitoring.alerts]
    if args.rule not in names:
        known = ", ".join(names) or "none configured"
        print(f"sched-tui: unknown alert rule {args.rule!r}; rules: {known}", file=sys.stderr)
        return 2
    try:
        done = asyncio.run(_acknowledge(config, args.rule, getpass.getuser()))
    except sqlite3.Error as error:
        print(f"sched-tui: acknowledging {args.rule} failed: {error}", file=sys.stderr)
        return 1
    if not done:
        print(
            f"sched-tui: alert {args.rule} does not fire; nothing to acknowledge", file=sys.stderr
        )
        return 1
    print(f"acknowledged {args.rule}")
    return 0


async def _history(config: Config, limit: int, rule: str | None) -> list:  # type: ignore[type-arg]
    monitoring = await Monitoring.start(config, record=False, background=False)
    try:
        return await monitoring.alert_history(limit, rule)
    finally:
        await monitoring.aclose()


async def _acknowledge(config: Config, rule: str, user: str) -> bool:
    monitoring = await Monitoring.start(config, record=False, background=False)
    try:
        return await monitoring.acknowledge(rule, user)
    finally:
        await monitoring.aclose()


def _when(seconds: float, tz: tzinfo | None = None) -> str:
    return format_time(seconds, tz)
