"""KPIs computed from the events every running copy records.

All functions read the shared database, so any copy's KPIs cover what all
copies did. Percentiles use the nearest-rank method: the P95 of n samples is
the ceil(0.95 * n)-th smallest. Windows are half-open, (now - window, now].
Error rates count external calls and backend functions with an outcome. A 429
response is neither a success nor a failure there, and is counted apart.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

import aiosqlite

from sched_tui.monitoring.retention import BUCKET_BOUNDS_MS, bucket_sql, estimate_percentile

LATENCY_WINDOWS_S = (60, 300, 900)
ERROR_RATE_WINDOW_S = 600
CACHE_WINDOW_S = 600
# Custom events the cache may record per lookup; used when no stats source is given.
CACHE_HIT_EVENT = "Cache_Hit"
CACHE_MISS_EVENT = "Cache_Miss"
QUEUE_TABLE = "api_write_queue"

# Hits and misses of the cache, or None when the cache is not available.
CacheStatsSource = (
    Callable[[], tuple[int, int] | None] | Callable[[], Awaitable[tuple[int, int] | None]]
)

_MEASURED = "kind IN ('external', 'function')"

_P95_SQL = f"""
WITH ranked AS (
    SELECT name, latency_ms,
           ROW_NUMBER() OVER (PARTITION BY name ORDER BY latency_ms) AS position,
           COUNT(*) OVER (PARTITION BY name) AS samples
    FROM monitoring_events
    WHERE ts_ms > ? AND ts_ms <= ? AND {_MEASURED} AND latency_ms IS NOT NULL
)
SELECT name, samples, latency_ms FROM ranked
WHERE position = (95 * samples + 99) / 100
"""

_ERRORS_SQL = f"""
SELECT COUNT(*),
       COALESCE(SUM(success = 0 AND rate_limited = 0), 0),
       COALESCE(SUM(rate_limited), 0)
FROM monitoring_events
WHERE ts_ms > ? AND ts_ms <= ? AND {_MEASURED} AND success IS NOT NULL
"""

_MINUTE_P95_SQL = f"""
WITH ranked AS (
    SELECT name, (ts_ms - :start) / 60000 AS minute, latency_ms,
           ROW_NUMBER() OVER (
               PARTITION BY name, (ts_ms - :start) / 60000 ORDER BY latency_ms
           ) AS position,
           COUNT(*) OVER (PARTITION BY name, (ts_ms - :start) / 60000) AS samples
    FROM monitoring_events
    WHERE ts_ms >= :start AND ts_ms < :end AND {_MEASURED} AND latency_ms IS NOT NULL
)
SELECT name, minute, samples, latency_ms FROM ranked
WHERE position = (95 * samples + 99) / 100
"""

_MINUTE_ERRORS_SQL = f"""
SELECT (ts_ms - :start) / 60000 AS minute, COUNT(*),
       SUM(success = 0 AND rate_limited = 0), SUM(rate_limited)
FROM monitoring_events
WHERE ts_ms >= :start AND ts_ms < :end AND {_MEASURED} AND success IS NOT NULL
GROUP BY minute
"""

_MINUTE_CACHE_SQL = """
SELECT (ts_ms - :start) / 60000 AS minute, SUM(name = :hit), SUM(name = :miss)
FROM monitoring_events
WHERE ts_ms >= :start AND ts_ms < :end AND kind = 'custom' AND name IN (:hit, :miss)
GROUP BY minute
"""

# Jobs waiting or being sent at the end of each minute: created by then and not
# settled by then. Only jobs still open or settled within the window can count.
_MINUTE_QUEUE_SQL = f"""
WITH RECURSIVE ends(minute, end_s) AS (
    SELECT 0, (:start + 60000) / 1000.0
    UNION ALL SELECT minute + 1, end_s + 60 FROM ends WHERE minute + 1 < :minutes
),
open_jobs AS MATERIALIZED (
    SELECT created_at, status, updated_at FROM {QUEUE_TABLE}
    WHERE status IN ('pending', 'processing') OR updated_at >= :start / 1000.0
)
SELECT minute, (
    SELECT COUNT(*) FROM open_jobs
    WHERE created_at < end_s AND (status IN ('pending', 'processing') OR updated_at >= end_s)
) FROM ends
"""


@dataclass(frozen=True, slots=True)
class Percentile:
    """The P95 latency of one call name over one window."""

    name: str
    window_s: int
    p95_ms: float | None
    samples: int


@dataclass(frozen=True, slots=True)
class ErrorRate:
    """Failed and rate-limited calls among all calls with an outcome in a window."""

    window_s: int
    calls: int
    failed: int
    rate_limited: int

    @property
    def percent(self) -> float | None:
        """Failed calls in % of all calls; None without calls."""
        return 100.0 * self.failed / self.calls if self.calls else None


@dataclass(frozen=True, slots=True)
class CacheRatio:
    """Cache hits and misses."""

    hits: int
    misses: int

    @property
    def lookups(self) -> int:
        """Hits plus misses."""
        return self.hits + self.misses

    @property
    def ratio(self) -> float | None:
        """Hits over lookups, from 0 to 1; None without lookups."""
        return self.hits / self.lookups if self.lookups else None


@dataclass(frozen=True, slots=True)
class KpiSnapshot:
    """Every KPI at one moment."""

    at: float
    latency: tuple[Percentile, ...]
    error_rate: ErrorRate
    # Pending jobs in the write queue; None when the database has no queue table.
    queue_depth: int | None
    cache: CacheRatio

    @property
    def call_names(self) -> list[str]:
        """Call names with latency samples in any window, sorted."""
        return sorted({item.name for item in self.latency})

    def p95(self, name: str, window_s: int) -> Percentile:
        """Return the P95 of `name` over `window_s`, with 0 samples when there were none."""
        for item in self.latency:
            if item.name == name and item.window_s == window_s:
                return item
        return Percentile(name, window_s, None, 0)


@dataclass(frozen=True, slots=True)
class MinuteSeries:
    """Per-minute P95 and error rate, oldest minute first, for charts and sparklines."""

    start_ms: int
    minutes: int
    p95_ms: dict[str, list[float | None]]
    calls: dict[str, list[int]]
    error_rate: list[float | None]
    total_calls: list[int]
    rate_limited: list[int]
    # Write jobs waiting or being sent at the end of each minute (for the current
    # minute, now); None when the database has no queue table.
    queue_depth: list[int | None]
    cache_hits: list[int]
    cache_misses: list[int]

    @property
    def cache_ratio(self) -> list[float | None]:
        """Cache hits over lookups per minute, from 0 to 1; None for a minute without lookups."""
        return [
            hits / (hits + misses) if hits + misses else None
            for hits, misses in zip(self.cache_hits, self.cache_misses, strict=True)
        ]


@dataclass(frozen=True, slots=True)
class CallSummary:
    """Totals of one call name over a long window, from events and rollups."""

    name: str
    calls: int
    failures: int
    rate_limited: int
    # Upper bound of the histogram bucket holding the P95, in ms; None without latencies.
    p95_estimate_ms: float | None


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


async def p95_by_name(db: aiosqlite.Connection, now: float, window_s: int) -> dict[str, Percentile]:
    """Return the P95 latency of every call name with samples in the window."""
    async with db.execute(_P95_SQL, (_ms(now - window_s), _ms(now))) as cursor:
        rows = await cursor.fetchall()
    return {
        name: Percentile(name, window_s, float(p95), int(samples)) for name, samples, p95 in rows
    }


async def latency_percentiles(
    db: aiosqlite.Connection, now: float, windows_s: Sequence[int] = LATENCY_WINDOWS_S
) -> tuple[Percentile, ...]:
    """Return the P95 of every call name over each window; a name idle in a window has 0 samples."""
    by_window = {window: await p95_by_name(db, now, window) for window in windows_s}
    names = sorted({name for found in by_window.values() for name in found})
    return tuple(
        by_window[window].get(name, Percentile(name, window, None, 0))
        for name in names
        for window in windows_s
    )


async def error_rate(
    db: aiosqlite.Connection, now: float, window_s: int = ERROR_RATE_WINDOW_S
) -> ErrorRate:
    """Return failed and rate-limited calls over the window."""
    async with db.execute(_ERRORS_SQL, (_ms(now - window_s), _ms(now))) as cursor:
        row = await cursor.fetchone()
    calls, failed, rate_limited = row if row else (0, 0, 0)
    return ErrorRate(window_s, int(calls), int(failed), int(rate_limited))


async def _has_queue_table(db: aiosqlite.Connection) -> bool:
    async with db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (QUEUE_TABLE,)
    ) as cursor:
        return await cursor.fetchone() is not None


async def queue_depth(db: aiosqlite.Connection) -> int | None:
    """Return the number of pending write jobs; None when the queue table does not exist yet."""
    if not await _has_queue_table(db):
        return None
    async with db.execute(f"SELECT COUNT(*) FROM {QUEUE_TABLE} WHERE status = 'pending'") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def cache_ratio(
    db: aiosqlite.Connection,
    now: float,
    source: CacheStatsSource | None = None,
    window_s: int = CACHE_WINDOW_S,
) -> CacheRatio:
    """Return cache hits and misses.

    With `source`, its counters are used (sync or async callable). Without, the
    ``Cache_Hit`` and ``Cache_Miss`` events of the window are counted, which
    covers every copy that records them.
    """
    if source is not None:
        counts = source()
        if isinstance(counts, Awaitable):
            counts = await counts
        return CacheRatio(*counts) if counts else CacheRatio(0, 0)
    async with db.execute(
        "SELECT COALESCE(SUM(name = ?), 0), COALESCE(SUM(name = ?), 0) FROM monitoring_events"
        " WHERE ts_ms > ? AND ts_ms <= ? AND kind = 'custom' AND name IN (?, ?)",
        (
            CACHE_HIT_EVENT,
            CACHE_MISS_EVENT,
            _ms(now - window_s),
            _ms(now),
            CACHE_HIT_EVENT,
            CACHE_MISS_EVENT,
        ),
    ) as cursor:
        row = await cursor.fetchone()
    return CacheRatio(int(row[0]), int(row[1])) if row else CacheRatio(0, 0)


async def snapshot(
    db: aiosqlite.Connection, now: float, cache_source: CacheStatsSource | None = None
) -> KpiSnapshot:
    """Compute every KPI at `now`."""
    return KpiSnapshot(
        at=now,
        latency=await latency_percentiles(db, now),
        error_rate=await error_rate(db, now),
        queue_depth=await queue_depth(db),
        cache=await cache_ratio(db, now, cache_source),
    )


async def minute_series(db: aiosqlite.Connection, now: float, minutes: int = 60) -> MinuteSeries:
    """Return per-minute P95 by call name and error rate for the last `minutes` minutes.

    Minutes are aligned to the clock; the last one is the current, partial minute.
    """
    end_ms = (_ms(now) // 60_000 + 1) * 60_000
    start_ms = end_ms - minutes * 60_000
    return await _series_between(db, start_ms, end_ms)


async def _series_between(db: aiosqlite.Connection, start_ms: int, end_ms: int) -> MinuteSeries:
    minutes = (end_ms - start_ms) // 60_000
    params = {"start": start_ms, "end": end_ms}

    p95: dict[str, list[float | None]] = {}
    calls: dict[str, list[int]] = {}
    async with db.execute(_MINUTE_P95_SQL, params) as cursor:
        async for name, minute, samples, latency in cursor:
            p95.setdefault(name, [None] * minutes)[minute] = float(latency)
            calls.setdefault(name, [0] * minutes)[minute] = int(samples)

    rates: list[float | None] = [None] * minutes
    totals = [0] * minutes
    limited = [0] * minutes
    async with db.execute(_MINUTE_ERRORS_SQL, params) as cursor:
        async for minute, total, failed, rate_limited in cursor:
            rates[minute] = 100.0 * failed / total if total else None
            totals[minute] = int(total)
            limited[minute] = int(rate_limited)

    hits = [0] * minutes
    misses = [0] * minutes
    cache_params = {**params, "hit": CACHE_HIT_EVENT, "miss": CACHE_MISS_EVENT}
    async with db.execute(_MINUTE_CACHE_SQL, cache_params) as cursor:
        async for minute, minute_hits, minute_misses in cursor:
            hits[minute] = int(minute_hits)
            misses[minute] = int(minute_misses)

    depth: list[int | None] = [None] * minutes
    if await _has_queue_table(db):
        async with db.execute(_MINUTE_QUEUE_SQL, {**params, "minutes": minutes}) as cursor:
            async for minute, count in cursor:
                depth[minute] = int(count)
    return MinuteSeries(start_ms, minutes, p95, calls, rates, totals, limited, depth, hits, misses)


class MinuteSeriesCache:
    """Per-minute series that recompute only the minutes that can still change.

    A minute is settled `settle_s` seconds after it ends: every copy has flushed
    its events by then (the flush interval is at most 60 s). Settled minutes are
    kept in memory, so a refresh reads only the last minute or two of events.
    """

    def __init__(self, settle_s: float = 65.0) -> None:
        self.settle_s = settle_s
        self._minutes: dict[int, MinuteSeries] = {}

    async def series(self, db: aiosqlite.Connection, now: float, minutes: int = 60) -> MinuteSeries:
        """Return the same as `minute_series`, reusing settled minutes."""
        end_ms = (_ms(now) // 60_000 + 1) * 60_000
        start_ms = end_ms - minutes * 60_000
        settled_end = min(end_ms, ((_ms(now - self.settle_s)) // 60_000) * 60_000)
        self._minutes = {m: s for m, s in self._minutes.items() if start_ms <= m < settled_end}

        missing = [m for m in range(start_ms, settled_end, 60_000) if m not in self._minutes]
        if missing:
            fetched = await _series_between(db, missing[0], settled_end)
            for index, minute_ms in enumerate(range(missing[0], settled_end, 60_000)):
                self._minutes[minute_ms] = _one_minute(fetched, index)
        parts = [self._minutes[m] for m in range(start_ms, max(start_ms, settled_end), 60_000)]
        if settled_end < end_ms:
            recent = await _series_between(db, max(start_ms, settled_end), end_ms)
            parts += [_one_minute(recent, index) for index in range(recent.minutes)]
        return _join(start_ms, parts)


def _one_minute(series: MinuteSeries, index: int) -> MinuteSeries:
    return MinuteSeries(
        series.start_ms + index * 60_000,
        1,
        {
            name: [values[index]]
            for name, values in series.p95_ms.items()
            if values[index] is not None
        },
        {name: [values[index]] for name, values in series.calls.items() if values[index]},
        [series.error_rate[index]],
        [series.total_calls[index]],
        [series.rate_limited[index]],
        [series.queue_depth[index]],
        [series.cache_hits[index]],
        [series.cache_misses[index]],
    )


def _join(start_ms: int, parts: list[MinuteSeries]) -> MinuteSeries:
    minutes = len(parts)
    p95: dict[str, list[float | None]] = {}
    calls: dict[str, list[int]] = {}
    for index, part in enumerate(parts):
        for name, values in part.p95_ms.items():
            p95.setdefault(name, [None] * minutes)[index] = values[0]
        for name, counts in part.calls.items():
            calls.setdefault(name, [0] * minutes)[index] = counts[0]
    return MinuteSeries(
        start_ms,
        minutes,
        p95,
        calls,
        [part.error_rate[0] for part in parts],
        [part.total_calls[0] for part in parts],
        [part.rate_limited[0] for part in parts],
        [part.queue_depth[0] for part in parts],
        [part.cache_hits[0] for part in parts],
        [part.cache_misses[0] for part in parts],
    )


async def summarize(db: aiosqlite.Connection, start: float, end: float) -> dict[str, CallSummary]:
    """Return per-name totals over [start, end), reading rollups for rolled-up minutes.

    Cheap over days: rolled-up minutes cost one row per name and bucket. The P95
    is estimated from the latency histogram, so it is a bucket's upper bound.
    """
    params = {"start": _ms(start), "end": _ms(end)}
    totals: dict[str, list[int]] = {}
    histograms: dict[str, list[int]] = {}

    raw_totals = f"""
        SELECT name, COUNT(*), COALESCE(SUM(success = 0 AND rate_limited = 0), 0),
               COALESCE(SUM(rate_limited), 0)
        FROM monitoring_events
        WHERE ts_ms >= :start AND ts_ms < :end AND {_MEASURED} GROUP BY name
        UNION ALL
        SELECT name, SUM(calls), SUM(failures), SUM(rate_limited) FROM monitoring_rollups
        WHERE minute_ms >= :start AND minute_ms < :end AND {_MEASURED} GROUP BY name
    """
    async with db.execute(raw_totals, params) as cursor:
        async for name, calls, failures, rate_limited in cursor:
            entry = totals.setdefault(name, [0, 0, 0])
            entry[0] += int(calls)
            entry[1] += int(failures)
            entry[2] += int(rate_limited)

    buckets = f"""
        SELECT name, {bucket_sql("latency_ms")} AS bucket, COUNT(*) FROM monitoring_events
        WHERE ts_ms >= :start AND ts_ms < :end AND {_MEASURED} AND latency_ms IS NOT NULL
        GROUP BY name, bucket
        UNION ALL
        SELECT name, bucket, SUM(count) FROM monitoring_rollup_buckets
        WHERE minute_ms >= :start AND minute_ms < :end AND {_MEASURED} GROUP BY name, bucket
    """
    async with db.execute(buckets, params) as cursor:
        async for name, bucket, count in cursor:
            histogram = histograms.setdefault(name, [0] * (len(BUCKET_BOUNDS_MS) + 1))
            histogram[int(bucket)] += int(count)

    return {
        name: CallSummary(
            name, calls, failures, rate_limited, estimate_percentile(histograms.get(name, []), 0.95)
        )
        for name, (calls, failures, rate_limited) in sorted(totals.items())
    }


def nearest_rank_p95(values: Iterable[float]) -> float | None:
    """Return the nearest-rank P95 of `values`, the reference the SQL follows."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[math.ceil(0.95 * len(ordered)) - 1]


def count_text(count: int, noun: str) -> str:
    """Render a count with its noun in the singular or plural: "1 call", "37 calls"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def format_latency(item: Percentile) -> str:
    """Render a P95 as ``"412 ms (37 calls)"``, or ``"n/a (0 calls)"``."""
    if item.p95_ms is None or item.samples == 0:
        return "n/a (0 calls)"
    return f"{item.p95_ms:.0f} ms ({count_text(item.samples, 'call')})"


def format_error_rate(rate: ErrorRate) -> str:
    """Render an error rate as ``"4.2% (3 of 71 calls, 2 rate-limited)"`` or ``"n/a (0 calls)"``."""
    if rate.percent is None:
        return "n/a (0 calls)"
    text = f"{rate.percent:.1f}% ({rate.failed} of {count_text(rate.calls, 'call')}"
    if rate.rate_limited:
        text += f", {rate.rate_limited} rate-limited"
    return text + ")"


def format_queue_depth(depth: int | None) -> str:
    """Render the queue depth, or ``"n/a"`` when there is no queue table."""
    return "n/a" if depth is None else str(depth)


def format_cache(cache: CacheRatio) -> str:
    """Render the cache hit ratio as ``"87% (412 lookups)"``, or ``"n/a (0 lookups)"``."""
    if cache.ratio is None:
        return "n/a (0 lookups)"
    return f"{cache.ratio * 100:.0f}% ({count_text(cache.lookups, 'lookup')})"
