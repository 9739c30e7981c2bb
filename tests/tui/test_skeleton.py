"""The grid frame and placeholder cells show before any data arrive."""

from __future__ import annotations

import asyncio

from tests.tui.conftest import (
    MemoryProvider,
    grid_of,
    make_app,
    screen_text,
    wait_loaded,
    wait_until,
)

from sched_tui.tui.cells import PLACEHOLDER_LABEL


async def test_placeholders_shown_until_data_arrive(config, provider: MemoryProvider) -> None:
    provider.gate = asyncio.Event()
    app, _ = make_app(config, [provider])

    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: len(provider.ranges) == 1)
        grid = grid_of(app)
        text = screen_text(app)

        assert grid.has_placeholders
        assert all(grid.rendered(key).label == PLACEHOLDER_LABEL for key in grid.shape.cell_keys())
        assert PLACEHOLDER_LABEL in text
        assert "Mon 07" in text
        assert "loading…" in text

        provider.gate.set()
        await wait_loaded(pilot)
        text = screen_text(app)

        assert not grid.has_placeholders
        assert PLACEHOLDER_LABEL not in text
        assert grid.rendered((0, 2)).label == "2: ✓Riv ?Che"
        assert "2: ✓Riv ?Che" in text
        assert "loading…" not in text


async def test_week_change_shows_placeholders_again(config, provider: MemoryProvider) -> None:
    app, _ = make_app(config, [provider])

    async with app.run_test(size=(100, 30)) as pilot:
        grid = grid_of(app)
        await wait_loaded(pilot)
        assert not grid.has_placeholders

        provider.gate = asyncio.Event()
        await pilot.press("l")
        await wait_until(pilot, lambda: len(provider.ranges) == 2)

        assert grid.has_placeholders
        assert PLACEHOLDER_LABEL in screen_text(app)
        assert "Mon 14" in screen_text(app)

        provider.gate.set()
        await wait_until(pilot, lambda: not grid.has_placeholders)
        assert PLACEHOLDER_LABEL not in screen_text(app)
