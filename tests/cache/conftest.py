"""Fixtures for the cache: a controlled timer and an in-memory practice that counts calls."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sched_tui.aggregator import Aggregator
from sched_tui.cache.reads import CachedReads
from sched_tui.cache.store import CacheStore
from sched_tui.config.cache import CacheConfig
from sched_tui.model import Appointment, Service, Therapist, TherapistWeek
from sched_tui.providers.base import ProviderUnavailable

TZ = ZoneInfo("America/New_York")
MONDAY = date(2026, 3, 2)
WEEK_START = datetime(2026, 3, 2, tzinfo=TZ)
WEEK_END = WEEK_START + timedelta(days=7)


class FakeTimer:
    """A monotonic timer that moves only when advanced (cachetools' `timer`)."""

    def __init__(self) -> None:
        self.time = 1000.0

    def __call__(self) -> float:
        return self.time

    def advance(self, seconds: float) -> None:
        self.time += seconds


class PracticeProvider:
    """An in-memory provider with `count` therapists that records every call.

    `gate`, when set, blocks every call until it is set; `failing`, when set,
    makes every call raise it.
    """

    def __init__(self, name: str = "practice", count: int = 3) -> None:
        self.name = name
        self.therapists = [
            Therapist(id=f"{name}-t{index:02d}", name=f"Therapist {index:02d}", source=name)
            for index in range(count)
        ]
        self.calls: list[tuple[str, tuple[str, ...]]] = []
        self.gate: asyncio.Event | None = None
        self.failing: Exception | None = None
        self.active = 0
        self.max_active = 0
        self.version = 1

    async def list_therapists(self) -> list[Therapist]:
        await self._call("list_therapists")
        return list(self.therapists)

    async def list_services(self) -> list[Service]:
        await self._call("list_services")
        return [Service(id="ind", name="Individual therapy", duration_minutes=50, source=self.name)]

    async def fetch_week(
        self, therapist_ids: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, TherapistWeek]:
        await self._call("fetch_week", tuple(therapist_ids))
        known = {therapist.id for therapist in self.therapists}
        return {
            therapist_id: TherapistWeek(therapist_id, (self.appointment(therapist_id, start),))
            for therapist_id in therapist_ids
            if therapist_id in known
        }

    async def aclose(self) -> None:
        return None

    def appointment(self, therapist_id: str, start: datetime) -> Appointment:
        """Return the one appointment this provider books for a therapist in the current version."""
        return Appointment(
            id=f"{therapist_id}-v{self.version}",
            therapist_id=therapist_id,
            therapist_name=therapist_id,
            source=self.name,
            start=start + timedelta(hours=9),
            end=start + timedelta(hours=10),
            summary=f"version {self.version}",
        )

    def week_calls(self) -> list[tuple[str, ...]]:
        """Return the therapist ids of every fetch_week call, in call order."""
        return [ids for method, ids in self.calls if method == "fetch_week"]

    def count(self, method: str) -> int:
        """Return how many times `method` was called."""
        return sum(1 for called, _ in self.calls if called == method)

    async def _call(self, method: str, ids: tuple[str, ...] = ()) -> None:
        self.calls.append((method, ids))
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            if self.gate is not None:
                await self.gate.wait()
            else:
                await asyncio.sleep(0)
            if self.failing is not None:
                raise self.failing
        finally:
            self.active -= 1


def outage() -> ProviderUnavailable:
    """Return the error a provider raises when it cannot be reached."""
    return ProviderUnavailable("practice is unavailable (HTTP 503); try again later")


@pytest.fixture
def timer() -> FakeTimer:
    return FakeTimer()


def make_store(timer: FakeTimer, **settings: float) -> CacheStore:
    """Build a store on the fake timer with a seeded random source and no jitter unless given."""
    config = replace(CacheConfig(jitter=0.0), **settings)
    return CacheStore(config, timer=timer, rng=random.Random(7))


def make_aggregator(store: CacheStore, *providers: PracticeProvider) -> Aggregator:
    """Build an aggregator that reads through `store`."""
    return Aggregator(list(providers), TZ, reads=CachedReads(store))
