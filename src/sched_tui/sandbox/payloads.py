"""JSON shapes of the sandbox's responses, named after the schemas of Zocdoc's OpenAPI v1.176."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sched_tui.sandbox.practice import (
    PRACTICE_ID,
    PRACTICE_NAME,
    Practice,
    SandboxAppointment,
    SandboxProvider,
    VisitReason,
)


def request_id() -> str:
    """Return a new BaseResult.request_id."""
    return f"req_{uuid.uuid4()}"


def error_result(
    message: str, field: str | None = None, error_type: str = "invalid_request"
) -> dict[str, Any]:
    """Build an ErrorResult body."""
    error: dict[str, Any] = {"message": message}
    if field is not None:
        error["field"] = field
    return {"request_id": request_id(), "error_type": error_type, "errors": [error]}


def paginated(
    items: list[Any], page: int, page_size: int, total: int, next_url: str | None
) -> dict[str, Any]:
    """Wrap a page of items in a PaginatedBaseResult."""
    return {
        "request_id": request_id(),
        "page": page,
        "page_size": page_size,
        "total_count": total,
        "next_url": next_url,
        "data": items,
    }


def utc_instant(moment: datetime) -> str:
    """Format an instant as the API does, for example ``2024-01-01T09:30:00Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def visit_reason(reason: VisitReason) -> dict[str, Any]:
    """Build a VisitReasonData object.

    ``duration_minutes`` is a sandbox extension: Zocdoc's VisitReasonData has
    no duration, so clients must treat the field as optional.
    """
    return {
        "id": reason.id,
        "name": reason.name,
        "specialty_id": reason.specialty_id,
        "duration_minutes": reason.duration_minutes,
    }


def base_provider(practice: Practice, provider: SandboxProvider) -> dict[str, Any]:
    """Build a BaseProvider object."""
    specialty = next(s for s in practice.specialties if s.id == provider.specialty_id)
    return {
        "provider_id": provider.provider_id,
        "npi": provider.npi,
        "first_name": provider.first_name,
        "last_name": provider.last_name,
        "title": provider.title,
        "full_name": provider.full_name,
        "gender_identity": provider.gender_identity,
        "specialties": [specialty.name],
        "specialty_ids": [specialty.id],
        "default_visit_reason_id": provider.visit_reason_ids[0],
        "visit_reason_ids": list(provider.visit_reason_ids),
        "statement": "Demo provider served by the sched-tui sandbox.",
        "languages": list(provider.languages),
        "credentials": {"certifications": [], "education": {"institutions": []}},
    }


def _location(practice: Practice, provider: SandboxProvider) -> dict[str, Any]:
    office = provider.office
    return {
        "address1": office.address1,
        "city": office.city,
        "state": office.state,
        "zip_code": office.zip_code,
        "latitude": office.latitude,
        "longitude": office.longitude,
        "location_name": office.name,
        "phone_number": office.phone_number,
        "time_zone": practice.tz.key,
    }


def _booking_requirements() -> dict[str, Any]:
    return {"required_fields": [], "accepts_booking_requests_from": ["in_network", "self_pay"]}


def provider_details(practice: Practice, provider: SandboxProvider) -> dict[str, Any]:
    """Build a ProviderDetails object with its one physical location."""
    location = {
        "provider_location_id": provider.provider_location_id,
        "accepts_patient_insurance": "insurance_not_specified",
        "booking_requirements": _booking_requirements(),
        **_location(practice, provider),
    }
    return {
        **base_provider(practice, provider),
        "locations": [location],
        "virtual_locations": [],
        "practice": {"practice_id": PRACTICE_ID, "practice_name": PRACTICE_NAME},
    }


def provider_location(practice: Practice, provider: SandboxProvider) -> dict[str, Any]:
    """Build a ProviderLocation object."""
    return {
        "provider_location_id": provider.provider_location_id,
        "provider_location_type": "in_person_provider",
        "accepts_patient_insurance": "insurance_not_specified",
        "provider": base_provider(practice, provider),
        "location": _location(practice, provider),
        "practice": {"practice_id": PRACTICE_ID, "practice_name": PRACTICE_NAME},
        "booking_requirements": _booking_requirements(),
    }


def timeslot(start: datetime, visit_reason_id: str) -> dict[str, Any]:
    """Build a Timeslot object; the offset is the provider's local one."""
    return {"start_time": start.isoformat(), "visit_reason_id": visit_reason_id}


def appointment_status(practice: Practice, appointment: SandboxAppointment) -> dict[str, Any]:
    """Build an AppointmentStatusResponseData object (no patient details, as in the API)."""
    provider = practice.provider_by_location(appointment.provider_location_id)
    video = appointment.visit_type != "in_person"
    return {
        "appointment_id": appointment.appointment_id,
        "appointment_status": appointment.status,
        "developer_patient_id": appointment.patient.get("developer_patient_id"),
        "is_provider_resource": False,
        "location_phone_number": provider.office.phone_number if provider else None,
        "location_phone_extension": None,
        "waiting_room_path": f"/waiting-room/{appointment.appointment_id}" if video else None,
        "confirmation_type": provider.confirmation_type if provider else "auto",
        "start_time": appointment.start.isoformat(),
        "created_time_utc": utc_instant(appointment.created_utc),
        "last_modified_time_utc": utc_instant(appointment.last_modified_utc),
        "provider_location_id": appointment.provider_location_id,
        "practice_id": PRACTICE_ID,
        "visit_reason_id": appointment.visit_reason_id,
        "visit_type": appointment.visit_type,
        "patient_type": appointment.patient_type,
        "notes": appointment.notes,
        "cancellation_reason": appointment.cancellation_reason,
        "source": appointment.source,
    }


def appointment_response(practice: Practice, appointment: SandboxAppointment) -> dict[str, Any]:
    """Build an AppointmentResponse body, as create and reschedule return it."""
    full = appointment_status(practice, appointment)
    keys = (
        "appointment_id",
        "appointment_status",
        "developer_patient_id",
        "visit_type",
        "is_provider_resource",
        "location_phone_number",
        "location_phone_extension",
        "waiting_room_path",
        "confirmation_type",
        "notes",
    )
    return {"request_id": request_id(), "data": {key: full[key] for key in keys}}


def appointment_base(appointment: SandboxAppointment) -> dict[str, Any]:
    """Build an AppointmentBaseResponse body, as cancel returns it."""
    return {
        "request_id": request_id(),
        "data": {
            "appointment_id": appointment.appointment_id,
            "appointment_status": appointment.status,
            "developer_patient_id": appointment.patient.get("developer_patient_id"),
        },
    }
