"""``sched-tui`` without a subcommand: configuration errors end it before the TUI starts."""

from __future__ import annotations

from sched_tui.cli import main


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
