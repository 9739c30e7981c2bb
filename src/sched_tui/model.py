"""Domain model: therapists, services, slots, appointments and the week they fall in.

Plain frozen dataclasses with no I/O, so every layer (providers, cache, queue, TUI,
headless commands) can share them. Every datetime here is timezone-aware; dates
stand only for all-day events, whose end is exclusive as in iCalendar.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo


class Status(enum.StrEnum):
    """State of an appointment as the calendar shows it."""

    CONFIRMED = "confirmed"
    TENTATIVE = "tentative"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Therapist:
    """A clinician whose week the practice schedules."""

    id: str
    name: str
    source: str
    specialties: tuple[str, ...] = ()
    # Zocdoc's "provider_id|location_id" pair; None for calendar-only therapists.
    location_id: str | None = None


@dataclass(frozen=True, slots=True)
class Service:
    """A bookable kind of session (Zocdoc calls it a visit reason)."""

    id: str
    name: str
    duration_minutes: int
    source: str


@dataclass(frozen=True, slots=True)
class Slot:
    """An open, bookable start time."""

    therapist_id: str
    start: datetime
    end: datetime
    source: str
    service_id: str | None = None


@dataclass(frozen=True, slots=True)
class Appointment:
    """A booked session or a calendar event that blocks a therapist's time.

    `start` and `end` are aware datetimes, or dates when `all_day` is set; an
    all-day end date is exclusive.
    """

    id: str
    therapist_id: str
    therapist_name: str
    source: str
    start: datetime | date
    end: datetime | date
    all_day: bool = False
    summary: str = ""
    service: str = ""
    status: Status = Status.CONFIRMED

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """Tell whether this appointment overlaps the half-open range [start, end)."""
        own_start, own_end = self.bounds(start.tzinfo)
        return own_start < end and own_end > start

    def bounds(self, tz: tzinfo | None) -> tuple[datetime, datetime]:
        """Return the start and end as aware datetimes; all-day dates are read in `tz`."""
        if self.all_day:
            assert isinstance(self.start, date) and isinstance(self.end, date)
            return (
                datetime.combine(_as_date(self.start), time(), tz),
                datetime.combine(_as_date(self.end), time(), tz),
            )
        assert isinstance(self.start, datetime) and isinstance(self.end, datetime)
        return self.start, self.end


def _as_date(value: date) -> date:
    return value.date() if isinstance(value, datetime) else value


@dataclass(frozen=True, slots=True)
class TherapistWeek:
    """Appointments and open slots of one therapist over one week, from one provider."""

    therapist_id: str
    appointments: tuple[Appointment, ...] = ()
    slots: tuple[Slot, ...] = ()
    # Problems that cost some data without failing the provider, such as an event
    # skipped for an unknown time zone. Fit to show staff: no patient data.
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Week:
    """A Monday-to-Sunday week in the practice's time zone."""

    start: date
    tz: tzinfo

    @classmethod
    def containing(cls, day: date, tz: tzinfo) -> Week:
        """Return the week that contains `day`."""
        return cls(day - timedelta(days=day.weekday()), tz)

    @property
    def days(self) -> list[date]:
        """The seven dates, Monday first."""
        return [self.start + timedelta(days=offset) for offset in range(7)]

    @property
    def start_at(self) -> datetime:
        """Midnight at the start of Monday, local time."""
        return datetime.combine(self.start, time(), self.tz)

    @property
    def end_at(self) -> datetime:
        """Midnight at the end of Sunday (exclusive), local time."""
        return datetime.combine(self.start + timedelta(days=7), time(), self.tz)

    def shifted(self, weeks: int) -> Week:
        """Return the week `weeks` weeks later (earlier when negative)."""
        return Week(self.start + timedelta(weeks=weeks), self.tz)


@dataclass(frozen=True, slots=True)
class ProviderError:
    """A provider that failed, with a reason fit to show staff."""

    provider: str
    message: str


@dataclass(frozen=True, slots=True)
class Filters:
    """Criteria the user narrowed the calendar to. Empty values match everything."""

    therapist: str = ""
    service: str = ""
    status: Status | None = None

    def matches(self, appointment: Appointment) -> bool:
        """Tell whether an appointment passes every filter."""
        if self.therapist and not self._therapist_matches(
            appointment.therapist_name, appointment.therapist_id
        ):
            return False
        if self.service and self.service.casefold() not in appointment.service.casefold():
            return False
        return self.status is None or appointment.status is self.status

    def matches_slot(
        self, slot: Slot, therapist: Therapist | None, service: Service | None
    ) -> bool:
        """Tell whether an open slot passes the filters; a status filter hides slots."""
        if self.status is not None:
            return False
        if self.therapist and not self._therapist_matches(
            therapist.name if therapist else "", slot.therapist_id
        ):
            return False
        if self.service:
            name = service.name if service else ""
            if self.service.casefold() not in name.casefold():
                return False
        return True

    def _therapist_matches(self, name: str, therapist_id: str) -> bool:
        # Part of the name, or the whole id: provider ids such as Zocdoc's
        # "pr_..." share prefixes and letters, so a part of an id matches
        # therapists the user never meant.
        query = self.therapist.strip().casefold()
        return query in name.casefold() or query == therapist_id.casefold()


@dataclass(frozen=True, slots=True)
class CalendarWeek:
    """The merged week the TUI and `sched-tui week` display."""

    week: Week
    timezone: str
    therapists: tuple[Therapist, ...] = ()
    services: tuple[Service, ...] = ()
    appointments: tuple[Appointment, ...] = ()
    slots: tuple[Slot, ...] = ()
    errors: tuple[ProviderError, ...] = ()
    # Providers that responded but skipped part of their data, with the reason.
    warnings: tuple[ProviderError, ...] = ()
    fetched_at: datetime | None = None
    # Providers whose data came from an expired cache entry because a refresh failed,
    # mapped to the age of that data in seconds.
    stale: dict[str, float] = field(default_factory=dict)
    # The same for therapist ids, to mark their cells.
    stale_therapists: dict[str, float] = field(default_factory=dict)
    # Therapist ids whose cached data is being refreshed in the background; the
    # values shown are the previous ones.
    refreshing: frozenset[str] = frozenset()
    # When the oldest therapist week shown was fetched from its provider ("as of
    # 10:42"); None when the reads bypass the cache, so the data is as of `fetched_at`.
    as_of: datetime | None = None

    def appointments_on(self, day: date) -> Iterator[Appointment]:
        """Yield the appointments that overlap `day` in the practice time zone."""
        day_start = datetime.combine(day, time(), self.week.tz)
        day_end = datetime.combine(day + timedelta(days=1), time(), self.week.tz)
        for appointment in self.appointments:
            if appointment.overlaps(day_start, day_end):
                yield appointment


def sort_key(item: Appointment | Slot) -> tuple[datetime, str]:
    """Order appointments and slots by start, then therapist."""
    start = item.start
    if not isinstance(start, datetime):
        start = datetime.combine(start, time.min).astimezone()
    return start, item.therapist_id


def therapists_by_id(therapists: Iterable[Therapist]) -> dict[str, Therapist]:
    """Index therapists by id."""
    return {therapist.id: therapist for therapist in therapists}
