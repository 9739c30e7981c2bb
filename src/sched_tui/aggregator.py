"""Merge every provider's week into one calendar.

`Aggregator.get_aggregated_calendar` is the single function behind the TUI's
week grid and the `sched-tui week` command. Providers are queried concurrently,
at most `concurrency` at a time, each within its own deadline. A provider that
fails is reported by name in `CalendarWeek.errors`, and the others still show.
Providers still running at the overall deadline are reported the same way.
Each call is measured as the backend function ``getAggregatedCalendar``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sched_tui.cache.freshness import ReadFreshness, recording_freshness
from sched_tui.model import (
    Appointment,
    CalendarWeek,
    Filters,
    ProviderError,
    Service,
    Slot,
    Therapist,
    Week,
    sort_key,
)
from sched_tui.monitoring import AGGREGATED_CALENDAR, measure
from sched_tui.providers.base import Provider, ProviderFailure
from sched_tui.reads import DirectReads, Reads

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _ProviderResult:
    therapists: list[Therapist] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    appointments: list[Appointment] = field(default_factory=list)
    slots: list[Slot] = field(default_factory=list)
    warnings: list[ProviderError] = field(default_factory=list)
    error: ProviderError | None = None


class Aggregator:
    """Builds the practice's week from all configured providers."""

    def __init__(
        self,
        providers: Sequence[Provider],
        tz: ZoneInfo,
        *,
        reads: Reads | None = None,
        concurrency: int = 8,
        provider_timeout_s: float = 20.0,
        deadline_s: float | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.providers = list(providers)
        self.tz = tz
        self.reads: Reads = reads or DirectReads()
        self.provider_timeout_s = provider_timeout_s
        # Deadline of the whole calendar in seconds; None waits for every provider.
        self.deadline_s = deadline_s
        self._semaphore = asyncio.Semaphore(concurrency)
        self._clock = clock or (lambda: datetime.now(UTC))

    async def get_aggregated_calendar(
        self, week_start: date, filters: Filters | None = None
    ) -> CalendarWeek:
        """Fetch, merge and filter the week that contains `week_start`.

        The call counts as failed in the monitoring when any provider failed.
        """
        async with measure(AGGREGATED_CALENDAR) as outcome:
            week = Week.containing(week_start, self.tz)
            with recording_freshness() as freshness:
                results = await self._fetch_all(week)
            calendar = self._merge(week, results, filters or Filters(), freshness)
            outcome.success = not calendar.errors
            if calendar.errors:
                outcome.fields["failed_providers"] = len(calendar.errors)
        return calendar

    async def _fetch_all(self, week: Week) -> list[_ProviderResult]:
        tasks = [asyncio.ensure_future(self._fetch_provider(p, week)) for p in self.providers]
        if not tasks:
            return []
        try:
            await asyncio.wait(tasks, timeout=self.deadline_s)
        finally:
            late = [task for task in tasks if not task.done()]
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

        results = []
        for provider, task in zip(self.providers, tasks, strict=True):
            if task.cancelled():
                message = f"timed out at the calendar deadline of {self.deadline_s:g} s"
                log.warning("provider %s failed: %s", provider.name, message)
                results.append(_ProviderResult(error=provider_error(provider.name, message)))
            else:
                results.append(task.result())
        return results

    async def aclose(self) -> None:
        """Close every provider."""
        for provider in self.providers:
            try:
                await provider.aclose()
            except Exception:
                log.exception("closing provider %s failed", provider.name)

    async def _fetch_provider(self, provider: Provider, week: Week) -> _ProviderResult:
        async with self._semaphore:
            try:
                return await asyncio.wait_for(
                    self._read_provider(provider, week), self.provider_timeout_s
                )
            except TimeoutError:
                message = f"timed out after {self.provider_timeout_s:g} s"
            except ProviderFailure as error:
                message = str(error)
            except Exception as error:
                # A provider bug must not take the calendar down: report it by name.
                log.exception("provider %s raised an unexpected error", provider.name)
                message = f"unexpected error ({type(error).__name__}); see the log"
        log.warning("provider %s failed: %s", provider.name, message)
        return _ProviderResult(error=provider_error(provider.name, message))

    async def _read_provider(self, provider: Provider, week: Week) -> _ProviderResult:
        therapists, services = await asyncio.gather(
            self.reads.therapists(provider), self.reads.services(provider)
        )
        ids = [therapist.id for therapist in therapists]
        weeks = await self.reads.week(provider, ids, week.start_at, week.end_at)

        result = _ProviderResult(therapists=therapists, services=services)
        for therapist_week in weeks.values():
            result.appointments.extend(therapist_week.appointments)
            result.slots.extend(therapist_week.slots)
            result.warnings.extend(
                provider_error(provider.name, warning) for warning in therapist_week.warnings
            )
        return result

    def _merge(
        self,
        week: Week,
        results: Sequence[_ProviderResult],
        filters: Filters,
        freshness: ReadFreshness,
    ) -> CalendarWeek:
        therapists = {t.id: t for result in results for t in result.therapists}
        services = {s.id: s for result in results for s in result.services}

        appointments = [
            appointment
            for result in results
            for appointment in result.appointments
            if appointment.overlaps(week.start_at, week.end_at) and filters.matches(appointment)
        ]
        slots = [
            slot
            for result in results
            for slot in result.slots
            if week.start_at <= slot.start < week.end_at
            and filters.matches_slot(
                slot, therapists.get(slot.therapist_id), services.get(slot.service_id or "")
            )
        ]
        appointments.sort(key=lambda item: sort_key_in(item, self.tz))
        slots.sort(key=sort_key)

        now = self._clock()
        return CalendarWeek(
            week=week,
            timezone=str(self.tz),
            therapists=tuple(sorted(therapists.values(), key=lambda t: t.name)),
            services=tuple(sorted(services.values(), key=lambda s: s.name)),
            appointments=tuple(appointments),
            slots=tuple(slots),
            errors=tuple(result.error for result in results if result.error is not None),
            warnings=tuple(warning for result in results for warning in result.warnings),
            fetched_at=now,
            stale=dict(freshness.stale),
            stale_therapists=dict(freshness.stale_therapists),
            refreshing=frozenset(freshness.refreshing),
            as_of=freshness.as_of(now),
        )


def sort_key_in(appointment: Appointment, tz: ZoneInfo) -> tuple[datetime, str, str]:
    """Order appointments by start in `tz`, then therapist and id."""
    start, _ = appointment.bounds(tz)
    return start, appointment.therapist_id, appointment.id


def provider_error(provider: str, message: str) -> ProviderError:
    """Attach `message` to `provider`, dropping the provider's name where the message repeats it."""
    return ProviderError(provider, message.removeprefix(f"{provider}: "))
