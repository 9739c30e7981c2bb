"""Recording of timed calls and custom events into the shared database.

`EventRecorder.record` only appends to an in-memory buffer, so it is cheap on
the hot path and never raises. A background task writes the buffer to
``monitoring_events`` in batches, one transaction each, on its own database
connection. When the database is busy the batch stays buffered and is retried;
when the buffer is full the oldest events are dropped and counted.

`install` makes one recorder the process's current one, which `log_custom` and
`measure` use when no recorder is passed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sqlite3
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiosqlite

from sched_tui.storage import open_database

log = logging.getLogger(__name__)

Clock = Callable[[], float]
"""Wall-clock time in Unix seconds, injectable for tests (default `time.time`)."""

KIND_EXTERNAL = "external"
KIND_FUNCTION = "function"
KIND_CUSTOM = "custom"

# Field names of `log_custom` that fill event columns instead of the JSON fields.
_OUTCOME_FIELDS = ("latency_ms", "success", "status")

_INSERT = (
    "INSERT INTO monitoring_events"
    " (ts_ms, name, kind, latency_ms, success, status, rate_limited, pid, fields)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


@dataclass(frozen=True, slots=True)
class Event:
    """One recorded event, as stored in ``monitoring_events``."""

    ts_ms: int
    name: str
    kind: str
    latency_ms: float | None = None
    success: bool | None = None
    status: int | None = None
    rate_limited: bool = False
    fields: dict[str, Any] | None = None

    def row(self, pid: int) -> tuple[Any, ...]:
        """Return the parameters of the INSERT statement."""
        return (
            self.ts_ms,
            self.name,
            self.kind,
            self.latency_ms,
            None if self.success is None else int(self.success),
            self.status,
            int(self.rate_limited),
            pid,
            json.dumps(self.fields, default=str, separators=(",", ":")) if self.fields else None,
        )


@dataclass(slots=True)
class RecorderStats:
    """Counters of one recorder since it was created."""

    recorded: int = 0
    written: int = 0
    dropped: int = 0
    failed_flushes: int = 0


class EventRecorder:
    """Buffers events in memory and writes them to the database in batches."""

    def __init__(
        self,
        connection: aiosqlite.Connection | None,
        *,
        clock: Clock = time.time,
        flush_interval_s: float = 1.0,
        batch_size: int = 1000,
        max_buffered: int = 100_000,
    ) -> None:
        self._connection = connection
        self._clock = clock
        self.flush_interval_s = flush_interval_s
        self.batch_size = batch_size
        self._buffer: deque[Event] = deque()
        self._max_buffered = max_buffered
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop_thread: int | None = None
        self._flush_lock = asyncio.Lock()
        self._pid = os.getpid()
        self.stats = RecorderStats()

    @classmethod
    async def open(
        cls, path: Path, *, busy_timeout_s: float = 5.0, **options: Any
    ) -> EventRecorder:
        """Open a connection of its own to the database at `path` and start flushing."""
        connection = await open_database(path, busy_timeout_s=busy_timeout_s)
        recorder = cls(connection, **options)
        recorder.start()
        return recorder

    @property
    def clock(self) -> Clock:
        """The wall clock events are stamped with."""
        return self._clock

    @property
    def buffered(self) -> int:
        """Events waiting to be written."""
        return len(self._buffer)

    def start(self) -> None:
        """Start the background flush task on the running event loop."""
        if self._task is None:
            self._loop_thread = threading.get_ident()
            self._task = asyncio.get_running_loop().create_task(
                self._flush_loop(), name="monitoring-flush"
            )

    def record(self, event: Event) -> None:
        """Buffer `event` for writing without waiting; an error is logged, not raised.

        Other threads may call it too. Their events are written by the next
        periodic flush, because only the event loop's thread triggers an early one.
        """
        try:
            if len(self._buffer) >= self._max_buffered:
                self._buffer.popleft()
                self.stats.dropped += 1
            self._buffer.append(event)
            self.stats.recorded += 1
            if len(self._buffer) >= self.batch_size and threading.get_ident() == self._loop_thread:
                self._wake.set()
        except Exception:  # recording must never break the measured call
            log.exception("recording event %s failed", getattr(event, "name", "?"))

    def record_call(
        self,
        name: str,
        latency_ms: float | None,
        *,
        success: bool | None,
        status: int | None = None,
        rate_limited: bool = False,
        kind: str = KIND_EXTERNAL,
        fields: dict[str, Any] | None = None,
    ) -> None:
        """Buffer one timed call, stamped with the recorder's clock."""
        self.record(
            Event(
                ts_ms=int(self._clock() * 1000),
                name=name,
                kind=kind,
                latency_ms=latency_ms,
                success=success,
                status=status,
                rate_limited=rate_limited,
                fields=fields or None,
            )
        )

    def log_custom(self, name: str, **fields: Any) -> None:
        """Buffer a custom event named `name` with free-form `fields`.

        The fields `latency_ms`, `success` and `status` fill the event's columns:
        an event with a latency or an outcome is a backend function and counts in
        the latency and error-rate KPIs. Fields must never carry patient data.
        """
        outcome = {key: fields.pop(key) for key in _OUTCOME_FIELDS if key in fields}
        latency = outcome.get("latency_ms")
        success = outcome.get("success")
        measured = latency is not None or success is not None
        self.record_call(
            name,
            None if latency is None else float(latency),
            success=None if success is None else bool(success),
            status=outcome.get("status"),
            kind=KIND_FUNCTION if measured else KIND_CUSTOM,
            fields=fields,
        )

    async def flush(self) -> int:
        """Write every buffered event now; return how many were written.

        Raises `sqlite3.Error` when the database rejects the write; the events
        then stay buffered.
        """
        written = 0
        async with self._flush_lock:
            while self._buffer and self._connection is not None:
                count = min(len(self._buffer), self.batch_size)
                batch = [self._buffer.popleft() for _ in range(count)]
                try:
                    await self._write(batch)
                except BaseException:
                    self._buffer.extendleft(reversed(batch))
                    raise
                written += count
                self.stats.written += count
        return written

    async def aclose(self) -> None:
        """Stop the flush task, write what is buffered, and close the connection."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            await self.flush()
        except sqlite3.Error:
            log.exception("final flush failed; %d events lost", len(self._buffer))
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    async def _write(self, batch: list[Event]) -> None:
        assert self._connection is not None
        rows = [event.row(self._pid) for event in batch]
        await self._connection.execute("BEGIN")
        try:
            await self._connection.executemany(_INSERT, rows)
            await self._connection.execute("COMMIT")
        except BaseException:
            await self._connection.execute("ROLLBACK")
            raise

    async def _flush_loop(self) -> None:
        failing = False
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.flush_interval_s)
            self._wake.clear()
            try:
                await self.flush()
            except sqlite3.Error as error:
                self.stats.failed_flushes += 1
                # Logged once per failing streak, so a locked database cannot flood the log.
                if not failing:
                    log.warning("writing monitoring events failed, will retry: %s", error)
                failing = True
            else:
                if failing:
                    log.info("writing monitoring events works again")
                failing = False


@dataclass(slots=True)
class Outcome:
    """Outcome of a measured block, set by the block itself; see `measure`."""

    success: bool | None = True
    status: int | None = None
    fields: dict[str, Any] = field(default_factory=dict)


_current: EventRecorder | None = None


def install(recorder: EventRecorder) -> None:
    """Make `recorder` the one `log_custom` and `measure` use by default."""
    global _current
    _current = recorder


def uninstall(recorder: EventRecorder) -> None:
    """Undo `install` if `recorder` is still the current recorder."""
    global _current
    if _current is recorder:
        _current = None


def current_recorder() -> EventRecorder | None:
    """Return the installed recorder, or None."""
    return _current


def log_custom(name: str, **fields: Any) -> None:
    """Record a custom event with the installed recorder; do nothing without one."""
    recorder = _current
    if recorder is not None:
        recorder.log_custom(name, **fields)


@contextlib.asynccontextmanager
async def measure(
    name: str,
    *,
    recorder: EventRecorder | None = None,
    timer: Callable[[], float] = time.perf_counter,
) -> AsyncIterator[Outcome]:
    """Time the block as the backend function `name`.

    The block may set `success`, `status` and `fields` on the yielded `Outcome`.
    An exception marks the call failed. A cancelled block is not recorded,
    because cancellation (a stale request dropped by the UI) is not a failure
    of the function.
    """
    target = recorder or _current
    outcome = Outcome()
    started = timer()
    try:
        yield outcome
    except asyncio.CancelledError:
        target = None
        raise
    except BaseException as error:
        outcome.success = False
        outcome.fields.setdefault("error", type(error).__name__)
        raise
    finally:
        if target is not None:
            target.record_call(
                name,
                (timer() - started) * 1000.0,
                success=outcome.success,
                status=outcome.status,
                kind=KIND_FUNCTION,
                fields=outcome.fields,
            )
