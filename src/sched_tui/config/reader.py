"""Typed, validated access to one TOML table.

Each getter names the file, the dotted key, the value found and what was
expected when the value is wrong, so a practice can fix its config.toml from
the message alone. Keys that no getter asked for are reported as warnings by
`Table.unknown_keys`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import time
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
_MISSING = object()


class ConfigError(Exception):
    """An invalid configuration value, described so that it can be fixed."""

    def __init__(
        self, source: str, key: str, value: object, expected: str, message: str | None = None
    ) -> None:
        self.source = source
        self.key = key
        self.value = value
        self.expected = expected
        super().__init__(
            message or f"{source}: invalid value for {key}: {value!r}; expected {expected}"
        )

    @classmethod
    def for_file(cls, source: str, problem: str, fix: str) -> ConfigError:
        """Build the error for a config file that cannot be read at all."""
        return cls(source, "", None, fix, message=f"{source}: {problem}; {fix}")


class Table:
    """One TOML table of a config file, read key by key."""

    def __init__(self, data: dict[str, Any], prefix: str, source: str) -> None:
        self.data = data
        self.prefix = prefix
        self.source = source
        self._read: set[str] = set()
        self._children: dict[str, Table] = {}

    def key(self, name: str) -> str:
        """Return the dotted key of `name` for messages."""
        return f"{self.prefix}.{name}" if self.prefix else name

    def error(self, name: str, value: object, expected: str) -> ConfigError:
        """Build the error for a wrong value of `name`."""
        return ConfigError(self.source, self.key(name), value, expected)

    def has(self, name: str) -> bool:
        """Tell whether the table sets `name`."""
        return name in self.data

    def raw(self, name: str, default: object = _MISSING) -> Any:
        """Return the value of `name` unchecked; a missing key without default is an error."""
        self._read.add(name)
        if name in self.data:
            return self.data[name]
        if default is _MISSING:
            raise ConfigError(self.source, self.key(name), None, "a value (the key is required)")
        return default

    def string(self, name: str, default: str | object | None = _MISSING) -> Any:
        """Return a non-empty string."""
        value = self.raw(name, default)
        if value is default and name not in self.data:
            return value
        if not isinstance(value, str) or not value.strip():
            raise self.error(name, value, "a non-empty string")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        """Return true or false."""
        value = self.raw(name, default)
        if not isinstance(value, bool):
            raise self.error(name, value, "true or false")
        return value

    def integer(
        self, name: str, default: int, low: int | None = None, high: int | None = None
    ) -> int:
        """Return an integer within [low, high]."""
        value = self.raw(name, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(name, value, f"an integer{_range_text(low, high)}")
        if (low is not None and value < low) or (high is not None and value > high):
            raise self.error(name, value, f"an integer{_range_text(low, high)}")
        return value

    def number(
        self, name: str, default: float, low: float | None = None, high: float | None = None
    ) -> float:
        """Return a number (integer or float) within [low, high]."""
        value = self.raw(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(name, value, f"a number{_range_text(low, high)}")
        if (low is not None and value < low) or (high is not None and value > high):
            raise self.error(name, value, f"a number{_range_text(low, high)}")
        return float(value)

    def clock(self, name: str, default: time) -> time:
        """Return a time of day written as "HH:MM"."""
        value = self.raw(name, default)
        if isinstance(value, time):
            return value
        match = _CLOCK.match(value) if isinstance(value, str) else None
        if match is None or int(match[1]) > 23 or int(match[2]) > 59:
            raise self.error(name, value, 'a time of day as "HH:MM", for example "08:00"')
        return time(int(match[1]), int(match[2]))

    def choice(self, name: str, choices: Sequence[str], default: str | object = _MISSING) -> Any:
        """Return one of `choices`."""
        value = self.raw(name, default)
        if value not in choices:
            raise self.error(name, value, "one of " + ", ".join(repr(c) for c in choices))
        return value

    def strings(self, name: str, default: Sequence[str] = ()) -> tuple[str, ...]:
        """Return a list of strings."""
        value = self.raw(name, list(default))
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.error(name, value, "a list of strings")
        return tuple(value)

    def path(self, name: str, base: Path | None) -> Path | None:
        """Return a path; a relative one is read relative to `base`, the config's folder."""
        value = self.raw(name, None)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.error(name, value, "a file path")
        path = Path(value).expanduser()
        if not path.is_absolute() and base is not None:
            path = base / path
        return path

    def table(self, name: str) -> Table:
        """Return the sub-table `name`, empty when absent; the same object on every call."""
        if name not in self._children:
            value = self.raw(name, {})
            if not isinstance(value, dict):
                raise self.error(name, value, "a table")
            self._children[name] = Table(value, self.key(name), self.source)
        return self._children[name]

    def unknown_keys(self) -> list[str]:
        """Return warnings for keys that nothing read, here and in sub-tables."""
        warnings = [
            f"{self.source}: unknown key {self.key(name)} is ignored"
            for name in self.data
            if name not in self._read
        ]
        for child in self._children.values():
            warnings.extend(child.unknown_keys())
        return warnings


def _range_text(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f" from {low} to {high}"
    if low is not None:
        return f" of at least {low}"
    if high is not None:
        return f" of at most {high}"
    return ""
