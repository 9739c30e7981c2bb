"""The processor sending to the Zocdoc sandbox over loopback HTTP, on the real clock."""

from __future__ import annotations

import email.utils
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from queue_sandbox import (
    CANCELS,
    ID_ENV,
    RESCHEDULES,
    SECRET_ENV,
    QueueSandbox,
    start_sandbox,
)

from sched_tui.config import ProviderConfig, QueueConfig
from sched_tui.queue import Job, NewJob, Processor, QueueStore, Status, parse_retry_after
from sched_tui.queue.zocdoc import ZocdocTarget
from sched_tui.sandbox import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

TZ = ZoneInfo("America/New_York")
FAST = replace(
    QueueConfig(),
    interval_s=0.05,
    lease_s=20.0,
    call_timeout_s=5.0,
    backoff_base_s=0.05,
    backoff_cap_s=0.2,
    default_rate_limit_per_s=0.0,
)


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[QueueSandbox]:
    monkeypatch.setenv(ID_ENV, DEMO_CLIENT_ID)
    monkeypatch.setenv(SECRET_ENV, DEMO_CLIENT_SECRET)
    running, server = start_sandbox()
    yield running
    server.stop()


@pytest.fixture
async def target(sandbox: QueueSandbox) -> AsyncIterator[ZocdocTarget]:
    config = ProviderConfig(
        name="zocdoc",
        kind="zocdoc",
        base_url=sandbox.url,
        client_id_env=ID_ENV,
        client_secret_env=SECRET_ENV,
    )
    built = ZocdocTarget.from_config(config, TZ)
    yield built
    await built.aclose()


@pytest.fixture
async def real_store(db_path: Path) -> AsyncIterator[QueueStore]:
    opened = await QueueStore.open(db_path, max_attempts=FAST.max_attempts)
    yield opened
    await opened.aclose()


async def test_booking_reaches_sandbox(
    sandbox: QueueSandbox, target: ZocdocTarget, real_store: QueueStore
) -> None:
    [payload] = sandbox.booking_payloads(1)
    job = await real_store.enqueue("zocdoc", "create", payload, subject_id="slot-a")

    await Processor(real_store, {"zocdoc": target}, FAST).run_once()

    stored = await real_store.get(job.job_id)
    assert stored.status is Status.PROCESSED
    assert stored.result is not None
    assert set(stored.result) == {"appointment_id", "appointment_status"}
    assert sandbox.state.bookings_created == 1
    [arrival] = sandbox.recorder.bookings()
    assert arrival.idempotency_key == job.idempotency_key


async def test_400_fails_without_retry(
    sandbox: QueueSandbox, target: ZocdocTarget, real_store: QueueStore
) -> None:
    [payload] = sandbox.booking_payloads(1)
    payload["data"]["start_time"] = "2001-01-01T09:00:00-05:00"
    job = await real_store.enqueue("zocdoc", "create", payload)
    processor = Processor(real_store, {"zocdoc": target}, FAST)

    await processor.run_once()
    await processor.drain_now()

    stored = await real_store.get(job.job_id)
    assert stored.status is Status.FAILED
    assert stored.last_error is not None
    assert "HTTP 400" in stored.last_error
    assert len(sandbox.recorder.bookings()) == 1


async def test_429_storm_honours_retry_after(
    sandbox: QueueSandbox, target: ZocdocTarget, real_store: QueueStore
) -> None:
    """429s naming a wait in seconds, then as an HTTP-date: nothing arrives before either."""
    payloads = sandbox.booking_payloads(8)
    processor = Processor(real_store, {"zocdoc": target}, FAST)

    sandbox.state.inject("429", count=2, path="/v1/appointments", retry_after="1")
    await real_store.enqueue_many(NewJob("zocdoc", "create", p) for p in payloads[:4])
    await _drain_until_done(processor, real_store, 4)

    # An HTTP-date has whole seconds: name a moment at least two seconds ahead.
    named = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=3)
    sandbox.state.inject(
        "429",
        count=1,
        path="/v1/appointments",
        retry_after=email.utils.format_datetime(named, usegmt=True),
    )
    await real_store.enqueue_many(NewJob("zocdoc", "create", p) for p in payloads[4:])
    await _drain_until_done(processor, real_store, 8)

    bookings = sandbox.recorder.bookings()
    limited = [arrival for arrival in bookings if arrival.status == 429]
    assert len(limited) == 3
    assert [a.retry_after for a in limited][:2] == ["1", "1"]
    for answer in limited:
        wait = parse_retry_after(answer.retry_after, answer.at)
        assert wait is not None
        later = [a for a in bookings if a.at > answer.at]
        assert later
        assert all(a.at >= answer.at + wait - 0.01 for a in later)
    assert sandbox.state.bookings_created == 8
    assert (await real_store.stats()).processed == 8


async def test_slow_call_books_once(
    sandbox: QueueSandbox, target: ZocdocTarget, real_store: QueueStore
) -> None:
    """The server takes longer than the lease; the resend carries the same key and books nothing."""
    settings = replace(FAST, lease_s=1.0, call_timeout_s=0.8)
    [payload] = sandbox.booking_payloads(1)
    job = await real_store.enqueue("zocdoc", "create", payload)
    # Held well past the lease, so the resend reaches the server before the first
    # request takes effect, even on a loaded machine.
    sandbox.recorder.delays.append(settings.lease_s + 3.0)
    first = Processor(real_store, {"zocdoc": target}, settings)

    await first.run_once()
    assert (await real_store.get(job.job_id)).ambiguous
    await _drain_until_done(first, real_store, 1)
    deadline = time.monotonic() + 8
    while len(sandbox.recorder.bookings()) < 2 and time.monotonic() < deadline:
        await _sleep(0.05)

    stored = await real_store.get(job.job_id)
    assert stored.status is Status.PROCESSED
    assert sandbox.state.bookings_created == 1
    arrivals = sandbox.recorder.bookings()
    assert len(arrivals) == 2
    assert {arrival.idempotency_key for arrival in arrivals} == {job.idempotency_key}
    ours = [
        a
        for a in sandbox.state.practice.appointments
        if a.patient.get("developer_patient_id")
        == payload["data"]["patient"]["developer_patient_id"]
    ]
    assert len(ours) == 1


async def test_slow_reschedule_is_reconciled_not_resent(
    sandbox: QueueSandbox, target: ZocdocTarget, real_store: QueueStore
) -> None:
    """A reschedule that times out but took effect is found on the retry and not sent again."""
    booked, moved_to = _same_therapist_slots(sandbox)
    created = await target.provider.create_appointment(booked, "reschedule-test-booking")
    appointment_id = created["appointment_id"]
    new_start = moved_to["data"]["start_time"]
    payload = {"appointment_id": appointment_id, "start_time": new_start}

    stored = await _send_held_past_lease(sandbox, target, real_store, "reschedule", payload)

    assert stored.status is Status.PROCESSED
    assert stored.result is not None
    assert stored.result.get("reconciled") is True
    assert len(sandbox.recorder.posts(RESCHEDULES)) == 1
    moved = sandbox.state.appointment(appointment_id)
    assert moved.start == datetime.fromisoformat(new_start)


async def test_slow_cancel_is_reconciled_not_resent(
    sandbox: QueueSandbox, target: ZocdocTarget, real_store: QueueStore
) -> None:
    """A cancel that times out but took effect is found on the retry and not sent again."""
    [booking] = sandbox.booking_payloads(1)
    created = await target.provider.create_appointment(booking, "cancel-test-booking")
    appointment_id = created["appointment_id"]

    stored = await _send_held_past_lease(
        sandbox, target, real_store, "cancel", {"appointment_id": appointment_id}
    )

    assert stored.status is Status.PROCESSED
    assert stored.result is not None
    assert stored.result.get("reconciled") is True
    assert stored.result.get("appointment_status") == "cancelled"
    assert len(sandbox.recorder.posts(CANCELS)) == 1
    assert sandbox.state.appointment(appointment_id).status == "cancelled"


async def _send_held_past_lease(
    sandbox: QueueSandbox,
    target: ZocdocTarget,
    store: QueueStore,
    operation: str,
    payload: dict[str, object],
) -> Job:
    """Queue one write, hold its request past the lease, let it land, then drain the queue.

    Returns the job as stored at the end.
    """
    path = {"reschedule": RESCHEDULES, "cancel": CANCELS}[operation]
    settings = replace(FAST, lease_s=1.0, call_timeout_s=0.8)
    job = await store.enqueue("zocdoc", operation, payload)
    sandbox.recorder.write_delays[path] = [settings.lease_s + 0.5]
    processor = Processor(store, {"zocdoc": target}, settings)

    await processor.run_once()
    assert (await store.get(job.job_id)).ambiguous
    await _wait_for_responses(sandbox, path, 1)
    await _drain_until_done(processor, store, 1)
    return await store.get(job.job_id)


def _same_therapist_slots(sandbox: QueueSandbox) -> tuple[dict, dict]:  # type: ignore[type-arg]
    """Return two booking bodies for the same therapist and visit reason, at different times."""
    payloads = sandbox.booking_payloads(12)
    first = payloads[0]["data"]
    for other in payloads[1:]:
        data = other["data"]
        same = ("provider_location_id", "visit_reason_id")
        if all(data[key] == first[key] for key in same):
            return payloads[0], other
    raise AssertionError("the sandbox offered one therapist no second slot")


async def _wait_for_responses(sandbox: QueueSandbox, path: str, count: int) -> None:
    """Wait until the server has responded to `count` POSTs to `path`, held ones included."""
    deadline = time.monotonic() + 10
    while len(sandbox.recorder.posts(path)) < count:
        assert time.monotonic() < deadline, f"{path} got no response within 10 s"
        await _sleep(0.02)


async def _drain_until_done(processor: Processor, store: QueueStore, processed: int) -> None:
    deadline = time.monotonic() + 20
    while (await store.stats()).processed < processed:
        assert time.monotonic() < deadline, "jobs were not processed within 20 s"
        await processor.drain_now()
        await _sleep(0.05)


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)
