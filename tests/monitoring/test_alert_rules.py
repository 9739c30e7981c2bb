"""The alert state machine, driven by a controlled clock over a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import aiosqlite
import pytest

from sched_tui.config import AlertRuleConfig
from sched_tui.config.monitoring import DEFAULT_ALERTS
from sched_tui.monitoring.alerts import (
    FIRING,
    INACTIVE,
    PENDING,
    AlertEvaluator,
    AlertState,
    step,
)
from sched_tui.monitoring.rules import Reading
from sched_tui.storage import open_database

from .conftest import FakeClock, insert_events

ERROR_RULE = DEFAULT_ALERTS[0]
LATENCY_RULE = DEFAULT_ALERTS[1]
QUEUE_RULE = DEFAULT_ALERTS[2]


def evaluator(
    db: aiosqlite.Connection,
    clock: FakeClock,
    rules: tuple[AlertRuleConfig, ...] = (ERROR_RULE,),
    min_samples: int = 20,
) -> AlertEvaluator:
    return AlertEvaluator(db, rules, min_samples=min_samples, interval_s=15, clock=clock)


async def add_calls(
    db: aiosqlite.Connection, now: float, calls: int, failed: int, spread_s: float = 60
) -> None:
    """Insert `calls` Zocdoc calls over the `spread_s` s before `now`, `failed` of them 503."""
    rows = []
    for index in range(calls):
        ts = now - spread_s + (index + 1) * spread_s / (calls + 1)
        ok = index >= failed
        rows.append((ts, "Zocdoc_GetAppointments", 100.0, ok, 200 if ok else 503))
    await insert_events(db, rows)


async def state_of(alerts: AlertEvaluator, rule: str) -> AlertState:
    return (await alerts.store.load())[rule]


# --- pure state machine -------------------------------------------------------


def test_step_inactive_to_pending() -> None:
    state, transition = step(ERROR_RULE, AlertState("HighErrorRate"), Reading(10.0, 100, True), 0.0)
    assert state.state == PENDING
    assert state.active_since == 0.0
    assert transition is not None and transition.kind == PENDING


def test_step_fires_exactly_at_duration() -> None:
    state = AlertState("HighErrorRate")
    reading = Reading(10.0, 100, True)
    state, _ = step(ERROR_RULE, state, reading, 0.0)
    state, transition = step(ERROR_RULE, state, reading, 599.999)
    assert state.state == PENDING
    assert transition is None
    state, transition = step(ERROR_RULE, state, reading, 600.0)
    assert state.state == FIRING
    assert state.firing_since == 600.0
    assert transition is not None and transition.kind == FIRING


def test_step_zero_duration_fires_at_once() -> None:
    state, transition = step(QUEUE_RULE, AlertState("QueueBacklog"), Reading(51.0, None, True), 5.0)
    assert state.state == FIRING
    assert transition is not None and transition.kind == FIRING


def test_step_threshold_is_exclusive() -> None:
    state, transition = step(QUEUE_RULE, AlertState("QueueBacklog"), Reading(50.0, None, True), 5.0)
    assert state.state == INACTIVE
    assert transition is None


def test_step_pending_cleared_when_condition_stops() -> None:
    state, _ = step(ERROR_RULE, AlertState("HighErrorRate"), Reading(10.0, 100, True), 0.0)
    state, transition = step(ERROR_RULE, state, Reading(1.0, 100, True), 15.0)
    assert state.state == INACTIVE
    assert transition is not None and transition.kind == "cleared"


def test_step_keep_firing_for() -> None:
    rule = AlertRuleConfig(
        name="Flappy", severity="warning", kpi="queue_depth", threshold=50, keep_firing_for_s=60
    )
    state, _ = step(rule, AlertState("Flappy"), Reading(60.0, None, True), 0.0)
    assert state.state == FIRING
    state, transition = step(rule, state, Reading(10.0, None, True), 59.0)
    assert state.state == FIRING
    assert transition is None
    state, _ = step(rule, state, Reading(70.0, None, True), 70.0)
    state, transition = step(rule, state, Reading(10.0, None, True), 129.0)
    assert state.state == FIRING
    state, transition = step(rule, state, Reading(10.0, None, True), 130.0)
    assert state.state == INACTIVE
    assert transition is not None and transition.kind == "resolved"


def test_step_no_data_while_firing_keeps_firing() -> None:
    state, _ = step(QUEUE_RULE, AlertState("QueueBacklog"), Reading(80.0, None, True), 0.0)
    state, transition = step(QUEUE_RULE, state, Reading(None, 0, False), 15.0)
    assert state.state == FIRING
    assert state.firing_since == 0.0
    assert state.value == 80.0
    assert transition is None


def test_step_no_data_while_pending_clears() -> None:
    state, _ = step(ERROR_RULE, AlertState("HighErrorRate"), Reading(10.0, 100, True), 0.0)
    state, _ = step(ERROR_RULE, state, Reading(None, 0, False), 15.0)
    assert state.state == INACTIVE


# --- evaluator on the shared database -----------------------------------------


async def test_rule_pending_firing_resolved(db: aiosqlite.Connection, clock: FakeClock) -> None:
    alerts = evaluator(db, clock)
    start = clock.now

    # 10% errors, evaluated every 15 s; the window keeps enough failing calls.
    while clock.now < start + 600:
        await add_calls(db, clock.now, calls=20, failed=2, spread_s=15)
        transitions = await alerts.evaluate(force=True)
        assert (await state_of(alerts, "HighErrorRate")).state == PENDING
        if clock.now == start:
            assert [t.kind for t in transitions] == [PENDING]
        clock.advance(15)

    assert clock.now == start + 600
    await add_calls(db, clock.now, calls=20, failed=2, spread_s=15)
    transitions = await alerts.evaluate(force=True)
    state = await state_of(alerts, "HighErrorRate")
    assert state.state == FIRING
    assert state.firing_since == start + 600
    assert state.active_since == start
    assert [t.kind for t in transitions] == [FIRING]

    # Error-free traffic pushes the rate below 5% within the 10-minute window.
    clock.advance(15)
    await add_calls(db, clock.now, calls=2000, failed=0, spread_s=15)
    transitions = await alerts.evaluate(force=True)
    assert [t.kind for t in transitions] == ["resolved"]
    assert (await state_of(alerts, "HighErrorRate")).state == INACTIVE

    history = await alerts.store.history()
    assert len(history) == 1
    assert history[0].fired_at == start + 600
    assert history[0].resolved_at == clock.now


@pytest.mark.parametrize(
    ("calls", "failed", "expected"),
    [
        (0, 0, "no data"),
        (1, 1, "no data"),
        (3, 1, "no data"),
        (100, 10, "holds"),
        (100, 5, "does not hold"),
    ],
)
async def test_error_rate_rule_by_volume(
    db: aiosqlite.Connection, clock: FakeClock, calls: int, failed: int, expected: str
) -> None:
    alerts = evaluator(db, clock)
    await add_calls(db, clock.now, calls=calls, failed=failed)
    await alerts.evaluate(force=True)
    state = await state_of(alerts, "HighErrorRate")
    assert state.samples == calls
    if expected == "holds":
        assert state.state == PENDING
        assert state.value == pytest.approx(10.0)
    else:
        assert state.state == INACTIVE


async def test_one_failure_in_three_never_pages(db: aiosqlite.Connection, clock: FakeClock) -> None:
    alerts = evaluator(db, clock)
    # One call every 200 s, every third one failing: 3 calls per 10-minute window.
    for index in range(60):
        success = index % 3 != 0
        await insert_events(
            db, [(clock.now, "Zocdoc_GetAppointments", 90.0, success, 200 if success else 503)]
        )
        assert await alerts.evaluate(force=True) == []
        clock.advance(200)
    assert (await state_of(alerts, "HighErrorRate")).state == INACTIVE
    assert await alerts.store.history() == []


async def test_no_data_reads_not_available(db: aiosqlite.Connection, clock: FakeClock) -> None:
    alerts = evaluator(db, clock, rules=(ERROR_RULE, LATENCY_RULE))
    assert await alerts.evaluate(force=True) == []
    states = await alerts.store.load()
    assert states["HighErrorRate"].state == INACTIVE
    assert states["HighErrorRate"].value is None
    assert states["SlowAggregatedCalendar"].state == INACTIVE
    assert await alerts.active() == []


async def test_gap_while_firing_sends_nothing(db: aiosqlite.Connection, clock: FakeClock) -> None:
    rule = AlertRuleConfig(
        name="SlowCalendar",
        severity="warning",
        kpi="p95_latency_ms",
        call="getAggregatedCalendar",
        threshold=2000,
        window_s=300,
        for_s=0,
    )
    alerts = evaluator(db, clock, rules=(rule,), min_samples=5)
    slow = [(clock.now - i, "getAggregatedCalendar", 3000.0, True, None) for i in range(10)]
    await insert_events(db, slow, kind="function")
    assert [t.kind for t in await alerts.evaluate(force=True)] == [FIRING]
    fired_at = clock.now

    # Twenty minutes without a single call: the window empties, the alert keeps firing.
    for _ in range(80):
        clock.advance(15)
        assert await alerts.evaluate(force=True) == []
    state = await state_of(alerts, "SlowCalendar")
    assert state.state == FIRING
    assert state.firing_since == fired_at
    assert state.value == 3000.0

    # Slow calls again: still the same firing, no new alert.
    slow = [(clock.now - i, "getAggregatedCalendar", 2500.0, True, None) for i in range(10)]
    await insert_events(db, slow, kind="function")
    assert await alerts.evaluate(force=True) == []
    assert len(await alerts.store.history()) == 1


async def test_restart_while_firing(db_path: Path, clock: FakeClock) -> None:
    db = await open_database(db_path)
    alerts = evaluator(db, clock, rules=(QUEUE_RULE, ERROR_RULE))
    await db.execute("DROP TABLE IF EXISTS api_write_queue")
    await db.execute("CREATE TABLE api_write_queue (id INTEGER PRIMARY KEY, status TEXT)")
    await db.executemany("INSERT INTO api_write_queue (status) VALUES (?)", [("pending",)] * 60)
    assert [t.kind for t in await alerts.evaluate(force=True)] == [FIRING]
    assert await alerts.store.acknowledge("QueueBacklog", "alice", clock.now)
    fired_at = clock.now
    await db.close()

    # A new process: new connection, new evaluator, same file.
    clock.advance(120)
    db = await open_database(db_path)
    try:
        alerts = evaluator(db, clock, rules=(QUEUE_RULE, ERROR_RULE))
        active = await alerts.active()
        assert [alert.rule.name for alert in active] == ["QueueBacklog"]
        assert active[0].firing
        assert active[0].acknowledged
        assert await alerts.evaluate(force=True) == []
        state = await state_of(alerts, "QueueBacklog")
        assert state.state == FIRING
        assert state.firing_since == fired_at
        assert state.acknowledged_by == "alice"
        assert len(await alerts.store.history()) == 1
    finally:
        await db.close()


async def test_queue_table_missing_is_no_data(db: aiosqlite.Connection, clock: FakeClock) -> None:
    await db.execute("DROP TABLE IF EXISTS api_write_queue")
    alerts = evaluator(db, clock, rules=(QUEUE_RULE,))
    assert await alerts.evaluate(force=True) == []
    state = await state_of(alerts, "QueueBacklog")
    assert state.state == INACTIVE
    assert state.value is None


async def test_acknowledge_only_firing(db: aiosqlite.Connection, clock: FakeClock) -> None:
    alerts = evaluator(db, clock)
    assert not await alerts.store.acknowledge("HighErrorRate", "bob", clock.now)


async def test_evaluation_skipped_after_other_copy(
    db: aiosqlite.Connection, clock: FakeClock
) -> None:
    first = evaluator(db, clock, rules=(QUEUE_RULE,))
    second = evaluator(db, clock, rules=(QUEUE_RULE,))
    await first.evaluate()
    evaluated_at = (await state_of(first, "QueueBacklog")).evaluated_at
    clock.advance(5)
    await second.evaluate()
    assert (await state_of(second, "QueueBacklog")).evaluated_at == evaluated_at
    clock.advance(5)
    await second.evaluate()
    assert (await state_of(second, "QueueBacklog")).evaluated_at == clock.now


def test_reading_counts_lookups_for_cache_rule() -> None:
    cache_rule = AlertRuleConfig(
        name="LowCacheHits", severity="warning", kpi="cache_hit_ratio", threshold=0.5
    )

    assert Reading(0.39, 36, True).describe(cache_rule) == "39% (36 lookups)"
    assert Reading(None, 0, False).describe(cache_rule) == "n/a (0 lookups)"
    assert Reading(4.0, 71, True).describe(ERROR_RULE) == "4.0% (71 calls)"
    assert Reading(51.0, None, True).describe(QUEUE_RULE) == "51"
