"""Fixtures for the write queue: a controlled clock, a database file and scripted targets."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from queue_helpers import FakeClock

from sched_tui.config import QueueConfig
from sched_tui.queue import Processor, QueueStore


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "queue.db"


@pytest.fixture
def settings() -> QueueConfig:
    """Defaults, except no rate limit so tests control pacing explicitly."""
    return replace(QueueConfig(), default_rate_limit_per_s=0.0)


@pytest.fixture
async def store(
    db_path: Path, clock: FakeClock, settings: QueueConfig
) -> AsyncIterator[QueueStore]:
    opened = await QueueStore.open(
        db_path,
        now=clock.now,
        max_attempts=settings.max_attempts,
        max_takeovers=settings.max_takeovers,
        owner="test",
    )
    yield opened
    await opened.aclose()


@pytest.fixture
def make_processor(
    store: QueueStore, clock: FakeClock, settings: QueueConfig
) -> Callable[..., Processor]:
    def build(targets: Mapping[str, Any], **overrides: Any) -> Processor:
        return Processor(store, targets, replace(settings, **overrides), clock=clock)

    return build
