"""The starts the move dialog offers, without a running app."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo

from tests.tui.conftest import MONDAY, ZONE, at
from tests.tui.test_cells import appointment, calendar

from sched_tui.model import Service, Slot, Status
from sched_tui.tui.moves import move_starts

TZ = ZoneInfo(ZONE)
SERVICES = (
    Service("ind", "Individual therapy", 50, "m"),
    Service("cpl", "Couples therapy", 80, "m"),
)


def slot(hour: int, service: str | None, therapist: str = "rivera", day: int = 0) -> Slot:
    start = at(MONDAY + timedelta(days=day), hour)
    return Slot(therapist, start, start + timedelta(minutes=50), "m", service)


def test_only_slots_of_the_same_service() -> None:
    """A couples session is never offered an individual slot, even with no couples slot free."""
    couples = appointment(at(MONDAY, 11), minutes=80, service="Couples therapy")
    week = replace(calendar([couples], [slot(9, "ind"), slot(15, "ind")]), services=SERVICES)

    assert move_starts(couples, week, TZ) == []
    with_couples_slot = replace(week, slots=(*week.slots, slot(15, "cpl", day=1)))
    assert move_starts(couples, with_couples_slot, TZ) == [at(MONDAY + timedelta(days=1), 15)]


def test_start_clashing_at_full_length_is_left_out() -> None:
    """An 80-minute session cannot move to 09:00 when the therapist is busy from 10:00."""
    couples = appointment(at(MONDAY, 14), minutes=80, service="Couples therapy")
    busy = appointment(at(MONDAY, 10), minutes=60, service="Family therapy")
    cancelled = appointment(at(MONDAY, 16), minutes=60, status=Status.CANCELLED)
    slots = [slot(9, "cpl"), slot(12, "cpl"), slot(15, "cpl"), slot(8, "cpl", therapist="chen")]
    week = replace(calendar([couples, busy, cancelled], slots), services=SERVICES)

    # 09:00 would run into the 10:00 session; the cancelled 16:00 one blocks nothing,
    # and 08:00 is another therapist's slot.
    assert move_starts(couples, week, TZ) == [at(MONDAY, 12), at(MONDAY, 15)]


def test_unknown_service_offers_every_own_slot() -> None:
    event = appointment(at(MONDAY, 11), service="")
    week = replace(calendar([event], [slot(9, "ind"), slot(11, "ind"), slot(15, "cpl")]))

    assert move_starts(event, week, TZ) == [at(MONDAY, 9), at(MONDAY, 15)]
