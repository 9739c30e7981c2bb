"""The event recorder: buffering, batch writes, custom events and measured functions."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import aiosqlite
import pytest

from sched_tui.aggregator import Aggregator
from sched_tui.model import Service, Therapist, TherapistWeek
from sched_tui.monitoring import events, log_custom, measure
from sched_tui.monitoring.events import EventRecorder

from .conftest import FakeClock


async def rows(db: aiosqlite.Connection) -> list[tuple]:
    async with db.execute(
        "SELECT ts_ms, name, kind, latency_ms, success, status, fields FROM monitoring_events"
        " ORDER BY id"
    ) as cursor:
        return list(await cursor.fetchall())


async def test_flush_writes_batches(
    db_path: Path, db: aiosqlite.Connection, clock: FakeClock
) -> None:
    recorder = await EventRecorder.open(db_path, clock=clock, flush_interval_s=60, batch_size=100)
    try:
        for index in range(250):
            recorder.record_call("ICS_Fetch", float(index), success=True, status=200)
        assert await recorder.flush() == 250
        assert recorder.buffered == 0
    finally:
        await recorder.aclose()
    stored = await rows(db)
    assert len(stored) == 250
    assert stored[0][0] == int(clock.now * 1000)


async def test_full_batch_flushes_in_background(db_path: Path, db: aiosqlite.Connection) -> None:
    recorder = await EventRecorder.open(db_path, flush_interval_s=60, batch_size=10)
    try:
        for _ in range(10):
            recorder.record_call("ICS_Fetch", 1.0, success=True)
        for _ in range(100):
            if recorder.stats.written == 10:
                break
            await asyncio.sleep(0.01)
        assert recorder.stats.written == 10
    finally:
        await recorder.aclose()


async def test_buffer_bound_drops_oldest(db_path: Path) -> None:
    recorder = EventRecorder(None, flush_interval_s=60, max_buffered=5)
    for index in range(8):
        recorder.record_call(f"Call{index}", 1.0, success=True)
    assert recorder.buffered == 5
    assert recorder.stats.dropped == 3


async def test_failed_write_keeps_events(db_path: Path) -> None:
    recorder = await EventRecorder.open(db_path, flush_interval_s=60)
    recorder.record_call("ICS_Fetch", 1.0, success=True)
    assert recorder._connection is not None
    await recorder._connection.execute("DROP TABLE monitoring_events")
    with pytest.raises(Exception, match="no such table"):
        await recorder.flush()
    assert recorder.buffered == 1
    await recorder.aclose()


async def test_log_custom_and_measure(
    db_path: Path, db: aiosqlite.Connection, clock: FakeClock
) -> None:
    recorder = await EventRecorder.open(db_path, clock=clock, flush_interval_s=60)
    events.install(recorder)
    try:
        log_custom("Cache_Hit", namespace="week")
        log_custom("Queue_Process", latency_ms=12.5, success=False, status=409, job_kind="create")

        async with measure("syncWeek") as outcome:
            outcome.fields["therapists"] = 3
        with pytest.raises(ValueError):
            async with measure("syncWeek"):
                raise ValueError("boom")
        cancelled = asyncio.ensure_future(asyncio.sleep(10))
        task = asyncio.ensure_future(_measured_wait(cancelled))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await recorder.flush()
    finally:
        events.uninstall(recorder)
        await recorder.aclose()

    stored = await rows(db)
    assert [(row[1], row[2], row[4]) for row in stored] == [
        ("Cache_Hit", "custom", None),
        ("Queue_Process", "function", 0),
        ("syncWeek", "function", 1),
        ("syncWeek", "function", 0),
    ]
    assert json.loads(stored[0][6]) == {"namespace": "week"}
    assert stored[1][3] == 12.5
    assert stored[1][5] == 409
    assert json.loads(stored[3][6]) == {"error": "ValueError"}


async def _measured_wait(future: asyncio.Future) -> None:
    async with measure("cancelledCall"):
        await future


def test_log_custom_without_recorder_is_silent() -> None:
    assert events.current_recorder() is None
    log_custom("Anything", value=1)


class StubProvider:
    def __init__(self, name: str, delay_s: float) -> None:
        self.name = name
        self.delay_s = delay_s

    async def list_therapists(self) -> list[Therapist]:
        await asyncio.sleep(self.delay_s)
        return [Therapist(id=f"{self.name}-t", name="T", source=self.name)]

    async def list_services(self) -> list[Service]:
        return []

    async def fetch_week(self, therapist_ids, start, end) -> dict[str, TherapistWeek]:  # type: ignore[no-untyped-def]
        return {tid: TherapistWeek(tid) for tid in therapist_ids}

    async def aclose(self) -> None:
        return None


async def test_calendar_measured_with_deadline(db_path: Path, db: aiosqlite.Connection) -> None:
    recorder = await EventRecorder.open(db_path, flush_interval_s=60)
    events.install(recorder)
    try:
        aggregator = Aggregator(
            [StubProvider("fast", 0.0), StubProvider("stuck", 30.0)],
            ZoneInfo("America/New_York"),
            deadline_s=0.2,
        )
        calendar = await aggregator.get_aggregated_calendar(date(2026, 6, 1))
        assert [error.provider for error in calendar.errors] == ["stuck"]
        assert "deadline" in calendar.errors[0].message
        assert [therapist.id for therapist in calendar.therapists] == ["fast-t"]

        aggregator = Aggregator([StubProvider("fast", 0.0)], ZoneInfo("America/New_York"))
        assert (await aggregator.get_aggregated_calendar(date(2026, 6, 1))).errors == ()
        await recorder.flush()
    finally:
        events.uninstall(recorder)
        await recorder.aclose()

    stored = await rows(db)
    assert [(row[1], row[2], row[4]) for row in stored] == [
        ("getAggregatedCalendar", "function", 0),
        ("getAggregatedCalendar", "function", 1),
    ]
    assert 150 <= stored[0][3] < 5000
    assert json.loads(stored[0][6]) == {"failed_providers": 1}
