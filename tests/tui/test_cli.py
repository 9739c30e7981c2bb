"""``sched-tui`` without a subcommand: configuration errors end it before the TUI starts,
and --week chooses the week it opens on."""

from __future__ import annotations

from datetime import date

import pytest
from tests.tui.conftest import NOW, CountingAggregator, grid_of, wait_loaded

from sched_tui.cli import main
from sched_tui.reads import DirectReads
from sched_tui.services import Services
from sched_tui.tui.app import SchedApp
from sched_tui.tui.widgets.status_line import StatusLine


def test_invalid_config_exits_2(tmp_path, capsys) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[practice]\ntimezone = "Mars/Olympus"\n', encoding="utf-8")

    status = main(["--config", str(path)])
    stderr = capsys.readouterr().err

    assert status == 2
    assert stderr.startswith("sched-tui: ")
    assert "practice.timezone" in stderr
    assert "Mars/Olympus" in stderr


def test_missing_config_exits_2(tmp_path, capsys) -> None:
    status = main(["--config", str(tmp_path / "absent.toml")])

    assert status == 2
    assert "absent.toml" in capsys.readouterr().err


def test_week_option_opens_that_week(tmp_path, monkeypatch) -> None:
    opened: list[object] = []

    def record_run(app: SchedApp) -> None:
        opened.append(app.initial_date)

    monkeypatch.setattr(SchedApp, "run", record_run)
    monkeypatch.setenv("SCHED_TUI_LOG", str(tmp_path / "log.txt"))

    assert main(["--demo", "--week", "2018-03-28"]) == 0
    assert opened == [date(2018, 3, 28)]


def test_week_option_rejects_invalid_date(capsys) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["--demo", "--week", "2018-13-01"])

    assert raised.value.code == 2
    assert "invalid date '2018-13-01'" in capsys.readouterr().err


async def test_initial_date_shows_its_week(config, provider) -> None:
    aggregator = CountingAggregator([provider], config.practice.tz)
    services = Services(config=config, aggregator=aggregator, reads=DirectReads())
    app = SchedApp(config, services=services, clock=lambda: NOW, initial_date=date(2018, 3, 28))

    async with app.run_test(size=(100, 30)) as pilot:
        await wait_loaded(pilot)
        status = app.screen.query_one(StatusLine)

        assert status.segment_text("week") == "week of Mon 26 Mar 2018"
        assert aggregator.queries[0][0] == date(2018, 3, 26)
        # The cursor starts on the date asked for, a Wednesday, not on today's weekday.
        assert grid_of(app).cursor[0] == 2
