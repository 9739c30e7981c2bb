"""Parse iCalendar data and prepare its events for recurrence expansion.

Preparation makes every event self-contained: date-times are bound to a zone
(see `ical_timezones`), X-WR-TIMEZONE is applied, floating times get a zone, and
the quirks below are repaired where that needs no guess. An event that cannot
be used is left out and described in the warnings list.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import x_wr_timezone
from icalendar import Calendar, Component, vBroken, vRecur

from sched_tui.providers.base import MalformedData
from sched_tui.providers.ical_timezones import (
    DATE_PROPERTIES,
    TimezoneResolver,
    UnresolvedTimezone,
    iana_zone,
    localize_floating,
    to_utc,
)

_VTIMEZONE_BLOCK = re.compile(
    r"^BEGIN:VTIMEZONE\r?\n.*?^END:VTIMEZONE[ \t]*(?:\r?\n|\Z)",
    re.IGNORECASE | re.MULTILINE | re.DOTALL,
)
_TZID_LINE = re.compile(r"^TZID[^:\n]*:(.*?)\r?$", re.IGNORECASE | re.MULTILINE)


def parse_calendars(data: bytes | str, source: str) -> list[Calendar]:
    text = _decode(data)
    text = _drop_iana_vtimezones(text)
    try:
        components = Calendar.from_ical(text, multiple=True)
    except ValueError as error:
        raise MalformedData(f"{source}: the calendar could not be parsed: {error}") from None
    calendars = [component for component in components if component.name == "VCALENDAR"]
    if not calendars:
        if re.search(r"^BEGIN:VCALENDAR", text, re.IGNORECASE | re.MULTILINE):
            raise MalformedData(
                f"{source}: the calendar is incomplete (it has no END:VCALENDAR line); "
                "the file was cut short, so export it again"
            )
        raise MalformedData(f"{source}: the data contains no VCALENDAR; expected an iCalendar file")
    return calendars


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Old Outlook exports use the Windows code page; Latin-1 decodes any byte.
        return data.decode("latin-1")


def _drop_iana_vtimezones(text: str) -> str:
    """Remove VTIMEZONE blocks whose TZID is an IANA name.

    Those TZIDs are read from the IANA database anyway (see ical_timezones), and
    some exporters write historic rules icalendar rejects, such as the
    "TZOFFSETFROM:+5328" of iCloud, which would fail the whole calendar.
    """

    def replace(match: re.Match[str]) -> str:
        block = re.sub(r"\r?\n[ \t]", "", match.group(0))
        tzid = _TZID_LINE.search(block)
        if tzid and iana_zone(tzid.group(1)) is not None:
            return ""
        return match.group(0)

    return _VTIMEZONE_BLOCK.sub(replace, text)


def prepare_events(
    calendar: Calendar, tz: ZoneInfo, source: str, warnings: list[str]
) -> list[Component]:
    """Return the usable VEVENTs with every date-time bound to a zone."""
    resolver = TimezoneResolver(calendar)
    usable: list[Component] = []
    for event in calendar.walk("VEVENT"):
        uid = _uid(event)
        problem = _repair_or_reject(event)
        if problem is None:
            try:
                resolver.bind_event(event)
            except UnresolvedTimezone as error:
                problem = (
                    f"time zone {error.tzid!r} is unknown: no VTIMEZONE defines it and it is "
                    "neither an IANA nor a Windows zone name"
                )
        if problem is not None:
            warnings.append(f"{source}: skipped event {uid}: {problem}")
            continue
        event["UID"] = uid
        usable.append(event)

    x_wr_zone = _x_wr_zone(calendar, source, warnings)
    holder = Calendar()
    for event in usable:
        holder.add_component(event)
    if x_wr_zone is not None:
        # Converts UTC times into the X-WR-TIMEZONE zone, so that rules repeat in local time.
        holder = x_wr_timezone.to_standard(holder, timezone=x_wr_zone)
    floating_zone = x_wr_zone or tz
    events: list[Component] = holder.walk("VEVENT")
    for event in events:
        localize_floating(event, floating_zone)
        _anchor_until(event)
    return events


def _anchor_until(event: Component) -> None:
    """Read a floating RRULE UNTIL in the zone of DTSTART.

    RFC 5545 requires UTC for UNTIL when DTSTART has a zone, but Outlook and
    others write local time. Read as UTC, it would cut the last occurrence.
    """
    dtstart: Any = event["DTSTART"]
    start = dtstart.dt
    if not isinstance(start, datetime) or start.tzinfo is None:
        return
    for rule in _as_list(event.get("RRULE")):
        until = rule.get("UNTIL")
        if until and isinstance(until[0], datetime) and until[0].tzinfo is None:
            rule["UNTIL"] = [to_utc(until[0].replace(tzinfo=start.tzinfo))]


def _repair_or_reject(event: Component) -> str | None:
    """Fix what can be fixed without guessing; return why the event is unusable, or None."""
    if event.get("DTSTART") is None:
        return "it has no DTSTART"
    for name in (*DATE_PROPERTIES, "DURATION"):
        for prop in _as_list(event.get(name)):
            if isinstance(prop, vBroken):
                return f"invalid {name} value {str(prop)!r}"

    rules = _as_list(event.get("RRULE"))
    repaired: list[Any] = []
    for rule in rules:
        if isinstance(rule, vBroken):
            # Exchange CDO writes "BYDAY=MO, TU". The RRULE grammar has no spaces,
            # so removing them cannot change a valid rule.
            try:
                rule = vRecur.from_ical(str(rule).replace(" ", ""))
            except ValueError:
                return f"invalid RRULE value {str(rule)!r}"
        if all(rule.to_ical() != kept.to_ical() for kept in repaired):
            repaired.append(rule)  # Cyrus repeats the same RRULE; one copy is enough.
    if rules:
        event.pop("RRULE")
        event["RRULE"] = repaired[0] if len(repaired) == 1 else repaired
    return None


def _x_wr_zone(calendar: Calendar, source: str, warnings: list[str]) -> ZoneInfo | None:
    name = calendar.get("X-WR-TIMEZONE")
    if name is None:
        return None
    zone = iana_zone(str(name))
    if zone is None:
        warnings.append(f"{source}: ignored X-WR-TIMEZONE {str(name)!r}: not an IANA zone name")
    return zone


def _uid(event: Component) -> str:
    uid = str(event.get("UID", "")).strip()
    if uid:
        return uid
    # Exchange CDO can omit UID; a hash of the event text is stable while the event is unchanged.
    return "nouid-" + hashlib.sha256(event.to_ical()).hexdigest()[:16]


def _as_list(prop: Any) -> list[Any]:
    if prop is None:
        return []
    return list(prop) if isinstance(prop, list) else [prop]
