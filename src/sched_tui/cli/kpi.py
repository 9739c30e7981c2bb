"""``sched-tui kpi``: print the KPIs and the firing alerts, for ops over SSH or cron.

The KPIs come from the shared database, so they cover every running copy.
Each run also evaluates the alert rules once, unless a running copy did so
within the last half evaluation interval, so cron alone keeps alerts current.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
from datetime import datetime, tzinfo
from typing import Any

from sched_tui.cli.common import load_config_or_fail
from sched_tui.config import Config
from sched_tui.monitoring import kpi
from sched_tui.monitoring.alerts import FIRING, ActiveAlert
from sched_tui.monitoring.runtime import Monitoring

EXIT_OK = 0
EXIT_FIRING = 1
EXIT_USAGE = 2


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``kpi`` subcommand."""
    from sched_tui.cli import add_config_argument

    parser = subparsers.add_parser(
        "kpi",
        help="print the KPIs and the firing alerts",
        description="Print P95 latency per call over 1, 5 and 15 minutes, the error rate over "
        "10 minutes, the queue depth, the cache hit ratio and the pending and firing alerts of "
        "every copy sharing the database. Exit status: 0, or 1 when an alert fires "
        "(without --watch), 2 for invalid usage or config, 3 when the database cannot be read.",
    )
    add_config_argument(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object per refresh")
    parser.add_argument(
        "--watch",
        metavar="SECONDS",
        type=_positive_seconds,
        default=None,
        help="print again every SECONDS seconds until interrupted",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the KPIs once or repeatedly and return the exit status."""
    config = load_config_or_fail(args)
    try:
        return asyncio.run(_report(config, as_json=args.json, watch_s=args.watch))
    except KeyboardInterrupt:
        return EXIT_OK
    except sqlite3.Error as error:
        print(
            f"sched-tui: reading the database {config.storage.path} failed: {error}",
            file=sys.stderr,
        )
        return 3


async def _report(config: Config, *, as_json: bool, watch_s: float | None) -> int:
    monitoring = await Monitoring.start(config, record=False, background=False)
    try:
        while True:
            await monitoring.evaluate_alerts()
            snapshot = await monitoring.snapshot()
            alerts = await monitoring.active_alerts()
            if as_json:
                print(json.dumps(report_to_json(snapshot, alerts), ensure_ascii=False), flush=True)
            else:
                print(report_to_text(snapshot, alerts, config.practice.tz), flush=True)
            if watch_s is None:
                return EXIT_FIRING if any(alert.firing for alert in alerts) else EXIT_OK
            await asyncio.sleep(watch_s)
    finally:
        await monitoring.aclose()


def _iso(seconds: float | None) -> str | None:
    return None if seconds is None else datetime.fromtimestamp(seconds).astimezone().isoformat()


def alert_to_json(alert: ActiveAlert) -> dict[str, Any]:
    """Describe one pending or firing alert as the ``--json`` output does."""
    state = alert.state
    return {
        "rule": alert.rule.name,
        "severity": alert.rule.severity,
        "state": state.state,
        "summary": alert.summary,
        "value": state.value,
        "value_text": alert.value_text,
        "threshold": alert.rule.threshold,
        "active_since": _iso(state.active_since),
        "firing_since": _iso(state.firing_since),
        "acknowledged_at": _iso(state.acknowledged_at),
        "acknowledged_by": state.acknowledged_by,
    }


def report_to_json(snapshot: kpi.KpiSnapshot, alerts: list[ActiveAlert]) -> dict[str, Any]:
    """Describe the KPIs and alerts as the ``--json`` output does; None means no data."""
    rate = snapshot.error_rate
    return {
        "at": _iso(snapshot.at),
        "latency": [
            {
                "call": item.name,
                "window_s": item.window_s,
                "p95_ms": item.p95_ms,
                "samples": item.samples,
            }
            for item in snapshot.latency
        ],
        "error_rate": {
            "window_s": rate.window_s,
            "percent": rate.percent,
            "calls": rate.calls,
            "failed": rate.failed,
            "rate_limited": rate.rate_limited,
        },
        "queue_depth": snapshot.queue_depth,
        "cache": {
            "hits": snapshot.cache.hits,
            "misses": snapshot.cache.misses,
            "ratio": snapshot.cache.ratio,
        },
        "alerts": [alert_to_json(alert) for alert in alerts],
    }


def report_to_text(
    snapshot: kpi.KpiSnapshot, alerts: list[ActiveAlert], tz: tzinfo | None = None
) -> str:
    """Render the KPIs and alerts as aligned plain text, with times in `tz`."""
    lines = [f"KPIs at {format_time(snapshot.at, tz)} (all copies)", ""]
    names = snapshot.call_names
    width = max([len(name) for name in names] + [len("P95 latency")])
    headers = [f"{window // 60} min" for window in kpi.LATENCY_WINDOWS_S]
    lines.append("P95 latency".ljust(width) + "".join(f"  {header:<20}" for header in headers))
    if not names:
        lines.append("  n/a (0 calls)")
    for name in names:
        cells = [kpi.format_latency(snapshot.p95(name, window)) for window in kpi.LATENCY_WINDOWS_S]
        lines.append(name.ljust(width) + "".join(f"  {cell:<20}" for cell in cells))
    lines.append("")
    lines.append(f"Error rate (10 min)  {kpi.format_error_rate(snapshot.error_rate)}")
    lines.append(f"Queue depth          {kpi.format_queue_depth(snapshot.queue_depth)}")
    lines.append(f"Cache hit ratio      {kpi.format_cache(snapshot.cache)}")
    lines.append("")
    lines.append("Alerts")
    if not alerts:
        lines.append("  none")
    for alert in alerts:
        lines.append("  " + describe_alert(alert, tz))
    return "\n".join(lines)


def format_time(seconds: float, tz: tzinfo | None) -> str:
    """Render a Unix time in `tz` (the system zone when None), with the zone's name."""
    return datetime.fromtimestamp(seconds, tz).astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %Z")


def describe_alert(alert: ActiveAlert, tz: tzinfo | None = None) -> str:
    """Render one alert on one line: state, severity, rule, summary, value and since when."""
    state = alert.state
    since = state.firing_since if state.state == FIRING else state.active_since
    text = (
        f"{state.state.upper()} {alert.rule.severity.upper()} {alert.rule.name}: {alert.summary}"
        f" (value {alert.value_text}"
    )
    if since is not None:
        text += f", since {format_time(since, tz)}"
    text += ")"
    if state.acknowledged_at is not None:
        text += f" acknowledged by {state.acknowledged_by}"
    return text


def _positive_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if seconds < 0.5:
        raise argparse.ArgumentTypeError(
            f"invalid interval {value!r}; expected a number of seconds of at least 0.5"
        )
    return seconds
