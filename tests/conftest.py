"""Settings shared by every test: no test reads or writes the real home folder."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Point the user config, data, state and log folders at a temporary folder.

    Subprocesses started by a test inherit these variables, so they too stay
    away from the real `~/.config/sched-tui` and its database.
    """
    home = tmp_path_factory.mktemp("home")
    for variable in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(variable, str(home / variable.lower()))
    monkeypatch.setenv("SCHED_TUI_LOG", str(home / "sched-tui.log"))
    monkeypatch.delenv("SCHED_TUI_CONFIG", raising=False)
    return home
