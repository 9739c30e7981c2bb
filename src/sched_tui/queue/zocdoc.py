"""Zocdoc as a write target: bookings, reschedules and cancels through `ZocdocProvider`.

Payloads, as the TUI and the command line enqueue them:

- ``create``: Zocdoc's BookAppointmentRequestBody, with ``data.start_time`` and
  ``data.patient.developer_patient_id`` required so an ambiguous booking can be
  looked up;
- ``reschedule``: ``{"appointment_id": ..., "start_time": "<ISO 8601 with offset>"}``;
- ``cancel``: ``{"appointment_id": ...}`` plus optional ``cancellation_reason_type``
  and ``cancellation_reason``.

Results stored with a processed job carry only ``appointment_id`` and
``appointment_status``, never patient fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sched_tui.config import ProviderConfig
from sched_tui.providers.base import ProviderRejected
from sched_tui.providers.zocdoc import ZocdocProvider
from sched_tui.providers.zocdoc_api import RetryPolicy
from sched_tui.queue.jobs import Job, Operation
from sched_tui.queue.targets import InvalidPayload

# Statuses of an appointment that no longer holds its slot.
_CANCELLED_STATUSES = frozenset({"cancelled", "booking_failed"})
# Statuses after which a reschedule has been accepted.
_RESCHEDULED_STATUSES = frozenset(
    {"rescheduled", "pending_reschedule", "confirmed", "pending_booking"}
)


class ZocdocTarget:
    """Sends queued writes to one Zocdoc account."""

    def __init__(self, provider: ZocdocProvider) -> None:
        self.provider = provider

    @classmethod
    def from_config(cls, config: ProviderConfig, tz: ZoneInfo) -> ZocdocTarget:
        """Build the target for one ``kind = "zocdoc"`` provider entry.

        The provider's own read retries are switched off: the processor decides
        every retry and every pause after a 429, shared with the other processors.
        """
        return cls(ZocdocProvider.from_config(config, tz, retry=RetryPolicy(retries=0)))

    async def send(self, job: Job) -> Mapping[str, Any] | None:
        """Perform the job's write once."""
        payload = job.payload
        if job.operation is Operation.CREATE:
            _create_lookup_keys(payload)
            data = await self.provider.create_appointment(payload, job.idempotency_key)
            return _summary(data)

        appointment_id = _text(payload, "appointment_id")
        if job.operation is Operation.RESCHEDULE:
            data = await self.provider.reschedule_appointment(appointment_id, _start_time(payload))
            return _summary(data)

        try:
            data = await self.provider.cancel_appointment(
                appointment_id,
                reason_type=payload.get("cancellation_reason_type"),
                reason=payload.get("cancellation_reason"),
            )
        except ProviderRejected as error:
            # After an ambiguous attempt, 409 "already cancelled" means our cancel took effect.
            if error.status_code == 409 and job.ambiguous:
                found = await self.reconcile(job)
                if found is not None:
                    return found
            raise
        return _summary(data)

    async def reconcile(self, job: Job) -> Mapping[str, Any] | None:
        """Return the write's result if an earlier call already took effect, else None."""
        payload = job.payload
        if job.operation is Operation.CREATE:
            patient_id, start = _create_lookup_keys(payload)
            location = payload["data"].get("provider_location_id")
            for item in await self.provider.find_appointments(
                developer_patient_id=patient_id, start_time=start
            ):
                if item.get("appointment_status") in _CANCELLED_STATUSES:
                    continue
                if location is not None and item.get("provider_location_id") != location:
                    continue
                return {**_summary(item), "reconciled": True}
            return None

        data = await self.provider.get_appointment(_text(payload, "appointment_id"))
        status = data.get("appointment_status")
        if job.operation is Operation.CANCEL:
            return {**_summary(data), "reconciled": True} if status in _CANCELLED_STATUSES else None
        current_start = data.get("start_time")
        moved = (
            status in _RESCHEDULED_STATUSES
            and isinstance(current_start, str)
            and _parse_instant(current_start, "start_time") == _start_time(payload)
        )
        return {**_summary(data), "reconciled": True} if moved else None

    async def aclose(self) -> None:
        """Close the provider's HTTP client."""
        await self.provider.aclose()


def _create_lookup_keys(payload: Mapping[str, Any]) -> tuple[str, datetime]:
    """Return the patient id and start time that identify a booking, or raise InvalidPayload."""
    data = payload.get("data")
    if not isinstance(data, Mapping):
        raise InvalidPayload("create needs a data object (Zocdoc's BookAppointmentRequestBody)")
    patient = data.get("patient")
    patient_id = patient.get("developer_patient_id") if isinstance(patient, Mapping) else None
    if not isinstance(patient_id, str) or not patient_id:
        raise InvalidPayload(
            "create needs data.patient.developer_patient_id, used to look the booking up "
            "after a lost answer"
        )
    return patient_id, _start_time(data)


def _start_time(payload: Mapping[str, Any]) -> datetime:
    return _parse_instant(_text(payload, "start_time"), "start_time")


def _parse_instant(value: str, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidPayload(f"{field} is not an ISO 8601 date and time") from None
    if moment.tzinfo is None:
        raise InvalidPayload(f"{field} has no UTC offset")
    return moment


def _text(payload: Mapping[str, Any], field: str) -> str:
    value = payload.get(field)
    if not isinstance(value, str) or not value:
        raise InvalidPayload(f"{field} is missing or not a string")
    return value


def _summary(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "appointment_id": data.get("appointment_id"),
        "appointment_status": data.get("appointment_status"),
    }
