"""KPIs computed in SQL against a reference computation in Python, on random data."""

from __future__ import annotations

import math
import random

import aiosqlite
import pytest

from sched_tui.monitoring import kpi
from sched_tui.monitoring.retention import apply_retention

from .conftest import FakeClock, insert_events

NAMES = ("Zocdoc_GetAppointments", "Zocdoc_CreateAppointment", "ICS_Fetch", "getAggregatedCalendar")


def random_rows(now: float, count: int, seed: int) -> list[tuple[float, str, float, bool, int]]:
    generator = random.Random(seed)
    rows = []
    for _ in range(count):
        ts = now - generator.uniform(0, 1200)
        status = generator.choices([200, 201, 429, 500, 503], weights=[80, 5, 5, 5, 5])[0]
        latency = round(generator.lognormvariate(5, 1), 3)
        rows.append((ts, generator.choice(NAMES), latency, status < 400, status))
    return rows


def reference_p95(rows: list, now: float, window_s: int) -> dict[str, tuple[float, int]]:
    by_name: dict[str, list[float]] = {}
    for ts, name, latency, _, _ in rows:
        if int((now - window_s) * 1000) < int(ts * 1000) <= int(now * 1000):
            by_name.setdefault(name, []).append(latency)
    return {
        name: (sorted(values)[math.ceil(0.95 * len(values)) - 1], len(values))
        for name, values in by_name.items()
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_p95_matches_reference(db: aiosqlite.Connection, clock: FakeClock, seed: int) -> None:
    rows = random_rows(clock.now, 3000, seed)
    await insert_events(db, rows)
    for window in kpi.LATENCY_WINDOWS_S:
        found = await kpi.p95_by_name(db, clock.now, window)
        expected = reference_p95(rows, clock.now, window)
        assert set(found) == set(expected)
        for name, (p95, samples) in expected.items():
            assert found[name].samples == samples
            assert found[name].p95_ms == pytest.approx(p95)


@pytest.mark.parametrize("seed", [4, 5])
async def test_error_rate_matches_reference(
    db: aiosqlite.Connection, clock: FakeClock, seed: int
) -> None:
    rows = random_rows(clock.now, 2000, seed)
    await insert_events(db, rows)
    rate = await kpi.error_rate(db, clock.now, 600)

    lower = int((clock.now - 600) * 1000)
    upper = int(clock.now * 1000)
    inside = [row for row in rows if lower < int(row[0] * 1000) <= upper]
    failed = [row for row in inside if row[4] >= 400 and row[4] != 429]
    limited = [row for row in inside if row[4] == 429]
    assert rate.calls == len(inside)
    assert rate.failed == len(failed)
    assert rate.rate_limited == len(limited)
    assert rate.percent == pytest.approx(100 * len(failed) / len(inside))


def test_nearest_rank_reference() -> None:
    assert kpi.nearest_rank_p95([]) is None
    assert kpi.nearest_rank_p95([7.0]) == 7.0
    assert kpi.nearest_rank_p95(range(1, 101)) == 95
    assert kpi.nearest_rank_p95(range(1, 21)) == 19


async def test_no_data_reads_not_available(db: aiosqlite.Connection, clock: FakeClock) -> None:
    snapshot = await kpi.snapshot(db, clock.now)
    assert snapshot.latency == ()
    assert snapshot.error_rate.percent is None
    assert kpi.format_error_rate(snapshot.error_rate) == "n/a (0 calls)"
    assert kpi.format_latency(snapshot.p95("getAggregatedCalendar", 60)) == "n/a (0 calls)"
    assert kpi.format_cache(snapshot.cache) == "n/a (0 lookups)"


def test_counts_singular_and_plural() -> None:
    one_call = kpi.Percentile("getAggregatedCalendar", 300, 412.0, 1)
    many_calls = kpi.Percentile("getAggregatedCalendar", 300, 412.0, 37)
    one_lookup = kpi.CacheRatio(1, 0)

    assert kpi.format_latency(one_call) == "412 ms (1 call)"
    assert kpi.format_latency(many_calls) == "412 ms (37 calls)"
    assert kpi.format_error_rate(kpi.ErrorRate(60, 1, 0, 0)) == "0.0% (0 of 1 call)"
    assert (
        kpi.format_error_rate(kpi.ErrorRate(60, 71, 3, 2)) == "4.2% (3 of 71 calls, 2 rate-limited)"
    )
    assert kpi.format_cache(one_lookup) == "100% (1 lookup)"


async def test_queue_depth_counts_pending(db: aiosqlite.Connection) -> None:
    await db.execute("DROP TABLE IF EXISTS api_write_queue")
    assert await kpi.queue_depth(db) is None
    assert kpi.format_queue_depth(None) == "n/a"
    await db.execute("CREATE TABLE api_write_queue (id INTEGER PRIMARY KEY, status TEXT)")
    statuses = ["pending"] * 3 + ["processing", "processed", "failed"]
    await db.executemany(
        "INSERT INTO api_write_queue (status) VALUES (?)", [(s,) for s in statuses]
    )
    assert await kpi.queue_depth(db) == 3


async def test_cache_ratio_from_source_and_events(
    db: aiosqlite.Connection, clock: FakeClock
) -> None:
    assert (await kpi.cache_ratio(db, clock.now, lambda: (3, 1))).ratio == 0.75

    async def counts() -> tuple[int, int]:
        return (1, 1)

    assert (await kpi.cache_ratio(db, clock.now, counts)).ratio == 0.5
    rows = [(clock.now - 1, kpi.CACHE_HIT_EVENT, None, None, None)] * 9
    rows += [(clock.now - 1, kpi.CACHE_MISS_EVENT, None, None, None)]
    await insert_events(db, rows, kind="custom")
    cache = await kpi.cache_ratio(db, clock.now)
    assert (cache.hits, cache.misses) == (9, 1)


async def test_minute_series_last_hour(db: aiosqlite.Connection, clock: FakeClock) -> None:
    now = clock.now + 30  # half way through the current minute
    rows = [
        (now - 10, "ICS_Fetch", 100.0, True, 200),
        (now - 10, "ICS_Fetch", 300.0, False, 500),
        (now - 3600 + 40, "ICS_Fetch", 50.0, True, 200),  # oldest minute
        (now - 4000, "ICS_Fetch", 999.0, False, 500),  # before the hour
    ]
    await insert_events(db, rows)
    series = await kpi.minute_series(db, now, 60)
    assert series.minutes == 60
    assert series.p95_ms["ICS_Fetch"][-1] == 300.0
    assert series.calls["ICS_Fetch"][-1] == 2
    assert series.error_rate[-1] == 50.0
    assert series.p95_ms["ICS_Fetch"][0] == 50.0
    assert series.error_rate[0] == 0.0
    assert series.error_rate[30] is None
    assert sum(series.total_calls) == 3


async def test_minute_cache_ratio(db: aiosqlite.Connection, clock: FakeClock) -> None:
    now = clock.now + 30
    hit, miss = kpi.CACHE_HIT_EVENT, kpi.CACHE_MISS_EVENT
    rows = [(now - 5, hit, None, None, None)] * 3 + [(now - 5, miss, None, None, None)]
    rows += [(now - 125, miss, None, None, None)] * 2
    await insert_events(db, rows, kind="custom")

    series = await kpi.minute_series(db, now, 60)

    assert series.cache_hits[-1] == 3
    assert series.cache_misses[-1] == 1
    assert series.cache_ratio[-1] == 0.75
    assert series.cache_ratio[-3] == 0.0
    assert series.cache_ratio[-2] is None
    assert sum(series.cache_hits) + sum(series.cache_misses) == 6


@pytest.mark.parametrize("seed", [21, 22])
async def test_minute_queue_depth_matches_reference(
    db: aiosqlite.Connection, clock: FakeClock, seed: int
) -> None:
    """Jobs open at each minute's end, against a count over the same jobs in Python."""
    now = clock.now + 30
    generator = random.Random(seed)
    jobs = []
    for index in range(300):
        created = now - generator.uniform(0, 5400)
        settled = created + generator.uniform(0, 2400)
        if settled >= now:
            status, updated = generator.choice(["pending", "processing"]), created
        else:
            status, updated = generator.choice(["processed", "failed"]), settled
        jobs.append((f"job-{index}", status, created, updated))
    await db.executemany(
        "INSERT INTO api_write_queue (job_id, target_system, operation, payload, status,"
        " next_attempt_at, idempotency_key, created_at, updated_at)"
        " VALUES (?, 'zocdoc', 'create', '{}', ?, ?, ?, ?, ?)",
        [
            (job_id, status, created, job_id, created, updated)
            for job_id, status, created, updated in jobs
        ],
    )

    series = await kpi.minute_series(db, now, 60)

    expected = []
    for minute in range(60):
        end = series.start_ms / 1000 + 60 * (minute + 1)
        expected.append(
            sum(
                1
                for _, status, created, updated in jobs
                if created < end and (status in ("pending", "processing") or updated >= end)
            )
        )
    assert series.queue_depth == expected
    assert series.queue_depth[-1] == await _open_jobs(db)


async def _open_jobs(db: aiosqlite.Connection) -> int:
    async with db.execute(
        "SELECT COUNT(*) FROM api_write_queue WHERE status IN ('pending', 'processing')"
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return int(row[0])


async def test_minute_queue_depth_without_table(db: aiosqlite.Connection, clock: FakeClock) -> None:
    await db.execute("DROP TABLE api_write_queue")

    series = await kpi.minute_series(db, clock.now, 5)

    assert series.queue_depth == [None] * 5


async def test_rollup_keeps_totals(db: aiosqlite.Connection, clock: FakeClock) -> None:
    rows = random_rows(clock.now, 2000, seed=9)
    rows += [(clock.now - 5 * 3600 - i, "ICS_Fetch", 80.0, True, 200) for i in range(100)]
    await insert_events(db, rows)
    before = await kpi.summarize(db, clock.now - 6 * 3600, clock.now + 1)

    result = await apply_retention(db, clock.now, raw_retention_s=600, retention_days=7)
    assert result.rolled_up_events > 0
    async with db.execute("SELECT COUNT(*) FROM monitoring_events") as cursor:
        remaining = (await cursor.fetchone())[0]
    assert remaining + result.rolled_up_events == len(rows)

    after = await kpi.summarize(db, clock.now - 6 * 3600, clock.now + 1)
    assert after == before
    assert after["ICS_Fetch"].p95_estimate_ms is not None

    # A second run finds nothing new to roll up and counts nothing twice.
    again = await apply_retention(db, clock.now, raw_retention_s=600, retention_days=7)
    assert again.rolled_up_events == 0
    assert await kpi.summarize(db, clock.now - 6 * 3600, clock.now + 1) == before


async def test_retention_deletes_old_rollups(db: aiosqlite.Connection, clock: FakeClock) -> None:
    await insert_events(db, [(clock.now - 8 * 86400, "ICS_Fetch", 10.0, True, 200)])
    await apply_retention(db, clock.now, raw_retention_s=7200, retention_days=7)
    async with db.execute("SELECT COUNT(*) FROM monitoring_rollups") as cursor:
        assert (await cursor.fetchone())[0] == 0
    async with db.execute("SELECT COUNT(*) FROM monitoring_events") as cursor:
        assert (await cursor.fetchone())[0] == 0


async def test_retention_skips_when_run_recently(
    db: aiosqlite.Connection, clock: FakeClock
) -> None:
    await apply_retention(db, clock.now, raw_retention_s=7200, retention_days=7)
    result = await apply_retention(
        db, clock.now + 10, raw_retention_s=7200, retention_days=7, min_interval_s=150
    )
    assert result.skipped


async def test_series_cache_matches_direct(db: aiosqlite.Connection, clock: FakeClock) -> None:
    cache = kpi.MinuteSeriesCache(settle_s=65)
    rows = random_rows(clock.now, 3000, seed=11)
    await insert_events(db, rows)
    assert await cache.series(db, clock.now) == await kpi.minute_series(db, clock.now)

    # Events added after the first call appear in the cached series too.
    clock.advance(130)
    await insert_events(db, [(clock.now - 1, "ICS_Fetch", 5000.0, False, 500)] * 5)
    assert await cache.series(db, clock.now) == await kpi.minute_series(db, clock.now)
    clock.advance(3600 * 2)
    assert await cache.series(db, clock.now) == await kpi.minute_series(db, clock.now)
