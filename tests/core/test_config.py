"""Config loading: search order, validation messages, warnings, secrets."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from sched_tui.config import ConfigError, default_config, find_config_path, load_config

# The repository's example config must load as it is.
EXAMPLE = Path(__file__).resolve().parents[2] / "config.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_loads() -> None:
    config = load_config(EXAMPLE)

    assert config.warnings == ()
    assert config.providers


def test_default_is_sandbox_demo() -> None:
    config = default_config()

    assert config.source is None
    assert [p.kind for p in config.providers] == ["zocdoc"]
    assert config.providers[0].base_url is None


def test_search_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from_env = write(tmp_path, "")
    explicit = tmp_path / "explicit.toml"
    monkeypatch.setenv("SCHED_TUI_CONFIG", str(from_env))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))

    assert find_config_path(explicit) == explicit
    assert find_config_path() == from_env

    monkeypatch.delenv("SCHED_TUI_CONFIG")
    assert find_config_path() is None

    user_file = tmp_path / "xdg" / "sched-tui" / "config.toml"
    user_file.parent.mkdir(parents=True)
    user_file.write_text("", encoding="utf-8")
    assert find_config_path() == user_file


def test_relative_path_is_read_from_config_folder(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [[providers]]
        name = "dr-rivera"
        kind = "ics"
        path = "calendars/rivera.ics"
        therapist_name = "Dr. Ana Rivera"
        """,
    )

    provider = load_config(path).providers[0]

    assert provider.path == tmp_path / "calendars" / "rivera.ics"
    assert provider.therapist_id == "dr-rivera"
    assert provider.therapist_name == "Dr. Ana Rivera"


@pytest.mark.parametrize(
    ("text", "key", "value", "expected"),
    [
        ('[practice]\ntimezone = "Mars/Olympus"', "practice.timezone", "Mars/Olympus", "IANA"),
        ('[practice]\nday_start = "8am"', "practice.day_start", "8am", "HH:MM"),
        (
            '[practice]\nday_start = "18:00"\nday_end = "09:00"',
            "practice.day_end",
            "09:00",
            "later",
        ),
        ('[practice]\nday_start = "21:00"', "practice.day_start", "21:00", "earlier"),
        ("[practice]\nslot_minutes = 25", "practice.slot_minutes", 25, "15, 20, 30 or 60"),
        ("[ui]\ndebounce_ms = -1", "ui.debounce_ms", -1, "integer"),
        ('[ui]\ndebounce_ms = "fast"', "ui.debounce_ms", "fast", "integer"),
        ('[[providers]]\nname = "x"\nkind = "exchange"', "providers[0].kind", "exchange", "'ics'"),
        (
            '[[providers]]\nname = "x"\nkind = "ics"',
            "providers[0].path/url/caldav",
            "none",
            "exactly one",
        ),
        (
            '[[providers]]\nname = "x"\nkind = "ics"\nurl = "ftp://a/b.ics"',
            "providers[0].url",
            "ftp://a/b.ics",
            "http",
        ),
        (
            '[[providers]]\nname = "x"\nkind = "zocdoc"\nclient_secret = "s3cret"',
            "providers[0].client_secret",
            "(hidden)",
            "client_secret_env",
        ),
        (
            '[[providers]]\nname = "a"\nkind = "zocdoc"\n'
            '[[providers]]\nname = "a"\nkind = "zocdoc"',
            "providers[1].name",
            "a",
            "no other provider",
        ),
    ],
)
def test_invalid_value_names_file_key_value(
    tmp_path: Path, text: str, key: str, value: object, expected: str
) -> None:
    path = write(tmp_path, text)

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    assert caught.value.source == str(path)
    assert caught.value.key == key
    assert caught.value.value == value
    assert expected in caught.value.expected
    assert str(path) in str(caught.value)


def test_storage_path_in_missing_folder(tmp_path: Path) -> None:
    """A database path whose folder does not exist is an error, not a new folder."""
    absent = tmp_path / "no-such-folder" / "sched.db"
    path = write(tmp_path, f'[storage]\npath = "{absent}"')

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    assert caught.value.key == "storage.path"
    assert caught.value.value == str(absent)
    assert f"create {absent.parent} first" in caught.value.expected
    assert not absent.parent.exists()
    relative = write(tmp_path, '[storage]\npath = "sched.db"')
    assert load_config(relative).storage.path == tmp_path / "sched.db"


def test_storage_path_that_is_a_folder(tmp_path: Path) -> None:
    path = write(tmp_path, f'[storage]\npath = "{tmp_path}"')

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    assert caught.value.key == "storage.path"
    assert "not a folder" in caught.value.expected


def test_secret_value_never_in_message(tmp_path: Path) -> None:
    path = write(tmp_path, '[[providers]]\nname = "x"\nkind = "zocdoc"\nclient_secret = "s3cret"')

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    assert "s3cret" not in str(caught.value)


def test_unknown_keys_warn(tmp_path: Path) -> None:
    path = write(tmp_path, '[practice]\ntimezon = "UTC"\n[colours]\nx = 1')

    config = load_config(path)

    assert any("practice.timezon" in warning for warning in config.warnings)
    assert any("colours" in warning for warning in config.warnings)


def test_missing_file_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "absent.toml")

    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(write(tmp_path, "[practice\n"))


def test_practice_hours_parse(tmp_path: Path) -> None:
    path = write(tmp_path, '[practice]\nday_start = "07:30"\nday_end = "21:00"\nslot_minutes = 15')

    practice = load_config(path).practice

    assert practice.day_start == time(7, 30)
    assert practice.day_end == time(21, 0)
    assert practice.slot_minutes == 15
