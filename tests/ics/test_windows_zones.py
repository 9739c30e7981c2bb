"""The Windows and Outlook time zone name map."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from sched_tui.providers.windows_zones import DISPLAY_NAMES, WINDOWS_ZONES, windows_zone_to_iana


@pytest.mark.parametrize("zone", sorted(set(WINDOWS_ZONES.values()) | set(DISPLAY_NAMES.values())))
def test_mapped_zone_exists_in_tzdata(zone: str) -> None:
    assert ZoneInfo(zone).key == zone


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Eastern Standard Time", "America/New_York"),
        ("W. Europe Standard Time", "Europe/Berlin"),
        ("AUS Eastern Standard Time", "Australia/Sydney"),
        ("Canberra, Melbourne, Sydney", "Australia/Sydney"),
        ("Canberra\\, Melbourne\\, Sydney", "Australia/Sydney"),
        ('"(UTC+10:00) Canberra, Melbourne, Sydney"', "Australia/Sydney"),
        ("(GMT-08:00) Pacific Time (US & Canada), Tijuana", "America/Los_Angeles"),
        ("pacific time (us & canada)", "America/Los_Angeles"),
        ("GMT +0100 (Standard) / GMT +0200 (Daylight)", None),
        ("Mars Standard Time", None),
    ],
)
def test_windows_zone_to_iana(name: str, expected: str | None) -> None:
    assert windows_zone_to_iana(name) == expected
