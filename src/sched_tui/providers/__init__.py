"""Schedule sources: Zocdoc's partner API and iCalendar/CalDAV calendars."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sched_tui.config import Config, ProviderConfig
from sched_tui.providers.base import Provider


def build_provider(config: ProviderConfig, tz: ZoneInfo) -> Provider:
    """Create the provider one ``[[providers]]`` entry describes."""
    if config.kind == "zocdoc":
        from sched_tui.providers.zocdoc import ZocdocProvider

        return ZocdocProvider.from_config(config, tz)
    if config.kind == "ics":
        from sched_tui.providers.ics import IcsProvider

        return IcsProvider.from_config(config, tz)
    raise ValueError(f"unknown provider kind {config.kind!r}")


def build_providers(config: Config) -> list[Provider]:
    """Create every configured provider."""
    tz = config.practice.tz
    return [build_provider(entry, tz) for entry in config.providers]
