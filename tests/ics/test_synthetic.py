"""Expansion of small calendars written here, one rule or edge case each."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from conftest import expand_week, starts
from sched_tui.model import Status
from sched_tui.providers.base import MalformedData

Build = Callable[..., str]
UTC = ZoneInfo("UTC")

EASTERN_VTIMEZONE = """
BEGIN:VTIMEZONE
TZID:Eastern Standard Time
BEGIN:STANDARD
DTSTART:16010101T020000
TZOFFSETFROM:-0400
TZOFFSETTO:-0500
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=1SU;BYMONTH=11
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010101T020000
TZOFFSETFROM:-0500
TZOFFSETTO:-0400
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=2SU;BYMONTH=3
END:DAYLIGHT
END:VTIMEZONE
"""


def event(uid: str, *lines: str) -> str:
    """Return a VEVENT with `uid` and the given property lines."""
    return "\n".join(
        ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20240101T000000Z", *lines, "END:VEVENT"]
    )


@pytest.mark.parametrize("tzid", ["America/New_York", "Eastern Standard Time"])
def test_spring_forward_gap_moves_forward(make_calendar: Build, tzid: str) -> None:
    # 2024-03-10 02:30 does not exist in New York (clocks jump 02:00 EST -> 03:00 EDT).
    # RFC 5545 reads it with the offset before the gap, -05:00: 07:30Z, shown as 03:30 EDT.
    data = make_calendar(
        EASTERN_VTIMEZONE,
        event("gap", f"DTSTART;TZID={tzid}:20240310T023000", f"DTEND;TZID={tzid}:20240310T040000"),
    )
    week = expand_week(data, date(2024, 3, 4), "America/New_York")
    assert [(a.start.isoformat(), a.end.isoformat()) for a in week.appointments] == [
        ("2024-03-10T03:30:00-04:00", "2024-03-10T04:00:00-04:00")
    ]


def test_daily_rule_through_gap(make_calendar: Build) -> None:
    # Daily at 02:30 from Friday 03-08: Sunday's 02:30 is in the gap and becomes 03:30 EDT.
    data = make_calendar(
        EASTERN_VTIMEZONE,
        event(
            "daily",
            "DTSTART;TZID=Eastern Standard Time:20240308T023000",
            "DURATION:PT15M",
            "RRULE:FREQ=DAILY;COUNT=4",
        ),
    )
    week = expand_week(data, date(2024, 3, 4), "America/New_York").appointments
    assert starts(week) == [
        "2024-03-08T02:30:00-05:00",
        "2024-03-09T02:30:00-05:00",
        "2024-03-10T03:30:00-04:00",
    ]
    following = expand_week(data, date(2024, 3, 11), "America/New_York").appointments
    assert starts(following) == ["2024-03-11T02:30:00-04:00"]


def test_unresolvable_tzid_reported(make_calendar: Build) -> None:
    data = make_calendar(
        event(
            "mars",
            "DTSTART;TZID=Mars/Olympus_Mons:20240305T100000",
            "DTEND;TZID=Mars/Olympus_Mons:20240305T110000",
        ),
        event(
            "earth",
            "DTSTART;TZID=Europe/Berlin:20240305T100000",
            "DTEND;TZID=Europe/Berlin:20240305T110000",
        ),
    )
    week = expand_week(data, date(2024, 3, 4), "Europe/Berlin")
    # The event in the unknown zone is skipped, not read as UTC; the other one stays.
    assert [a.id for a in week.appointments] == ["earth"]
    assert len(week.warnings) == 1
    assert "Mars/Olympus_Mons" in week.warnings[0]
    assert "mars" in week.warnings[0]


@pytest.mark.parametrize(
    ("tzid", "expected"),
    [
        ("W. Europe Standard Time", "2024-03-05T10:00:00+01:00"),
        ('"(UTC+10:00) Canberra, Melbourne, Sydney"', "2024-03-05T10:00:00+11:00"),
        ('"Pacific Time (US & Canada), Tijuana"', "2024-03-05T10:00:00-08:00"),
    ],
)
def test_windows_tzid_without_vtimezone(make_calendar: Build, tzid: str, expected: str) -> None:
    data = make_calendar(event("w", f"DTSTART;TZID={tzid}:20240305T100000", "DURATION:PT1H"))
    week = expand_week(data, date(2024, 3, 4), "UTC")
    assert week.warnings == []
    assert [a.start.astimezone(ZoneInfo("UTC")) for a in week.appointments] == [
        datetime.fromisoformat(expected).astimezone(UTC)
    ]


def test_until_local_and_utc(make_calendar: Build) -> None:
    # Daily 09:00 New York (EST, 14:00Z). UNTIL written in local time (common though RFC 5545
    # asks for UTC) and UNTIL 14:00Z both include 01-05; UNTIL 13:59:59Z stops at 01-04.
    data = make_calendar(
        event(
            "local",
            "DTSTART;TZID=America/New_York:20240101T090000",
            "DURATION:PT30M",
            "RRULE:FREQ=DAILY;UNTIL=20240105T090000",
        ),
        event(
            "utc",
            "DTSTART;TZID=America/New_York:20240101T100000",
            "DURATION:PT30M",
            "RRULE:FREQ=DAILY;UNTIL=20240105T150000Z",
        ),
        event(
            "early",
            "DTSTART;TZID=America/New_York:20240101T110000",
            "DURATION:PT30M",
            "RRULE:FREQ=DAILY;UNTIL=20240105T155959Z",
        ),
    )
    week = expand_week(data, date(2024, 1, 1), "America/New_York").appointments
    days = {
        uid: [a.start.day for a in week if a.id.startswith(uid + "/")]
        for uid in ("local", "utc", "early")
    }
    assert days == {"local": [1, 2, 3, 4, 5], "utc": [1, 2, 3, 4, 5], "early": [1, 2, 3, 4]}


def test_count_and_interval(make_calendar: Build) -> None:
    data = make_calendar(
        # COUNT=3 every 2nd day from Monday 01-01: 01-01, 01-03, 01-05.
        event(
            "count",
            "DTSTART;TZID=Europe/Paris:20240101T080000",
            "DURATION:PT1H",
            "RRULE:FREQ=DAILY;INTERVAL=2;COUNT=3",
        ),
        # Every 3rd week on Wednesday from 01-03: 01-03, 01-24, 02-14.
        event(
            "interval",
            "DTSTART;TZID=Europe/Paris:20240103T120000",
            "DURATION:PT1H",
            "RRULE:FREQ=WEEKLY;INTERVAL=3;BYDAY=WE",
        ),
    )
    first = expand_week(data, date(2024, 1, 1), "Europe/Paris").appointments
    assert [a.start.day for a in first if a.id.startswith("count/")] == [1, 3, 5]
    assert [a.start.day for a in first if a.id.startswith("interval/")] == [3]
    assert expand_week(data, date(2024, 1, 8), "Europe/Paris").appointments == []
    assert starts(expand_week(data, date(2024, 1, 22), "Europe/Paris").appointments) == [
        "2024-01-24T12:00:00+01:00"
    ]


def test_event_spanning_week_boundary(make_calendar: Build) -> None:
    data = make_calendar(
        event(
            "night",
            "DTSTART;TZID=Europe/Berlin:20240107T220000",
            "DTEND;TZID=Europe/Berlin:20240108T020000",
        ),
        event("trip", "DTSTART;VALUE=DATE:20240106", "DTEND;VALUE=DATE:20240110"),
    )
    before = expand_week(data, date(2024, 1, 1), "Europe/Berlin").appointments
    after = expand_week(data, date(2024, 1, 8), "Europe/Berlin").appointments
    # Sunday 22:00 to Monday 02:00, and Saturday to Tuesday (end 01-10 exclusive): in both weeks.
    assert [a.id for a in before] == ["trip", "night"]
    assert [a.id for a in after] == ["trip", "night"]
    assert before == after


def test_occurrence_moved_into_other_week(make_calendar: Build) -> None:
    data = make_calendar(
        event(
            "weekly",
            "DTSTART;TZID=Europe/Berlin:20240108T100000",
            "DURATION:PT50M",
            "RRULE:FREQ=WEEKLY;COUNT=4",
        ),
        # The Monday 01-15 session is moved back to Thursday 01-11, the week before.
        event(
            "weekly",
            "RECURRENCE-ID;TZID=Europe/Berlin:20240115T100000",
            "DTSTART;TZID=Europe/Berlin:20240111T160000",
            "DURATION:PT50M",
        ),
    )
    first = expand_week(data, date(2024, 1, 8), "Europe/Berlin").appointments
    assert starts(first) == ["2024-01-08T10:00:00+01:00", "2024-01-11T16:00:00+01:00"]
    assert first[1].id == "weekly/20240115T090000Z"
    assert expand_week(data, date(2024, 1, 15), "Europe/Berlin").appointments == []


def test_duration_and_status(make_calendar: Build) -> None:
    data = make_calendar(
        event("tentative", "DTSTART:20240102T150000Z", "DURATION:PT1H30M", "STATUS:TENTATIVE"),
        event("cancelled", "DTSTART:20240103T150000Z", "DURATION:P1D", "STATUS:CANCELLED"),
        event("plain", "DTSTART:20240104T150000Z", "DTEND:20240104T160000Z"),
    )
    week = expand_week(data, date(2024, 1, 1), "UTC").appointments
    assert [(a.id, a.status) for a in week] == [
        ("tentative", Status.TENTATIVE),
        ("cancelled", Status.CANCELLED),
        ("plain", Status.CONFIRMED),
    ]
    assert week[0].end.isoformat() == "2024-01-02T16:30:00+00:00"
    assert week[1].end.isoformat() == "2024-01-04T15:00:00+00:00"


def test_x_wr_timezone_reads_floating(make_calendar: Build) -> None:
    # Floating 09:00 in a calendar whose X-WR-TIMEZONE is Los Angeles: 17:00Z, not 09:00 Berlin.
    data = make_calendar(
        event("f", "DTSTART:20240102T090000", "DURATION:PT1H"),
        header="X-WR-TIMEZONE:America/Los_Angeles\n",
    )
    week = expand_week(data, date(2024, 1, 1), "Europe/Berlin").appointments
    assert starts(week) == ["2024-01-02T18:00:00+01:00"]


def test_invalid_x_wr_timezone_warns(make_calendar: Build) -> None:
    data = make_calendar(
        event("f", "DTSTART:20240102T090000", "DURATION:PT1H"),
        header="X-WR-TIMEZONE:Nowhere/City\n",
    )
    week = expand_week(data, date(2024, 1, 1), "Europe/Berlin")
    assert starts(week.appointments) == ["2024-01-02T09:00:00+01:00"]
    assert len(week.warnings) == 1
    assert "Nowhere/City" in week.warnings[0]


def test_bad_event_skipped_others_kept(make_calendar: Build) -> None:
    data = make_calendar(
        event("bad-date", "DTSTART:2024013T100000", "DURATION:PT1H"),
        event(
            "backwards",
            "DTSTART:20240103T100000Z",
            "DTEND:20240103T090000Z",
            "RRULE:FREQ=DAILY;COUNT=2",
        ),
        event("good", "DTSTART:20240104T100000Z", "DURATION:PT1H"),
    )
    week = expand_week(data, date(2024, 1, 1), "UTC")
    assert "good" in [a.id for a in week.appointments]
    assert "bad-date" not in {a.id.split("/")[0] for a in week.appointments}
    assert any("bad-date" in warning and "2024013T100000" in warning for warning in week.warnings)


@pytest.mark.parametrize(
    "data", [b"", b"this is not a calendar", b"<html><body>Sign in</body></html>"]
)
def test_not_a_calendar_is_malformed(data: bytes) -> None:
    with pytest.raises(MalformedData) as raised:
        expand_week(data, date(2024, 1, 1), "UTC")
    assert "test-ics" in str(raised.value)
