"""Log set-up: one handler however often it is configured."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from sched_tui.logs import configure_logging


def test_configure_twice_adds_one_handler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "logs" / "sched-tui.log"
    monkeypatch.setenv("SCHED_TUI_LOG", str(path))
    root = logging.getLogger("sched_tui")
    before = list(root.handlers)
    try:
        assert configure_logging() == path
        assert configure_logging() == path
        added = [handler for handler in root.handlers if handler not in before]

        logging.getLogger("sched_tui.test").warning("provider %s failed", "dr-x")
        for handler in added:
            handler.flush()

        assert len(added) == 1
        assert path.read_text(encoding="utf-8").count("provider dr-x failed") == 1
    finally:
        for handler in root.handlers[:]:
            if handler not in before:
                root.removeHandler(handler)
                handler.close()
