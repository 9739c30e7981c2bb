"""The processor against scripted targets, on a controlled clock."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from queue_helpers import FakeClock, ScriptedTarget, create_payload

from sched_tui.providers.base import ProviderRateLimited, ProviderRejected, ProviderUnavailable
from sched_tui.queue import JobOutcome, NewJob, Processor, QueueStore, Status

MakeProcessor = Callable[..., Processor]


async def test_success_marks_processed(
    store: QueueStore, clock: FakeClock, make_processor: MakeProcessor
) -> None:
    target = ScriptedTarget(clock)
    outcomes: list[JobOutcome] = []
    processor = make_processor({"zocdoc": target})
    processor.on_outcome = outcomes.append
    job = await store.enqueue("zocdoc", "create", create_payload(1), subject_id="slot-1")

    report = await processor.run_once()

    assert report.processed == 1
    stored = await store.get(job.job_id)
    assert stored.status is Status.PROCESSED
    assert stored.attempts == 1
    assert stored.result == {"appointment_id": f"appt-{job.job_id[:8]}"}
    assert [(o.job.subject_id, o.status) for o in outcomes] == [("slot-1", Status.PROCESSED)]


@pytest.mark.parametrize("status_code", [400, 401, 403, 404, 409, 422])
async def test_permanent_error_fails_at_once(
    store: QueueStore, clock: FakeClock, make_processor: MakeProcessor, status_code: int
) -> None:
    target = ScriptedTarget(clock, [ProviderRejected("rejected", status_code)])
    processor = make_processor({"zocdoc": target})
    job = await store.enqueue("zocdoc", "create", create_payload(1))

    await processor.run_once()
    clock.advance(3600)
    await processor.run_once()

    stored = await store.get(job.job_id)
    assert stored.status is Status.FAILED
    assert stored.last_error == f"ProviderRejected (HTTP {status_code}): rejected"
    assert len(target.sends) == 1


async def test_transient_error_backs_off(
    store: QueueStore, clock: FakeClock, make_processor: MakeProcessor
) -> None:
    target = ScriptedTarget(clock, [ProviderUnavailable("HTTP 503")])
    processor = make_processor({"zocdoc": target}, backoff_base_s=10)
    job = await store.enqueue("zocdoc", "create", create_payload(1))
    start = clock.now()

    await processor.run_once()

    stored = await store.get(job.job_id)
    assert stored.status is Status.PENDING
    assert stored.attempts == 1
    assert start <= stored.next_attempt_at <= start + 10
    assert stored.ambiguous
    assert stored.last_error == "ProviderUnavailable: HTTP 503"


async def test_max_attempts_fails_with_reason(
    store: QueueStore, clock: FakeClock, make_processor: MakeProcessor, settings: Any
) -> None:
    errors = [ProviderUnavailable("HTTP 503") for _ in range(settings.max_attempts)]
    target = ScriptedTarget(clock, errors)
    processor = make_processor({"zocdoc": target})
    job = await store.enqueue("zocdoc", "create", create_payload(1))

    for _ in range(settings.max_attempts + 2):
        await processor.run_once()
        clock.advance(settings.backoff_cap_s)

    stored = await store.get(job.job_id)
    assert stored.status is Status.FAILED
    assert len(target.sends) == settings.max_attempts
    assert stored.last_error is not None
    assert stored.last_error.startswith(f"gave up after {settings.max_attempts} attempts")


async def test_ambiguous_timeout_reconciles_before_resend(
    store: QueueStore, clock: FakeClock, make_processor: MakeProcessor
) -> None:
    async def lands_then_times_out(job: Any) -> None:
        target.landed.add(job.idempotency_key)
        raise TimeoutError

    target = ScriptedTarget(clock, [lands_then_times_out])
    processor = make_processor({"zocdoc": target})
    job = await store.enqueue("zocdoc", "create", create_payload(1))

    await processor.run_once()
    clock.advance(3600)
    await processor.run_once()

    stored = await store.get(job.job_id)
    assert stored.status is Status.PROCESSED
    assert stored.result is not None
    assert stored.result["reconciled"] is True
    assert len(target.sends) == 1
    assert target.reconciles == [job.job_id]


async def test_connect_error_is_not_ambiguous(
    store: QueueStore, clock: FakeClock, make_processor: MakeProcessor
) -> None:
    import httpx

    async def raise_refused(job: Any) -> None:
        try:
            raise httpx.ConnectError("connection refused")
        except httpx.ConnectError:
            raise ProviderUnavailable("could not connect") from None

    target = ScriptedTarget(clock, [raise_refused])
    processor = make_processor({"zocdoc": target})
    job = await store.enqueue("zocdoc", "create", create_payload(1))

    await processor.run_once()

    assert not (await store.get(job.job_id)).ambiguous


async def test_429_pauses_whole_target(
    store: QueueStore, clock: FakeClock, make_processor: MakeProcessor
) -> None:
    target = ScriptedTarget(clock, [ProviderRateLimited("HTTP 429", retry_after=300)])
    processor = make_processor({"zocdoc": target})
    await store.enqueue_many(NewJob("zocdoc", "create", create_payload(i)) for i in range(3))
    other = ScriptedTarget(clock)
    processor.targets["ics"] = other
    await store.enqueue("ics", "cancel", {"appointment_id": "a"})
    start = clock.now()

    report = await processor.run_once()

    # The two other Zocdoc jobs would wait past their lease: they are rescheduled, not slept on.
    assert report.released == 2
    assert len(target.sends) == 1
    assert len(other.sends) == 1
    assert await store.paused_until("zocdoc") == start + 300
    assert clock.sleeps == []

    clock.advance(299)
    await processor.run_once()
    assert len(target.sends) == 1

    clock.advance(1)
    await processor.run_once()
    assert len(target.sends) == 4
    assert all(at >= start + 300 for at, _ in target.sends[1:])


async def test_short_429_wait_sleeps_in_batch(
    store: QueueStore, clock: FakeClock, make_processor: MakeProcessor
) -> None:
    target = ScriptedTarget(clock, [ProviderRateLimited("HTTP 429", retry_after=5)])
    processor = make_processor({"zocdoc": target})
    await store.enqueue_many(NewJob("zocdoc", "create", create_payload(i)) for i in range(3))
    start = clock.now()

    await processor.run_once()

    assert [at for at, _ in target.sends] == [start, start + 5, start + 5]


async def test_rate_limit_spaces_sends(
    store: QueueStore, clock: FakeClock, make_processor: MakeProcessor
) -> None:
    target = ScriptedTarget(clock)
    processor = make_processor({"zocdoc": target}, rate_limits={"zocdoc": 2.0})
    await store.enqueue_many(NewJob("zocdoc", "create", create_payload(i)) for i in range(5))
    start = clock.now()

    await processor.run_once()

    assert [at - start for at, _ in target.sends] == [0.0, 0.5, 1.0, 1.5, 2.0]


async def test_drain_now_sends_all_due(
    store: QueueStore, clock: FakeClock, make_processor: MakeProcessor
) -> None:
    target = ScriptedTarget(clock)
    processor = make_processor({"zocdoc": target}, batch_size=4)
    await store.enqueue_many(NewJob("zocdoc", "create", create_payload(i)) for i in range(10))

    report = await processor.drain_now()

    assert report.processed == 10
    assert (await store.stats()).processed == 10


async def test_stop_releases_unsent_jobs(
    store: QueueStore, clock: FakeClock, make_processor: MakeProcessor
) -> None:
    async def stop_during_call(job: Any) -> None:
        asyncio.get_running_loop().call_soon(lambda: asyncio.ensure_future(processor.stop()))
        await asyncio.sleep(0.01)

    target = ScriptedTarget(clock, [stop_during_call])
    processor = make_processor({"zocdoc": target})
    await store.enqueue_many(NewJob("zocdoc", "create", create_payload(i)) for i in range(5))
    processor.start()
    await asyncio.wait_for(_until(lambda: not processor.running), 5)

    stats = await store.stats()
    assert len(target.sends) == 1
    assert stats.processed == 1
    assert stats.pending_due == 4
    assert stats.processing == 0


async def test_unknown_target_is_retried(
    store: QueueStore, clock: FakeClock, make_processor: MakeProcessor
) -> None:
    processor = make_processor({})
    job = await store.enqueue("nowhere", "cancel", {"appointment_id": "a"})

    await processor.run_once()

    stored = await store.get(job.job_id)
    assert stored.status is Status.PENDING
    assert stored.last_error == "no target named 'nowhere' is configured in this process"


async def test_call_slower_than_lease_sends_once(
    store: QueueStore, clock: FakeClock, make_processor: MakeProcessor, settings: Any
) -> None:
    """A call outlives its lease: the next worker reconciles, the late outcome is dropped."""
    release_call = asyncio.Event()

    async def slow_call(job: Any) -> dict[str, str]:
        target.landed.add(job.idempotency_key)
        clock.advance(settings.lease_s + 1)
        await release_call.wait()
        return {"appointment_id": "late"}

    target = ScriptedTarget(clock, [slow_call])
    first = make_processor({"zocdoc": target})
    second = make_processor({"zocdoc": target})
    job = await store.enqueue("zocdoc", "create", create_payload(1))

    slow_pass = asyncio.create_task(first.run_once())
    await _until(lambda: bool(target.sends))
    takeover = await second.run_once()
    release_call.set()
    late = await slow_pass

    stored = await store.get(job.job_id)
    assert takeover.processed == 1
    assert late.lost == 1
    assert stored.status is Status.PROCESSED
    assert stored.result is not None
    assert stored.result["reconciled"] is True
    assert stored.takeovers == 1
    assert len(target.sends) == 1


async def test_outage_retries_are_spread(
    store: QueueStore, clock: FakeClock, make_processor: MakeProcessor
) -> None:
    """Ten jobs failing together in a ten-minute outage retry at spread-out times."""
    random.seed(20260604)
    outage_end = clock.now() + 600
    target = ScriptedTarget(clock)

    async def send(job: Any) -> dict[str, str] | None:
        target.sends.append((clock.now(), job.job_id))
        if clock.now() < outage_end:
            raise ProviderUnavailable("HTTP 503")
        return None

    target.send = send  # type: ignore[method-assign]
    finished = asyncio.Event()
    settled: list[JobOutcome] = []

    def on_outcome(outcome: JobOutcome) -> None:
        if outcome.status in (Status.PROCESSED, Status.FAILED):
            settled.append(outcome)
        if len(settled) == 10:
            finished.set()

    processor = make_processor({"zocdoc": target})
    processor.on_outcome = on_outcome
    await store.enqueue_many(NewJob("zocdoc", "create", create_payload(i)) for i in range(10))
    processor.start()
    await asyncio.wait_for(finished.wait(), 20)
    await processor.stop()

    assert all(outcome.status is Status.PROCESSED for outcome in settled)
    retries = [at for at, _ in target.sends[10:]]
    per_second = Counter(int(at) for at in retries)
    assert len(retries) >= 20
    assert max(per_second.values()) <= 3
    assert len(set(retries)) >= 0.8 * len(retries)


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():  # noqa: ASYNC110 - polls state that no event signals
        await asyncio.sleep(0.001)


async def test_processor_purges_at_most_hourly(
    store: QueueStore, clock: FakeClock, make_processor: MakeProcessor
) -> None:
    """Finished jobs past keep_finished_days go, in one purge per hour per processor."""
    ten_seconds = 10 / 86_400
    processor = make_processor({"zocdoc": ScriptedTarget(clock)}, keep_finished_days=ten_seconds)
    await store.enqueue("zocdoc", "create", create_payload(1))
    await processor.run_once()
    clock.advance(11)
    assert await processor.purge_if_due() == 1

    second = await store.enqueue("zocdoc", "create", create_payload(2))
    await processor.run_once()
    clock.advance(11)
    assert await processor.purge_if_due() == 0
    assert [job.job_id for job in await store.list_jobs(limit=10)] == [second.job_id]

    clock.advance(3600)
    assert await processor.purge_if_due() == 1
    assert await store.list_jobs(limit=10) == []


async def test_keep_finished_days_zero_keeps_everything(
    store: QueueStore, clock: FakeClock, make_processor: MakeProcessor
) -> None:
    await store.enqueue("zocdoc", "create", create_payload(1))
    processor = make_processor({"zocdoc": ScriptedTarget(clock)}, keep_finished_days=0)
    await processor.run_once()
    clock.advance(400 * 86_400)

    assert await processor.purge_if_due() == 0
    assert len(await store.list_jobs(limit=10)) == 1
