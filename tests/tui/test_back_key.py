"""The queue, KPI and alert-history screens go back to the calendar the same way."""

from __future__ import annotations

import pytest
from tests.tui.conftest import make_app, screen_text, wait_loaded, wait_until

from sched_tui.tui.screens.calendar import CalendarScreen


@pytest.mark.parametrize("open_key", ["u", "K", "A"])
@pytest.mark.parametrize("back_key", ["escape", "w"])
async def test_back_key_same_on_every_pane(config, provider, open_key, back_key) -> None:
    app, _ = make_app(config, [provider])

    async with app.run_test(size=(100, 30)) as pilot:
        await wait_loaded(pilot)
        await pilot.press(open_key)
        await wait_until(pilot, lambda: not isinstance(app.screen, CalendarScreen))
        footer = screen_text(app).splitlines()[-1]

        assert "esc Calendar" in footer
        assert "w Calendar" not in footer

        await pilot.press(back_key)
        await wait_until(pilot, lambda: isinstance(app.screen, CalendarScreen))
