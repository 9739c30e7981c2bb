"""Parse iCalendar data and expand it into the appointments of a time range.

`expand_calendar` is pure: bytes in, appointments and warnings out, no I/O.
Recurrence expansion (RRULE, RDATE, EXDATE, RECURRENCE-ID overrides) is done by
recurring-ical-events. `ical_prepare` readies its input and this module
converts its output.

Error policy: when the data cannot be parsed as a calendar at all,
`MalformedData` is raised. A single bad event (an unknown TZID, a malformed
date, a rule that cannot be expanded) is skipped and named in
`Expansion.warnings`, and the other events are still returned.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import recurring_ical_events
from icalendar import Calendar, Component, Event

from sched_tui.model import Appointment, Status
from sched_tui.providers.ical_freebusy import freebusy_appointments
from sched_tui.providers.ical_prepare import parse_calendars, prepare_events
from sched_tui.providers.ical_timezones import (
    to_utc,
)

log = logging.getLogger("sched_tui.providers.ics")

_STATUSES = {"CANCELLED": Status.CANCELLED, "TENTATIVE": Status.TENTATIVE}

# Errors that recurring-ical-events and icalendar raise on inconsistent events
# (end before start, date mixed with date-time, rules that cannot be built).
_EXPANSION_ERRORS = (ValueError, TypeError, KeyError, AttributeError, OverflowError)


@dataclass(slots=True)
class Expansion:
    """Appointments of one calendar within a range, and the events that were skipped."""

    appointments: list[Appointment] = field(default_factory=list)
    # One message per skipped event or ignored property; no summaries or descriptions.
    warnings: list[str] = field(default_factory=list)


def expand_events(
    data: bytes | str,
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    *,
    therapist_id: str,
    therapist_name: str,
    source: str,
) -> list[Appointment]:
    """Return the appointments of `data` that overlap [start, end); warnings are logged."""
    expansion = expand_calendar(
        data,
        start,
        end,
        tz,
        therapist_id=therapist_id,
        therapist_name=therapist_name,
        source=source,
    )
    for warning in expansion.warnings:
        log.warning("%s", warning)
    return expansion.appointments


def expand_calendar(
    data: bytes | str,
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    *,
    therapist_id: str,
    therapist_name: str,
    source: str,
) -> Expansion:
    """Parse `data` and return every occurrence that overlaps [start, end).

    `start` and `end` must be aware. Timed occurrences are returned in `tz`;
    all-day ones as dates with an exclusive end, read in `tz` for the overlap test.
    Floating times are read in the calendar's X-WR-TIMEZONE if it has a valid one,
    otherwise in `tz`. Raises MalformedData if `data` is not an iCalendar stream.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware datetimes")
    calendars = parse_calendars(data, source)
    expansion = Expansion()
    appointment_args = {
        "therapist_id": therapist_id,
        "therapist_name": therapist_name,
        "source": source,
    }

    for calendar in calendars:
        events = prepare_events(calendar, tz, source, expansion.warnings)
        for uid, group in _group_by_uid(events).items():
            for occurrence in _expand_group(uid, group, start, end, source, expansion.warnings):
                series = len(group) > 1 or any(_is_recurring(event) for event in group)
                appointment = _to_appointment(occurrence, uid, series, tz, appointment_args)
                if _overlaps(appointment, start, end, tz):
                    expansion.appointments.append(appointment)
        for component in calendar.walk("VFREEBUSY"):
            expansion.appointments.extend(
                freebusy_appointments(component, start, end, tz, **appointment_args)
            )

    expansion.appointments = _unique(expansion.appointments)
    expansion.appointments.sort(key=lambda item: (_sort_instant(item, tz), item.id))
    return expansion


def _group_by_uid(events: list[Component]) -> dict[str, list[Component]]:
    groups: dict[str, list[Component]] = defaultdict(list)
    for event in events:
        groups[str(event["UID"])].append(event)
    return groups


def _expand_group(
    uid: str,
    group: list[Component],
    start: datetime,
    end: datetime,
    source: str,
    warnings: list[str],
) -> list[Event]:
    """Expand one series (master and overrides sharing a UID); a failure skips only it."""
    series = Calendar()
    for event in group:
        series.add_component(event)
    # A day of margin on each side: all-day events are compared in `tz` afterwards.
    window_start = to_utc(start) - timedelta(days=1)
    window_end = to_utc(end) + timedelta(days=1)
    try:
        occurrences: list[Event] = recurring_ical_events.of(series).between(
            window_start, window_end
        )
    except _EXPANSION_ERRORS as error:
        warnings.append(
            f"{source}: skipped event {uid}: its recurrence could not be expanded ({error})"
        )
        return []
    return occurrences


def _to_appointment(
    occurrence: Event, uid: str, series: bool, tz: ZoneInfo, args: dict[str, str]
) -> Appointment:
    raw_start, raw_end = occurrence.start, occurrence.end
    start: date | datetime
    end: date | datetime
    if isinstance(raw_start, datetime):
        all_day = False
        if not isinstance(raw_end, datetime):
            raw_end = datetime.combine(raw_end, time(), raw_start.tzinfo)
        start = to_utc(raw_start).astimezone(tz)
        end = max(to_utc(raw_end).astimezone(tz), start)
    else:
        all_day = True
        end_date = raw_end.date() if isinstance(raw_end, datetime) else raw_end
        start, end = raw_start, max(end_date, raw_start + timedelta(days=1))

    identifier = uid
    if series:
        identifier = f"{uid}/{_recurrence_key(occurrence.get('RECURRENCE-ID'), occurrence.start)}"
    status = _STATUSES.get(str(occurrence.get("STATUS", "")).upper(), Status.CONFIRMED)
    return Appointment(
        id=identifier,
        start=start,
        end=end,
        all_day=all_day,
        summary=str(occurrence.get("SUMMARY", "")),
        service=", ".join(occurrence.categories),
        status=status,
        **args,
    )


def _recurrence_key(prop: Any, fallback: date) -> str:
    value = prop.dt if prop is not None else fallback
    if isinstance(value, datetime):
        return to_utc(value).strftime("%Y%m%dT%H%M%SZ")
    return value.strftime("%Y%m%d")


def _overlaps(appointment: Appointment, start: datetime, end: datetime, tz: ZoneInfo) -> bool:
    own_start, own_end = appointment.bounds(tz)
    if own_start == own_end:
        # A zero-length event (DTSTART without DTEND) belongs to the range it starts in.
        return start <= own_start < end
    return own_start < end and own_end > start


def _is_recurring(event: Component) -> bool:
    return any(name in event for name in ("RRULE", "RDATE", "RECURRENCE-ID"))


def _unique(appointments: list[Appointment]) -> list[Appointment]:
    seen: dict[str, Appointment] = {}
    for appointment in appointments:
        seen.setdefault(appointment.id, appointment)
    return list(seen.values())


def _sort_instant(appointment: Appointment, tz: ZoneInfo) -> datetime:
    return appointment.bounds(tz)[0]


def _as_list(prop: Any) -> list[Any]:
    if prop is None:
        return []
    return list(prop) if isinstance(prop, list) else [prop]
