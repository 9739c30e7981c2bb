"""IcsProvider against a real Radicale CalDAV server on 127.0.0.1."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import httpx
import pytest

from conftest import fixture_bytes, week_range
from sched_tui.config import ProviderConfig
from sched_tui.http import build_client
from sched_tui.model import Status
from sched_tui.providers.base import ProviderRejected
from sched_tui.providers.caldav import calendar_query, report_calendar_objects
from sched_tui.providers.ics import IcsProvider

NEW_YORK = ZoneInfo("America/New_York")
PARIS = ZoneInfo("Europe/Paris")

# Objects stored in the collection: real single-UID calendars and one event in 2030.
OBJECTS = {
    "exdates.ics": fixture_bytes("exchange-eastern-weekly-multi-exdate.ics"),
    "moved.ics": fixture_bytes("exchange-eastern-moved-occurrence.ics"),
    "balboa.ics": fixture_bytes("thunderbird-weekly-exdates-cancelled.ics"),
    "far-future.ics": (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//sched-tui tests//EN\r\nBEGIN:VEVENT\r\n"
        b"UID:far-future\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:20300104T150000Z\r\n"
        b"DURATION:PT1H\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ),
}


@pytest.fixture
def collection(radicale: str) -> str:
    """Create a calendar collection on the Radicale server, fill it, and return its URL."""
    url = f"{radicale}/lee/therapy/"
    with httpx.Client(timeout=10) as client:
        client.request("MKCOL", f"{radicale}/lee/").raise_for_status()
        client.request("MKCALENDAR", url).raise_for_status()
        for name, body in OBJECTS.items():
            response = client.put(
                url + name, content=body, headers={"Content-Type": "text/calendar"}
            )
            assert response.status_code in (201, 204), (name, response.status_code, response.text)
    return url


def caldav_provider(url: str, tz: ZoneInfo) -> IcsProvider:
    cfg = ProviderConfig(
        name="lee-caldav", kind="ics", caldav=url, therapist_id="lee", therapist_name="Dr. Lee"
    )
    return IcsProvider.from_config(cfg, tz)


async def test_caldav_week_occurrences(collection: str) -> None:
    provider = caldav_provider(collection, NEW_YORK)
    try:
        # Fridays 11:00 Eastern with EXDATE 04-01 and 04-08 (see the real-calendar tests).
        start, end = week_range(date(2022, 3, 21), NEW_YORK)
        weeks = await provider.fetch_week(["lee"], start, end)
        assert [a.start.isoformat() for a in weeks["lee"].appointments] == [
            "2022-03-25T11:00:00-04:00"
        ]
        start, end = week_range(date(2022, 3, 28), NEW_YORK)
        assert (await provider.fetch_week(["lee"], start, end))["lee"].appointments == ()
        # The 2nd-Wednesday meeting moved from 13:00 to 10:30 on 2022-04-13; Friday 04-15
        # is an ordinary occurrence of the EXDATE series in the other object.
        start, end = week_range(date(2022, 4, 11), NEW_YORK)
        moved = (await provider.fetch_week(["lee"], start, end))["lee"].appointments
        assert [(a.start.isoformat(), a.summary) for a in moved] == [
            ("2022-04-13T10:30:00-04:00", "Recurring Event - Exception 2"),
            ("2022-04-15T11:00:00-04:00", "Recurring With Exclusions"),
        ]
    finally:
        await provider.aclose()


async def test_caldav_cancelled_override(collection: str) -> None:
    provider = caldav_provider(collection, PARIS)
    try:
        start, end = week_range(date(2018, 3, 26), PARIS)
        week = (await provider.fetch_week(["lee"], start, end))["lee"].appointments
        assert [(a.start.isoformat(), a.status) for a in week] == [
            ("2018-03-26T20:30:00+02:00", Status.CANCELLED)
        ]
    finally:
        await provider.aclose()


async def test_report_sends_only_range(collection: str) -> None:
    start, end = week_range(date(2022, 3, 21), NEW_YORK)
    body = calendar_query(start, end).decode()
    assert 'start="20220321T040000Z"' in body
    assert 'end="20220328T040000Z"' in body

    async with build_client("CalDAV") as client:
        objects = await report_calendar_objects(
            client, collection, start, end, source="lee-caldav", timeout_s=10
        )
    names = sorted(obj.href.rsplit("/", 1)[1] for obj in objects)
    # The 2030 event and the 2017-2018 series are outside the week and must not travel.
    assert names == ["exdates.ics"]

    async with build_client("CalDAV") as client:
        far = week_range(date(2029, 12, 31), NEW_YORK)
        objects = await report_calendar_objects(
            client, collection, *far, source="lee-caldav", timeout_s=10
        )
    assert [obj.href.rsplit("/", 1)[1] for obj in objects] == ["far-future.ics"]


async def test_caldav_missing_collection_rejected(radicale: str) -> None:
    provider = caldav_provider(f"{radicale}/nobody/none/", NEW_YORK)
    start, end = week_range(date(2022, 3, 21), NEW_YORK)
    try:
        with pytest.raises(ProviderRejected) as raised:
            await provider.fetch_week(["lee"], start, end)
    finally:
        await provider.aclose()
    assert raised.value.status_code == 404
    assert "lee-caldav" in str(raised.value)
