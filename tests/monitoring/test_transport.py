"""The timing transport, through real httpx clients built by `build_client`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import httpx
import pytest

from sched_tui.http import build_client
from sched_tui.monitoring.events import EventRecorder
from sched_tui.monitoring.transport import (
    OPERATION_EXTENSION,
    event_name,
    install_transport_timing,
    uninstall_transport_timing,
)

from .conftest import FakeClock


async def zocdoc_app(scope: dict, receive: object, send: object) -> None:
    """A tiny ASGI API: 429 on /v1/busy, 503 on /v1/broken, 200 elsewhere."""
    path = scope["path"]
    status = {"/v1/busy": 429, "/v1/broken": 503}.get(path, 200)
    await send({"type": "http.response.start", "status": status, "headers": []})  # type: ignore[operator]
    await send({"type": "http.response.body", "body": b'{"ok": true}'})  # type: ignore[operator]


@pytest.fixture
async def recorder(db_path: Path, clock: FakeClock) -> AsyncIterator[EventRecorder]:
    recorder = await EventRecorder.open(db_path, clock=clock, flush_interval_s=60)
    wrapper = install_transport_timing(recorder)
    try:
        yield recorder
    finally:
        uninstall_transport_timing(wrapper)
        await recorder.aclose()


async def stored(db: aiosqlite.Connection) -> list[tuple]:
    async with db.execute(
        "SELECT name, kind, success, status, rate_limited, latency_ms, fields"
        " FROM monitoring_events ORDER BY id"
    ) as cursor:
        return list(await cursor.fetchall())


@pytest.mark.parametrize(
    ("target", "method", "url", "expected"),
    [
        ("Zocdoc", "GET", "/v1/appointments?patient_id=p-77", "Zocdoc_GetAppointments"),
        ("Zocdoc", "POST", "/v1/appointments", "Zocdoc_CreateAppointment"),
        ("Zocdoc", "POST", "/v1/appointments/a1b2-9f/cancel", "Zocdoc_CancelAppointment"),
        ("Zocdoc", "GET", "/v1/appointments/8812", "Zocdoc_GetAppointment"),
        ("Zocdoc", "POST", "/oauth/token", "Zocdoc_GetToken"),
        ("Zocdoc", "GET", "/v1/provider_locations/availability", "Zocdoc_GetAvailability"),
        ("Zocdoc", "GET", "/v1/visit_reasons", "Zocdoc_GetVisitReasons"),
        ("ICS", "GET", "/calendars/dr-jane-doe.ics", "ICS_Fetch"),
        ("CalDAV", "REPORT", "/dav/jane/calendar/", "CalDAV_Report"),
        ("CalDAV", "PROPFIND", "/dav/jane/", "CalDAV_Discover"),
    ],
)
def test_event_names(target: str, method: str, url: str, expected: str) -> None:
    request = httpx.Request(method, "https://api.example.test" + url)
    assert event_name(target, request) == expected


def test_explicit_operation_name() -> None:
    request = httpx.Request(
        "GET", "https://api.example.test/x/y", extensions={OPERATION_EXTENSION: "GetSlots"}
    )
    assert event_name("Zocdoc", request) == "Zocdoc_GetSlots"


async def test_calls_recorded_with_status(
    recorder: EventRecorder, db: aiosqlite.Connection, clock: FakeClock
) -> None:
    client = build_client(
        "Zocdoc", base_url="http://zocdoc.test", transport=httpx.ASGITransport(app=zocdoc_app)
    )
    async with client:
        assert (
            await client.get("/v1/appointments", params={"patient_id": "p-77"})
        ).status_code == 200
        assert (await client.post("/v1/appointments", json={"x": 1})).status_code == 200
        assert (await client.get("/v1/busy")).status_code == 429
        assert (await client.get("/v1/broken")).status_code == 503
    assert await recorder.flush() == 4

    rows = await stored(db)
    assert [row[0] for row in rows] == [
        "Zocdoc_GetAppointments",
        "Zocdoc_CreateAppointment",
        "Zocdoc_GetBusy",
        "Zocdoc_GetBroken",
    ]
    assert [row[2] for row in rows] == [1, 1, 0, 0]
    assert [row[3] for row in rows] == [200, 200, 429, 503]
    assert [row[4] for row in rows] == [
        1 if status == 429 else 0 for status in (200, 200, 429, 503)
    ]
    assert all(row[1] == "external" and row[5] >= 0 for row in rows)
    # Nothing of the URL but the fixed path words is stored.
    assert "p-77" not in json.dumps(rows)


async def test_transport_error_recorded(recorder: EventRecorder, db: aiosqlite.Connection) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client = build_client("ICS", transport=httpx.MockTransport(refuse))
    async with client:
        with pytest.raises(httpx.ConnectError):
            await client.get("http://calendar.test/jane.ics")
    await recorder.flush()
    rows = await stored(db)
    assert len(rows) == 1
    name, _, success, status, _, _, fields = rows[0]
    assert (name, success, status) == ("ICS_Fetch", 0, None)
    assert json.loads(fields) == {"error": "ConnectError"}


class SlowBody(httpx.AsyncByteStream):
    """A body whose only chunk arrives 0.2 s after the headers."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        await asyncio.sleep(0.2)
        yield b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"


class SlowBodyTransport(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=SlowBody())


async def test_latency_includes_body(recorder: EventRecorder, db: aiosqlite.Connection) -> None:
    client = build_client("ICS", transport=SlowBodyTransport())
    async with client, client.stream("GET", "http://calendar.test/jane.ics") as response:
        assert recorder.buffered == 0  # headers only: not finished yet
        await response.aread()
    await recorder.flush()
    rows = await stored(db)
    assert len(rows) == 1
    assert rows[0][5] >= 190.0


async def test_clients_built_before_are_untimed(db_path: Path, db: aiosqlite.Connection) -> None:
    client = build_client("ICS", transport=httpx.ASGITransport(app=zocdoc_app))
    recorder = await EventRecorder.open(db_path, flush_interval_s=60)
    wrapper = install_transport_timing(recorder)
    try:
        async with client:
            await client.get("http://calendar.test/a.ics")
        assert recorder.buffered == 0
    finally:
        uninstall_transport_timing(wrapper)
        await recorder.aclose()
