"""Cache benchmark: cost of a hit, and one week of a 50-therapist practice cold and warm.

Run: .venv/bin/python bench/bench_cache.py [--latency-ms 20] [--lookups 200000]

Every number is measured in this run and compared with a baseline measured in
the same run, so the ratios hold across machines better than the absolute times:

* hit cost: a read served from the cache, through `Namespace.lookup` and through
  `CachedReads.week` (the aggregator's path), against a bare cachetools
  `TTLCache` lookup;
* week load: `Aggregator.get_aggregated_calendar` for a practice of 50 therapists
  (one batched provider with 30 therapists, 20 single-calendar providers) whose
  every call sleeps `--latency-ms`: provider calls and wall time cold (empty
  cache), warm (the same week again) and with `DirectReads` (no cache).
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from cachetools import TTLCache

from sched_tui.aggregator import Aggregator
from sched_tui.cache.reads import CachedReads
from sched_tui.cache.store import AVAILABILITY, CacheKey, CacheStore
from sched_tui.model import Appointment, Service, Therapist, TherapistWeek
from sched_tui.reads import DirectReads

TZ = ZoneInfo("America/New_York")
MONDAY = date(2026, 3, 2)
REPEATS = 5


class SimulatedProvider:
    """An in-memory provider whose every call sleeps a fixed latency and is counted."""

    def __init__(self, name: str, therapist_count: int, latency_s: float) -> None:
        self.name = name
        self.latency_s = latency_s
        self.calls = 0
        self.therapists = [
            Therapist(id=f"{name}-{index:02d}", name=f"Therapist {name} {index:02d}", source=name)
            for index in range(therapist_count)
        ]

    async def list_therapists(self) -> list[Therapist]:
        await self._call()
        return list(self.therapists)

    async def list_services(self) -> list[Service]:
        await self._call()
        return [Service(id="ind", name="Individual therapy", duration_minutes=50, source=self.name)]

    async def fetch_week(
        self, therapist_ids: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, TherapistWeek]:
        await self._call()
        return {
            therapist_id: _week_of(therapist_id, self.name, start) for therapist_id in therapist_ids
        }

    async def aclose(self) -> None:
        return None

    async def _call(self) -> None:
        self.calls += 1
        await asyncio.sleep(self.latency_s)


def _week_of(therapist_id: str, source: str, start: datetime) -> TherapistWeek:
    appointments = tuple(
        Appointment(
            id=f"{therapist_id}-{day}-{hour}",
            therapist_id=therapist_id,
            therapist_name=therapist_id,
            source=source,
            start=start + timedelta(days=day, hours=hour),
            end=start + timedelta(days=day, hours=hour, minutes=50),
        )
        for day in range(5)
        for hour in (9, 11, 14, 16)
    )
    return TherapistWeek(therapist_id, appointments)


def build_practice(latency_s: float) -> list[SimulatedProvider]:
    """Return 50 therapists: one batched provider with 30, and 20 providers with one each."""
    providers = [SimulatedProvider("zocdoc", 30, latency_s)]
    providers += [SimulatedProvider(f"calendar{index:02d}", 1, latency_s) for index in range(20)]
    return providers


def best_of(repeats: int, run: Callable[[], float]) -> float:
    """Return the smallest of `repeats` measurements."""
    return min(run() for _ in range(repeats))


def time_bare_lookup(lookups: int) -> float:
    """Return seconds per lookup of one key in a bare TTLCache."""
    cache: TTLCache[CacheKey, object] = TTLCache(5000, 900)
    key = CacheKey("zocdoc", "zocdoc-00", "week")
    cache[key] = object()

    def run() -> float:
        started = time.perf_counter()
        for _ in range(lookups):
            cache[key]
        return (time.perf_counter() - started) / lookups

    return best_of(REPEATS, run)


def time_namespace_lookup(lookups: int) -> float:
    """Return seconds per `Namespace.lookup` of one live key."""
    namespace = CacheStore().namespace(AVAILABILITY)
    key = CacheKey("zocdoc", "zocdoc-00", "week")
    namespace.put(key, object())

    def run() -> float:
        started = time.perf_counter()
        for _ in range(lookups):
            namespace.lookup(key)
        return (time.perf_counter() - started) / lookups

    return best_of(REPEATS, run)


async def time_cached_read(lookups: int) -> float:
    """Return seconds per `CachedReads.week` call served from the cache, for one therapist."""
    provider = SimulatedProvider("zocdoc", 1, 0.0)
    reads = CachedReads(CacheStore())
    start = datetime(2026, 3, 2, tzinfo=TZ)
    end = start + timedelta(days=7)
    ids = [provider.therapists[0].id]
    await reads.week(provider, ids, start, end)

    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        for _ in range(lookups):
            await reads.week(provider, ids, start, end)
        best = min(best, (time.perf_counter() - started) / lookups)
    assert provider.calls == 1
    return best


async def load_week(
    aggregator: Aggregator, providers: list[SimulatedProvider]
) -> tuple[int, float]:
    """Load the week once; return provider calls made and wall seconds."""
    before = sum(provider.calls for provider in providers)
    started = time.perf_counter()
    calendar = await aggregator.get_aggregated_calendar(MONDAY)
    elapsed = time.perf_counter() - started
    assert not calendar.errors, calendar.errors
    assert len(calendar.therapists) == 50
    return sum(provider.calls for provider in providers) - before, elapsed


async def week_loads(latency_s: float) -> dict[str, tuple[int, float]]:
    """Measure the week load with no cache, then cold and warm through the cache."""
    results: dict[str, tuple[int, float]] = {}
    providers = build_practice(latency_s)
    aggregator = Aggregator(providers, TZ, reads=DirectReads(), concurrency=8)
    results["direct"] = await load_week(aggregator, providers)

    providers = build_practice(latency_s)
    aggregator = Aggregator(providers, TZ, reads=CachedReads(CacheStore()), concurrency=8)
    results["cold"] = await load_week(aggregator, providers)
    warm = [await load_week(aggregator, providers) for _ in range(REPEATS)]
    results["warm"] = (sum(calls for calls, _ in warm), min(seconds for _, seconds in warm))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Run every measurement and print the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=20.0,
        help="simulated latency of every provider call, in ms (default: 20)",
    )
    parser.add_argument(
        "--lookups",
        type=int,
        default=200_000,
        help="lookups per hit-cost measurement; CachedReads gets a tenth (default: 200000)",
    )
    args = parser.parse_args(argv)

    machine = platform.processor() or platform.machine()
    print(f"Python {platform.python_version()} on {platform.platform()}, {machine}")
    print(f"best of {REPEATS} runs; provider latency {args.latency_ms:g} ms per call (simulated)")
    print()

    bare = time_bare_lookup(args.lookups)
    namespace = time_namespace_lookup(args.lookups)
    cached = asyncio.run(time_cached_read(args.lookups // 10))
    print("Cache hit cost")
    print(f"  bare TTLCache lookup        {bare * 1e9:9.0f} ns   1.0x")
    print(f"  Namespace.lookup            {namespace * 1e9:9.0f} ns  {namespace / bare:4.1f}x")
    print(f"  CachedReads.week, 1 id      {cached * 1e9:9.0f} ns  {cached / bare:4.1f}x")
    print()

    loads = asyncio.run(week_loads(args.latency_ms / 1000))
    direct_calls, direct_s = loads["direct"]
    cold_calls, cold_s = loads["cold"]
    warm_calls, warm_s = loads["warm"]
    print("One week, 50 therapists (1 provider with 30, 20 with 1)")
    print(f"  no cache        {direct_calls:3d} provider calls  {direct_s * 1000:8.1f} ms")
    print(f"  cache, cold     {cold_calls:3d} provider calls  {cold_s * 1000:8.1f} ms")
    print(
        f"  cache, warm     {warm_calls:3d} provider calls  {warm_s * 1000:8.1f} ms"
        f"  (calls summed over {REPEATS} loads, time of the fastest)"
    )
    print(f"  cold / warm wall time: {cold_s / warm_s:.0f}x")
    print(f"  cold / no cache wall time: {cold_s / direct_s:.2f}x")
    if warm_calls:
        print("FAILED: a warm load called a provider", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
