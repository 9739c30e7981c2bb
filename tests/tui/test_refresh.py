"""Refresh repaints only the cells whose content changed."""

from __future__ import annotations

from tests.tui.conftest import MemoryProvider, grid_of, make_app, screen_text, wait_loaded

from sched_tui.model import Status


async def test_refresh_updates_only_changed_cell(config, provider: MemoryProvider) -> None:
    app, _ = make_app(config, [provider])

    async with app.run_test(size=(100, 30)) as pilot:
        grid = grid_of(app)
        await wait_loaded(pilot)
        assert grid.last_paint_count > 5
        before = {key: grid.rendered(key) for key in grid.shape.cell_keys()}

        provider.restatus("a3", Status.TENTATIVE)
        await pilot.press("r")
        await wait_loaded(pilot)
        after = {key: grid.rendered(key) for key in grid.shape.cell_keys()}

        changed = [key for key in before if before[key] != after[key]]
        assert changed == [(2, 12)]
        assert grid.last_paint_count == 1
        assert after[(2, 12)].label.startswith("?14:00 Che")
        assert after[(2, 12)].tone == "tentative"
        assert "?14:00 Che" in screen_text(app)


async def test_refresh_without_change_paints_nothing(config, provider: MemoryProvider) -> None:
    app, _ = make_app(config, [provider])

    async with app.run_test(size=(100, 30)) as pilot:
        grid = grid_of(app)
        await wait_loaded(pilot)

        await pilot.press("r")
        await wait_loaded(pilot)

        assert grid.last_paint_count == 0
