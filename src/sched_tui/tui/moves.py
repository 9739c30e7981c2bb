"""Open starts the move dialog offers for an appointment."""

from __future__ import annotations

from datetime import datetime, tzinfo

from sched_tui.model import Appointment, CalendarWeek, Status


def move_starts(appointment: Appointment, calendar: CalendarWeek, tz: tzinfo) -> list[datetime]:
    """Return the starts this week to which `appointment` can move, earliest first.

    The starts are those of the therapist's open slots for the appointment's
    service. Slots of another service may be shorter, so they are offered only
    when the appointment's service is not among the provider's services. A
    start is left out when the appointment, at its own length, would overlap
    another appointment of the therapist, or when it is the current start.
    """
    own_slots = [
        slot
        for slot in calendar.slots
        if slot.therapist_id == appointment.therapist_id and slot.source == appointment.source
    ]
    service_ids = {
        service.id
        for service in calendar.services
        if service.name == appointment.service and service.source == appointment.source
    }
    if service_ids:
        own_slots = [slot for slot in own_slots if slot.service_id in service_ids]

    start, end = appointment.bounds(tz)
    length = end - start
    others = [
        other.bounds(tz)
        for other in calendar.appointments
        if other.therapist_id == appointment.therapist_id
        and other.id != appointment.id
        and other.status is not Status.CANCELLED
    ]
    starts = set()
    for slot in own_slots:
        if slot.start == start:
            continue
        if any(
            slot.start < busy_end and busy_start < slot.start + length
            for busy_start, busy_end in others
        ):
            continue
        starts.add(slot.start)
    return sorted(starts)
