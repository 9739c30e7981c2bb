"""``run_tui``: configuration errors end the command before the TUI starts."""

from __future__ import annotations

import argparse

from sched_tui.cli.tui import run_tui


def test_invalid_config_exits_2(tmp_path, capsys) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[practice]\ntimezone = "Mars/Olympus"\n', encoding="utf-8")

    status = run_tui(argparse.Namespace(config=str(path)))
    stderr = capsys.readouterr().err

    assert status == 2
    assert stderr.startswith("sched-tui: ")
    assert "practice.timezone" in stderr
    assert "Mars/Olympus" in stderr


def test_missing_config_exits_2(tmp_path, capsys) -> None:
    status = run_tui(argparse.Namespace(config=str(tmp_path / "absent.toml")))

    assert status == 2
    assert "absent.toml" in capsys.readouterr().err
