"""The sandbox's HTTP contract: limits, error shapes, faults, admin endpoints and the CLI."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from sched_tui.sandbox import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, create_app, sandbox_state

from .support import TODAY, RunningSandbox


@pytest.fixture
def http(sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    """A client with a valid bearer token for the sandbox."""
    with httpx.Client(base_url=sandbox.url, timeout=5) as client:
        form = {
            "grant_type": "client_credentials",
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
        }
        token = client.post("/oauth/token", data=form).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


def _assert_error_result(response: httpx.Response, status: int, field: str) -> None:
    assert response.status_code == status
    body = response.json()
    assert body["request_id"].startswith("req_")
    assert body["error_type"] == "invalid_request"
    assert body["errors"][0]["field"] == field
    assert body["errors"][0]["message"]


def _location_ids(sandbox: RunningSandbox) -> list[str]:
    return [p.provider_location_id for p in sandbox.state.practice.providers]


def test_token_rejects_wrong_secret(sandbox: RunningSandbox) -> None:
    form = {
        "grant_type": "client_credentials",
        "client_id": DEMO_CLIENT_ID,
        "client_secret": "nope",
    }

    response = httpx.post(f"{sandbox.url}/oauth/token", data=form)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_token_rejects_other_grant(sandbox: RunningSandbox) -> None:
    response = httpx.post(f"{sandbox.url}/oauth/token", data={"grant_type": "password"})

    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_api_requires_token(sandbox: RunningSandbox) -> None:
    response = httpx.get(
        f"{sandbox.url}/v1/visit_reasons", headers={"Authorization": "Bearer made-up"}
    )

    assert response.status_code == 401


def test_availability_rejects_51_ids(sandbox: RunningSandbox, http: httpx.Client) -> None:
    ids = (_location_ids(sandbox) * 6)[:51]
    reason = sandbox.state.practice.visit_reasons[0].id

    response = http.get(
        "/v1/provider_locations/availability",
        params={
            "provider_location_ids": ",".join(ids),
            "visit_reason_id": reason,
            "patient_type": "new",
        },
    )

    _assert_error_result(response, 400, "provider_location_ids")


def test_availability_rejects_32_days(sandbox: RunningSandbox, http: httpx.Client) -> None:
    reason = sandbox.state.practice.visit_reasons[0].id
    params = {
        "provider_location_ids": _location_ids(sandbox)[0],
        "visit_reason_id": reason,
        "patient_type": "existing",
        "start_date_in_provider_local_time": "2026-03-04",
        "end_date_in_provider_local_time": "2026-04-05",
    }

    response = http.get("/v1/provider_locations/availability", params=params)

    _assert_error_result(response, 400, "end_date_in_provider_local_time")
    params["end_date_in_provider_local_time"] = "2026-04-04"
    assert http.get("/v1/provider_locations/availability", params=params).status_code == 200


@pytest.mark.parametrize(
    ("name", "value"), [("page", "11"), ("page", "-1"), ("page_size", "0"), ("page_size", "101")]
)
def test_appointments_paging_limits(http: httpx.Client, name: str, value: str) -> None:
    response = http.get("/v1/appointments", params={name: value})

    _assert_error_result(response, 400, name)


def test_appointments_filtered_and_sorted(sandbox: RunningSandbox, http: httpx.Client) -> None:
    provider = sandbox.state.practice.providers[0]

    response = http.get(
        "/v1/appointments",
        params={
            "provider_ids": provider.provider_id,
            "statuses": "cancelled",
            "sort_direction": "ascending",
            "page_size": 100,
        },
    )

    body = response.json()
    expected = [
        a
        for a in sandbox.state.practice.appointments
        if a.provider_id == provider.provider_id and a.status == "cancelled"
    ]
    assert body["total_count"] == len(expected)
    assert all(item["appointment_status"] == "cancelled" for item in body["data"])
    starts = [item["start_time"] for item in body["data"]]
    assert starts == sorted(starts)


def test_fault_flags(http: httpx.Client) -> None:
    limited = http.get("/v1/visit_reasons", params={"fault": "429", "retry_after": "7"})
    dated = http.get("/v1/visit_reasons", params={"fault": "429", "retry_after_form": "http-date"})
    failed = http.get("/v1/visit_reasons", params={"fault": "500"})
    garbled = http.get("/v1/visit_reasons", params={"fault": "malformed"})

    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "7"
    assert dated.headers["Retry-After"].endswith(" GMT")
    assert failed.status_code == 500
    assert failed.json()["error_type"] == "api_error"
    assert garbled.status_code == 200
    with pytest.raises(ValueError):
        garbled.json()


def test_admin_faults_switch(sandbox: RunningSandbox, http: httpx.Client) -> None:
    switched = httpx.post(f"{sandbox.url}/_sandbox/faults", json={"error_rate": 1.0, "seed": 3})
    failing = http.get("/v1/visit_reasons")
    httpx.post(f"{sandbox.url}/_sandbox/faults", json={})
    working = http.get("/v1/visit_reasons")

    assert switched.status_code == 200
    assert failing.status_code == 503
    assert working.status_code == 200


def test_admin_inject_once(sandbox: RunningSandbox, http: httpx.Client) -> None:
    httpx.post(f"{sandbox.url}/_sandbox/inject", json={"kind": "503", "path": "/v1/visit_reasons"})

    assert http.get("/v1/visit_reasons").status_code == 503
    assert http.get("/v1/visit_reasons").status_code == 200


def test_practice_deterministic() -> None:
    first = sandbox_state(create_app(today=TODAY, seed=11)).practice
    again = sandbox_state(create_app(today=TODAY, seed=11)).practice
    other = sandbox_state(create_app(today=TODAY, seed=12)).practice

    assert [a.appointment_id for a in first.appointments] == [
        a.appointment_id for a in again.appointments
    ]
    assert [p.provider_id for p in first.providers] == [p.provider_id for p in again.providers]
    assert [p.provider_id for p in first.providers] != [p.provider_id for p in other.providers]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_cli_serves_sandbox() -> None:
    port = _free_port()
    env = {**os.environ, "SCHED_TUI_LOG": os.devnull}
    process = subprocess.Popen(
        [sys.executable, "-m", "sched_tui", "sandbox", "--port", str(port), "--seed", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/_sandbox/state", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline, "sandbox CLI did not start"
                time.sleep(0.05)
        assert response.json()["therapists"] == 10
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_client_leaving_mid_body_is_not_an_error(
    sandbox: RunningSandbox, http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    """A client that closes its connection halfway through a body gets no traceback logged."""
    caplog.set_level(logging.INFO)
    host, port = sandbox.url.removeprefix("http://").split(":")
    head = (
        "POST /v1/appointments HTTP/1.1\r\n"
        f"Host: {host}\r\n"
        f"Authorization: {http.headers['Authorization']}\r\n"
        "Content-Type: application/json\r\n"
        "Content-Length: 400\r\n\r\n"
        '{"appointment_type": "prov'
    )
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(head.encode())

    give_up = time.monotonic() + 10
    while not any("closed the connection" in r.getMessage() for r in caplog.records):
        assert time.monotonic() < give_up, "the sandbox never noticed the client leave"
        time.sleep(0.01)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
