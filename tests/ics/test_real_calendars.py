"""Expansion of calendars exported by real clients, checked against values read from the files.

Each expected value is derived by hand from the file: the comment above the
assertion names the lines that give it and how the offset was worked out.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from conftest import FIXTURES, expand_week, fixture_bytes, starts, week_range
from sched_tui.model import Status
from sched_tui.providers.base import MalformedData
from sched_tui.providers.ical_expand import expand_calendar

UTC = ZoneInfo("UTC")

# A week that contains events of each calendar, and a practice zone that suits it.
RELEVANT_WEEKS = {
    "apple-ical-melbourne-crosses-midnight.ics": (date(2004, 3, 15), "Australia/Melbourne"),
    "davmail-exchange-vfreebusy-reply.ics": (date(2012, 1, 16), "UTC"),
    "exchange-cdo-crosses-midnight-pacific.ics": (date(2004, 10, 11), "America/Los_Angeles"),
    "exchange-cdo-gmt-tzid-bad-rrule.ics": (date(2015, 7, 6), "Europe/Berlin"),
    "exchange-eastern-moved-occurrence.ics": (date(2022, 4, 11), "America/New_York"),
    "exchange-eastern-weekly-multi-exdate.ics": (date(2022, 3, 21), "America/New_York"),
    "exchange-five-windows-timezones.ics": (date(2023, 5, 8), "America/Los_Angeles"),
    "exchange-large-calendar-overrides.ics": (date(2020, 12, 14), "Europe/Berlin"),
    "exchange-transparent-allday-busystatus.ics": (date(2021, 5, 17), "Europe/Berlin"),
    "exchange-zoom-unfolded-description-floating.ics": (date(2024, 9, 23), "Europe/Berlin"),
    "fastmail-cyrus-duplicate-rrule-no-vtimezone.ics": (date(2023, 1, 16), "Europe/London"),
    "google-chicago-weekly-exdates-utc.ics": (date(2020, 11, 23), "America/Chicago"),
    "google-orphan-overrides-multiday-allday.ics": (date(2021, 3, 29), "Europe/Zurich"),
    "google-sydney-weekly-moved-occurrence.ics": (date(2023, 8, 14), "Australia/Sydney"),
    "google-utc-z-x-wr-timezone-new-york.ics": (date(2021, 12, 20), "America/New_York"),
    "google-zurich-dst-daily-multiday-allday.ics": (date(2024, 3, 25), "Europe/Zurich"),
    "icloud-weekly-exdates-historic-vtimezone.ics": (date(2016, 3, 14), "Europe/Berlin"),
    "nextcloud-sabredav-weekly-exdate-after-midnight.ics": (date(2019, 4, 1), "Europe/Berlin"),
    "outlook-missing-version-biweekly.ics": (date(2008, 1, 14), "Europe/Warsaw"),
    "outlook-sydney-windows-tzid-weekdays.ics": (date(2009, 3, 9), "Australia/Sydney"),
    "outlook-vfreebusy-malformed-dates.ics": (date(2006, 7, 17), "UTC"),
    "outlook2007-tab-folded-lines.ics": (date(2009, 6, 15), "Europe/London"),
    "owncloud-mixed-floating-and-tzid-z.ics": (date(2015, 5, 25), "Europe/Berlin"),
    "sunbird-floating-times-blank-lines.ics": (date(2006, 1, 9), "America/Chicago"),
    "thunderbird-weekly-exdates-cancelled.ics": (date(2018, 3, 26), "Europe/Paris"),
}

# The one calendar that cannot be read at all: every date in it has a 7-digit date part.
UNREADABLE = {"outlook-vfreebusy-malformed-dates.ics"}


def test_every_fixture_has_a_week() -> None:
    names = {path.name for path in FIXTURES.glob("*.ics")}
    assert names == set(RELEVANT_WEEKS)


@pytest.mark.parametrize("name", sorted(RELEVANT_WEEKS))
def test_fixture_expands_or_reports(name: str) -> None:
    monday, zone = RELEVANT_WEEKS[name]
    if name in UNREADABLE:
        with pytest.raises(MalformedData) as raised:
            expand_week(fixture_bytes(name), monday, zone)
        assert "2006717T080000Z" in str(raised.value)
        assert "test-ics" in str(raised.value)
        return

    expansion = expand_week(fixture_bytes(name), monday, zone)
    start, end = week_range(monday, ZoneInfo(zone))
    assert expansion.appointments, f"{name}: no occurrence in the week of {monday}"
    for appointment in expansion.appointments:
        assert appointment.overlaps(start, end)
        if appointment.all_day:
            assert type(appointment.start) is date and type(appointment.end) is date
            assert appointment.end > appointment.start
        else:
            assert isinstance(appointment.start, datetime) and isinstance(appointment.end, datetime)
            assert appointment.start.tzinfo == ZoneInfo(zone)
            assert appointment.end >= appointment.start


def test_exchange_eastern_exdates_skip_weeks() -> None:
    data = fixture_bytes("exchange-eastern-weekly-multi-exdate.ics")
    # Fridays from 2022-03-11 11:00 "Eastern Standard Time"; EXDATE 03-18, 04-01 and 04-08.
    # The VTIMEZONE switches to -04:00 on the 2nd Sunday of March (2022-03-13).
    assert starts(expand_week(data, date(2022, 3, 7), "America/New_York").appointments) == [
        "2022-03-11T11:00:00-05:00"
    ]
    assert expand_week(data, date(2022, 3, 14), "America/New_York").appointments == []
    assert starts(expand_week(data, date(2022, 3, 21), "America/New_York").appointments) == [
        "2022-03-25T11:00:00-04:00"
    ]
    assert expand_week(data, date(2022, 3, 28), "America/New_York").appointments == []
    assert expand_week(data, date(2022, 4, 4), "America/New_York").appointments == []
    # UNTIL=20220429T150000Z is 11:00 EDT on 04-29, so that last Friday is included.
    assert starts(expand_week(data, date(2022, 4, 25), "America/New_York").appointments) == [
        "2022-04-29T11:00:00-04:00"
    ]


def test_exchange_moved_occurrence() -> None:
    data = fixture_bytes("exchange-eastern-moved-occurrence.ics")
    # Monthly on the 2nd Wednesday at 13:00; the override for 2022-04-13 13:00 moves it to 10:30.
    moved = expand_week(data, date(2022, 4, 11), "America/New_York").appointments
    assert starts(moved) == ["2022-04-13T10:30:00-04:00"]
    assert moved[0].end.isoformat() == "2022-04-13T11:30:00-04:00"
    assert moved[0].summary == "Recurring Event - Exception 2"
    # The override for 03-09 (listed before the master) replaces that occurrence: one, not two.
    first = expand_week(data, date(2022, 3, 7), "America/New_York").appointments
    assert [a.summary for a in first] == ["Recurring Event - Exception 1"]
    # 2022-05-11 is an ordinary occurrence of the master.
    assert starts(expand_week(data, date(2022, 5, 9), "America/New_York").appointments) == [
        "2022-05-11T13:00:00-04:00"
    ]


def test_exchange_allday_override_moved_a_day() -> None:
    data = fixture_bytes("exchange-large-calendar-overrides.ics")
    # "Away" is all-day every 2nd Thursday from 2020-11-19; the override with
    # RECURRENCE-ID 2020-12-17T00:00 (a date-time against a date series) moves it to Wed 12-16.
    week = expand_week(data, date(2020, 12, 14), "Europe/Berlin").appointments
    away = [a for a in week if a.summary == "Away"]
    assert [(a.start, a.end) for a in away] == [(date(2020, 12, 16), date(2020, 12, 17))]
    # MO,WE,FR 09:30 "W. Europe Standard Time" with EXDATE 2020-12-23T09:30.
    next_week = expand_week(data, date(2020, 12, 21), "Europe/Berlin").appointments
    nine_thirty = [a.start.isoformat() for a in next_week if not a.all_day and a.start.hour == 9]
    assert nine_thirty == ["2020-12-21T09:30:00+01:00", "2020-12-25T09:30:00+01:00"]


def test_windows_zone_names_with_vtimezone() -> None:
    # "Pacific Standard Time" 09:00 on 2023-05-09 is PDT (-07:00) = 16:00Z, shown in Chicago (CDT).
    five = expand_week(
        fixture_bytes("exchange-five-windows-timezones.ics"), date(2023, 5, 8), "America/Chicago"
    )
    assert starts(five.appointments) == ["2023-05-09T11:00:00-05:00"]
    # "Canberra, Melbourne, Sydney" 09:30, weekdays from Tue 2009-03-10: AEDT (+11) until 04-05,
    # so 22:30Z the day before. The UTC week of 03-09 holds Tue to Fri and Monday 03-16.
    standup = fixture_bytes("outlook-sydney-windows-tzid-weekdays.ics")
    march = expand_week(standup, date(2009, 3, 9), "UTC").appointments
    assert starts(march) == [f"2009-03-{day:02d}T22:30:00+00:00" for day in (9, 10, 11, 12, 15)]
    # From Monday 2009-04-06 the zone is AEST (+10): 09:30 is 23:30Z the day before.
    april = expand_week(standup, date(2009, 4, 6), "Australia/Sydney").appointments
    assert starts(april) == [f"2009-04-{day:02d}T09:30:00+10:00" for day in (6, 7, 8, 9, 10)]
    assert april[0].start.astimezone(UTC).isoformat() == "2009-04-05T23:30:00+00:00"


def test_gmt_tzid_and_spaced_byday_repaired() -> None:
    # "BYDAY=MO, TU, WE, TH, FR" has spaces; read without them it is a weekday stand-up at
    # 10:00 in a zone that is +02:00 in July (DAYLIGHT from the last Sunday of March).
    data = fixture_bytes("exchange-cdo-gmt-tzid-bad-rrule.ics")
    week = expand_week(data, date(2015, 7, 6), "UTC")
    assert starts(week.appointments) == [
        f"2015-07-{day:02d}T08:00:00+00:00" for day in range(6, 11)
    ]
    # UNTIL=20150722T080000Z includes Wednesday 07-22 08:00Z and nothing later.
    last = expand_week(data, date(2015, 7, 20), "UTC")
    assert [a.start.day for a in last.appointments] == [20, 21, 22]
    # The file has no UID; the generated id must not change between two reads.
    again = expand_week(data, date(2015, 7, 20), "UTC")
    assert [a.id for a in last.appointments] == [a.id for a in again.appointments]


def test_zurich_daily_across_dst() -> None:
    data = fixture_bytes("google-zurich-dst-daily-multiday-allday.ics")
    # DAILY;COUNT=30 at 07:00 Europe/Zurich from 2024-03-25; CEST starts 2024-03-31 at 02:00.
    week = expand_week(data, date(2024, 3, 25), "Europe/Zurich").appointments
    timed = [a for a in week if not a.all_day]
    assert len(timed) == 7
    assert timed[-2].start.isoformat() == "2024-03-30T07:00:00+01:00"
    assert timed[-1].start.isoformat() == "2024-03-31T07:00:00+02:00"
    assert timed[-1].start.astimezone(UTC).hour == 5
    # "all 2 days" is DTSTART 03-27, DTEND 03-29: it blocks the 27th and 28th, not the 29th.
    two_days = next(a for a in week if a.summary == "all 2 days")
    assert (two_days.start, two_days.end, two_days.all_day) == (
        date(2024, 3, 27),
        date(2024, 3, 29),
        True,
    )
    zurich = ZoneInfo("Europe/Zurich")
    day_29 = datetime(2024, 3, 29, tzinfo=zurich)
    assert not two_days.overlaps(day_29, day_29 + timedelta(days=1))
    assert two_days.overlaps(day_29 - timedelta(days=1), day_29)
    # COUNT=30 ends on 2024-04-23: the week of 04-22 has 04-22 and 04-23 only.
    late = expand_week(data, date(2024, 4, 22), "Europe/Zurich").appointments
    assert starts(late) == ["2024-04-22T07:00:00+02:00", "2024-04-23T07:00:00+02:00"]


def test_thunderbird_exdates_in_utc_and_cancelled() -> None:
    data = fixture_bytes("thunderbird-weekly-exdates-cancelled.ics")
    # Mondays 20:30 Europe/Paris. EXDATE 20171023T183000Z is 20:30 CEST and
    # EXDATE 20171030T193000Z is 20:30 CET: both Mondays are removed.
    assert expand_week(data, date(2017, 10, 23), "Europe/Paris").appointments == []
    assert expand_week(data, date(2017, 10, 30), "Europe/Paris").appointments == []
    assert starts(expand_week(data, date(2017, 10, 16), "Europe/Paris").appointments) == [
        "2017-10-16T20:30:00+02:00"
    ]
    # The override for 2018-03-26 has STATUS:CANCELLED: kept, with status cancelled.
    cancelled = expand_week(data, date(2018, 3, 26), "Europe/Paris").appointments
    assert [(a.start.isoformat(), a.status) for a in cancelled] == [
        ("2018-03-26T20:30:00+02:00", Status.CANCELLED)
    ]
    # 2018-03-19 is an ordinary occurrence (no STATUS on the master means confirmed).
    ordinary = expand_week(data, date(2018, 3, 19), "Europe/Paris").appointments
    assert [(a.start.isoformat(), a.status) for a in ordinary] == [
        ("2018-03-19T20:30:00+01:00", Status.CONFIRMED)
    ]


def test_melbourne_crosses_midnight_and_dst_end() -> None:
    data = fixture_bytes("apple-ical-melbourne-crosses-midnight.ics")
    week = expand_week(data, date(2004, 3, 15), "Australia/Melbourne").appointments
    by_summary = {a.summary: a for a in week}
    # "Buffy" 2004-03-18 23:30 to 03-19 00:30, AEDT (+11:00).
    assert by_summary["Buffy"].start.isoformat() == "2004-03-18T23:30:00+11:00"
    assert by_summary["Buffy"].end.isoformat() == "2004-03-19T00:30:00+11:00"
    # "Conan the Barbarian" 2004-03-19 23:00 to 03-20 01:35.
    assert by_summary["Conan the Barbarian"].end.isoformat() == "2004-03-20T01:35:00+11:00"
    # "Silent Witness" weekly COUNT=10 at 20:30 from 03-19. Melbourne leaves DST on
    # 2004-03-28, so the 04-02 occurrence is 20:30 AEST (+10:00) = 10:30Z.
    after = expand_week(data, date(2004, 3, 29), "Australia/Melbourne").appointments
    witness = [a for a in after if a.summary == "Silent Witness"]
    assert [a.start.isoformat() for a in witness] == ["2004-04-02T20:30:00+10:00"]
    assert witness[0].start.astimezone(UTC).isoformat() == "2004-04-02T10:30:00+00:00"


def test_exchange_cdo_crosses_midnight_pacific() -> None:
    # 2004-10-11 22:30 to 10-12 00:00 in "Pacific Time (US & Canada), Tijuana". Its VTIMEZONE
    # keeps DST until the last Sunday of October (10-31), so -07:00: 05:30Z to 07:00Z.
    data = fixture_bytes("exchange-cdo-crosses-midnight-pacific.ics")
    week = expand_week(data, date(2004, 10, 11), "America/New_York").appointments
    assert [(a.start.isoformat(), a.end.isoformat()) for a in week] == [
        ("2004-10-12T01:30:00-04:00", "2004-10-12T03:00:00-04:00")
    ]


def test_sunbird_floating_in_practice_zone() -> None:
    # DTSTART:20060112T133000 has no zone: it is read in whatever zone the practice uses.
    data = fixture_bytes("sunbird-floating-times-blank-lines.ics")
    chicago = expand_week(data, date(2006, 1, 9), "America/Chicago").appointments
    berlin = expand_week(data, date(2006, 1, 9), "Europe/Berlin").appointments
    assert starts(chicago) == ["2006-01-12T13:30:00-06:00"]
    assert starts(berlin) == ["2006-01-12T13:30:00+01:00"]
    # CATEGORIES:School becomes the service; the blank line before the second event is tolerated.
    assert chicago[0].service == "School"
    assert [
        a.service for a in expand_week(data, date(2006, 1, 16), "America/Chicago").appointments
    ] == ["Business"]


def test_google_utc_with_x_wr_timezone() -> None:
    # 20211223T020000Z is 21:00 EST on 12-22, the day Google shows it on.
    week = expand_week(
        fixture_bytes("google-utc-z-x-wr-timezone-new-york.ics"),
        date(2021, 12, 20),
        "America/New_York",
    )
    assert starts(week.appointments) == ["2021-12-22T12:00:00-05:00", "2021-12-22T21:00:00-05:00"]


def test_google_orphan_overrides_without_master() -> None:
    # Three RECURRENCE-ID instances and no master: each is shown on its own dates.
    data = fixture_bytes("google-orphan-overrides-multiday-allday.ics")
    week = expand_week(data, date(2021, 3, 29), "Europe/Zurich").appointments
    assert [(a.start, a.end, a.all_day) for a in week] == [
        (date(2021, 3, 31), date(2021, 4, 3), True)
    ]
    following = expand_week(data, date(2021, 4, 5), "Europe/Zurich").appointments
    assert [(a.start, a.end) for a in following] == [(date(2021, 4, 7), date(2021, 4, 10))]


def test_google_sydney_moved_occurrences() -> None:
    data = fixture_bytes("google-sydney-weekly-moved-occurrence.ics")
    week = expand_week(data, date(2023, 8, 14), "Australia/Sydney").appointments
    # Tuesday 08-15 14:00 moved to Monday 08-14; the all-day Thursday 08-17 moved to 08-16.
    assert [(str(a.start), a.all_day) for a in week] == [
        ("2023-08-14 14:00:00+10:00", False),
        ("2023-08-16", True),
    ]
    assert week[0].id.endswith("/20230815T040000Z")


def test_fastmail_duplicate_rrule_not_doubled() -> None:
    data = fixture_bytes("fastmail-cyrus-duplicate-rrule-no-vtimezone.ics")
    # Two identical RRULE lines, Thursdays 10:00 Europe/London (GMT in January).
    week = expand_week(data, date(2023, 1, 16), "Europe/London").appointments
    assert starts(week) == ["2023-01-19T10:00:00+00:00"]
    # COUNT=20 from 2023-01-12 ends on 2023-05-25 (BST): that week has one, the next none.
    assert starts(expand_week(data, date(2023, 5, 22), "Europe/London").appointments) == [
        "2023-05-25T10:00:00+01:00"
    ]
    assert expand_week(data, date(2023, 5, 29), "Europe/London").appointments == []


def test_nextcloud_exdate_after_midnight() -> None:
    data = fixture_bytes("nextcloud-sabredav-weekly-exdate-after-midnight.ics")
    # Mondays 00:30 Europe/Berlin; EXDATE 20190310T233000Z is 00:30 CET on Monday 03-11.
    assert expand_week(data, date(2019, 3, 11), "Europe/Berlin").appointments == []
    assert expand_week(data, date(2019, 3, 25), "Europe/Berlin").appointments == []
    assert starts(expand_week(data, date(2019, 3, 18), "Europe/Berlin").appointments) == [
        "2019-03-18T00:30:00+01:00"
    ]
    # CEST from 03-31: the 04-01 occurrence is 00:30+02:00.
    assert starts(expand_week(data, date(2019, 4, 1), "Europe/Berlin").appointments) == [
        "2019-04-01T00:30:00+02:00"
    ]


def test_icloud_broken_historic_vtimezone() -> None:
    # The Europe/Berlin VTIMEZONE has "TZOFFSETFROM:+5328"; the IANA zone is used instead.
    # Mondays 16:15-17:30 from 2016-02-22; EXDATE 03-21 and 03-28.
    data = fixture_bytes("icloud-weekly-exdates-historic-vtimezone.ics")
    assert starts(expand_week(data, date(2016, 3, 14), "Europe/Berlin").appointments) == [
        "2016-03-14T16:15:00+01:00"
    ]
    assert expand_week(data, date(2016, 3, 21), "Europe/Berlin").appointments == []
    assert expand_week(data, date(2016, 3, 28), "Europe/Berlin").appointments == []


def test_outlook_biweekly_interval() -> None:
    # INTERVAL=2 on Thursdays from 2008-01-03 17:00 Europe/Warsaw: 01-03, 01-17, 01-31.
    data = fixture_bytes("outlook-missing-version-biweekly.ics")
    assert starts(expand_week(data, date(2008, 1, 14), "Europe/Warsaw").appointments) == [
        "2008-01-17T17:00:00+01:00"
    ]
    assert expand_week(data, date(2008, 1, 21), "Europe/Warsaw").appointments == []


def test_zoom_event_without_dtstart_reported() -> None:
    # The trailing VEVENT has only a UID; the meeting (INTERVAL=2 Mondays, floating 10:00) stays.
    week = expand_week(
        fixture_bytes("exchange-zoom-unfolded-description-floating.ics"),
        date(2024, 9, 23),
        "Europe/Berlin",
    )
    assert starts(week.appointments) == ["2024-09-23T10:00:00+02:00"]
    assert len(week.warnings) == 1
    assert "UniqueIDValueHere" in week.warnings[0]
    assert "DTSTART" in week.warnings[0]


def test_davmail_freebusy_busy_blocks() -> None:
    # FBTYPE=BUSY periods in UTC; three fall in the week of 2012-01-16.
    week = expand_week(
        fixture_bytes("davmail-exchange-vfreebusy-reply.ics"), date(2012, 1, 16), "UTC"
    )
    assert [(a.start.isoformat(), a.end.isoformat(), a.summary) for a in week.appointments] == [
        ("2012-01-16T13:00:00+00:00", "2012-01-16T15:00:00+00:00", "Busy"),
        ("2012-01-17T09:15:00+00:00", "2012-01-17T10:15:00+00:00", "Busy"),
        ("2012-01-18T16:00:00+00:00", "2012-01-18T16:30:00+00:00", "Busy"),
    ]


def test_owncloud_mixed_floating_and_zoned() -> None:
    # DTSTART floating 12:00 (practice zone) and DTEND;TZID=Europe/Berlin 16:00.
    week = expand_week(
        fixture_bytes("owncloud-mixed-floating-and-tzid-z.ics"), date(2015, 5, 25), "Europe/Berlin"
    )
    assert [(a.start.isoformat(), a.end.isoformat()) for a in week.appointments] == [
        ("2015-05-30T12:00:00+02:00", "2015-05-30T16:00:00+02:00")
    ]


def test_transparent_allday_exclusive_end() -> None:
    # "Free" is DTSTART 2021-05-20, DTEND 2021-05-21: one day, the 21st not blocked.
    week = expand_week(
        fixture_bytes("exchange-transparent-allday-busystatus.ics"),
        date(2021, 5, 17),
        "Europe/Berlin",
    )
    free = next(a for a in week.appointments if a.summary == "Free")
    assert (free.start, free.end, free.all_day) == (date(2021, 5, 20), date(2021, 5, 21), True)
    berlin = ZoneInfo("Europe/Berlin")
    day_21 = datetime(2021, 5, 21, tzinfo=berlin)
    assert not free.overlaps(day_21, day_21 + timedelta(days=1))


def test_chicago_thanksgiving_exdates() -> None:
    # Week of 2020-11-23: per UID, the Mon/Tue occurrences stay and every Thu 11-26 / Fri 11-27
    # occurrence is in an EXDATE. Counted per VEVENT: c4p6 2, u81j 1, m0lbs 1, m4b9nckq 1,
    # 2n0o 1, 2ohv 1, and none for the others.
    week = expand_week(
        fixture_bytes("google-chicago-weekly-exdates-utc.ics"),
        date(2020, 11, 23),
        "America/Chicago",
    )
    assert len(week.appointments) == 7
    assert {a.start.day for a in week.appointments} == {23, 24}


def test_range_bounds_must_be_aware() -> None:
    naive = datetime(2024, 1, 1)
    with pytest.raises((TypeError, ValueError)):
        expand_calendar(
            b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
            naive,
            naive,
            UTC,
            therapist_id="t",
            therapist_name="T",
            source="s",
        )
