"""Filter inputs: debounced queries, cancelled superseded queries, stale results dropped."""

from __future__ import annotations

import asyncio

from tests.tui.conftest import (
    MONDAY,
    MemoryProvider,
    calendar_of,
    grid_of,
    make_app,
    make_config,
    wait_loaded,
    wait_until,
)
from textual.widgets import Input

from sched_tui.model import Filters, Status
from sched_tui.tui.messages import WeekLoaded, WeekQuery


async def test_typing_burst_makes_one_query(tmp_path, provider: MemoryProvider) -> None:
    # Far longer than the gaps between Pilot key presses (under 0.1 s each, more
    # on a loaded machine), so the burst stays inside one debounce window.
    debounce_s = 1.0
    config = make_config(tmp_path, debounce_ms=int(debounce_s * 1000))
    app, aggregator = make_app(config, [provider])

    async with app.run_test(size=(100, 30)) as pilot:
        grid = grid_of(app)
        await wait_loaded(pilot)
        assert len(aggregator.queries) == 1

        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press("r", "i", "v", "e", "r")
        # The burst took far less than the debounce, so no query has started yet.
        assert len(aggregator.queries) == 1

        await wait_until(pilot, lambda: len(aggregator.queries) == 2, limit_s=debounce_s + 2)
        await pilot.pause(debounce_s * 1.5)
        await app.workers.wait_for_complete()

        assert len(aggregator.queries) == 2
        assert aggregator.queries[-1] == (MONDAY, Filters(therapist="river"))
        assert grid.rendered((0, 2)).label.startswith("✓9:00 Riv")


async def test_status_choice_queries_at_once(tmp_path, provider: MemoryProvider) -> None:
    app, aggregator = make_app(make_config(tmp_path, debounce_ms=5000), [provider])

    async with app.run_test(size=(100, 30)) as pilot:
        grid = grid_of(app)
        await wait_loaded(pilot)

        app.screen.query_one("#filter-status").value = "tentative"
        await wait_until(pilot, lambda: len(aggregator.queries) == 2)
        await wait_loaded(pilot)

        assert aggregator.queries[-1][1] == Filters(status=Status.TENTATIVE)
        assert grid.rendered((0, 2)).label.startswith("?9:00 Che")


async def test_superseded_query_is_cancelled(config, provider: MemoryProvider) -> None:
    app, aggregator = make_app(config, [provider])

    async with app.run_test(size=(100, 30)) as pilot:
        grid = grid_of(app)
        await wait_loaded(pilot)
        provider.gate = asyncio.Event()

        await pilot.press("l")
        await wait_until(pilot, lambda: len(provider.ranges) == 2)
        await pilot.press("l")
        await wait_until(pilot, lambda: len(provider.ranges) == 3)
        provider.gate.set()
        await wait_loaded(pilot)
        await app.workers.wait_for_complete()

        first_next, second_next = aggregator.queries[1][0], aggregator.queries[2][0]
        assert [query[0] for query in aggregator.cancelled] == [first_next]
        assert provider.cancelled_fetches == 1
        assert calendar_of(app).week.start == second_next
        assert not grid.has_placeholders


async def test_stale_result_not_painted(config, provider: MemoryProvider) -> None:
    app, _ = make_app(config, [provider])

    async with app.run_test(size=(100, 30)) as pilot:
        grid = grid_of(app)
        await wait_loaded(pilot)
        screen = calendar_of(app)
        calendar = screen.calendar
        assert calendar is not None

        stale = WeekQuery(screen.generation - 1, screen.week, screen.filters)
        screen.post_message(WeekLoaded(stale, calendar))
        await pilot.pause()

        assert grid.paint_count == 1
