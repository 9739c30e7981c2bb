"""Quitting ends every background task and closes the services."""

from __future__ import annotations

import asyncio

from tests.tui.conftest import MemoryProvider, make_app, wait_until
from textual.worker import WorkerState


async def test_quit_cancels_workers_and_closes(config, provider: MemoryProvider) -> None:
    provider.gate = asyncio.Event()  # never set: the fetch is still running at quit
    app, aggregator = make_app(config, [provider])
    tasks_before = asyncio.all_tasks()

    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: len(provider.ranges) == 1)
        workers = list(app.workers)
        assert [worker.group for worker in workers] == ["calendar-fetch"]

        await pilot.press("q")

    assert len(app.workers) == 0
    assert all(worker.state is WorkerState.CANCELLED for worker in workers)
    assert provider.cancelled_fetches == 1
    assert len(aggregator.cancelled) == 1
    assert provider.closed
    assert provider.running_at_close == 0
    assert app.return_value == 0
    leftover = [task for task in asyncio.all_tasks() - tasks_before if not task.done()]
    assert leftover == []


async def test_services_started_by_factory_are_closed(config, provider: MemoryProvider) -> None:
    from sched_tui.aggregator import Aggregator
    from sched_tui.reads import DirectReads
    from sched_tui.services import Services
    from sched_tui.tui.app import SchedApp

    started = asyncio.Event()

    async def factory(cfg):
        started.set()
        aggregator = Aggregator([provider], cfg.practice.tz)
        return Services(config=cfg, aggregator=aggregator, reads=DirectReads())

    app = SchedApp(config, services_factory=factory)

    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: len(provider.ranges) == 1)
        assert started.is_set()
        await pilot.press("q")

    assert provider.closed
    assert len(app.workers) == 0


async def test_failed_start_shows_banner(config) -> None:
    from tests.tui.conftest import screen_text

    from sched_tui.tui.app import SchedApp

    async def factory(cfg):
        raise OSError("database is locked")

    app = SchedApp(config, services_factory=factory)

    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: "week not loaded" in screen_text(app))
        text = screen_text(app)

        assert "✗ could not start: database is locked" in text
        assert "week not loaded" in text
        assert "···" in text
