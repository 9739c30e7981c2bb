"""A Zocdoc sandbox on loopback for queue tests, with a log of what reached it and when."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sched_tui.sandbox import SandboxState, create_app, sandbox_state
from sched_tui.sandbox.server import BackgroundServer

ID_ENV = "SCHED_TUI_TEST_QUEUE_ZOCDOC_ID"
SECRET_ENV = "SCHED_TUI_TEST_QUEUE_ZOCDOC_SECRET"
BOOKINGS = "/v1/appointments"
RESCHEDULES = "/v1/appointments/reschedule"
CANCELS = "/v1/appointments/cancel"
WRITES = (BOOKINGS, RESCHEDULES, CANCELS)


@dataclass(frozen=True, slots=True)
class Arrival:
    """One request as it reached the server, and the response status it got."""

    at: float
    method: str
    path: str
    idempotency_key: str | None
    status: int = 0
    retry_after: str | None = None


@dataclass
class RecordingApp:
    """ASGI wrapper that logs every request with its wall-clock arrival time.

    `delays` lists the seconds by which to hold the next booking POSTs before the
    sandbox receives them, and `write_delays` does the same for each write path. A
    held request still takes effect after its client gave up, as a slow server would.
    """

    app: Any
    arrivals: list[Arrival] = field(default_factory=list)
    write_delays: dict[str, list[float]] = field(default_factory=dict)
    # Idempotency keys of booking POSTs whose whole body arrived, before any hold.
    booking_keys_seen: list[str | None] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sandbox"):
            await self.app(scope, receive, send)
            return
        headers = {key.decode().lower(): value.decode() for key, value in scope["headers"]}
        arrived = time.time()
        answer: dict[str, Any] = {}

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                for key, value in message.get("headers", []):
                    if key.decode().lower() == "retry-after":
                        answer["retry_after"] = value.decode()
            await send(message)

        if scope["method"] == "POST" and scope["path"] in WRITES:
            # Read the whole body first: a held request then still books after its
            # client left, and a key counts as seen only once the server has the
            # complete request, not when a client that is killed mid-send began it.
            receive, complete = await _buffered(receive)
            delay = 0.0
            if complete:
                with self.lock:
                    waiting = self.write_delays.get(scope["path"])
                    delay = waiting.pop(0) if waiting else 0.0
                    if scope["path"] == BOOKINGS:
                        self.booking_keys_seen.append(headers.get("idempotency-key"))
            await asyncio.sleep(delay)
        await self.app(scope, receive, capture)
        with self.lock:
            self.arrivals.append(
                Arrival(
                    arrived,
                    scope["method"],
                    scope["path"],
                    headers.get("idempotency-key"),
                    answer.get("status", 0),
                    answer.get("retry_after"),
                )
            )

    @property
    def delays(self) -> list[float]:
        """Holds for the next booking POSTs, in seconds."""
        return self.write_delays.setdefault(BOOKINGS, [])

    def bookings(self) -> list[Arrival]:
        """Return the booking POSTs received so far, in arrival order."""
        return self.posts(BOOKINGS)

    def posts(self, path: str) -> list[Arrival]:
        """Return the POSTs to `path` that got a response so far, in arrival order."""
        with self.lock:
            return sorted(
                (a for a in self.arrivals if a.method == "POST" and a.path == path),
                key=lambda arrival: arrival.at,
            )


@dataclass
class QueueSandbox:
    """A running sandbox: its state, the request log and its URL."""

    state: SandboxState
    recorder: RecordingApp
    url: str

    def provider_toml(self, name: str = "zocdoc") -> str:
        """Return a ``[[providers]]`` entry pointing at this sandbox."""
        return (
            f'[[providers]]\nname = "{name}"\nkind = "zocdoc"\nbase_url = "{self.url}"\n'
            f'client_id_env = "{ID_ENV}"\nclient_secret_env = "{SECRET_ENV}"\ntimeout_s = 10\n'
        )

    def booking_payloads(
        self, count: int, *, first_day: date | None = None
    ) -> list[dict[str, Any]]:
        """Return `count` valid booking bodies, each for a different open slot and patient."""
        payloads: list[dict[str, Any]] = []
        practice = self.state.practice
        day = first_day or self.state.today() + timedelta(days=1)
        while len(payloads) < count:
            for provider in practice.providers:
                reason = self.state.visit_reason_for(provider.visit_reason_ids[0])
                free_from = None
                for start in self.state.timeslots(provider, reason, day, day):
                    # Offered starts are an hour apart, but a visit may last longer.
                    if free_from is not None and start < free_from:
                        continue
                    free_from = start + timedelta(minutes=reason.duration_minutes)
                    location = provider.provider_location_id
                    payloads.append(_booking(location, reason.id, start, len(payloads)))
                    if len(payloads) == count:
                        return payloads
            day += timedelta(days=1)
        return payloads


def start_sandbox(**options: Any) -> tuple[QueueSandbox, BackgroundServer]:
    """Serve a sandbox behind a RecordingApp on 127.0.0.1, on a free port."""
    app = create_app(**options)
    recorder = RecordingApp(app)
    server = BackgroundServer(recorder, host="127.0.0.1", port=0)  # type: ignore[arg-type]
    server.start()
    return QueueSandbox(sandbox_state(app), recorder, server.url), server


def write_config(path: Path, sandbox: QueueSandbox, db_path: Path, queue: str) -> Path:
    """Write a config file using `sandbox` as provider "zocdoc" and `queue` as ``[queue]``."""
    path.write_text(
        f'[storage]\npath = "{db_path}"\nbusy_timeout_s = 5\n\n[queue]\n{queue}\n\n'
        + sandbox.provider_toml(),
        encoding="utf-8",
    )
    return path


def wait_until(condition: Callable[[], bool], timeout_s: float, description: str) -> None:
    """Poll `condition` every 10 ms; raise AssertionError naming `description` after `timeout_s`."""
    give_up = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > give_up:
            raise AssertionError(f"timed out after {timeout_s:g} s waiting for {description}")
        time.sleep(0.01)


async def _buffered(receive: Any) -> tuple[Any, bool]:
    """Read the whole request body now.

    Returns a `receive` that replays it, and whether the body arrived complete
    (False when the client disconnected first).
    """
    messages = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body"):
            break
    complete = messages[-1]["type"] == "http.request"

    async def replay() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        return {"type": "http.disconnect"}

    return replay, complete


def _booking(location: str, reason_id: str, start: Any, index: int) -> dict[str, Any]:
    return {
        "appointment_type": "providers",
        "data": {
            "start_time": start.isoformat(),
            "visit_reason_id": reason_id,
            "provider_location_id": location,
            "patient_type": "existing",
            "patient": {
                "developer_patient_id": f"queue-test-patient-{index}",
                "first_name": "Test",
                "last_name": f"Patient{index}",
                "date_of_birth": "1980-01-01",
                "sex_at_birth": "female",
                "phone_number": "5550100000",
                "email_address": f"patient{index}@example.test",
                "patient_address": {
                    "address1": "1 Test St",
                    "city": "New York",
                    "state": "NY",
                    "zip_code": "10001",
                },
            },
        },
    }
