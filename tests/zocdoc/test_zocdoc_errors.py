"""Typed errors of ZocdocProvider for each kind of failure the sandbox can produce."""

from __future__ import annotations

import email.utils
import socket
from datetime import UTC, datetime, time, timedelta

import pytest

from sched_tui.config import SandboxFaults
from sched_tui.providers.base import (
    MalformedData,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from sched_tui.providers.zocdoc_api import RetryPolicy
from sched_tui.providers.zocdoc_errors import parse_retry_after

from .support import TODAY, TZ, ProviderFactory, RunningSandbox, SandboxFactory


async def test_bad_request_rejected(
    sandbox: RunningSandbox, make_provider: ProviderFactory
) -> None:
    provider = make_provider(sandbox)
    booked = next(
        a
        for a in sandbox.state.practice.appointments
        if a.status == "confirmed" and a.start.date() > TODAY
    )
    night = datetime.combine(booked.start.date(), time(3, 0), TZ)

    with pytest.raises(ProviderRejected) as caught:
        await provider.reschedule_appointment(booked.appointment_id, night)

    assert caught.value.status_code == 400
    assert "Zocdoc (zocdoc-test)" in str(caught.value)
    assert "POST /v1/appointments/reschedule" in str(caught.value)
    # A reschedule body contains no patient data, so the server's reason is shown.
    assert "start_time: The start time is not an available timeslot." in str(caught.value)


async def test_unknown_appointment_not_found(
    sandbox: RunningSandbox, make_provider: ProviderFactory
) -> None:
    provider = make_provider(sandbox)

    with pytest.raises(ProviderRejected) as caught:
        await provider.get_appointment("00000000-0000-4000-8000-000000000000")

    assert caught.value.status_code == 404


async def test_rate_limit_seconds_form(
    sandbox: RunningSandbox, make_provider: ProviderFactory
) -> None:
    provider = make_provider(sandbox)
    sandbox.state.inject("429", path="/v1/visit_reasons", retry_after="120")

    with pytest.raises(ProviderRateLimited) as caught:
        await provider.list_services()

    assert caught.value.retry_after == 120


async def test_rate_limit_http_date_form(
    serve_sandbox: SandboxFactory, make_provider: ProviderFactory
) -> None:
    sandbox = serve_sandbox(today=None)
    provider = make_provider(sandbox, now=lambda: datetime.now(UTC))
    when = datetime.now(UTC) + timedelta(seconds=90)
    sandbox.state.inject(
        "429", path="/v1/visit_reasons", retry_after=email.utils.format_datetime(when, usegmt=True)
    )

    with pytest.raises(ProviderRateLimited) as caught:
        await provider.list_services()

    assert caught.value.retry_after is not None
    assert 80 <= caught.value.retry_after <= 91


async def test_rate_limit_from_random_faults(
    sandbox: RunningSandbox, make_provider: ProviderFactory
) -> None:
    provider = make_provider(sandbox)
    await provider.list_services()
    sandbox.state.set_faults(SandboxFaults(rate_limit_rate=1.0, retry_after_s=45))
    sandbox.state.retry_after_form = "http-date"

    with pytest.raises(ProviderRateLimited) as caught:
        await provider.list_services()

    assert caught.value.retry_after is not None


def test_retry_after_parsing() -> None:
    now = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)

    assert parse_retry_after("30", lambda: now) == 30
    assert parse_retry_after("Wed, 04 Mar 2026 12:01:00 GMT", lambda: now) == 60
    assert parse_retry_after("Wed, 04 Mar 2026 11:00:00 GMT", lambda: now) == 0
    assert parse_retry_after("soon", lambda: now) is None
    assert parse_retry_after(None, lambda: now) is None


async def test_short_rate_limit_retried(
    sandbox: RunningSandbox, make_provider: ProviderFactory
) -> None:
    waits: list[float] = []

    async def record_sleep(seconds: float) -> None:
        waits.append(seconds)

    provider = make_provider(
        sandbox, retry=RetryPolicy(retries=2, backoff_s=0.01), sleep=record_sleep
    )
    sandbox.state.inject("429", path="/v1/visit_reasons", retry_after="2")

    services = await provider.list_services()

    assert services
    assert waits == [2]


async def test_service_unavailable_after_retries(
    sandbox: RunningSandbox, make_provider: ProviderFactory
) -> None:
    provider = make_provider(sandbox, retry=RetryPolicy(retries=2, backoff_s=0.0))
    await provider.list_services()
    sandbox.state.set_faults(SandboxFaults(error_rate=1.0, seed=1))

    with pytest.raises(ProviderUnavailable) as caught:
        await provider.list_services()

    assert "503" in str(caught.value)
    assert len(sandbox.state.requests_to("/v1/visit_reasons")) == 1 + 3


async def test_timeout_unavailable(
    serve_sandbox: SandboxFactory, make_provider: ProviderFactory
) -> None:
    sandbox = serve_sandbox(hang_s=1.5)
    provider = make_provider(sandbox, timeout_s=0.3)
    sandbox.state.inject("timeout", path="/v1/visit_reasons")

    with pytest.raises(ProviderUnavailable) as caught:
        await provider.list_services()

    assert "timed out" in str(caught.value)


async def test_connection_refused_unavailable(
    sandbox: RunningSandbox, make_provider: ProviderFactory
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    provider = make_provider(RunningSandbox(sandbox.state, f"http://127.0.0.1:{closed_port}"))

    with pytest.raises(ProviderUnavailable) as caught:
        await provider.list_therapists()

    assert "could not connect" in str(caught.value)


async def test_body_not_json_malformed(
    sandbox: RunningSandbox, make_provider: ProviderFactory
) -> None:
    provider = make_provider(sandbox)
    sandbox.state.inject("malformed", path="/v1/visit_reasons")

    with pytest.raises(MalformedData) as caught:
        await provider.list_services()

    assert "GET /v1/visit_reasons" in str(caught.value)
    assert "not JSON" in str(caught.value)


async def test_wrong_shape_names_field(
    sandbox: RunningSandbox, make_provider: ProviderFactory
) -> None:
    provider = make_provider(sandbox)
    ids = [t.id for t in await provider.list_therapists()]
    await provider.list_services()
    sandbox.state.inject("wrong_shape", path="/v1/appointments")
    start = datetime(2026, 3, 2, tzinfo=UTC)

    with pytest.raises(MalformedData) as caught:
        await provider.fetch_week(ids, start, start + timedelta(days=7))

    assert "GET /v1/appointments" in str(caught.value)
    assert "data is not an array" in str(caught.value)
