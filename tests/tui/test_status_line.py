"""The status line: practice, week, fetch time and provider errors by name."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.tui.conftest import grid_of, make_app, screen_text, wait_loaded
from textual.widgets import Static

from sched_tui.config import ProviderConfig
from sched_tui.providers.ics import IcsProvider
from sched_tui.queue import QueueStats
from sched_tui.tui.queue_link import describe_depth_short
from sched_tui.tui.widgets.status_line import StatusLine

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ics"


def chen_and_broken_rivera(config, tmp_path) -> list[IcsProvider]:
    """Return a working calendar for Sam Chen and one for Dr. Ana Rivera whose file is missing."""
    tz = config.practice.tz
    working = IcsProvider.from_config(
        ProviderConfig(
            name="dr-chen",
            kind="ics",
            path=FIXTURES / "google-chicago-weekly-exdates-utc.ics",
            therapist_id="chen",
            therapist_name="Sam Chen",
        ),
        tz,
    )
    broken = IcsProvider.from_config(
        ProviderConfig(
            name="dr-rivera",
            kind="ics",
            path=tmp_path / "missing.ics",
            therapist_id="rivera",
            therapist_name="Dr. Ana Rivera",
        ),
        tz,
    )
    return [working, broken]


# Week of Monday 30 November 2020: the fixture repeats an 08:15 Chicago event on
# Monday, Tuesday, Thursday and Friday, which is 09:15 in New York.
FIXTURE_NOW = datetime(2020, 12, 2, 17, 0, tzinfo=UTC)


async def test_provider_error_keeps_other_data(config, tmp_path) -> None:
    app, _ = make_app(config, chen_and_broken_rivera(config, tmp_path), clock=lambda: FIXTURE_NOW)

    async with app.run_test(size=(100, 30)) as pilot:
        grid = grid_of(app)
        await wait_loaded(pilot)
        status = app.screen.query_one(StatusLine)
        alerts = status.segment_text("alerts")
        text = screen_text(app)

        assert alerts.startswith("⚠ dr-rivera:")
        assert "not found" in alerts
        assert "dr-chen" not in alerts
        assert "⚠ dr-rivera" in text
        assert grid.rendered((0, 2)).label.startswith("✓9:15 Che")
        assert "✓9:15 Che" in text


async def test_alerts_win_over_added_segments(config, tmp_path) -> None:
    app, _ = make_app(config, chen_and_broken_rivera(config, tmp_path), clock=lambda: FIXTURE_NOW)

    async with app.run_test(size=(100, 30)) as pilot:
        await wait_loaded(pilot)
        status = app.screen.query_one(StatusLine)
        status.set_segment("cache", "cache 87% · 22 entries")
        status.set_segment("queue", "queue 3 pending · 1 failed")
        await pilot.pause()
        alerts = status.segment_text("alerts")
        first_line = screen_text(app).splitlines()[0]

        # The path in the message makes it longer than 100 columns: only the alerts are cut.
        assert "⚠ dr-rivera: calendar file" in first_line
        assert "cache 87%" not in first_line
        assert "queue 3 pending" not in first_line

        await pilot.resize_terminal(len(alerts) + 150, 30)
        await pilot.pause()
        first_line = screen_text(app).splitlines()[0]
        assert alerts in first_line
        assert "cache 87%" in first_line
        assert "queue 3 pending" in first_line


async def test_provider_error_reported_once(config, tmp_path) -> None:
    app, _ = make_app(config, chen_and_broken_rivera(config, tmp_path), clock=lambda: FIXTURE_NOW)
    notified: list[tuple[str, str]] = []
    notify = app.notify

    def record(message: str, **kwargs: Any) -> None:
        notified.append((message, kwargs.get("severity", "information")))
        notify(message, **kwargs)

    app.notify = record  # type: ignore[method-assign]

    async with app.run_test(size=(100, 30)) as pilot:
        await wait_loaded(pilot)
        problems = str(app.screen.query_one("#provider-problems", Static).content)
        text = screen_text(app)

        assert len(notified) == 1
        message, severity = notified[0]
        assert message.startswith("dr-rivera: ")
        assert "not found" in message
        assert severity == "warning"
        assert problems.startswith("⚠ dr-rivera: ")
        assert "not found" in problems
        # The status line cuts the message; the lines under the grid wrap it in full.
        region = app.screen.query_one("#provider-problems").region
        shown = text.splitlines()[region.y : region.bottom]
        assert "".join(problems.split()) == "".join("".join(shown).split())

        await pilot.press("r")
        await wait_loaded(pilot)
        assert len(notified) == 1


async def test_status_shows_practice_week_and_time(config, provider) -> None:
    app, _ = make_app(config, [provider])

    async with app.run_test(size=(100, 30)) as pilot:
        await wait_loaded(pilot)
        status = app.screen.query_one(StatusLine)

        assert status.segment_text("practice") == "Test practice"
        assert status.segment_text("week") == "week of Mon 07 Dec 2026"
        assert status.segment_text("as-of").startswith("as of ")
        assert status.segment_text("alerts") == ""
        assert status.segment_text("state") == ""


async def test_status_segment_added_later(config, provider) -> None:
    app, _ = make_app(config, [provider])

    async with app.run_test(size=(100, 30)) as pilot:
        status = app.screen.query_one(StatusLine)
        status.set_segment("cache", "cache 87% hits")
        await pilot.pause()

        assert status.segment_text("cache") == "cache 87% hits"
        assert "cache 87% hits" in screen_text(app)


async def test_skipped_events_counted_in_status(config, tmp_path) -> None:
    calendar = tmp_path / "mixed.ics"
    calendar.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        "BEGIN:VEVENT\r\nUID:mars\r\nDTSTAMP:20201101T000000Z\r\n"
        "DTSTART;TZID=Mars/Olympus_Mons:20201201T100000\r\n"
        "DTEND;TZID=Mars/Olympus_Mons:20201201T110000\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:earth\r\nDTSTAMP:20201101T000000Z\r\n"
        "DTSTART;TZID=America/New_York:20201201T100000\r\n"
        "DTEND;TZID=America/New_York:20201201T110000\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n",
        encoding="utf-8",
    )
    provider = IcsProvider.from_config(
        ProviderConfig(name="dr-chen", kind="ics", path=calendar, therapist_id="chen"),
        config.practice.tz,
    )
    now = datetime(2020, 12, 2, 17, 0, tzinfo=UTC)
    app, _ = make_app(config, [provider], clock=lambda: now)

    async with app.run_test(size=(100, 30)) as pilot:
        grid = grid_of(app)
        await wait_loaded(pilot)
        alerts = app.screen.query_one(StatusLine).segment_text("alerts")

        assert alerts == "? dr-chen: 1 item skipped"
        assert grid.rendered((1, 4)).label.startswith("✓10:00")


async def test_crowded_line_uses_short_forms(config, provider) -> None:
    """At 80 columns the queue's failed count stays visible through short forms."""
    app, _ = make_app(config, [provider])

    async with app.run_test(size=(80, 24)) as pilot:
        await wait_loaded(pilot)
        status = app.screen.query_one(StatusLine)
        status.set_segment("cache", "cache 87% · 22 entries", short="cache 87%")
        status.set_segment(
            "queue", "queue 1 pending · 0 in flight · 1 failed", short="queue 1 pending · 1 failed"
        )
        await pilot.pause()
        narrow = screen_text(app).splitlines()[0]

        await pilot.resize_terminal(200, 24)
        await pilot.pause()
        wide = screen_text(app).splitlines()[0]

    assert "queue 1 pending · 1 failed" in narrow
    assert "cache 87%" in narrow
    assert "wk 07 Dec" in narrow
    assert status.full_text("week") == "week of Mon 07 Dec 2026"
    for text in ("Test practice", "week of Mon 07 Dec 2026", "cache 87% · 22 entries"):
        assert text in wide
    assert "queue 1 pending · 0 in flight · 1 failed" in wide


def test_short_queue_text_leaves_out_zeros() -> None:
    def stats(pending: int, in_flight: int, failed: int) -> QueueStats:
        return QueueStats(pending, 0, in_flight, 0, 0, failed, None, {}, {})

    assert describe_depth_short(stats(1, 0, 1)) == "queue 1 pending · 1 failed"
    assert describe_depth_short(stats(0, 2, 0)) == "queue 2 sending"
    assert describe_depth_short(stats(0, 0, 0)) == "queue empty"
