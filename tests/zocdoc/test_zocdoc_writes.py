"""Write calls of ZocdocProvider: idempotent booking, reconciliation, cancel and reschedule."""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from typing import Any

import pytest

from sched_tui.model import Slot
from sched_tui.providers.base import ProviderRejected
from sched_tui.providers.zocdoc import ZocdocProvider

from .support import TODAY, TZ, ProviderFactory, RunningSandbox


async def _open_slots(provider: ZocdocProvider) -> list[Slot]:
    therapists = await provider.list_therapists()
    start = datetime.combine(TODAY + timedelta(days=1), time(), TZ)
    weeks = await provider.fetch_week([therapists[0].id], start, start + timedelta(days=7))
    _locations.update({t.id: t.location_id or "" for t in therapists})
    return [slot for week in weeks.values() for slot in week.slots]


# Provider location id of each therapist seen by _open_slots.
_locations: dict[str, str] = {}


def _payload(
    provider: ZocdocProvider, slot: Slot, patient_id: str = "queue-test-001"
) -> dict[str, Any]:
    therapist_location = _locations[slot.therapist_id]
    return {
        "appointment_type": "providers",
        "data": {
            "start_time": slot.start.isoformat(),
            "visit_reason_id": slot.service_id,
            "provider_location_id": therapist_location,
            "patient_type": "existing",
            "notes": "Booked by the write-path test.",
            "patient": {
                "developer_patient_id": patient_id,
                "first_name": "Quillon",
                "last_name": "Testerly",
                "date_of_birth": "1990-01-31",
                "sex_at_birth": "female",
                "phone_number": "2125550111",
                "email_address": "quillon.testerly@example.com",
                "patient_address": {
                    "address1": "1 Nowhere Rd",
                    "city": "New York",
                    "state": "NY",
                    "zip_code": "10001",
                },
            },
        },
    }


async def test_same_key_books_once(sandbox: RunningSandbox, make_provider: ProviderFactory) -> None:
    provider = make_provider(sandbox)
    slot = (await _open_slots(provider))[0]
    payload = _payload(provider, slot)
    stored_before = len(sandbox.state.practice.appointments)

    first = await provider.create_appointment(payload, idempotency_key="key-0001")
    second = await provider.create_appointment(payload, idempotency_key="key-0001")

    assert first["appointment_id"] == second["appointment_id"]
    assert sandbox.state.booking_requests == 2
    assert sandbox.state.bookings_created == 1
    assert len(sandbox.state.practice.appointments) == stored_before + 1
    keys = [r.idempotency_key for r in sandbox.state.requests_to("/v1/appointments", "POST")]
    assert keys == ["key-0001", "key-0001"]


async def test_booked_slot_rejected_for_new_key(
    sandbox: RunningSandbox, make_provider: ProviderFactory
) -> None:
    provider = make_provider(sandbox)
    slot = (await _open_slots(provider))[0]
    payload = _payload(provider, slot)
    await provider.create_appointment(payload, idempotency_key="key-0002")

    with pytest.raises(ProviderRejected) as caught:
        await provider.create_appointment(payload, idempotency_key="key-0003")

    assert caught.value.status_code == 400
    assert sandbox.state.bookings_created == 1


async def test_booking_found_for_reconciliation(
    sandbox: RunningSandbox, make_provider: ProviderFactory
) -> None:
    provider = make_provider(sandbox)
    slot = (await _open_slots(provider))[0]
    created = await provider.create_appointment(
        _payload(provider, slot, "queue-test-002"), idempotency_key="key-0004"
    )

    found = await provider.find_appointments(
        developer_patient_id="queue-test-002", start_time=slot.start
    )
    missing = await provider.find_appointments(
        developer_patient_id="queue-test-999", start_time=slot.start
    )

    assert [item["appointment_id"] for item in found] == [created["appointment_id"]]
    assert missing == []


async def test_cancel_then_conflict(
    sandbox: RunningSandbox, make_provider: ProviderFactory
) -> None:
    provider = make_provider(sandbox)
    slot = (await _open_slots(provider))[0]
    created = await provider.create_appointment(
        _payload(provider, slot), idempotency_key="key-0005"
    )

    cancelled = await provider.cancel_appointment(
        created["appointment_id"], reason_type="patient_no_longer_available"
    )

    assert cancelled["appointment_status"] == "cancelled"
    with pytest.raises(ProviderRejected) as caught:
        await provider.cancel_appointment(created["appointment_id"])
    assert caught.value.status_code == 409


async def test_reschedule_moves_start(
    sandbox: RunningSandbox, make_provider: ProviderFactory
) -> None:
    provider = make_provider(sandbox)
    slots = await _open_slots(provider)
    first = slots[0]
    target = next(s for s in slots if s.service_id == first.service_id and s.start >= first.end)
    created = await provider.create_appointment(
        _payload(provider, first), idempotency_key="key-0006"
    )

    moved = await provider.reschedule_appointment(created["appointment_id"], target.start)

    assert moved["appointment_id"] == created["appointment_id"]
    stored = sandbox.state.appointment(created["appointment_id"])
    assert stored.start == target.start
    assert stored.status in ("rescheduled", "pending_reschedule")


async def test_writes_log_ids_not_patients(
    sandbox: RunningSandbox, make_provider: ProviderFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    provider = make_provider(sandbox)
    slot = (await _open_slots(provider))[0]

    created = await provider.create_appointment(
        _payload(provider, slot), idempotency_key="key-0007"
    )
    with pytest.raises(ProviderRejected):
        await provider.create_appointment(_payload(provider, slot), idempotency_key="key-0008")

    assert created["appointment_id"] in caplog.text
    for private in ("Quillon", "Testerly", "1990-01-31", "2125550111", "quillon.testerly"):
        assert private not in caplog.text


async def test_rejected_booking_names_field_only(
    sandbox: RunningSandbox, make_provider: ProviderFactory
) -> None:
    """A rejected booking names the invalid field but quotes no server text, which may echo it."""
    provider = make_provider(sandbox)
    slot = (await _open_slots(provider))[0]
    payload = _payload(provider, slot)
    payload["data"]["patient"]["sex_at_birth"] = "Quillon-unknown"

    with pytest.raises(ProviderRejected) as caught:
        await provider.create_appointment(payload, idempotency_key="key-0009")

    message = str(caught.value)
    assert caught.value.status_code == 400
    assert "invalid field data.patient.sex_at_birth" in message
    assert "Quillon" not in message
    assert "must be male or female" not in message
