"""Write calls to Zocdoc's appointments API, kept thin for the write queue.

None of them is retried here: after a timeout the outcome is unknown, and the
caller reconciles with `find_appointments` before sending again.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sched_tui.providers.zocdoc_api import RESCHEDULE_PATH, ZocdocApi, utc_instant
from sched_tui.providers.zocdoc_parse import Reader

log = logging.getLogger("sched_tui.providers.zocdoc")

APPOINTMENTS = "/v1/appointments"
# Limits of GET /v1/appointments stated in Zocdoc's OpenAPI v1.176.
APPOINTMENT_PAGE_SIZE = 100
MAX_APPOINTMENT_PAGE = 10


class ZocdocWrites:
    """Create, cancel, reschedule and look up appointments; mixed into ZocdocProvider."""

    _api: ZocdocApi
    _label: str

    async def create_appointment(
        self, payload: dict[str, Any], idempotency_key: str
    ) -> dict[str, Any]:
        """POST /v1/appointments with an Idempotency-Key header; return the response's ``data``.

        NOTE: Zocdoc's OpenAPI v1.176 does not document Idempotency-Key. The
        sandbox honours it; against the real API, reconcile after a timeout.
        """
        body = await self._api.post(
            APPOINTMENTS, payload, headers={"Idempotency-Key": idempotency_key}
        )
        data = self._write_data(body, f"POST {APPOINTMENTS}")
        log.info(
            "%s: created appointment %s (Idempotency-Key %s)",
            self._label,
            data["appointment_id"],
            idempotency_key,
        )
        return data

    async def cancel_appointment(
        self, appointment_id: str, *, reason_type: str | None = None, reason: str | None = None
    ) -> dict[str, Any]:
        """POST /v1/appointments/cancel; return the response's ``data``."""
        payload: dict[str, Any] = {"appointment_id": appointment_id}
        if reason_type is not None:
            payload["cancellation_reason_type"] = reason_type
        if reason is not None:
            payload["cancellation_reason"] = reason
        body = await self._api.post(f"{APPOINTMENTS}/cancel", payload)
        log.info("%s: cancelled appointment %s", self._label, appointment_id)
        return self._write_data(body, f"POST {APPOINTMENTS}/cancel")

    async def reschedule_appointment(
        self, appointment_id: str, start_time: datetime
    ) -> dict[str, Any]:
        """POST /v1/appointments/reschedule to an aware start time; return the ``data``."""
        if start_time.tzinfo is None:
            raise ValueError("start_time must be timezone-aware")
        payload = {"appointment_id": appointment_id, "start_time": start_time.isoformat()}
        body = await self._api.post(RESCHEDULE_PATH, payload)
        log.info("%s: rescheduled appointment %s", self._label, appointment_id)
        return self._write_data(body, f"POST {APPOINTMENTS}/reschedule")

    async def get_appointment(self, appointment_id: str) -> dict[str, Any]:
        """GET /v1/appointments/{appointment_id}; return the response's ``data``."""
        path = f"{APPOINTMENTS}/{appointment_id}"
        return self._write_data(await self._api.get(path), f"GET {APPOINTMENTS}/{{appointment_id}}")

    async def find_appointments(
        self, *, developer_patient_id: str, start_time: datetime | None = None
    ) -> list[dict[str, Any]]:
        """List a patient's appointments, optionally only those starting at `start_time`.

        Used to learn whether a booking whose response was lost was created.
        Returns AppointmentStatusResponseData objects as the API sends them.
        """
        params: dict[str, Any] = {"developer_patient_id": developer_patient_id}
        if start_time is not None:
            params["start_time_utc_min"] = params["start_time_utc_max"] = utc_instant(start_time)
        first = await self._api.get_page(APPOINTMENTS, params, 0, APPOINTMENT_PAGE_SIZE)
        items = await self._api.get_remaining_pages(
            APPOINTMENTS, params, first, APPOINTMENT_PAGE_SIZE, MAX_APPOINTMENT_PAGE
        )
        reader = Reader(self._label, f"GET {APPOINTMENTS}")
        return [reader.obj(item, f"data[{index}]") for index, item in enumerate(items)]

    def _write_data(self, body: dict[str, Any], request: str) -> dict[str, Any]:
        reader = Reader(self._label, request)
        data = reader.obj(body.get("data"), "data")
        reader.text(data, "appointment_id", "data")
        return data
