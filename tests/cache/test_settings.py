"""``[cache]`` in config.toml: defaults, values and rejected values."""

from __future__ import annotations

import pytest

from sched_tui.config import CacheConfig, ConfigError, parse_config


def test_defaults_match_requirement() -> None:
    config = parse_config({})

    assert config.cache == CacheConfig()
    assert config.cache.profiles_ttl_s == 900
    assert config.cache.availability_ttl_s == 900
    assert config.cache.services_ttl_s == 3600


def test_values_are_read() -> None:
    config = parse_config(
        {"cache": {"availability_ttl_s": 60, "services_maxsize": 10, "jitter": 0.25}}
    )

    assert config.cache.availability_ttl_s == 60
    assert config.cache.services_maxsize == 10
    assert config.cache.jitter == 0.25
    assert config.warnings == ()


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("jitter", 0.9, "from 0.0 to 0.5"),
        ("profiles_maxsize", 0, "from 1 to 1000000"),
        ("invalidation_poll_s", 5, "from 0.05 to 1.5"),
        ("services_ttl_s", "1h", "a number"),
    ],
)
def test_invalid_value_names_key(key: str, value: object, expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config({"cache": {key: value}})

    assert raised.value.key == f"cache.{key}"
    assert expected in raised.value.expected


def test_unknown_key_warns() -> None:
    config = parse_config({"cache": {"ttl": 5}})

    assert config.warnings == ("config: unknown key cache.ttl is ignored",)
