"""Mutable state of one sandbox: the practice, issued tokens, faults and what it received.

Tests read and change this object directly, for example to count bookings or
to switch faults on. The HTTP layer in `sched_tui.sandbox.app` only translates
requests into calls on it.
"""

from __future__ import annotations

import bisect
import random
import secrets
import threading
import time as monotonic_time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sched_tui.config import SandboxFaults
from sched_tui.sandbox.practice import (
    FREEING_STATUSES,
    Practice,
    SandboxAppointment,
    SandboxProvider,
    VisitReason,
)

# Fault kinds that scripted faults and the `fault=` query flag accept.
FAULT_KINDS = ("429", "500", "503", "timeout", "malformed", "wrong_shape", "401")

# Days ahead of today for which the availability endpoint returns timeslots.
AVAILABILITY_HORIZON_DAYS = 150
# Spacing of the start times the availability endpoint offers, in minutes.
SLOT_STEP_MINUTES = 60


class ApiError(Exception):
    """An error the HTTP layer turns into an ErrorResult response."""

    def __init__(self, status_code: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.field = field


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request the sandbox received (admin endpoints excluded)."""

    method: str
    path: str
    query: dict[str, str]
    idempotency_key: str | None = None


@dataclass(slots=True)
class ScriptedFault:
    """A fault served to the next `count` requests, optionally only on one path."""

    kind: str
    count: int = 1
    path: str | None = None
    retry_after: str | None = None


@dataclass(slots=True)
class _IssuedBooking:
    body: dict[str, Any]
    appointment_id: str


@dataclass(slots=True)
class SandboxState:
    """Everything one sandbox instance stores and counts."""

    practice: Practice
    faults: SandboxFaults
    client_id: str
    client_secret: str
    token_ttl_s: float
    # Seconds a "timeout" fault delays the request before its 503 response.
    hang_s: float = 60.0
    # Form of the Retry-After header on random 429 faults: "seconds" or "http-date".
    retry_after_form: str = "seconds"
    # Monotonic clock for token expiry; tests replace it to expire tokens.
    clock: Callable[[], float] = monotonic_time.monotonic
    # Wall clock for availability ("no slots in the past") and timestamps.
    now: Callable[[], datetime] = field(default_factory=lambda: lambda: datetime.now(UTC))
    requests: list[RequestRecord] = field(default_factory=list)
    scripted: list[ScriptedFault] = field(default_factory=list)
    # POST /v1/appointments requests received, replays included.
    booking_requests: int = 0
    # Appointments actually created by POST /v1/appointments.
    bookings_created: int = 0
    token_requests: int = 0
    # Draws for the random faults; reseeded from `faults.seed` by `set_faults`.
    rng: random.Random = field(default_factory=random.Random)
    # Bumped whenever an appointment's start changes, to invalidate the start index.
    _version: int = 0
    _start_index: tuple[tuple[int, int], list[float], list[SandboxAppointment]] | None = None
    _tokens: dict[str, float] = field(default_factory=dict)
    _idempotency: dict[str, _IssuedBooking] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # Requests and faults

    def set_faults(self, faults: SandboxFaults) -> None:
        """Replace the random faults and restart their draws from `faults.seed`."""
        with self._lock:
            self.faults = faults
            self.rng = random.Random(faults.seed)

    def record(self, record: RequestRecord) -> None:
        """Append a request to the log."""
        with self._lock:
            self.requests.append(record)

    def requests_to(self, path: str, method: str = "GET") -> list[RequestRecord]:
        """Return the logged requests for one path and method."""
        return [r for r in self.requests if r.path == path and r.method == method]

    def inject(
        self, kind: str, *, count: int = 1, path: str | None = None, retry_after: str | None = None
    ) -> None:
        """Serve fault `kind` to the next `count` requests (on `path` only, when given)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        with self._lock:
            self.scripted.append(ScriptedFault(kind, count, path, retry_after))

    def take_scripted(self, path: str) -> ScriptedFault | None:
        """Pop one use of the first scripted fault that applies to `path`."""
        with self._lock:
            for fault in self.scripted:
                if fault.path is None or fault.path == path:
                    fault.count -= 1
                    if fault.count <= 0:
                        self.scripted.remove(fault)
                    return replace(fault, count=1)
        return None

    # Tokens

    def issue_token(self, client_id: str, client_secret: str) -> str:
        """Issue an access token, or raise ApiError 401 for unknown credentials."""
        with self._lock:
            self.token_requests += 1
        id_ok = secrets.compare_digest(client_id, self.client_id)
        secret_ok = secrets.compare_digest(client_secret, self.client_secret)
        if not (id_ok and secret_ok):
            raise ApiError(401, "invalid_client")
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = self.clock() + self.token_ttl_s
        return token

    def token_valid(self, token: str) -> bool:
        """Tell whether `token` was issued here and has not expired."""
        expires_at = self._tokens.get(token)
        return expires_at is not None and self.clock() < expires_at

    def revoke_tokens(self) -> None:
        """Invalidate every issued token, as a credential rotation would."""
        with self._lock:
            self._tokens.clear()

    # Reads

    def today(self) -> date:
        """Today's date in the practice time zone."""
        return self.now().astimezone(self.practice.tz).date()

    def provider_for(self, provider_location_id: str) -> SandboxProvider:
        """Look a provider location up, or raise ApiError 404."""
        provider = self.practice.provider_by_location(provider_location_id)
        if provider is None:
            raise ApiError(
                404,
                f"Provider location {provider_location_id} was not found.",
                "provider_location_id",
            )
        return provider

    def visit_reason_for(
        self, visit_reason_id: str, field_name: str = "visit_reason_id"
    ) -> VisitReason:
        """Look a visit reason up, or raise ApiError 400."""
        reason = self.practice.visit_reason(visit_reason_id)
        if reason is None:
            raise ApiError(400, f"Unknown visit reason {visit_reason_id}.", field_name)
        return reason

    def appointments_by_start(self) -> tuple[list[float], list[SandboxAppointment]]:
        """Return the appointments sorted by start, with their start POSIX timestamps for bisect."""
        key = (self._version, len(self.practice.appointments))
        if self._start_index is None or self._start_index[0] != key:
            ordered = sorted(self.practice.appointments, key=lambda a: a.start)
            self._start_index = (key, [a.start.timestamp() for a in ordered], ordered)
        return self._start_index[1], self._start_index[2]

    def appointment(self, appointment_id: str) -> SandboxAppointment:
        """Look an appointment up, or raise ApiError 404."""
        for appointment in self.practice.appointments:
            if appointment.appointment_id == appointment_id:
                return appointment
        raise ApiError(404, f"Appointment {appointment_id} was not found.", "appointment_id")

    def busy_times(
        self, first: date, last: date, ignore: str | None = None
    ) -> dict[str, list[tuple[datetime, datetime]]]:
        """Return, by provider id, the booked intervals of appointments starting first-1..last."""
        timestamps, ordered = self.appointments_by_start()
        tz = self.practice.tz
        low = datetime.combine(first - timedelta(days=1), time(), tz).timestamp()
        high = datetime.combine(last + timedelta(days=1), time(), tz).timestamp()
        busy: dict[str, list[tuple[datetime, datetime]]] = {}
        for appointment in ordered[
            bisect.bisect_left(timestamps, low) : bisect.bisect_left(timestamps, high)
        ]:
            if appointment.blocks_time and appointment.appointment_id != ignore:
                busy.setdefault(appointment.provider_id, []).append(
                    (appointment.start, appointment.end)
                )
        return busy

    def timeslots(
        self,
        provider: SandboxProvider,
        reason: VisitReason,
        first: date,
        last: date,
        ignore: str | None = None,
        busy: dict[str, list[tuple[datetime, datetime]]] | None = None,
    ) -> list[datetime]:
        """Compute open start times from working hours minus booked time, first..last inclusive.

        Only times after now and within the availability horizon are returned.
        `ignore` names an appointment whose own time counts as free (for
        reschedules); `busy` is a precomputed `busy_times` result.
        """
        tz = self.practice.tz
        now = self.now()
        horizon = self.today() + timedelta(days=AVAILABILITY_HORIZON_DAYS)
        duration = timedelta(minutes=reason.duration_minutes)
        if busy is None:
            busy = self.busy_times(first, last, ignore)
        booked = busy.get(provider.provider_id, [])
        starts: list[datetime] = []
        day = first
        while day <= min(last, horizon):
            for interval_start, interval_end in provider.hours.get(day.weekday(), ()):
                cursor = datetime.combine(day, interval_start, tz)
                limit = datetime.combine(day, interval_end, tz)
                while cursor + duration <= limit:
                    end = cursor + duration
                    free = all(not (start < end and cursor < stop) for start, stop in booked)
                    if cursor > now and free:
                        starts.append(cursor)
                    cursor += timedelta(minutes=SLOT_STEP_MINUTES)
            day += timedelta(days=1)
        return starts

    # Writes

    def book(
        self, body: dict[str, Any], idempotency_key: str | None
    ) -> tuple[SandboxAppointment, bool]:
        """Create an appointment from a validated request body.

        Returns the appointment and whether it was created now; a replayed
        Idempotency-Key returns the first appointment and creates nothing.
        """
        with self._lock:
            self.booking_requests += 1
            if idempotency_key is not None and idempotency_key in self._idempotency:
                issued = self._idempotency[idempotency_key]
                if issued.body != body:
                    raise ApiError(
                        409, "Idempotency-Key was already used with a different request body.", None
                    )
                return self.appointment(issued.appointment_id), False

            data = body["data"]
            provider = self.provider_for(data["provider_location_id"])
            reason = self.visit_reason_for(data["visit_reason_id"], "data.visit_reason_id")
            start = self._require_open(provider, reason, data["start_time"], "data.start_time")
            now = self.now().astimezone(UTC)
            appointment = SandboxAppointment(
                appointment_id=str(uuid.uuid4()),
                provider_location_id=provider.provider_location_id,
                visit_reason_id=reason.id,
                start=start,
                duration_minutes=reason.duration_minutes,
                status="confirmed" if provider.confirmation_type == "auto" else "pending_booking",
                patient=dict(data["patient"]),
                patient_type=data["patient_type"],
                created_utc=now,
                last_modified_utc=now,
                visit_type=reason.visit_type,
                notes=data.get("notes"),
                source="Your website",
            )
            self.practice.appointments.append(appointment)
            self.bookings_created += 1
            if idempotency_key is not None:
                self._idempotency[idempotency_key] = _IssuedBooking(
                    body, appointment.appointment_id
                )
            return appointment, True

    def cancel(
        self, appointment_id: str, reason_type: str | None, reason: str | None
    ) -> SandboxAppointment:
        """Cancel an appointment; raise ApiError 409 when it is already cancelled."""
        with self._lock:
            appointment = self.appointment(appointment_id)
            if appointment.status in FREEING_STATUSES:
                raise ApiError(
                    409, f"Appointment {appointment_id} is already {appointment.status}."
                )
            appointment.status = "cancelled"
            appointment.cancellation_reason_type = reason_type
            appointment.cancellation_reason = reason
            appointment.last_modified_utc = self.now().astimezone(UTC)
            return appointment

    def reschedule(self, appointment_id: str, start_time: str) -> SandboxAppointment:
        """Move an appointment to another open start time of the same provider."""
        with self._lock:
            appointment = self.appointment(appointment_id)
            allowed = {"pending_booking", "confirmed", "pending_reschedule", "rescheduled"}
            if appointment.status not in allowed:
                raise ApiError(
                    400,
                    f"Appointment {appointment_id} is {appointment.status}, "
                    "so it cannot be rescheduled.",
                    "appointment_id",
                )
            provider = self.provider_for(appointment.provider_location_id)
            reason = self.visit_reason_for(appointment.visit_reason_id)
            appointment.start = self._require_open(
                provider, reason, start_time, "start_time", ignore=appointment_id
            )
            auto = provider.confirmation_type == "auto"
            appointment.status = "rescheduled" if auto else "pending_reschedule"
            self._version += 1
            appointment.last_modified_utc = self.now().astimezone(UTC)
            return appointment

    def _require_open(
        self,
        provider: SandboxProvider,
        reason: VisitReason,
        start_time: str,
        field_name: str,
        ignore: str | None = None,
    ) -> datetime:
        start = parse_offset_datetime(start_time, field_name)
        local = start.astimezone(self.practice.tz)
        if reason.id not in provider.visit_reason_ids:
            raise ApiError(
                400, "The provider does not offer this visit reason.", "data.visit_reason_id"
            )
        open_starts = self.timeslots(provider, reason, local.date(), local.date(), ignore=ignore)
        if local not in open_starts:
            raise ApiError(400, "The start time is not an available timeslot.", field_name)
        return local


def parse_offset_datetime(value: object, field_name: str) -> datetime:
    """Parse an ISO-8601 date-time that carries a UTC offset, or raise ApiError 400."""
    if not isinstance(value, str):
        raise ApiError(400, "Expected an ISO-8601 date-time with a UTC offset.", field_name)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(
            400, "Expected an ISO-8601 date-time with a UTC offset.", field_name
        ) from None
    if parsed.tzinfo is None:
        raise ApiError(400, "The date-time has no UTC offset.", field_name)
    return parsed
