"""``sched-tui week``: print one week of the practice's calendar."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import date, datetime
from typing import Any

from sched_tui.cli.common import load_config_or_fail
from sched_tui.config import Config
from sched_tui.model import Appointment, CalendarWeek, Filters, Status
from sched_tui.services import Services


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``week`` subcommand."""
    parser = subparsers.add_parser(
        "week",
        help="print the week that contains a date",
        description="Print the practice's week, Monday to Sunday in the practice time zone. "
        "Exit status: 0 when every provider answered, 1 when some failed "
        "(the others' data are still printed), 2 for invalid usage or config.",
    )
    from sched_tui.cli import add_config_argument

    add_config_argument(parser)
    parser.add_argument(
        "--week",
        metavar="YYYY-MM-DD",
        type=parse_date,
        default=None,
        help="any date in the week to print (default: today in the practice time zone)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--therapist",
        default="",
        help="show only therapists whose name contains this text, or whose id is this text",
    )
    parser.add_argument(
        "--service", default="", help="show only services whose name contains this text"
    )
    parser.add_argument(
        "--status",
        choices=[status.value for status in Status],
        default=None,
        help="show only appointments with this status",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the week and return the exit status."""
    config = load_config_or_fail(args)

    filters = Filters(
        therapist=args.therapist,
        service=args.service,
        status=Status(args.status) if args.status else None,
    )
    day = args.week or datetime.now(config.practice.tz).date()
    calendar = asyncio.run(fetch_week(config, day, filters))

    if args.json:
        json.dump(week_to_json(calendar), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(week_to_text(calendar, config))
    if args.json:
        # The text output lists these already; with --json, scripts still see them on stderr.
        for failure in calendar.errors:
            print(
                f"sched-tui: provider {failure.provider} failed: {failure.message}", file=sys.stderr
            )
        for warning in calendar.warnings:
            print(f"sched-tui: provider {warning.provider}: {warning.message}", file=sys.stderr)
    return 1 if calendar.errors else 0


async def fetch_week(config: Config, day: date, filters: Filters) -> CalendarWeek:
    """Build the providers from the config and fetch the week that contains `day`.

    The reads go through the same cache as the TUI's. A one-shot command starts
    with an empty cache and opens no database, so every read reaches the providers.
    """
    services = await Services.start(config, open_db=False)
    try:
        return await services.aggregator.get_aggregated_calendar(day, filters)
    finally:
        await services.aclose()


def appointment_to_json(appointment: Appointment) -> dict[str, Any]:
    """Describe one appointment as the ``--json`` output does."""
    return {
        "therapist_id": appointment.therapist_id,
        "therapist_name": appointment.therapist_name,
        "source": appointment.source,
        "start": appointment.start.isoformat(),
        "end": appointment.end.isoformat(),
        "all_day": appointment.all_day,
        "summary": appointment.summary,
        "service": appointment.service,
        "status": appointment.status.value,
    }


def week_to_json(calendar: CalendarWeek) -> dict[str, Any]:
    """Describe the week as the ``--json`` output does."""
    return {
        "week_start": calendar.week.start.isoformat(),
        "timezone": calendar.timezone,
        "appointments": [appointment_to_json(item) for item in calendar.appointments],
        "errors": [
            {"provider": error.provider, "message": error.message} for error in calendar.errors
        ],
        # Data a provider skipped without failing, such as an event in an unknown zone.
        "warnings": [
            {"provider": warning.provider, "message": warning.message}
            for warning in calendar.warnings
        ],
    }


def week_to_text(calendar: CalendarWeek, config: Config) -> str:
    """Render the week as plain text, one line per appointment, grouped by day."""
    lines = [
        f"{config.practice.name}: week of {calendar.week.start.isoformat()} ({calendar.timezone})",
    ]
    for day in calendar.week.days:
        lines.append("")
        lines.append(day.strftime("%a %Y-%m-%d"))
        entries = list(calendar.appointments_on(day))
        if not entries:
            lines.append("  (nothing booked)")
        for appointment in entries:
            lines.append("  " + _describe(appointment, calendar))
    for error in calendar.errors:
        lines.append("")
        lines.append(f"! {error.provider}: {error.message}")
    for warning in calendar.warnings:
        lines.append("")
        lines.append(f"? {warning.provider}: {warning.message}")
    return "\n".join(lines) + "\n"


def _describe(appointment: Appointment, calendar: CalendarWeek) -> str:
    if appointment.all_day:
        when = "all day    "
    else:
        start, end = appointment.bounds(calendar.week.tz)
        tz = calendar.week.tz
        when = f"{start.astimezone(tz):%H:%M}-{end.astimezone(tz):%H:%M}"
    parts = [when, appointment.therapist_name, appointment.service or "-", appointment.status.value]
    if appointment.summary and appointment.summary != appointment.service:
        parts.append(appointment.summary)
    return "  ".join(parts)


# Dates a week may be asked for. Outside them, week arithmetic would leave the
# range of Python's dates, and no practice calendar reaches that far anyway.
FIRST_DATE = date(1900, 1, 1)
LAST_DATE = date(2999, 12, 31)


def parse_date(value: str) -> date:
    """Parse a YYYY-MM-DD command-line date between FIRST_DATE and LAST_DATE."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid date {value!r}; expected YYYY-MM-DD, for example 2026-12-07"
        ) from None
    if not FIRST_DATE <= day <= LAST_DATE:
        raise argparse.ArgumentTypeError(
            f"invalid date {value!r}; expected a date from {FIRST_DATE} to {LAST_DATE}"
        )
    return day
