"""``sched-tui week``: JSON shape, occurrences from real calendars, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sched_tui.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ics"

CONFIG = """
[practice]
name = "Lakeside"
timezone = "Europe/Zurich"

[[providers]]
name = "dr-keller"
kind = "ics"
path = "{zurich}"
therapist_id = "keller"
therapist_name = "Dr. Lena Keller"

[[providers]]
name = "dr-martin"
kind = "ics"
path = "{paris}"
therapist_id = "martin"
therapist_name = "Dr. Paul Martin"
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        CONFIG.format(
            zurich=FIXTURES / "google-zurich-dst-daily-multiday-allday.ics",
            paris=FIXTURES / "thunderbird-weekly-exdates-cancelled.ics",
        ),
        encoding="utf-8",
    )
    return path


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    status = main(["week", "--json", *argv])
    return status, json.loads(capsys.readouterr().out)


def test_dst_week_from_google_calendar(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, week = run_json(capsys, "--config", str(config_file), "--week", "2024-03-27")

    assert status == 0
    assert week["week_start"] == "2024-03-25"
    assert week["timezone"] == "Europe/Zurich"
    assert week["errors"] == []
    # DAILY;COUNT=30 from Mon 2024-03-25 07:00 Europe/Zurich: one a day, and the
    # clocks go forward on Sunday 31 March, so that morning is +02:00.
    daily = [a for a in week["appointments"] if not a["all_day"]]
    assert [a["start"] for a in daily] == [
        "2024-03-25T07:00:00+01:00",
        "2024-03-26T07:00:00+01:00",
        "2024-03-27T07:00:00+01:00",
        "2024-03-28T07:00:00+01:00",
        "2024-03-29T07:00:00+01:00",
        "2024-03-30T07:00:00+01:00",
        "2024-03-31T07:00:00+02:00",
    ]
    assert daily[-1]["end"] == "2024-03-31T08:00:00+02:00"
    # All-day events keep their dates, with the iCalendar exclusive end.
    all_day = [(a["start"], a["end"], a["summary"]) for a in week["appointments"] if a["all_day"]]
    assert all_day == [
        ("2024-03-25", "2024-03-26", "all day"),
        ("2024-03-27", "2024-03-29", "all 2 days"),
    ]


def test_appointment_fields(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, week = run_json(capsys, "--config", str(config_file), "--week", "2024-03-25")

    first = week["appointments"][0]
    assert set(first) == {
        "therapist_id",
        "therapist_name",
        "source",
        "start",
        "end",
        "all_day",
        "summary",
        "service",
        "status",
    }
    assert first["therapist_id"] == "keller"
    assert first["therapist_name"] == "Dr. Lena Keller"
    assert first["source"] == "dr-keller"
    assert first["status"] == "confirmed"


def test_cancelled_override_kept(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, week = run_json(capsys, "--config", str(config_file), "--week", "2018-03-28")

    assert status == 0
    # The weekly Monday 20:30 Europe/Paris class has a RECURRENCE-ID override for
    # 2018-03-26 with STATUS:CANCELLED; Paris is on summer time (+02:00) since 25 March.
    martin = [a for a in week["appointments"] if a["therapist_id"] == "martin"]
    assert [(a["start"], a["status"]) for a in martin] == [
        ("2018-03-26T20:30:00+02:00", "cancelled")
    ]


def test_failed_provider_exits_one_and_keeps_others(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = config_file.read_text(encoding="utf-8").replace(
        "thunderbird-weekly-exdates-cancelled.ics", "no-such-calendar.ics"
    )
    config_file.write_text(broken, encoding="utf-8")

    status, week = run_json(capsys, "--config", str(config_file), "--week", "2024-03-27")

    assert status == 1
    assert [error["provider"] for error in week["errors"]] == ["dr-martin"]
    assert "no-such-calendar.ics" in week["errors"][0]["message"]
    # The provider's name is in its own field, not repeated in front of the message.
    assert not week["errors"][0]["message"].startswith("dr-martin")
    assert len(week["appointments"]) == 9


def test_invalid_config_exits_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[practice]\ntimezone = "Nowhere/City"\n', encoding="utf-8")

    status = main(["week", "--config", str(path)])

    assert status == 2
    message = capsys.readouterr().err
    assert str(path) in message
    assert "practice.timezone" in message
    assert "Nowhere/City" in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [("27/03/2024", "YYYY-MM-DD"), ("9999-12-31", "from 1900-01-01"), ("0001-01-01", "to 2999")],
)
def test_invalid_week_exits_two(
    capsys: pytest.CaptureFixture[str], value: str, expected: str
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["week", "--week", value])

    assert caught.value.code == 2
    assert expected in capsys.readouterr().err


def test_console_script_text_output(config_file: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sched_tui",
            "week",
            "--config",
            str(config_file),
            "--week",
            "2024-03-31",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "Lakeside: week of 2024-03-25 (Europe/Zurich)" in result.stdout
    assert "Sun 2024-03-31" in result.stdout
    assert "07:00-08:00  Dr. Lena Keller" in result.stdout


def test_demo_flag_ignores_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "config.toml"
    broken.write_text('[practice]\ntimezone = "Nowhere/City"\n', encoding="utf-8")
    monkeypatch.setenv("SCHED_TUI_CONFIG", str(broken))

    status, week = run_json_demo(capsys)

    assert status == 0
    assert week["timezone"] == "America/New_York"
    assert week["appointments"]


def run_json_demo(capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:
    status = main(["--demo", "week", "--json"])
    return status, json.loads(capsys.readouterr().out)


def test_skipped_event_reported_as_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    calendar = tmp_path / "mixed.ics"
    calendar.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        "BEGIN:VEVENT\r\nUID:mars\r\nDTSTAMP:20240101T000000Z\r\n"
        "DTSTART;TZID=Mars/Olympus_Mons:20240305T100000\r\n"
        "DTEND;TZID=Mars/Olympus_Mons:20240305T110000\r\nSUMMARY:Lost\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:earth\r\nDTSTAMP:20240101T000000Z\r\n"
        "DTSTART;TZID=Europe/Zurich:20240305T100000\r\n"
        "DTEND;TZID=Europe/Zurich:20240305T110000\r\nSUMMARY:Kept\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n",
        encoding="utf-8",
    )
    config = tmp_path / "config.toml"
    config.write_text(
        '[practice]\ntimezone = "Europe/Zurich"\n\n'
        f'[[providers]]\nname = "dr-keller"\nkind = "ics"\npath = "{calendar}"\n',
        encoding="utf-8",
    )

    status, week = run_json(capsys, "--config", str(config), "--week", "2024-03-05")

    # The event in an unresolvable zone is skipped, never read as UTC, and the
    # week reports it as a warning without counting the provider as failed.
    assert status == 0
    assert [a["summary"] for a in week["appointments"]] == ["Kept"]
    assert [w["provider"] for w in week["warnings"]] == ["dr-keller"]
    assert "Mars/Olympus_Mons" in week["warnings"][0]["message"]


def test_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    # `kpi --watch` keeps printing; a reader that stops early must not cause a traceback.
    process = subprocess.Popen(
        [sys.executable, "-m", "sched_tui", "--demo", "kpi", "--watch", "0.5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    first_line = process.stdout.readline()
    process.stdout.close()
    try:
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()

    assert first_line.startswith("KPIs at")
    assert process.returncode == 1
    assert "Traceback" not in stderr
