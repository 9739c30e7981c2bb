"""Time zones of one parsed calendar: TZID resolution, floating times, DST gaps.

icalendar binds TZIDs while it parses, through a cache shared by the whole
process, so the first VTIMEZONE seen for a name wins for every later calendar.
`TimezoneResolver` rebinds every date-time of an event to a zone chosen for this
calendar alone, in this order:

1. a TZID that is an IANA name uses the IANA database (the calendar's VTIMEZONE
   for it is ignored, as icalendar does);
2. any other TZID defined by a VTIMEZONE of this calendar uses that definition;
3. a Windows zone id or display name uses its IANA zone (see `windows_zones`);
4. anything else raises `UnresolvedTimezone`, so the event can be reported
   instead of being read in the wrong zone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar, Component, Timezone
from icalendar.timezone import tzp

from sched_tui.providers.windows_zones import windows_zone_to_iana

# Properties of a VEVENT whose values are dates or date-times.
DATE_PROPERTIES = ("DTSTART", "DTEND", "RECURRENCE-ID", "EXDATE", "RDATE")


class UnresolvedTimezone(ValueError):
    """A TZID that neither the calendar, the IANA database nor the Windows map defines."""

    def __init__(self, tzid: str) -> None:
        super().__init__(tzid)
        self.tzid = tzid


def iana_zone(name: str) -> ZoneInfo | None:
    """Return the IANA zone called `name`, or None if there is none."""
    try:
        return ZoneInfo(name.strip().strip("/"))
    except (ZoneInfoNotFoundError, ValueError):
        return None


class TimezoneResolver:
    """Resolves the TZIDs of one calendar, caching each answer."""

    def __init__(self, calendar: Calendar) -> None:
        self._definitions: dict[str, Timezone] = {}
        for component in calendar.timezones:
            tzid = str(component.get("TZID", "")).replace("\\,", ",")
            self._definitions.setdefault(tzid, component)
        self._resolved: dict[str, tzinfo] = {}

    def resolve(self, tzid: str) -> tzinfo:
        """Return the zone for `tzid`; raises UnresolvedTimezone if there is none."""
        if tzid in self._resolved:
            return self._resolved[tzid]

        zone: tzinfo | None = iana_zone(tzid)
        if zone is None and tzid in self._definitions:
            zone = _zone_from_definition(self._definitions[tzid])
        if zone is None:
            mapped = windows_zone_to_iana(tzid)
            zone = iana_zone(mapped) if mapped else None
        if zone is None:
            raise UnresolvedTimezone(tzid)

        self._resolved[tzid] = zone
        return zone

    def bind_event(self, event: Component) -> None:
        """Attach the resolved zone to every date-time of `event` that carries a TZID."""
        for name in DATE_PROPERTIES:
            for prop in _as_list(event.get(name)):
                tzid = prop.params.get("TZID")
                if tzid:
                    zone = self.resolve(str(tzid))
                    _map_values(prop, _zone_setter(zone))


def localize_floating(event: Component, zone: tzinfo) -> None:
    """Read every floating date-time of `event` (no TZID, no "Z") in `zone`."""

    def attach(value: datetime) -> datetime:
        return value if value.tzinfo is not None else value.replace(tzinfo=zone)

    for name in DATE_PROPERTIES:
        for prop in _as_list(event.get(name)):
            _map_values(prop, attach)


def to_utc(value: datetime) -> datetime:
    """Convert an aware date-time to UTC, reading a local time in a DST gap as RFC 5545 says.

    RFC 5545 section 3.3.5: a local time that does not exist because of a DST
    change is read with the UTC offset in force before the gap, which moves it
    forward by the length of the gap (02:30 on a spring-forward night in New York
    becomes 03:30 EDT). zoneinfo does this with fold=0, but the tzinfo objects
    built from a VTIMEZONE use the offset after the gap, so both are handled here.
    """
    zone = value.tzinfo
    assert zone is not None
    utc = value.astimezone(UTC)
    wall = value.replace(tzinfo=None)
    if utc.astimezone(zone).replace(tzinfo=None) == wall:
        return utc

    # The offset a day earlier is the one before the gap; zones do not change twice a day.
    offset_before = (wall - timedelta(days=1)).replace(tzinfo=zone).utcoffset()
    assert offset_before is not None
    return (wall - offset_before).replace(tzinfo=UTC)


def _zone_setter(zone: tzinfo) -> Callable[[datetime], datetime]:
    def attach(value: datetime) -> datetime:
        return value.replace(tzinfo=zone)

    return attach


def _zone_from_definition(component: Timezone) -> tzinfo | None:
    try:
        zone: tzinfo = component.to_tz(tzp, lookup_tzid=False)
    except (ValueError, KeyError, TypeError, AttributeError):
        # A VTIMEZONE without usable STANDARD/DAYLIGHT parts; the TZID is then unresolved.
        return None
    return zone


def _as_list(prop: Any) -> list[Any]:
    if prop is None:
        return []
    return list(prop) if isinstance(prop, list) else [prop]


def _map_values(prop: Any, convert: Callable[[datetime], datetime]) -> None:
    """Apply `convert` to each date-time inside one property (vDDDTypes or vDDDLists)."""
    values = prop.dts if hasattr(prop, "dts") else [prop]
    for value in values:
        value.dt = _convert_value(value.dt, convert)


def _convert_value(value: Any, convert: Callable[[datetime], datetime]) -> Any:
    if isinstance(value, datetime):
        return convert(value)
    if isinstance(value, tuple):
        # An RDATE period: (start, end) or (start, duration).
        return tuple(_convert_value(part, convert) for part in value)
    return value
