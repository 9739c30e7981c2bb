"""The sandbox's appointment endpoints: list, look up, book, cancel and reschedule."""

from __future__ import annotations

import bisect
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sched_tui.sandbox import payloads
from sched_tui.sandbox.params import instant_param, int_param, json_body, list_param, next_url
from sched_tui.sandbox.practice import APPOINTMENT_STATUSES, PRACTICE_ID, SandboxAppointment
from sched_tui.sandbox.state import ApiError, SandboxState, parse_offset_datetime

# Limits stated in Zocdoc's OpenAPI v1.176.
MAX_APPOINTMENT_PAGE = 10
MAX_APPOINTMENT_PAGE_SIZE = 100
MAX_APPOINTMENT_RESULTS = 1000
MAX_NOTES_CHARS = 100


async def list_appointments(request: Request, state: SandboxState) -> Response:
    page = int_param(request, "page", 0, 0, MAX_APPOINTMENT_PAGE)
    page_size = int_param(request, "page_size", 10, 1, MAX_APPOINTMENT_PAGE_SIZE)
    statuses = list_param(request, "statuses")
    for status in statuses:
        if status not in APPOINTMENT_STATUSES:
            raise ApiError(400, f"Unknown appointment status {status!r}.", "statuses")
    sort_by = request.query_params.get("sort_by", "start_time_utc")
    if sort_by not in ("start_time_utc", "created_time_utc", "last_modified_time_utc"):
        raise ApiError(400, f"Unknown sort_by {sort_by!r}.", "sort_by")
    direction = request.query_params.get("sort_direction", "descending")
    if direction not in ("ascending", "descending"):
        raise ApiError(400, f"Unknown sort_direction {direction!r}.", "sort_direction")

    provider_ids = set(list_param(request, "provider_ids"))
    location_ids = set(list_param(request, "location_ids"))
    practice_ids = set(list_param(request, "practice_ids"))
    patient_id = request.query_params.get("developer_patient_id")
    bounds = {
        name: instant_param(request, name)
        for name in (
            "start_time_utc_min",
            "start_time_utc_max",
            "created_time_utc_min",
            "created_time_utc_max",
            "last_modified_time_utc_min",
            "last_modified_time_utc_max",
        )
    }

    def keep(appointment: SandboxAppointment) -> bool:
        # Runs for every appointment in the start-time range on every page request.
        for key, moment in (
            ("created_time_utc", appointment.created_utc),
            ("last_modified_time_utc", appointment.last_modified_utc),
        ):
            low, high = bounds[f"{key}_min"], bounds[f"{key}_max"]
            if (low is not None and moment < low) or (high is not None and moment > high):
                return False
        if statuses and appointment.status not in statuses:
            return False
        provider_id, _, location_id = appointment.provider_location_id.partition("|")
        if provider_ids and provider_id not in provider_ids:
            return False
        if location_ids and location_id not in location_ids:
            return False
        if practice_ids and PRACTICE_ID not in practice_ids:
            return False
        return patient_id is None or appointment.patient.get("developer_patient_id") == patient_id

    sort_field = {"start_time_utc": "start", "created_time_utc": "created_utc"}.get(
        sort_by, "last_modified_utc"
    )
    timestamps, ordered = state.appointments_by_start()
    start_min, start_max = bounds["start_time_utc_min"], bounds["start_time_utc_max"]
    first = bisect.bisect_left(timestamps, start_min.timestamp()) if start_min else 0
    last = bisect.bisect_right(timestamps, start_max.timestamp()) if start_max else len(ordered)
    matches = sorted(
        (a for a in ordered[first:last] if keep(a)),
        key=lambda a: (getattr(a, sort_field), a.appointment_id),
        reverse=direction == "descending",
    )
    # The API returns at most 1,000 appointments across all pages.
    reachable = matches[:MAX_APPOINTMENT_RESULTS]
    chunk = reachable[page * page_size : (page + 1) * page_size]
    has_more = (page + 1) * page_size < len(reachable) and page < MAX_APPOINTMENT_PAGE
    items = [payloads.appointment_status(state.practice, a) for a in chunk]
    return JSONResponse(
        payloads.paginated(items, page, page_size, len(matches), next_url(request, page, has_more))
    )


async def get_appointment(request: Request, state: SandboxState) -> Response:
    appointment = state.appointment(request.path_params["appointment_id"])
    body = {
        "request_id": payloads.request_id(),
        "data": payloads.appointment_status(state.practice, appointment),
    }
    return JSONResponse(body)


async def create_appointment(request: Request, state: SandboxState) -> Response:
    body = await json_body(request)
    _validate_booking(body)
    appointment, _ = state.book(body, request.headers.get("idempotency-key"))
    return JSONResponse(payloads.appointment_response(state.practice, appointment))


def _validate_booking(body: dict[str, Any]) -> None:
    """Check a BookAppointmentRequestBody; raise ApiError 400 naming the first invalid field."""
    if body.get("appointment_type") != "providers":
        raise ApiError(400, "appointment_type must be providers.", "appointment_type")
    data = body.get("data")
    if not isinstance(data, dict):
        raise ApiError(400, "data is required.", "data")
    for key in ("start_time", "visit_reason_id", "provider_location_id", "patient", "patient_type"):
        if not data.get(key):
            raise ApiError(400, f"data.{key} is required.", f"data.{key}")
    parse_offset_datetime(data["start_time"], "data.start_time")
    if data["patient_type"] not in ("new", "existing"):
        raise ApiError(400, "data.patient_type must be new or existing.", "data.patient_type")
    notes = data.get("notes")
    if notes is not None and (not isinstance(notes, str) or len(notes) > MAX_NOTES_CHARS):
        raise ApiError(
            400, f"data.notes must be text of at most {MAX_NOTES_CHARS} characters.", "data.notes"
        )

    patient = data["patient"]
    if not isinstance(patient, dict):
        raise ApiError(400, "data.patient must be an object.", "data.patient")
    required = (
        "first_name",
        "last_name",
        "date_of_birth",
        "sex_at_birth",
        "phone_number",
        "email_address",
        "patient_address",
    )
    for key in required:
        if not patient.get(key):
            raise ApiError(400, f"data.patient.{key} is required.", f"data.patient.{key}")
    if patient["sex_at_birth"] not in ("male", "female"):
        raise ApiError(
            400, "data.patient.sex_at_birth must be male or female.", "data.patient.sex_at_birth"
        )


async def cancel_appointment(request: Request, state: SandboxState) -> Response:
    body = await json_body(request)
    appointment_id = body.get("appointment_id")
    if not isinstance(appointment_id, str) or not appointment_id:
        raise ApiError(400, "appointment_id is required.", "appointment_id")
    reason_type = body.get("cancellation_reason_type")
    allowed = (
        "patient_no_longer_needs_appointment",
        "patient_no_longer_available",
        "other_patient_reason",
        "missing_needed_patient_information",
        "payment_or_insurance_issue",
        "patient_or_visit_type_not_accepted",
        "provider_not_available",
        "other_provider_reason",
    )
    if reason_type is not None and reason_type not in allowed:
        raise ApiError(
            400, f"Unknown cancellation_reason_type {reason_type!r}.", "cancellation_reason_type"
        )
    appointment = state.cancel(appointment_id, reason_type, body.get("cancellation_reason"))
    return JSONResponse(payloads.appointment_base(appointment))


async def reschedule_appointment(request: Request, state: SandboxState) -> Response:
    body = await json_body(request)
    appointment_id = body.get("appointment_id")
    if not isinstance(appointment_id, str) or not appointment_id:
        raise ApiError(400, "appointment_id is required.", "appointment_id")
    appointment = state.reschedule(appointment_id, body.get("start_time"))  # type: ignore[arg-type]
    return JSONResponse(payloads.appointment_response(state.practice, appointment))
