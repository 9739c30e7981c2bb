"""Fixtures for the monitoring tests: a controlled clock and real SQLite files."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest

from sched_tui.storage import open_database

# 2026-06-01 12:00:00 UTC, a whole minute, so minute buckets are predictable.
START = 1_780_315_200.0


class FakeClock:
    """A wall clock that moves only when a test moves it."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        """Move the clock forward and return the new time."""
        self.now += seconds
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "shared.db"


@pytest.fixture
async def db(db_path: Path) -> AsyncIterator[aiosqlite.Connection]:
    connection = await open_database(db_path)
    try:
        yield connection
    finally:
        await connection.close()


async def insert_events(
    db: aiosqlite.Connection,
    rows: list[tuple[float, str, float | None, bool | None, int | None]],
    *,
    kind: str = "external",
) -> None:
    """Insert (time in s, name, latency ms, success, status) rows as one transaction."""
    await db.execute("BEGIN")
    await db.executemany(
        "INSERT INTO monitoring_events"
        " (ts_ms, name, kind, latency_ms, success, status, rate_limited, pid)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
        [
            (
                int(ts * 1000),
                name,
                kind,
                latency,
                None if success is None else int(success),
                status,
                int(status == 429),
            )
            for ts, name, latency, success, status in rows
        ],
    )
    await db.execute("COMMIT")
