"""Show queued writes on the week before their target confirms them.

Plain Python with no Textual import. `apply_jobs` lays queued Zocdoc writes
over a `CalendarWeek` as the target would apply them: a booking becomes a
tentative appointment in place of its open slot, a reschedule moves the
appointment, a cancel marks it cancelled. `mark_cells` then tags the affected
grid items, so they show `PENDING_GLYPH` and the word "pending".

Everything is derived from the jobs' payloads, so the marks survive a restart
and also show writes queued by other running copies.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sched_tui.model import Appointment, CalendarWeek, Slot, Status
from sched_tui.queue.jobs import Job, Operation
from sched_tui.tui.cells import Cell, CellItem, CellKey

log = logging.getLogger(__name__)

PENDING_LABELS = {
    Operation.CREATE: "pending booking",
    Operation.RESCHEDULE: "pending move",
    Operation.CANCEL: "pending cancel",
}
# Id prefix of the appointment a queued booking shows as, until the target returns the real id.
QUEUED_ID_PREFIX = "queued:"
# Length of a booked visit when the calendar does not know its service, in minutes.
FALLBACK_DURATION_MINUTES = 50


@dataclass(frozen=True, slots=True)
class Overlay:
    """A week with queued writes applied, and the label of each appointment they changed."""

    calendar: CalendarWeek
    marks: dict[str, str]


def apply_jobs(
    calendar: CalendarWeek, jobs: Iterable[Job], *, unmarked: Collection[str] = ()
) -> Overlay:
    """Apply queued writes to `calendar`, oldest first.

    Jobs whose id is in `unmarked` are applied without a mark: they succeeded,
    and the week read after their success has not arrived yet. A job whose
    payload does not fit the shown week (another week, an unknown therapist or
    appointment) changes nothing.
    """
    appointments = list(calendar.appointments)
    slots = list(calendar.slots)
    marks: dict[str, str] = {}
    for job in sorted(jobs, key=lambda job: (job.created_at, job.job_id)):
        try:
            changed = _apply(calendar, job, appointments, slots)
        except (KeyError, TypeError, ValueError, AttributeError):
            # A payload from another version or a hand-made job: show the week without it.
            log.warning(
                "%s cannot be shown on the week; its payload has an unexpected shape",
                job.describe(),
            )
            continue
        if changed is not None and job.job_id not in unmarked:
            marks[changed] = PENDING_LABELS[job.operation]
    overlaid = replace(calendar, appointments=tuple(appointments), slots=tuple(slots))
    return Overlay(overlaid, marks)


def mark_cells(cells: Mapping[CellKey, Cell], marks: Mapping[str, str]) -> dict[CellKey, Cell]:
    """Return `cells` with each item whose appointment id is in `marks` tagged as pending."""
    if not marks:
        return dict(cells)
    return {
        key: Cell(_marked(cell.items, marks), _marked(cell.continued, marks))
        for key, cell in cells.items()
    }


def _marked(items: tuple[CellItem, ...], marks: Mapping[str, str]) -> tuple[CellItem, ...]:
    return tuple(
        replace(item, pending=marks[item.ref.id])
        if isinstance(item.ref, Appointment) and item.ref.id in marks
        else item
        for item in items
    )


def _apply(
    calendar: CalendarWeek, job: Job, appointments: list[Appointment], slots: list[Slot]
) -> str | None:
    """Change `appointments` and `slots` as `job` would; return the changed appointment's id."""
    payload = job.payload
    if job.operation is Operation.CREATE:
        booked = _booking(calendar, job)
        if booked is None:
            return None
        appointments.append(booked)
        _take_slots(slots, booked)
        return booked.id

    appointment_id = str(payload["appointment_id"])
    index = next((i for i, item in enumerate(appointments) if item.id == appointment_id), None)
    if index is None:
        return None
    current = appointments[index]
    if job.operation is Operation.CANCEL:
        appointments[index] = replace(current, status=Status.CANCELLED)
        return appointment_id

    start = _instant(payload["start_time"], calendar)
    start_at, end_at = current.bounds(calendar.week.tz)
    moved = replace(current, start=start, end=start + (end_at - start_at))
    if not calendar.week.start_at <= start < calendar.week.end_at:
        # Moved to another week: it leaves this one.
        del appointments[index]
        return None
    appointments[index] = moved
    _take_slots(slots, moved)
    return appointment_id


def _booking(calendar: CalendarWeek, job: Job) -> Appointment | None:
    data = job.payload["data"]
    start = _instant(data["start_time"], calendar)
    if not calendar.week.start_at <= start < calendar.week.end_at:
        return None
    therapist_id = str(data["provider_location_id"]).split("|", 1)[0]
    therapist = next((t for t in calendar.therapists if t.id == therapist_id), None)
    if therapist is None:
        return None
    service = next((s for s in calendar.services if s.id == data.get("visit_reason_id")), None)
    minutes = service.duration_minutes if service else FALLBACK_DURATION_MINUTES
    name = service.name if service else ""
    return Appointment(
        id=QUEUED_ID_PREFIX + job.job_id,
        therapist_id=therapist_id,
        therapist_name=therapist.name,
        source=job.target_system,
        start=start,
        end=start + timedelta(minutes=minutes),
        summary=name,
        service=name,
        status=Status.TENTATIVE,
    )


def _take_slots(slots: list[Slot], appointment: Appointment) -> None:
    """Remove the therapist's open slots that `appointment` now overlaps."""
    start, end = appointment.bounds(None)
    slots[:] = [
        slot
        for slot in slots
        if slot.therapist_id != appointment.therapist_id
        or not (slot.start < end and start < slot.end)
    ]


def _instant(value: str, calendar: CalendarWeek) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("start_time has no UTC offset")
    return moment.astimezone(calendar.week.tz)
