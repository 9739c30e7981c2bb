"""Week navigation fetches only the week that comes on screen."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from tests.tui.conftest import (
    MONDAY,
    MemoryProvider,
    calendar_of,
    grid_of,
    make_app,
    wait_loaded,
)

from sched_tui.model import Week
from sched_tui.tui.cells import column_spans


def week_range(monday: date, app) -> tuple[datetime, datetime]:
    week = Week(monday, app.config.practice.tz)
    return week.start_at, week.end_at


async def test_navigation_fetches_only_new_week(config, provider: MemoryProvider) -> None:
    app, _ = make_app(config, [provider])
    steps = [
        ("l", MONDAY + timedelta(weeks=1)),
        ("h", MONDAY),
        ("h", MONDAY - timedelta(weeks=1)),
        ("t", MONDAY),
    ]

    async with app.run_test(size=(100, 30)) as pilot:
        grid = grid_of(app)
        await wait_loaded(pilot)
        assert provider.ranges == [week_range(MONDAY, app)]

        for count, (key, monday) in enumerate(steps, start=2):
            await pilot.press(key)
            await wait_loaded(pilot)

            assert len(provider.ranges) == count, key
            assert provider.ranges[-1] == week_range(monday, app), key
            assert calendar_of(app).week.start == monday
            assert not grid.has_placeholders

        await pilot.press("t")  # already on today's week: nothing to fetch
        await pilot.pause()
        assert len(provider.ranges) == len(steps) + 1


async def test_arrow_past_sunday_shows_next_week(config, provider: MemoryProvider) -> None:
    app, _ = make_app(config, [provider])

    async with app.run_test(size=(100, 30)) as pilot:
        grid = grid_of(app)
        await wait_loaded(pilot)
        assert grid.cursor == (3, 0)  # today, Thursday

        await pilot.press("right", "right", "right")
        assert grid.cursor == (6, 0)
        assert len(provider.ranges) == 1

        await pilot.press("right")
        await wait_loaded(pilot)

        assert grid.cursor == (0, 0)
        assert provider.ranges[-1] == week_range(MONDAY + timedelta(weeks=1), app)


async def test_cursor_shows_cell_details(config, provider: MemoryProvider) -> None:
    app, _ = make_app(config, [provider])

    async with app.run_test(size=(100, 30)) as pilot:
        grid = grid_of(app)
        await wait_loaded(pilot)

        grid.move_cursor((0, 2))
        await pilot.pause()
        details = str(app.screen.query_one("#detail-items").content)

        assert "Dr. Ana Rivera" in details
        assert "Sam Chen" in details
        assert "tentative" in details
        assert "Mon 07 Dec 2026, from 09:00" in str(app.screen.query_one("#detail-heading").content)


async def test_click_selects_cell(config, provider: MemoryProvider) -> None:
    app, _ = make_app(config, [provider])

    async with app.run_test(size=(100, 30)) as pilot:
        grid = grid_of(app)
        await wait_loaded(pilot)
        row = grid.row_widget(3)
        x, _ = column_spans(row.size.width)[2]

        await pilot.click(row, offset=(x + 1, 0))

        assert grid.cursor == (2, 3)
        assert "Wed 09 Dec 2026, from 09:30" in str(app.screen.query_one("#detail-heading").content)
