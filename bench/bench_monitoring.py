"""Monitoring benchmark: recording overhead per call and KPI time over 1,000,000 events.

Run: ``.venv/bin/python bench/bench_monitoring.py [--events N] [--calls N]``

Each figure is a ratio against a baseline measured in the same run, on the
same machine, so the ratios compare across machines better than the times:

1. Recording overhead: one GET through a client from `build_client` with an
   in-process `httpx.MockTransport`, with and without the timing transport.
   The transport buffers the event, and a background task writes it to SQLite.
   Baseline: the same call without timing.
2. KPI time: `kpi.snapshot` (P95 per call over 1, 5 and 15 min, error rate,
   queue depth, cache ratio) plus `kpi.minute_series` for the last hour, over
   N stored events spread over the last 2 hours (the raw retention), and again
   with all N events inside the last 15 minutes (the worst case for the
   percentile windows). Baseline: one full scan of the events table
   (``SELECT COUNT(*), SUM(latency_ms)``), the least any computation that
   reads every event would cost.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from sched_tui.http import build_client
from sched_tui.monitoring import kpi
from sched_tui.monitoring.events import EventRecorder
from sched_tui.monitoring.transport import install_transport_timing, uninstall_transport_timing
from sched_tui.storage import open_database

NAMES = (
    "Zocdoc_GetAppointments",
    "Zocdoc_CreateAppointment",
    "Zocdoc_CancelAppointment",
    "Zocdoc_GetAvailability",
    "Zocdoc_GetToken",
    "ICS_Fetch",
    "CalDAV_Report",
    "getAggregatedCalendar",
)


def _answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"appointments": []})


async def _time_round(client: httpx.AsyncClient, calls: int) -> float:
    """Return the mean time of one call in µs over `calls` calls."""
    started = time.perf_counter()
    for _ in range(calls):
        response = await client.get("http://zocdoc.test/v1/appointments")
        response.raise_for_status()
    return (time.perf_counter() - started) / calls * 1e6


async def bench_recording(folder: Path, calls: int) -> tuple[float, float]:
    """Return the median per-call time in µs without and with timing.

    Rounds of both variants alternate, so load from other processes hits both alike.
    """
    plain = build_client("Zocdoc", transport=httpx.MockTransport(_answer))
    recorder = await EventRecorder.open(folder / "recording.db", flush_interval_s=0.5)
    wrapper = install_transport_timing(recorder)
    timed = build_client("Zocdoc", transport=httpx.MockTransport(_answer))
    uninstall_transport_timing(wrapper)
    rounds = 20
    try:
        await _time_round(plain, 200)  # warm-up
        await _time_round(timed, 200)
        baseline, measured = [], []
        for _ in range(rounds):
            baseline.append(await _time_round(plain, calls // rounds))
            measured.append(await _time_round(timed, calls // rounds))
        await recorder.flush()
    finally:
        await plain.aclose()
        await timed.aclose()
        await recorder.aclose()
    return statistics.median(baseline), statistics.median(measured)


def _rows(count: int, now: float, span_s: float, seed: int) -> list[tuple]:
    generator = random.Random(seed)
    rows = []
    for _ in range(count):
        status = generator.choices((200, 429, 503), weights=(94, 3, 3))[0]
        rows.append(
            (
                int((now - generator.uniform(0, span_s)) * 1000),
                generator.choice(NAMES),
                "external",
                round(generator.lognormvariate(5, 0.8), 2),
                int(status < 400),
                status,
                int(status == 429),
                1,
            )
        )
    return rows


@dataclass(frozen=True)
class KpiTimes:
    """Seconds taken by each step of the KPI benchmark (the best of 3 runs)."""

    insert: float
    scan: float
    snapshot: float
    series_cold: float
    series_warm: float


async def bench_kpis(path: Path, count: int, span_s: float, seed: int) -> KpiTimes:
    """Store `count` events over `span_s` seconds and time the KPI computations."""
    now = time.time()
    db = await open_database(path)
    try:
        rows = _rows(count, now, span_s, seed)
        started = time.perf_counter()
        await db.execute("BEGIN")
        await db.executemany(
            "INSERT INTO monitoring_events (ts_ms, name, kind, latency_ms, success, status,"
            " rate_limited, pid) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        await db.execute("COMMIT")
        inserted = time.perf_counter() - started
        del rows

        scan_times, snapshot_times, cold_times, warm_times = [], [], [], []
        for _ in range(3):
            started = time.perf_counter()
            async with db.execute(
                "SELECT COUNT(*), SUM(latency_ms) FROM monitoring_events"
            ) as cursor:
                await cursor.fetchone()
            scan_times.append(time.perf_counter() - started)

            started = time.perf_counter()
            await kpi.snapshot(db, now)
            snapshot_times.append(time.perf_counter() - started)

            cache = kpi.MinuteSeriesCache()
            started = time.perf_counter()
            await cache.series(db, now, 60)
            cold_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            await cache.series(db, now, 60)
            warm_times.append(time.perf_counter() - started)
        return KpiTimes(
            inserted, min(scan_times), min(snapshot_times), min(cold_times), min(warm_times)
        )
    finally:
        await db.close()


async def main(events: int, calls: int) -> None:
    """Run both benchmarks and print the ratios."""
    print(f"Python {sys.version.split()[0]}, {events:,} events, {calls:,} calls per variant")
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        baseline, measured = await bench_recording(folder, calls)
        print("\n1. Recording overhead per call (MockTransport GET through build_client)")
        print(f"   baseline, no timing   {baseline:8.1f} µs")
        print(f"   with timing           {measured:8.1f} µs")
        print(f"   overhead              {measured - baseline:8.1f} µs")
        print(f"   ratio                 {measured / baseline:8.2f}x")

        for label, span_s, seed in (
            ("spread over the last 2 hours", 7200.0, 1),
            ("all in the last 15 minutes", 900.0, 2),
        ):
            path = folder / f"kpi-{seed}.db"
            times = await bench_kpis(path, events, span_s, seed)
            scan = times.scan
            refresh = times.snapshot + times.series_warm
            print(f"\n2. All KPIs over {events:,} stored events, {label}")
            print(f"   insert (one transaction)            {times.insert:8.2f} s")
            print(f"   baseline, full scan                 {scan * 1000:8.1f} ms")
            print(
                f"   snapshot (P95 x3 windows, errors)   {times.snapshot * 1000:8.1f} ms"
                f"  {times.snapshot / scan:6.2f}x"
            )
            print(
                f"   minute series, first call           {times.series_cold * 1000:8.1f} ms"
                f"  {times.series_cold / scan:6.2f}x"
            )
            print(
                f"   minute series, refresh              {times.series_warm * 1000:8.1f} ms"
                f"  {times.series_warm / scan:6.2f}x"
            )
            print(
                f"   pane refresh (snapshot + refresh)   {refresh * 1000:8.1f} ms"
                f"  {refresh / scan:6.2f}x"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--events", type=int, default=1_000_000, help="events stored (default 1,000,000)"
    )
    parser.add_argument(
        "--calls", type=int, default=5_000, help="calls timed per variant (default 5,000)"
    )
    options = parser.parse_args()
    asyncio.run(main(options.events, options.calls))
