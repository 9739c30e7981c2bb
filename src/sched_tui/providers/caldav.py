"""Read the calendar objects of one CalDAV collection that touch a time range.

One REPORT calendar-query (RFC 4791 section 7.8) with a time-range filter on
VEVENT requests only the objects with an occurrence in the range, so a long
calendar history does not travel on every refresh. The server returns whole
objects (master and overrides), and expansion happens locally.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from sched_tui.providers.base import MalformedData
from sched_tui.providers.http_errors import check_status, request_failure

log = logging.getLogger("sched_tui.providers.ics")

DAV = "DAV:"
CALDAV = "urn:ietf:params:xml:ns:caldav"


@dataclass(frozen=True, slots=True)
class CalendarObject:
    """One calendar object resource: its href and its iCalendar text."""

    href: str
    data: str


def calendar_query(start: datetime, end: datetime) -> bytes:
    """Build the calendar-query body asking for VEVENTs overlapping [start, end)."""
    ET.register_namespace("D", DAV)
    ET.register_namespace("C", CALDAV)
    query = ET.Element(f"{{{CALDAV}}}calendar-query")
    prop = ET.SubElement(query, f"{{{DAV}}}prop")
    ET.SubElement(prop, f"{{{DAV}}}getetag")
    ET.SubElement(prop, f"{{{CALDAV}}}calendar-data")

    calendar_filter = ET.SubElement(query, f"{{{CALDAV}}}filter")
    calendar = ET.SubElement(calendar_filter, f"{{{CALDAV}}}comp-filter", name="VCALENDAR")
    event = ET.SubElement(calendar, f"{{{CALDAV}}}comp-filter", name="VEVENT")
    ET.SubElement(event, f"{{{CALDAV}}}time-range", start=_utc_text(start), end=_utc_text(end))
    body: bytes = ET.tostring(query, encoding="utf-8", xml_declaration=True)
    return body


async def report_calendar_objects(
    client: httpx.AsyncClient,
    url: str,
    start: datetime,
    end: datetime,
    *,
    source: str,
    timeout_s: float,
) -> list[CalendarObject]:
    """Send the calendar-query REPORT to collection `url` and return the objects it lists.

    Raises the typed errors of `http_errors` for HTTP failures and MalformedData
    when the multistatus body cannot be read.
    """
    headers = {"Depth": "1", "Content-Type": "application/xml; charset=utf-8"}
    try:
        response = await client.request(
            "REPORT", url, content=calendar_query(start, end), headers=headers
        )
    except httpx.HTTPError as error:
        raise request_failure(error, source, url, timeout_s) from None
    check_status(response, source)

    objects = parse_multistatus(response.content, source)
    log.debug("provider %s: REPORT returned %d calendar objects", source, len(objects))
    return objects


def parse_multistatus(body: bytes, source: str) -> list[CalendarObject]:
    """Return the calendar objects of a 207 Multi-Status body; failed propstats are skipped."""
    try:
        # expat 2.4.0 and later limit entity expansion, which stops entity bombs.
        root = ET.fromstring(body)
    except ET.ParseError as error:
        raise MalformedData(
            f"{source}: the CalDAV server sent an unreadable REPORT response ({error})"
        ) from None

    objects: list[CalendarObject] = []
    for response in root.iter(f"{{{DAV}}}response"):
        href = response.findtext(f"{{{DAV}}}href", default="").strip()
        for propstat in response.iter(f"{{{DAV}}}propstat"):
            status = propstat.findtext(f"{{{DAV}}}status", default="")
            data = propstat.findtext(f"{{{DAV}}}prop/{{{CALDAV}}}calendar-data")
            if " 200 " in f"{status} " and data and data.strip():
                objects.append(CalendarObject(href=href, data=data))
    return objects


def _utc_text(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
