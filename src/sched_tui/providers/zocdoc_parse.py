"""Read Zocdoc response bodies into the domain model, checking every field that is used."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sched_tui.model import Appointment, Service, Slot, Status, Therapist
from sched_tui.providers.zocdoc_errors import malformed

# NOTE: Zocdoc's VisitReasonData (OpenAPI v1.176) has no duration, and appointments
# carry only a start time. The bundled sandbox adds `duration_minutes`; against the
# real API every session is assumed to last this long.
DEFAULT_DURATION_MINUTES = 50

# Zocdoc appointment statuses and how the calendar shows them. A no-show or a
# failed reschedule still occupied the therapist's time at the booked start.
STATUS_MAP = {
    "confirmed": Status.CONFIRMED,
    "rescheduled": Status.CONFIRMED,
    "no_show": Status.CONFIRMED,
    "reschedule_failed": Status.CONFIRMED,
    "pending_booking": Status.TENTATIVE,
    "pending_reschedule": Status.TENTATIVE,
    "cancelled": Status.CANCELLED,
    "booking_failed": Status.CANCELLED,
}
_STATUS_NOTES = {"no_show": "no-show", "reschedule_failed": "reschedule failed"}


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    """A therapist with the Zocdoc ids needed to query their schedule."""

    therapist: Therapist
    provider_location_id: str
    visit_reason_ids: tuple[str, ...]


class Reader:
    """Reads fields of one response; a missing or mistyped field raises MalformedData."""

    def __init__(self, label: str, request: str) -> None:
        self.label = label
        self.request = request

    def obj(self, value: Any, path: str) -> dict[str, Any]:
        """Return `value` if it is a JSON object."""
        if not isinstance(value, dict):
            raise malformed(self.label, self.request, path, "an object")
        return value

    def array(self, parent: dict[str, Any], key: str, path: str) -> list[Any]:
        """Return the array at `key`; null counts as empty."""
        value = parent.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise malformed(self.label, self.request, f"{path}.{key}", "an array")
        return value

    def text(self, parent: dict[str, Any], key: str, path: str) -> str:
        """Return the non-empty string at `key`."""
        value = parent.get(key)
        if not isinstance(value, str) or not value:
            raise malformed(self.label, self.request, f"{path}.{key}", "a non-empty string")
        return value

    def optional_text(self, parent: dict[str, Any], key: str, path: str) -> str | None:
        """Return the string at `key`, or None when it is absent or null."""
        value = parent.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise malformed(self.label, self.request, f"{path}.{key}", "a string")
        return value

    def moment(self, parent: dict[str, Any], key: str, path: str, tz: ZoneInfo) -> datetime:
        """Return the ISO-8601 date-time at `key`, converted to `tz`; it must carry an offset."""
        raw = self.text(parent, key, path)
        try:
            value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise malformed(
                self.label, self.request, f"{path}.{key}", "an ISO-8601 date-time"
            ) from None
        if value.tzinfo is None:
            raise malformed(
                self.label, self.request, f"{path}.{key}", "a date-time with a UTC offset"
            )
        return value.astimezone(tz)


def read_directory(reader: Reader, body: dict[str, Any], source: str) -> list[DirectoryEntry]:
    """Read a ProviderResult (``GET /v1/providers``) into directory entries."""
    entries: list[DirectoryEntry] = []
    for index, group in enumerate(reader.array(body, "data", "")):
        group_path = f"data[{index}]"
        group = reader.obj(group, group_path)
        for number, provider in enumerate(reader.array(group, "providers", group_path)):
            path = f"{group_path}.providers[{number}]"
            entry = _read_provider(reader, reader.obj(provider, path), path, source)
            if entry is not None:
                entries.append(entry)
    return entries


def _read_provider(
    reader: Reader, provider: dict[str, Any], path: str, source: str
) -> DirectoryEntry | None:
    provider_id = reader.text(provider, "provider_id", path)
    locations = reader.array(provider, "locations", path) + reader.array(
        provider, "virtual_locations", path
    )
    if not locations:
        return None
    location = reader.obj(locations[0], f"{path}.locations[0]")
    provider_location_id = reader.text(location, "provider_location_id", f"{path}.locations[0]")

    name = reader.optional_text(provider, "full_name", path)
    if not name:
        parts = [reader.optional_text(provider, key, path) for key in ("first_name", "last_name")]
        name = " ".join(part for part in parts if part) or provider_id
    specialties = tuple(str(item) for item in reader.array(provider, "specialties", path))
    reasons = tuple(str(item) for item in reader.array(provider, "visit_reason_ids", path))
    therapist = Therapist(
        id=provider_id,
        name=name,
        source=source,
        specialties=specialties,
        location_id=provider_location_id,
    )
    return DirectoryEntry(therapist, provider_location_id, reasons)


def read_service(reader: Reader, item: Any, path: str, source: str) -> Service:
    """Read one VisitReasonData into a Service."""
    item = reader.obj(item, path)
    duration = item.get("duration_minutes")
    if isinstance(duration, bool) or not isinstance(duration, int) or duration <= 0:
        duration = DEFAULT_DURATION_MINUTES
    return Service(
        id=reader.text(item, "id", path),
        name=reader.text(item, "name", path),
        duration_minutes=duration,
        source=source,
    )


def read_appointment(
    reader: Reader,
    item: Any,
    path: str,
    *,
    directory: dict[str, DirectoryEntry],
    services: dict[str, Service],
    tz: ZoneInfo,
    source: str,
) -> Appointment | None:
    """Read one AppointmentStatusResponseData; None when its provider is not in `directory`."""
    item = reader.obj(item, path)
    provider_location_id = reader.text(item, "provider_location_id", path)
    entry = directory.get(provider_location_id.split("|", 1)[0])
    if entry is None:
        return None
    start = reader.moment(item, "start_time", path, tz)
    reason_id = reader.text(item, "visit_reason_id", path)
    service = services.get(reason_id)
    duration = service.duration_minutes if service else DEFAULT_DURATION_MINUTES
    service_name = service.name if service else reason_id
    status = reader.text(item, "appointment_status", path)
    note = _STATUS_NOTES.get(status)
    return Appointment(
        id=reader.text(item, "appointment_id", path),
        therapist_id=entry.therapist.id,
        therapist_name=entry.therapist.name,
        source=source,
        start=start,
        end=start + timedelta(minutes=duration),
        summary=f"{service_name} ({note})" if note else service_name,
        service=service_name,
        # A status added to the API after v1.176 is shown as tentative.
        status=STATUS_MAP.get(status, Status.TENTATIVE),
    )


def read_slots(
    reader: Reader,
    body: dict[str, Any],
    *,
    visit_reason_id: str,
    directory: dict[str, DirectoryEntry],
    services: dict[str, Service],
    tz: ZoneInfo,
    source: str,
) -> list[Slot]:
    """Read an AvailabilityResult into open slots."""
    slots: list[Slot] = []
    for index, availability in enumerate(reader.array(body, "data", "")):
        path = f"data[{index}]"
        availability = reader.obj(availability, path)
        provider_location_id = reader.text(availability, "provider_location_id", path)
        entry = directory.get(provider_location_id.split("|", 1)[0])
        if entry is None:
            continue
        for number, timeslot in enumerate(reader.array(availability, "timeslots", path)):
            slot_path = f"{path}.timeslots[{number}]"
            timeslot = reader.obj(timeslot, slot_path)
            start = reader.moment(timeslot, "start_time", slot_path, tz)
            reason_id = (
                reader.optional_text(timeslot, "visit_reason_id", slot_path) or visit_reason_id
            )
            service = services.get(reason_id)
            duration = service.duration_minutes if service else DEFAULT_DURATION_MINUTES
            slots.append(
                Slot(
                    therapist_id=entry.therapist.id,
                    start=start,
                    end=start + timedelta(minutes=duration),
                    source=source,
                    service_id=reason_id,
                )
            )
    return slots
