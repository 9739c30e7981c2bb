"""Cache reads recorded as Cache_Hit and Cache_Miss events, for the shared hit ratio KPI."""

from __future__ import annotations

from pathlib import Path

from sched_tui.cache.reads import CachedReads
from sched_tui.monitoring import events, kpi
from sched_tui.monitoring.events import EventRecorder
from sched_tui.storage import open_database

from .conftest import WEEK_END, WEEK_START, FakeTimer, PracticeProvider, make_store

NOW = 1_780_315_200.0


async def test_reads_record_hit_and_miss_events(tmp_path: Path, timer: FakeTimer) -> None:
    path = tmp_path / "shared.db"
    recorder = await EventRecorder.open(path, clock=lambda: NOW)
    events.install(recorder)
    db = await open_database(path)
    try:
        store = make_store(timer)
        reads = CachedReads(store)
        provider = PracticeProvider(count=2)
        ids = [therapist.id for therapist in provider.therapists]
        await reads.week(provider, ids, WEEK_START, WEEK_END)
        await reads.week(provider, ids, WEEK_START, WEEK_END)
        await recorder.flush()

        ratio = await kpi.cache_ratio(db, NOW + 1)

        stats = store.stats()
        assert (ratio.hits, ratio.misses) == (stats.hits, stats.misses)
        assert ratio.hits == 2
        assert ratio.misses == 2
    finally:
        events.uninstall(recorder)
        await recorder.aclose()
        await db.close()


def test_reads_without_recorder_only_count(timer: FakeTimer) -> None:
    store = make_store(timer)
    namespace = store.namespace("availability")

    namespace.count(hit=True)

    assert events.current_recorder() is None
    assert namespace.hits == 1
