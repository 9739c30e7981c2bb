"""The grid fits small terminals and reads without colour."""

from __future__ import annotations

import pytest
from tests.tui.conftest import (
    MemoryProvider,
    grid_of,
    make_app,
    screen_text,
    wait_loaded,
    wait_until,
)
from textual.containers import VerticalScroll
from textual.widgets import Static

from sched_tui.tui.app import SchedApp
from sched_tui.tui.cells import column_spans
from sched_tui.tui.screens.keys import KeysScreen
from sched_tui.tui.stylesheets import stylesheet_path


def segment_style(app, text: str):
    """Return the style of the first on-screen segment that starts with `text`."""
    for strip in app.screen._compositor.render_strips():
        for segment in strip:
            if segment.text.startswith(text):
                return segment.style
    raise AssertionError(f"{text!r} not on screen")


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (160, 50)])
async def test_grid_renders_at_size(config, provider: MemoryProvider, size) -> None:
    app, _ = make_app(config, [provider])

    async with app.run_test(size=size) as pilot:
        grid = grid_of(app)
        await wait_loaded(pilot)
        lines = screen_text(app).splitlines()
        header = next(line for line in lines if "Tue 08" in line)
        spans = column_spans(grid.row_widget(0).size.width)

        assert len(lines) == size[1]
        assert all(len(line) <= size[0] for line in lines)
        for day in ("Mon 07", "Tue 08", "Wed 09", "▸Thu 10", "Fri 11", "Sat 12", "Sun 13"):
            assert day in header
        assert any("2: ✓Riv" in line for line in lines)
        assert any(" q " in line and "Quit" in line for line in lines)
        assert min(width for _, width in spans) >= 8
        assert spans[-1][0] + spans[-1][1] <= grid.row_widget(0).size.width


async def test_no_color_keeps_glyphs_and_selection(
    config, provider: MemoryProvider, monkeypatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app, _ = make_app(config, [provider])

    async with app.run_test(size=(80, 24)) as pilot:
        grid = grid_of(app)
        await wait_loaded(pilot)
        grid.move_cursor((0, 2))
        await pilot.pause()
        text = screen_text(app)
        cursor_style = segment_style(app, "2: ✓Riv")
        today_style = segment_style(app, "▸Thu 10")

        assert app.no_color
        assert "2: ✓Riv" in text
        assert "?9:00 Che" not in text  # two items share the cell, shown as a count
        assert cursor_style.reverse
        assert cursor_style.bold
        assert today_style.bold
        assert today_style.underline


def test_stylesheets_found() -> None:
    for name in ("app.tcss", "calendar.tcss"):
        assert stylesheet_path(name).is_file(), name
    assert all(path.is_file() for path in SchedApp.CSS_PATH)


async def test_idle_app_does_not_repaint(config, provider: MemoryProvider) -> None:
    app, _ = make_app(config, [provider])

    async with app.run_test(size=(100, 30)) as pilot:
        await wait_loaded(pilot)
        await pilot.pause(0.1)
        writes = 0
        display = app._display

        def counting_display(*args, **kwargs):
            nonlocal writes
            writes += 1
            return display(*args, **kwargs)

        app._display = counting_display
        # Longer than a cursor blink (0.5 s), with the grid and then a filter input focused.
        await pilot.pause(0.6)
        grid_writes = writes
        await pilot.press("slash")
        await pilot.pause(0.1)
        writes = 0
        await pilot.pause(0.6)

        assert grid_writes == 0
        assert writes == 0


async def test_keys_dialog_lists_hidden_bindings(config, provider: MemoryProvider) -> None:
    """At 80x24 the keys dialog lists keys the footer hides, and scrolls to the last one."""
    app, _ = make_app(config, [provider])

    async with app.run_test(size=(80, 24)) as pilot:
        await wait_loaded(pilot)
        footer = screen_text(app).splitlines()[-1]
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, KeysScreen))
        keys_text = str(app.screen.query_one("#keys-text", Static).content)
        listing = app.screen.query_one("#keys-list", VerticalScroll)
        assert listing.has_focus
        assert listing.max_scroll_y > 0
        await pilot.press("end")
        await pilot.pause()
        scrolled = listing.scroll_y == listing.max_scroll_y
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: not isinstance(app.screen, KeysScreen))

    assert "? Keys" in footer
    assert "q Quit" in footer
    for description in ("Reload", "Move", "Cancel appt", "Send now", "Alert history"):
        assert description in keys_text
    assert "Invalidate all" in keys_text
    assert scrolled
