"""Busy blocks from VFREEBUSY components.

A free/busy calendar (a VFREEBUSY reply or publication) carries no events, only
periods. Each FREEBUSY period whose FBTYPE is BUSY (the default),
BUSY-UNAVAILABLE or BUSY-TENTATIVE becomes an appointment titled "Busy", so the
therapist's time shows as blocked. FBTYPE=FREE periods are skipped.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from icalendar import Component

from sched_tui.model import Appointment, Status
from sched_tui.providers.ical_timezones import to_utc

BUSY_SUMMARY = "Busy"


def freebusy_appointments(
    component: Component,
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    *,
    therapist_id: str,
    therapist_name: str,
    source: str,
) -> list[Appointment]:
    """Return the busy periods of one VFREEBUSY that overlap [start, end), in `tz`."""
    uid = str(component.get("UID", "")) or "freebusy"
    properties = component.get("FREEBUSY") or []
    if not isinstance(properties, list):
        properties = [properties]

    appointments: list[Appointment] = []
    for period in properties:
        kind = str(period.params.get("FBTYPE", "BUSY")).upper()
        if kind == "FREE":
            continue
        period_start = _aware(period.start, tz)
        period_end = _aware(period.end, tz)
        if not (period_start < end and period_end > start):
            continue
        appointments.append(
            Appointment(
                id=f"{uid}/{period_start.strftime('%Y%m%dT%H%M%SZ')}",
                therapist_id=therapist_id,
                therapist_name=therapist_name,
                source=source,
                start=period_start.astimezone(tz),
                end=period_end.astimezone(tz),
                summary=BUSY_SUMMARY,
                status=Status.TENTATIVE if kind == "BUSY-TENTATIVE" else Status.CONFIRMED,
            )
        )
    return appointments


def _aware(value: datetime, tz: ZoneInfo) -> datetime:
    """Return `value` in UTC; RFC 5545 requires UTC here, so a floating value is read in `tz`."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return to_utc(value)
