"""Queued writes laid over a week, and the booking payloads, without a running app."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from tests.tui.conftest import MONDAY, PATIENT, ZONE, at

from sched_tui.model import Appointment, CalendarWeek, Service, Slot, Status, Therapist, Week
from sched_tui.queue import Job, Operation
from sched_tui.queue import Status as JobStatus
from sched_tui.queue.zocdoc_requests import (
    PatientDetails,
    booking_payload,
    cancel_payload,
    reschedule_payload,
)
from sched_tui.tui.cells import PENDING_GLYPH, GridShape, build_cells, describe_item, render_cell
from sched_tui.tui.moves import move_starts
from sched_tui.tui.pending import QUEUED_ID_PREFIX, apply_jobs, mark_cells

SHAPE = GridShape(*(at(MONDAY, 8).time(), at(MONDAY, 18).time()), 30)
TUESDAY = MONDAY + timedelta(days=1)


def week() -> CalendarWeek:
    from zoneinfo import ZoneInfo

    rivera = Therapist("pr_riv", "Dr. Ana Rivera", "zocdoc", location_id="pr_riv|loc_1")
    appointment = Appointment(
        "appt-1",
        "pr_riv",
        rivera.name,
        "zocdoc",
        at(MONDAY, 9),
        at(MONDAY, 9, 50),
        service="Individual therapy",
        status=Status.CONFIRMED,
    )
    return CalendarWeek(
        week=Week.containing(MONDAY, ZoneInfo(ZONE)),
        timezone=ZONE,
        therapists=(rivera,),
        services=(Service("vr_ind", "Individual therapy", 50, "zocdoc"),),
        appointments=(appointment,),
        slots=(
            Slot("pr_riv", at(TUESDAY, 11), at(TUESDAY, 11, 50), "zocdoc", "vr_ind"),
            Slot("pr_riv", at(TUESDAY, 14), at(TUESDAY, 14, 50), "zocdoc", "vr_ind"),
        ),
    )


def job(job_id: str, operation: Operation, payload: dict, created_at: float = 1.0) -> Job:
    return Job(
        job_id=job_id,
        target_system="zocdoc",
        operation=operation,
        payload=payload,
        status=JobStatus.PENDING,
        attempts=0,
        next_attempt_at=0.0,
        last_error=None,
        idempotency_key=job_id,
        created_at=created_at,
        updated_at=created_at,
        subject_id=None,
        lease_token=None,
        lease_owner=None,
        lease_expires_at=None,
        in_flight=False,
        takeovers=0,
        ambiguous=False,
        result=None,
    )


def booking(start_hour: int) -> dict:
    return booking_payload(
        start=at(TUESDAY, start_hour),
        provider_location_id="pr_riv|loc_1",
        visit_reason_id="vr_ind",
        patient=PatientDetails.parse(PATIENT),
    )


def test_booking_replaces_slot_marked() -> None:
    overlay = apply_jobs(week(), [job("j1", Operation.CREATE, booking(11))])

    added = [a for a in overlay.calendar.appointments if a.id == QUEUED_ID_PREFIX + "j1"]
    assert len(added) == 1
    assert added[0].start == at(TUESDAY, 11)
    assert added[0].end == at(TUESDAY, 11, 50)
    assert added[0].service == "Individual therapy"
    assert [slot.start for slot in overlay.calendar.slots] == [at(TUESDAY, 14)]
    assert overlay.marks == {QUEUED_ID_PREFIX + "j1": "pending booking"}

    cells = mark_cells(build_cells(overlay.calendar, SHAPE), overlay.marks)
    cell = cells[(1, SHAPE.row_of(at(TUESDAY, 11).time()))]
    assert render_cell(cell).label.startswith(PENDING_GLYPH + "11:00 Riv")
    assert describe_item(cell.items[0]).endswith("pending booking  [zocdoc]")


def test_reschedule_moves_appointment() -> None:
    moved = reschedule_payload("appt-1", at(TUESDAY, 14))
    overlay = apply_jobs(week(), [job("j2", Operation.RESCHEDULE, moved)])

    [appointment] = overlay.calendar.appointments
    assert appointment.start == at(TUESDAY, 14)
    assert appointment.end == at(TUESDAY, 14, 50)
    assert [slot.start for slot in overlay.calendar.slots] == [at(TUESDAY, 11)]
    assert overlay.marks == {"appt-1": "pending move"}


def test_reschedule_to_other_week_leaves() -> None:
    moved = reschedule_payload("appt-1", at(MONDAY + timedelta(days=8), 10))
    overlay = apply_jobs(week(), [job("j3", Operation.RESCHEDULE, moved)])

    assert overlay.calendar.appointments == ()
    assert overlay.marks == {}


def test_cancel_marks_cancelled() -> None:
    overlay = apply_jobs(week(), [job("j4", Operation.CANCEL, cancel_payload("appt-1"))])

    [appointment] = overlay.calendar.appointments
    assert appointment.status is Status.CANCELLED
    assert overlay.marks == {"appt-1": "pending cancel"}


def test_unmarked_jobs_apply_without_mark() -> None:
    overlay = apply_jobs(week(), [job("j5", Operation.CREATE, booking(11))], unmarked={"j5"})

    assert len(overlay.calendar.appointments) == 2
    assert overlay.marks == {}


def test_unfit_jobs_change_nothing() -> None:
    calendar = week()
    jobs = [
        job(
            "other-week",
            Operation.CREATE,
            {
                **booking(11),
                "data": {**booking(11)["data"], "start_time": "2030-01-01T10:00:00+00:00"},
            },
        ),
        job("unknown", Operation.CANCEL, cancel_payload("appt-unknown")),
        job("broken", Operation.CREATE, {"data": {}}),
    ]
    overlay = apply_jobs(calendar, jobs)

    assert overlay.calendar == calendar
    assert overlay.marks == {}


def test_booking_payload_shape() -> None:
    payload = booking(11)

    data = payload["data"]
    assert payload["appointment_type"] == "providers"
    assert data["start_time"] == at(TUESDAY, 11).isoformat()
    assert data["patient"]["developer_patient_id"].startswith("sched-tui-")
    assert data["patient"]["date_of_birth"] == "1980-01-01"
    assert data["patient"]["patient_address"]["zip_code"] == "10001"
    assert "notes" not in data


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("first_name", " ", "first name is missing"),
        ("date_of_birth", "01/02/1980", "date of birth is invalid; expected YYYY-MM-DD"),
        (
            "date_of_birth",
            (date.today() + timedelta(days=1)).isoformat(),
            "expected a date in the past",
        ),
        ("sex_at_birth", "unknown-value", "sex at birth is invalid"),
        ("email_address", "nobody", "email address is invalid"),
        ("state", "New York", "state is invalid; expected two letters"),
        ("zip_code", "1220", "ZIP code is invalid; expected 5 digits"),
    ],
)
def test_patient_details_rejected(field: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as raised:
        PatientDetails.parse({**PATIENT, field: value})
    if value.strip():
        assert value not in str(raised.value)


def test_patient_details_name_every_problem() -> None:
    """One submit names every missing or invalid field, in form order."""
    fields = {**PATIENT, "first_name": "", "city": " ", "phone_number": "12", "zip_code": "ABCDE"}

    with pytest.raises(ValueError) as raised:
        PatientDetails.parse(fields)

    assert str(raised.value) == (
        "first name, city are missing; phone number is invalid; expected 7 to 20 digits; "
        "ZIP code is invalid; expected 5 digits"
    )
    assert PatientDetails.parse({**PATIENT, "state": "ny"}).state == "NY"


def test_notes_limit() -> None:
    patient = PatientDetails.parse(PATIENT)
    start = at(TUESDAY, 11)

    ok = booking_payload(
        start=start,
        provider_location_id="p|l",
        visit_reason_id="v",
        patient=patient,
        notes="x" * 100,
    )
    assert ok["data"]["notes"] == "x" * 100
    with pytest.raises(ValueError, match="at most 100 characters"):
        booking_payload(
            start=start,
            provider_location_id="p|l",
            visit_reason_id="v",
            patient=patient,
            notes="x" * 101,
        )


def test_queued_move_takes_its_time_from_other_moves() -> None:
    """A time a queued move takes is not offered to another session of the therapist."""
    base = week()
    couples = Appointment(
        "appt-2",
        "pr_riv",
        "Dr. Ana Rivera",
        "zocdoc",
        at(MONDAY, 15),
        at(MONDAY, 16, 20),
        service="Couples therapy",
    )
    calendar = replace(
        base,
        services=(*base.services, Service("vr_cpl", "Couples therapy", 80, "zocdoc")),
        appointments=(*base.appointments, couples),
        slots=(
            *base.slots,
            Slot("pr_riv", at(TUESDAY, 14), at(TUESDAY, 15, 20), "zocdoc", "vr_cpl"),
            Slot("pr_riv", at(TUESDAY, 16), at(TUESDAY, 17, 20), "zocdoc", "vr_cpl"),
        ),
    )
    assert move_starts(couples, calendar, ZoneInfo(ZONE)) == [at(TUESDAY, 14), at(TUESDAY, 16)]

    moved = reschedule_payload("appt-1", at(TUESDAY, 14))
    overlay = apply_jobs(calendar, [job("j2", Operation.RESCHEDULE, moved)])

    assert move_starts(couples, overlay.calendar, ZoneInfo(ZONE)) == [at(TUESDAY, 16)]
