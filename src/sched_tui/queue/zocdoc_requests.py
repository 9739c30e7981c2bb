"""Build the Zocdoc write payloads that the TUI and the command line enqueue.

The shapes are the ones `sched_tui.queue.zocdoc.ZocdocTarget` sends: a
``create`` payload is Zocdoc's BookAppointmentRequestBody, a ``reschedule``
payload names the appointment and its new start, a ``cancel`` payload names the
appointment. Field names and limits follow Zocdoc's OpenAPI v1.176.

`subject_id` values name the calendar item a job is about, so a running copy
can mark it pending and revert it: the appointment id for reschedules and
cancels, ``"<provider_location_id>@<start ISO 8601>"`` for a booking's slot.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

# data.notes of BookAppointmentRequestBody, in characters.
MAX_NOTES_CHARS = 100
SEXES_AT_BIRTH = ("female", "male")
PATIENT_TYPES = ("existing", "new")

_PHONE = re.compile(r"^\+?[0-9 ()\-.]{7,20}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Zocdoc's PatientAddress takes a two-letter state code and a 5-digit ZIP code.
_STATE = re.compile(r"^[A-Za-z]{2}$")
_ZIP = re.compile(r"^[0-9]{5}$")


@dataclass(frozen=True, slots=True)
class PatientDetails:
    """The patient fields Zocdoc requires for a booking, as staff enter them."""

    first_name: str
    last_name: str
    date_of_birth: date
    sex_at_birth: str
    phone_number: str
    email_address: str
    address1: str
    city: str
    state: str
    zip_code: str

    @classmethod
    def parse(cls, fields: Mapping[str, str]) -> PatientDetails:
        """Check form fields and build the details.

        Raises ValueError naming every missing or invalid field with the
        expected form, in form order, never the value, because the value is
        patient data.
        """
        values = {name: fields.get(name, "").strip() for name in _FIELD_NAMES}
        missing = [_LABELS[name] for name, value in values.items() if not value]
        problems = []
        if missing:
            verb = "is" if len(missing) == 1 else "are"
            problems.append(f"{', '.join(missing)} {verb} missing")
        born = date.min
        if values["date_of_birth"]:
            try:
                born = date.fromisoformat(values["date_of_birth"])
            except ValueError:
                problems.append("date of birth is invalid; expected YYYY-MM-DD")
            else:
                if born >= date.today():
                    problems.append("date of birth is invalid; expected a date in the past")
        sex = values["sex_at_birth"].lower()
        if sex and sex not in SEXES_AT_BIRTH:
            problems.append(f"sex at birth is invalid; expected one of {', '.join(SEXES_AT_BIRTH)}")
        checks = (
            ("phone_number", _PHONE, "phone number is invalid; expected 7 to 20 digits"),
            ("email_address", _EMAIL, "email address is invalid; expected name@domain"),
            ("state", _STATE, "state is invalid; expected two letters, such as NY"),
            ("zip_code", _ZIP, "ZIP code is invalid; expected 5 digits"),
        )
        for name, pattern, message in checks:
            if values[name] and not pattern.match(values[name]):
                problems.append(message)
        if problems:
            raise ValueError("; ".join(problems))
        values["state"] = values["state"].upper()
        return cls(
            first_name=values["first_name"],
            last_name=values["last_name"],
            date_of_birth=born,
            sex_at_birth=sex,
            phone_number=values["phone_number"],
            email_address=values["email_address"],
            address1=values["address1"],
            city=values["city"],
            state=values["state"],
            zip_code=values["zip_code"],
        )


_LABELS = {
    "first_name": "first name",
    "last_name": "last name",
    "date_of_birth": "date of birth",
    "sex_at_birth": "sex at birth",
    "phone_number": "phone number",
    "email_address": "email address",
    "address1": "street address",
    "city": "city",
    "state": "state",
    "zip_code": "ZIP code",
}
_FIELD_NAMES = tuple(_LABELS)


def patient_field_labels() -> dict[str, str]:
    """Return the booking form's field names with their labels, in form order."""
    return dict(_LABELS)


def new_developer_patient_id() -> str:
    """Return a new ``developer_patient_id``, the key that finds a booking after a lost response."""
    return f"sched-tui-{uuid.uuid4().hex}"


def check_notes(notes: str) -> str:
    """Return the notes stripped; raise ValueError when they exceed Zocdoc's limit."""
    notes = notes.strip()
    if len(notes) > MAX_NOTES_CHARS:
        raise ValueError(f"notes are too long; at most {MAX_NOTES_CHARS} characters")
    return notes


def booking_payload(
    *,
    start: datetime,
    provider_location_id: str,
    visit_reason_id: str,
    patient: PatientDetails,
    notes: str = "",
    patient_type: str = "existing",
    developer_patient_id: str | None = None,
) -> dict[str, Any]:
    """Build a ``create`` payload for one open slot."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    if patient_type not in PATIENT_TYPES:
        raise ValueError(f"invalid patient_type {patient_type!r}; expected one of {PATIENT_TYPES}")
    data: dict[str, Any] = {
        "start_time": start.isoformat(),
        "visit_reason_id": visit_reason_id,
        "provider_location_id": provider_location_id,
        "patient_type": patient_type,
        "patient": {
            "developer_patient_id": developer_patient_id or new_developer_patient_id(),
            "first_name": patient.first_name,
            "last_name": patient.last_name,
            "date_of_birth": patient.date_of_birth.isoformat(),
            "sex_at_birth": patient.sex_at_birth,
            "phone_number": patient.phone_number,
            "email_address": patient.email_address,
            "patient_address": {
                "address1": patient.address1,
                "city": patient.city,
                "state": patient.state,
                "zip_code": patient.zip_code,
            },
        },
    }
    notes = check_notes(notes)
    if notes:
        data["notes"] = notes
    return {"appointment_type": "providers", "data": data}


def reschedule_payload(appointment_id: str, start: datetime) -> dict[str, Any]:
    """Build a ``reschedule`` payload moving `appointment_id` to the aware time `start`."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    return {"appointment_id": appointment_id, "start_time": start.isoformat()}


def cancel_payload(appointment_id: str) -> dict[str, Any]:
    """Build a ``cancel`` payload for `appointment_id`."""
    return {"appointment_id": appointment_id}


def slot_subject(provider_location_id: str, start: datetime) -> str:
    """Return the subject id of a booking: the slot's location and start."""
    return f"{provider_location_id}@{start.isoformat()}"
