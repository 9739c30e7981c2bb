"""Alert state machine, its persistence in the shared database, and the evaluator.

The semantics follow Prometheus alerting rules. An inactive rule whose
condition is true becomes pending. It fires at the first evaluation at which
the condition has been true at every evaluation for `for_s`. A firing rule
resolves at the first evaluation at which the condition is false and
`keep_firing_for_s` has passed since it was last true. A rule with
`for_s = 0` fires at once.

Without data (no calls, or fewer than the minimum), a rule neither fires nor
resolves: a firing alert keeps firing through the gap, and a pending one goes
back to inactive, because its condition did not hold at that evaluation.

States live in ``monitoring_alert_state`` and every firing in
``monitoring_alert_history``, so a restart neither resets a firing alert to
pending nor announces a false resolve. Each evaluation is one write
transaction, so copies evaluating at the same time see each other's transitions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import aiosqlite

from sched_tui.config import AlertRuleConfig
from sched_tui.monitoring import kpi
from sched_tui.monitoring.events import Clock
from sched_tui.monitoring.rules import Reading, RuleReader, describe_rule, holds

log = logging.getLogger(__name__)

INACTIVE = "inactive"
PENDING = "pending"
FIRING = "firing"

_LAST_EVALUATION_KEY = "monitoring.alerts_evaluated_ms"


@dataclass(frozen=True, slots=True)
class AlertState:
    """The stored state of one rule. Times are Unix seconds."""

    rule: str
    state: str = INACTIVE
    active_since: float | None = None
    firing_since: float | None = None
    last_true: float | None = None
    value: float | None = None
    samples: int | None = None
    evaluated_at: float | None = None
    acknowledged_at: float | None = None
    acknowledged_by: str | None = None
    history_id: int | None = None


@dataclass(frozen=True, slots=True)
class Transition:
    """A change of state worth recording: "pending", "firing", "resolved" or "cleared"."""

    rule: str
    kind: str
    at: float
    value: float | None


def step(
    rule: AlertRuleConfig, state: AlertState, reading: Reading, now: float
) -> tuple[AlertState, Transition | None]:
    """Return the state after one evaluation at `now`, and the transition it made."""
    evaluated = replace(state, value=reading.value, samples=reading.samples, evaluated_at=now)

    if holds(rule, reading):
        evaluated = replace(evaluated, last_true=now)
        if state.state == INACTIVE:
            pending = replace(evaluated, state=PENDING, active_since=now, firing_since=None)
            if rule.for_s <= 0:
                return _fire(pending, now, reading)
            return pending, Transition(rule.name, PENDING, now, reading.value)
        if state.state == PENDING:
            assert state.active_since is not None
            if now - state.active_since >= rule.for_s:
                return _fire(evaluated, now, reading)
        return evaluated, None

    if not reading.has_data:
        if state.state == PENDING:
            return _clear(evaluated), Transition(rule.name, "cleared", now, reading.value)
        # A firing alert keeps firing through a gap; its last value is kept on screen.
        if state.state == FIRING:
            return replace(evaluated, value=state.value, samples=reading.samples), None
        return evaluated, None

    if state.state == PENDING:
        return _clear(evaluated), Transition(rule.name, "cleared", now, reading.value)
    if state.state == FIRING:
        last_true = state.last_true if state.last_true is not None else now
        if now - last_true < rule.keep_firing_for_s:
            return evaluated, None
        return _clear(evaluated), Transition(rule.name, "resolved", now, reading.value)
    return evaluated, None


def _fire(state: AlertState, now: float, reading: Reading) -> tuple[AlertState, Transition]:
    fired = replace(
        state, state=FIRING, firing_since=now, acknowledged_at=None, acknowledged_by=None
    )
    return fired, Transition(state.rule, FIRING, now, reading.value)


def _clear(state: AlertState) -> AlertState:
    return replace(
        state,
        state=INACTIVE,
        active_since=None,
        firing_since=None,
        acknowledged_at=None,
        acknowledged_by=None,
        history_id=None,
    )


@dataclass(frozen=True, slots=True)
class ActiveAlert:
    """A pending or firing alert, as the banner shows it."""

    rule: AlertRuleConfig
    state: AlertState
    summary: str
    value_text: str

    @property
    def firing(self) -> bool:
        """The alert fires (pending alerts are listed but not announced)."""
        return self.state.state == FIRING

    @property
    def acknowledged(self) -> bool:
        """Someone acknowledged the alert since it fired."""
        return self.state.acknowledged_at is not None


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One firing of a rule, for the alert history view. Times are Unix seconds."""

    id: int
    rule: str
    severity: str
    threshold: float
    active_since: float
    fired_at: float
    fired_value: float | None
    resolved_at: float | None
    resolved_value: float | None
    acknowledged_at: float | None
    acknowledged_by: str | None


def _seconds(ms: int | None) -> float | None:
    return None if ms is None else ms / 1000.0


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds * 1000)


class AlertStore:
    """Reads and writes alert states and history on one connection."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db
        # Serializes this object's write transactions on its shared connection.
        self.lock = asyncio.Lock()

    async def load(self) -> dict[str, AlertState]:
        """Return every stored state by rule name."""
        async with self.db.execute(
            "SELECT rule, state, active_since_ms, firing_since_ms, last_true_ms, value,"
            " samples, evaluated_ms, acknowledged_ms, acknowledged_by, history_id"
            " FROM monitoring_alert_state"
        ) as cursor:
            rows = await cursor.fetchall()
        return {
            row[0]: AlertState(
                rule=row[0],
                state=row[1],
                active_since=_seconds(row[2]),
                firing_since=_seconds(row[3]),
                last_true=_seconds(row[4]),
                value=row[5],
                samples=row[6],
                evaluated_at=_seconds(row[7]),
                acknowledged_at=_seconds(row[8]),
                acknowledged_by=row[9],
                history_id=row[10],
            )
            for row in rows
        }

    async def save(self, state: AlertState) -> None:
        """Write one state inside the transaction the caller opened."""
        await self.db.execute(
            "INSERT INTO monitoring_alert_state (rule, state, active_since_ms, firing_since_ms,"
            " last_true_ms, value, samples, evaluated_ms, acknowledged_ms, acknowledged_by,"
            " history_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (rule) DO UPDATE SET state = excluded.state,"
            " active_since_ms = excluded.active_since_ms,"
            " firing_since_ms = excluded.firing_since_ms,"
            " last_true_ms = excluded.last_true_ms, value = excluded.value,"
            " samples = excluded.samples, evaluated_ms = excluded.evaluated_ms,"
            " acknowledged_ms = excluded.acknowledged_ms,"
            " acknowledged_by = excluded.acknowledged_by,"
            " history_id = excluded.history_id",
            (
                state.rule,
                state.state,
                _ms(state.active_since),
                _ms(state.firing_since),
                _ms(state.last_true),
                state.value,
                state.samples,
                _ms(state.evaluated_at),
                _ms(state.acknowledged_at),
                state.acknowledged_by,
                state.history_id,
            ),
        )

    async def record_fired(self, rule: AlertRuleConfig, state: AlertState) -> int:
        """Insert the history row of a new firing; return its id."""
        cursor = await self.db.execute(
            "INSERT INTO monitoring_alert_history (rule, severity, threshold, active_since_ms,"
            " fired_ms, fired_value) VALUES (?, ?, ?, ?, ?, ?)",
            (
                rule.name,
                rule.severity,
                rule.threshold,
                _ms(state.active_since),
                _ms(state.firing_since),
                state.value,
            ),
        )
        return int(cursor.lastrowid or 0)

    async def record_resolved(self, history_id: int | None, at: float, value: float | None) -> None:
        """Close the history row of a resolved firing."""
        if history_id is not None:
            await self.db.execute(
                "UPDATE monitoring_alert_history SET resolved_ms = ?, resolved_value = ?"
                " WHERE id = ?",
                (_ms(at), value, history_id),
            )

    async def acknowledge(self, rule: str, user: str, now: float) -> bool:
        """Mark the firing alert of `rule` acknowledged by `user`; False when it is not firing."""
        async with self.lock:
            await self.db.execute("BEGIN IMMEDIATE")
            try:
                cursor = await self.db.execute(
                    "UPDATE monitoring_alert_state SET acknowledged_ms = ?, acknowledged_by = ?"
                    " WHERE rule = ? AND state = 'firing' RETURNING history_id",
                    (_ms(now), user, rule),
                )
                row = await cursor.fetchone()
                await cursor.close()
                if row is not None and row[0] is not None:
                    await self.db.execute(
                        "UPDATE monitoring_alert_history"
                        " SET acknowledged_ms = ?, acknowledged_by = ? WHERE id = ?",
                        (_ms(now), user, row[0]),
                    )
                await self.db.execute("COMMIT")
            except BaseException:
                await self.db.execute("ROLLBACK")
                raise
        if row is not None:
            log.info("alert %s acknowledged by %s", rule, user)
        return row is not None

    async def history(self, limit: int = 100, rule: str | None = None) -> list[HistoryEntry]:
        """Return the latest firings, newest first, optionally of one rule."""
        query = (
            "SELECT id, rule, severity, threshold, active_since_ms, fired_ms, fired_value,"
            " resolved_ms, resolved_value, acknowledged_ms, acknowledged_by"
            " FROM monitoring_alert_history"
        )
        params: tuple[object, ...] = ()
        if rule is not None:
            query += " WHERE rule = ?"
            params = (rule,)
        query += " ORDER BY fired_ms DESC, id DESC LIMIT ?"
        async with self.db.execute(query, (*params, limit)) as cursor:
            rows = await cursor.fetchall()
        return [
            HistoryEntry(
                id=row[0],
                rule=row[1],
                severity=row[2],
                threshold=row[3],
                active_since=row[4] / 1000.0,
                fired_at=row[5] / 1000.0,
                fired_value=row[6],
                resolved_at=_seconds(row[7]),
                resolved_value=row[8],
                acknowledged_at=_seconds(row[9]),
                acknowledged_by=row[10],
            )
            for row in rows
        ]


class AlertEvaluator:
    """Evaluates the configured rules against the shared KPIs and stores their states."""

    def __init__(
        self,
        db: aiosqlite.Connection,
        rules: Sequence[AlertRuleConfig],
        *,
        min_samples: int,
        interval_s: float = 15.0,
        clock: Clock = time.time,
        cache_source: kpi.CacheStatsSource | None = None,
    ) -> None:
        self.rules = tuple(rules)
        self.interval_s = interval_s
        self.store = AlertStore(db)
        self._reader = RuleReader(db, min_samples=min_samples, cache_source=cache_source)
        self._clock = clock
        self._task: asyncio.Task[None] | None = None

    async def evaluate(self, *, force: bool = False) -> list[Transition]:
        """Evaluate every rule once and store the result; return the transitions.

        Unless `force` is set, the evaluation is skipped when any copy evaluated
        less than half an interval ago, so copies do not repeat each other's work.
        """
        now = self._clock()
        if not force and await self._evaluated_recently(now):
            return []
        readings = await self._reader.read_all(self.rules, now)

        transitions: list[Transition] = []
        async with self.store.lock:
            db = self.store.db
            await db.execute("BEGIN IMMEDIATE")
            try:
                states = await self.store.load()
                for rule in self.rules:
                    before = states.get(rule.name, AlertState(rule.name))
                    after, transition = step(rule, before, readings[rule.name], now)
                    after = await self._record(rule, before, after, transition)
                    await self.store.save(after)
                    if transition is not None:
                        transitions.append(transition)
                await db.execute(
                    "INSERT INTO app_meta (key, value) VALUES (?, ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (_LAST_EVALUATION_KEY, str(_ms(now))),
                )
                await db.execute("COMMIT")
            except BaseException:
                await db.execute("ROLLBACK")
                raise

        for transition in transitions:
            log.info("alert %s %s at value %s", transition.rule, transition.kind, transition.value)
        return transitions

    async def active(self) -> list[ActiveAlert]:
        """Return the pending and firing alerts of the configured rules, firing first."""
        states = await self.store.load()
        alerts = []
        for rule in self.rules:
            state = states.get(rule.name)
            if state is None or state.state == INACTIVE:
                continue
            reading = Reading(state.value, state.samples, state.value is not None)
            alerts.append(ActiveAlert(rule, state, describe_rule(rule), reading.describe(rule)))
        alerts.sort(key=lambda alert: (not alert.firing, alert.rule.severity != "critical"))
        return alerts

    def start(self) -> None:
        """Start evaluating every `interval_s` in the background."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="monitoring-alerts"
            )

    async def aclose(self) -> None:
        """Stop the background evaluation."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _record(
        self,
        rule: AlertRuleConfig,
        before: AlertState,
        after: AlertState,
        transition: Transition | None,
    ) -> AlertState:
        if transition is None:
            return after
        if transition.kind == FIRING:
            history_id = await self.store.record_fired(rule, after)
            return replace(after, history_id=history_id)
        if transition.kind == "resolved":
            await self.store.record_resolved(before.history_id, transition.at, transition.value)
        return after

    async def _evaluated_recently(self, now: float) -> bool:
        async with self.store.db.execute(
            "SELECT value FROM app_meta WHERE key = ?", (_LAST_EVALUATION_KEY,)
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return False
        elapsed_ms = (_ms(now) or 0) - int(row[0])
        return 0 <= elapsed_ms < self.interval_s * 500

    async def _run(self) -> None:
        # The next evaluation is scheduled after the current one ends, so runs never overlap.
        while True:
            try:
                await self.evaluate()
            except Exception:
                log.exception("evaluating alert rules failed")
            await asyncio.sleep(self.interval_s)
