"""Rollup of old events and deletion of data past the retention.

Events older than the raw retention are summed per minute, call name and kind
into ``monitoring_rollups``, with a latency histogram in
``monitoring_rollup_buckets``, and deleted in the same transaction, so no
event is counted twice even when several copies run this at once. Rollups and
resolved alerts older than the retention are deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import aiosqlite

log = logging.getLogger(__name__)

# Upper bounds of the latency histogram buckets, in ms; one more bucket holds
# everything above the last bound. Stored rollups index this tuple, so changing
# it needs a migration that rewrites monitoring_rollup_buckets.
BUCKET_BOUNDS_MS: tuple[float, ...] = (
    5, 10, 25, 50, 75, 100, 150, 200, 300, 400, 500, 750,
    1000, 1500, 2000, 3000, 5000, 7500, 10_000, 15_000, 30_000, 60_000,
)  # fmt: skip

# Events are rolled up one hour at a time, so one transaction holds the write
# lock briefly even after a long time without maintenance.
_CHUNK_MS = 3_600_000
_LAST_RUN_KEY = "monitoring.retention_last_run_ms"


@dataclass(frozen=True, slots=True)
class RetentionResult:
    """Counts of the changes of one retention run."""

    rolled_up_events: int = 0
    deleted_rollups: int = 0
    deleted_alerts: int = 0
    skipped: bool = False


def bucket_sql(column: str) -> str:
    """Return a SQL expression mapping a latency `column` to its bucket index."""
    cases = " ".join(
        f"WHEN {column} <= {bound} THEN {index}" for index, bound in enumerate(BUCKET_BOUNDS_MS)
    )
    return f"CASE {cases} ELSE {len(BUCKET_BOUNDS_MS)} END"


def estimate_percentile(histogram: Sequence[int], quantile: float) -> float | None:
    """Return the upper bound of the bucket holding the nearest-rank `quantile`.

    The last bucket has no upper bound, so a percentile there is reported as
    the last bound: an underestimate, marked by being equal to that bound.
    """
    total = sum(histogram)
    if total == 0:
        return None
    rank = -(-round(quantile * 100) * total // 100)  # ceil(quantile * total) in integers
    seen = 0
    for index, count in enumerate(histogram):
        seen += count
        if seen >= rank:
            return float(BUCKET_BOUNDS_MS[min(index, len(BUCKET_BOUNDS_MS) - 1)])
    return float(BUCKET_BOUNDS_MS[-1])


async def apply_retention(
    db: aiosqlite.Connection,
    now: float,
    *,
    raw_retention_s: float,
    retention_days: int,
    min_interval_s: float = 0.0,
) -> RetentionResult:
    """Roll up events older than `raw_retention_s` and delete data past `retention_days`.

    With `min_interval_s`, a run is skipped when any copy ran it more recently.
    """
    now_ms = int(now * 1000)
    if min_interval_s > 0 and await _ran_recently(db, now_ms, min_interval_s):
        return RetentionResult(skipped=True)

    # Whole minutes only, so a minute is either all raw events or all rollup.
    cutoff_ms = (int((now - raw_retention_s) * 1000) // 60_000) * 60_000
    rolled_up = await _roll_up(db, cutoff_ms)

    expiry_ms = now_ms - retention_days * 86_400_000
    await db.execute("BEGIN IMMEDIATE")
    try:
        cursor = await db.execute(
            "DELETE FROM monitoring_rollups WHERE minute_ms < ?", (expiry_ms,)
        )
        deleted_rollups = cursor.rowcount
        await db.execute("DELETE FROM monitoring_rollup_buckets WHERE minute_ms < ?", (expiry_ms,))
        cursor = await db.execute(
            "DELETE FROM monitoring_alert_history"
            " WHERE resolved_ms IS NOT NULL AND resolved_ms < ?",
            (expiry_ms,),
        )
        deleted_alerts = cursor.rowcount
        await db.execute(
            "INSERT INTO app_meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (_LAST_RUN_KEY, str(now_ms)),
        )
        await db.execute("COMMIT")
    except BaseException:
        await db.execute("ROLLBACK")
        raise

    result = RetentionResult(rolled_up, deleted_rollups, deleted_alerts)
    if rolled_up or deleted_rollups or deleted_alerts:
        log.info(
            "retention: rolled up %d events, deleted %d rollup rows and %d resolved alerts",
            rolled_up,
            deleted_rollups,
            deleted_alerts,
        )
    return result


async def _ran_recently(db: aiosqlite.Connection, now_ms: int, min_interval_s: float) -> bool:
    async with db.execute("SELECT value FROM app_meta WHERE key = ?", (_LAST_RUN_KEY,)) as cursor:
        row = await cursor.fetchone()
    return row is not None and now_ms - int(row[0]) < min_interval_s * 1000


async def _roll_up(db: aiosqlite.Connection, cutoff_ms: int) -> int:
    async with db.execute(
        "SELECT MIN(ts_ms) FROM monitoring_events WHERE ts_ms < ?", (cutoff_ms,)
    ) as cursor:
        row = await cursor.fetchone()
    if row is None or row[0] is None:
        return 0

    total = 0
    chunk_start = (int(row[0]) // 60_000) * 60_000
    while chunk_start < cutoff_ms:
        chunk_end = min(chunk_start + _CHUNK_MS, cutoff_ms)
        total += await _roll_up_chunk(db, chunk_start, chunk_end)
        chunk_start = chunk_end
    return total


async def _roll_up_chunk(db: aiosqlite.Connection, start_ms: int, end_ms: int) -> int:
    params = {"start": start_ms, "end": end_ms}
    await db.execute("BEGIN IMMEDIATE")
    try:
        await db.execute(
            """
            INSERT INTO monitoring_rollups (minute_ms, name, kind, calls, failures, rate_limited,
                                            latency_count, latency_sum_ms, latency_max_ms)
            SELECT (ts_ms / 60000) * 60000 AS minute, name, kind,
                   COUNT(*), COALESCE(SUM(success = 0 AND rate_limited = 0), 0),
                   COALESCE(SUM(rate_limited), 0),
                   COUNT(latency_ms), COALESCE(SUM(latency_ms), 0), MAX(latency_ms)
            FROM monitoring_events
            WHERE ts_ms >= :start AND ts_ms < :end
            GROUP BY minute, name, kind
            ON CONFLICT (minute_ms, name, kind) DO UPDATE SET
                calls = calls + excluded.calls,
                failures = failures + excluded.failures,
                rate_limited = rate_limited + excluded.rate_limited,
                latency_count = latency_count + excluded.latency_count,
                latency_sum_ms = latency_sum_ms + excluded.latency_sum_ms,
                latency_max_ms = MAX(COALESCE(latency_max_ms, 0),
                                     COALESCE(excluded.latency_max_ms, 0))
            """,
            params,
        )
        await db.execute(
            f"""
            INSERT INTO monitoring_rollup_buckets (minute_ms, name, kind, bucket, count)
            SELECT (ts_ms / 60000) * 60000 AS minute, name, kind,
                   {bucket_sql("latency_ms")} AS bucket, COUNT(*)
            FROM monitoring_events
            WHERE ts_ms >= :start AND ts_ms < :end AND latency_ms IS NOT NULL
            GROUP BY minute, name, kind, bucket
            ON CONFLICT (minute_ms, name, kind, bucket) DO UPDATE SET
                count = count + excluded.count
            """,
            params,
        )
        cursor = await db.execute(
            "DELETE FROM monitoring_events WHERE ts_ms >= :start AND ts_ms < :end", params
        )
        deleted = cursor.rowcount
        await db.execute("COMMIT")
    except BaseException:
        await db.execute("ROLLBACK")
        raise
    return int(deleted)
