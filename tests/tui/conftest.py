"""Helpers for the TUI tests: an in-memory provider, a counting aggregator and app factories.

The clock is frozen on Thursday 10 December 2026 (practice time), so the shown
week is Monday 7 to Sunday 13 December 2026.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, Select

from sched_tui.aggregator import Aggregator
from sched_tui.config import Config, PracticeConfig, StorageConfig, UiConfig
from sched_tui.model import (
    Appointment,
    CalendarWeek,
    Filters,
    Service,
    Slot,
    Status,
    Therapist,
    TherapistWeek,
)
from sched_tui.providers.base import Provider
from sched_tui.reads import DirectReads
from sched_tui.services import Services
from sched_tui.tui.app import SchedApp
from sched_tui.tui.screens.calendar import CalendarScreen
from sched_tui.tui.widgets.week_grid import WeekGrid

ZONE = "America/New_York"
NOW = datetime(2026, 12, 10, 20, 0, tzinfo=UTC)  # Thursday 15:00 in New York
MONDAY = date(2026, 12, 7)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """Return an aware datetime in the practice zone."""
    from zoneinfo import ZoneInfo

    return datetime.combine(day, time(hour, minute), ZoneInfo(ZONE))


class MemoryProvider:
    """A Provider over in-memory lists that records each requested [start, end) range.

    `gate`, when set, makes `fetch_week` wait for it, so a test decides when data arrive.
    `failure`, when set, is raised by `fetch_week`.
    """

    def __init__(self, name: str = "memory", therapists: Sequence[Therapist] = ()) -> None:
        self.name = name
        self.therapists = list(therapists) or [
            Therapist("rivera", "Dr. Ana Rivera", name),
            Therapist("chen", "Sam Chen", name),
        ]
        self.services = [
            Service("ind", "Individual therapy", 50, name),
            Service("cpl", "Couples therapy", 50, name),
        ]
        self.appointments: list[Appointment] = []
        self.slots: list[Slot] = []
        self.ranges: list[tuple[datetime, datetime]] = []
        self.gate: asyncio.Event | None = None
        self.failure: Exception | None = None
        self.cancelled_fetches = 0
        self.fetches_running = 0
        self.closed = False
        # Fetches still running when aclose() was called; a clean shutdown ends them first.
        self.running_at_close: int | None = None

    async def list_therapists(self) -> list[Therapist]:
        return list(self.therapists)

    async def list_services(self) -> list[Service]:
        return list(self.services)

    async def fetch_week(
        self, therapist_ids: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, TherapistWeek]:
        self.ranges.append((start, end))
        self.fetches_running += 1
        try:
            if self.gate is not None:
                await self.gate.wait()
        except asyncio.CancelledError:
            self.cancelled_fetches += 1
            raise
        finally:
            self.fetches_running -= 1
        if self.failure is not None:
            raise self.failure
        weeks = {}
        for therapist_id in therapist_ids:
            appointments = tuple(a for a in self.appointments if a.therapist_id == therapist_id)
            slots = tuple(s for s in self.slots if s.therapist_id == therapist_id)
            weeks[therapist_id] = TherapistWeek(therapist_id, appointments, slots)
        return weeks

    async def aclose(self) -> None:
        self.closed = True
        self.running_at_close = self.fetches_running

    def book(
        self,
        appointment_id: str,
        therapist_id: str,
        start: datetime,
        minutes: int = 50,
        status: Status = Status.CONFIRMED,
        service: str = "Individual therapy",
    ) -> Appointment:
        """Add an appointment and return it."""
        name = {t.id: t.name for t in self.therapists}[therapist_id]
        appointment = Appointment(
            id=appointment_id,
            therapist_id=therapist_id,
            therapist_name=name,
            source=self.name,
            start=start,
            end=start + timedelta(minutes=minutes),
            service=service,
            status=status,
        )
        self.appointments.append(appointment)
        return appointment

    def restatus(self, appointment_id: str, status: Status) -> None:
        """Change the status of one appointment."""
        self.appointments = [
            replace(a, status=status) if a.id == appointment_id else a for a in self.appointments
        ]


class CountingAggregator(Aggregator):
    """The real aggregator, recording every query it receives and every one cancelled."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.queries: list[tuple[date, Filters]] = []
        self.cancelled: list[tuple[date, Filters]] = []

    async def get_aggregated_calendar(
        self, week_start: date, filters: Filters | None = None
    ) -> CalendarWeek:
        query = (week_start, filters or Filters())
        self.queries.append(query)
        try:
            return await super().get_aggregated_calendar(week_start, filters)
        except asyncio.CancelledError:
            self.cancelled.append(query)
            raise


def make_config(tmp_path: Path, *, debounce_ms: int = 300) -> Config:
    """Return a config for the New York demo practice, with its database under `tmp_path`."""
    return Config(
        practice=PracticeConfig(name="Test practice", timezone=ZONE),
        ui=UiConfig(debounce_ms=debounce_ms),
        storage=StorageConfig(path=tmp_path / "sched.db"),
    )


def make_app(
    config: Config, providers: Sequence[Provider], clock: Callable[[], datetime] = lambda: NOW
) -> tuple[SchedApp, CountingAggregator]:
    """Build an app whose services wrap `providers` in a counting aggregator."""
    aggregator = CountingAggregator(providers, config.practice.tz)
    services = Services(config=config, aggregator=aggregator, reads=DirectReads())
    return SchedApp(config, services=services, clock=clock), aggregator


def grid_of(app: SchedApp) -> WeekGrid:
    """Return the week grid of the calendar screen."""
    return app.screen.query_one(WeekGrid)


def calendar_of(app: SchedApp) -> CalendarScreen:
    """Return the calendar screen."""
    screen = app.screen
    assert isinstance(screen, CalendarScreen)
    return screen


def screen_text(app: SchedApp) -> str:
    """Return the characters on screen, one line per terminal row."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def wait_until(pilot: Pilot, condition: Callable[[], bool], limit_s: float = 3.0) -> None:
    """Let the app run until `condition()` holds; fail after `limit_s` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {limit_s} s")
        await pilot.pause(0.01)
    # One more turn of the message loop, so the screen shows what the condition saw.
    await pilot.pause()


async def wait_loaded(pilot: Pilot, limit_s: float = 3.0) -> None:
    """Let the app run until the grid shows the result of the latest query."""
    app = pilot.app
    await wait_until(pilot, lambda: calendar_of(app).shows_latest, limit_s)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """The default test config."""
    return make_config(tmp_path)


@pytest.fixture
def provider() -> MemoryProvider:
    """A provider with three appointments and an open slot in the shown week."""
    memory = MemoryProvider()
    memory.book("a1", "rivera", at(MONDAY, 9))
    memory.book("a2", "chen", at(MONDAY, 9), status=Status.TENTATIVE, service="Couples therapy")
    memory.book("a3", "chen", at(MONDAY + timedelta(days=2), 14))
    tuesday = MONDAY + timedelta(days=1)
    memory.slots.append(Slot("rivera", at(tuesday, 11), at(tuesday, 12), "memory", "ind"))
    return memory


def fill(screen: Screen[object], name: str, value: str) -> None:
    """Set booking form field `name` to `value`, typed or chosen from its list."""
    field = screen.query_one(f"#booking-{name}")
    if isinstance(field, Select):
        field.value = value
    else:
        assert isinstance(field, Input)
        field.value = value


# Invented patient details that pass the booking form's checks.
PATIENT = {
    "first_name": "Test",
    "last_name": "Patient",
    "date_of_birth": "1980-01-01",
    "sex_at_birth": "female",
    "phone_number": "5550100000",
    "email_address": "patient@example.test",
    "address1": "1 Test St",
    "city": "New York",
    "state": "NY",
    "zip_code": "10001",
}
