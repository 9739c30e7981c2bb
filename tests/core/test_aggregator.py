"""The aggregator: concurrency bound, failure isolation, week bounds and filters."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sched_tui.aggregator import Aggregator
from sched_tui.model import Appointment, Filters, Service, Slot, Status, Therapist, TherapistWeek
from sched_tui.providers.base import ProviderUnavailable

TZ = ZoneInfo("America/New_York")
MONDAY = date(2026, 3, 2)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


class ListProvider:
    """A provider that serves fixed appointments and records what it was asked."""

    def __init__(
        self, name: str, appointments: Sequence[Appointment] = (), slots: Sequence[Slot] = ()
    ):
        self.name = name
        self.therapist = Therapist(id=f"{name}-t", name=f"Dr. {name.title()}", source=name)
        self.appointments = list(appointments)
        self.slots = list(slots)
        self.ranges: list[tuple[datetime, datetime]] = []
        self.active = 0
        self.max_active = 0
        self.gate: asyncio.Event | None = None

    async def list_therapists(self) -> list[Therapist]:
        return [self.therapist]

    async def list_services(self) -> list[Service]:
        return [Service(id="ind", name="Individual therapy", duration_minutes=50, source=self.name)]

    async def fetch_week(
        self, therapist_ids: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, TherapistWeek]:
        self.ranges.append((start, end))
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            if self.gate is not None:
                await self.gate.wait()
            else:
                await asyncio.sleep(0)
        finally:
            self.active -= 1
        return {
            self.therapist.id: TherapistWeek(
                self.therapist.id, tuple(self.appointments), tuple(self.slots)
            )
        }

    async def aclose(self) -> None:
        pass


class FailingProvider(ListProvider):
    async def fetch_week(
        self, therapist_ids: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, TherapistWeek]:
        raise ProviderUnavailable(f"{self.name}: connection refused by 127.0.0.1:9")


class BuggyProvider(ListProvider):
    async def list_therapists(self) -> list[Therapist]:
        raise KeyError("therapists")


def appointment(name: str, start: datetime, minutes: int = 50, **fields: object) -> Appointment:
    values: dict[str, object] = {
        "id": f"{name}-{start.isoformat()}",
        "therapist_id": f"{name}-t",
        "therapist_name": f"Dr. {name.title()}",
        "source": name,
        "start": start,
        "end": start + timedelta(minutes=minutes),
        "service": "Individual therapy",
    }
    values.update(fields)
    return Appointment(**values)  # type: ignore[arg-type]


async def test_week_contains_only_overlapping_items() -> None:
    inside = appointment("a", at(MONDAY, 9))
    before = appointment("a", at(MONDAY - timedelta(days=1), 9))
    across_start = appointment("a", at(MONDAY - timedelta(days=1), 23), minutes=120)
    after = appointment("a", at(MONDAY + timedelta(days=7), 0))
    provider = ListProvider("a", [inside, before, across_start, after])

    calendar = await Aggregator([provider], TZ).get_aggregated_calendar(MONDAY + timedelta(days=3))

    assert calendar.week.start == MONDAY
    assert [a.id for a in calendar.appointments] == [across_start.id, inside.id]
    assert provider.ranges == [(at(MONDAY, 0), at(MONDAY + timedelta(days=7), 0))]


async def test_failed_provider_reported_others_kept() -> None:
    good = ListProvider("good", [appointment("good", at(MONDAY, 10))])

    calendar = await Aggregator(
        [good, FailingProvider("down"), BuggyProvider("buggy")], TZ
    ).get_aggregated_calendar(MONDAY)

    assert len(calendar.appointments) == 1
    errors = {error.provider: error.message for error in calendar.errors}
    assert set(errors) == {"down", "buggy"}
    assert "connection refused" in errors["down"]
    assert "KeyError" in errors["buggy"]


async def test_slow_provider_times_out_alone() -> None:
    slow = ListProvider("slow")
    slow.gate = asyncio.Event()
    fast = ListProvider("fast", [appointment("fast", at(MONDAY, 11))])

    calendar = await Aggregator([slow, fast], TZ, provider_timeout_s=0.05).get_aggregated_calendar(
        MONDAY
    )

    assert [error.provider for error in calendar.errors] == ["slow"]
    assert "timed out after 0.05 s" in calendar.errors[0].message
    assert len(calendar.appointments) == 1


async def test_concurrency_is_bounded() -> None:
    providers = [ListProvider(f"p{i}") for i in range(6)]
    gate = asyncio.Event()
    for provider in providers:
        provider.gate = gate
    aggregator = Aggregator(providers, TZ, concurrency=2)

    task = asyncio.create_task(aggregator.get_aggregated_calendar(MONDAY))
    for _ in range(20):
        await asyncio.sleep(0)
    running = sum(provider.active for provider in providers)
    gate.set()
    await task

    assert running == 2
    assert max(provider.max_active for provider in providers) == 1


async def test_filters_apply_to_appointments_and_slots() -> None:
    rivera = ListProvider(
        "rivera",
        [
            appointment("rivera", at(MONDAY, 9)),
            appointment(
                "rivera", at(MONDAY, 11), service="Couples therapy", status=Status.CANCELLED
            ),
        ],
        [Slot("rivera-t", at(MONDAY, 14), at(MONDAY, 14, 50), "rivera", "ind")],
    )
    chen = ListProvider("chen", [appointment("chen", at(MONDAY, 9))])
    aggregator = Aggregator([rivera, chen], TZ)

    by_name = await aggregator.get_aggregated_calendar(MONDAY, Filters(therapist="RIVERA"))
    by_service = await aggregator.get_aggregated_calendar(MONDAY, Filters(service="couples"))
    by_status = await aggregator.get_aggregated_calendar(MONDAY, Filters(status=Status.CANCELLED))

    assert {a.therapist_id for a in by_name.appointments} == {"rivera-t"}
    assert len(by_name.slots) == 1
    assert [a.service for a in by_service.appointments] == ["Couples therapy"]
    assert by_service.slots == ()
    assert [a.status for a in by_status.appointments] == [Status.CANCELLED]
    assert by_status.slots == ()


async def test_all_day_event_ending_on_monday_is_outside() -> None:
    # All-day end dates are exclusive: an event ending on Monday ends at its midnight.
    ends_monday = replace(
        appointment("a", at(MONDAY, 0)),
        id="ends",
        start=MONDAY - timedelta(days=2),
        end=MONDAY,
        all_day=True,
    )
    spans_monday = replace(
        appointment("a", at(MONDAY, 0)),
        id="spans",
        start=MONDAY - timedelta(days=1),
        end=MONDAY + timedelta(days=1),
        all_day=True,
    )
    provider = ListProvider("a", [ends_monday, spans_monday])

    calendar = await Aggregator([provider], TZ).get_aggregated_calendar(MONDAY)

    assert [a.id for a in calendar.appointments] == [spans_monday.id]


async def test_therapist_filter_ignores_parts_of_ids() -> None:
    """Text matches part of a therapist's name, or the whole id, never part of an id."""
    zocdoc = ListProvider(
        "zocdoc",
        [appointment("zocdoc", at(MONDAY, 9), therapist_id="pr_x1zzz", therapist_name="Dr. Lee")],
        [Slot("pr_x1zzz", at(MONDAY, 14), at(MONDAY, 14, 50), "zocdoc", "ind")],
    )
    zocdoc.therapist = replace(zocdoc.therapist, id="pr_x1zzz", name="Dr. Lee")
    chen = ListProvider("chen", [appointment("chen", at(MONDAY, 10))])
    aggregator = Aggregator([zocdoc, chen], TZ)

    async def therapists_for(text: str) -> tuple[set[str], int]:
        calendar = await aggregator.get_aggregated_calendar(MONDAY, Filters(therapist=text))
        return {a.therapist_id for a in calendar.appointments}, len(calendar.slots)

    assert await therapists_for("pr") == (set(), 0)
    assert await therapists_for("zzz") == (set(), 0)
    assert await therapists_for("lee") == ({"pr_x1zzz"}, 1)
    assert await therapists_for("PR_X1ZZZ") == ({"pr_x1zzz"}, 1)
    assert await therapists_for(" chen ") == ({"chen-t"}, 0)
