"""The queue table: enqueue, claim, leases, staff actions and counts."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from queue_helpers import FakeClock, create_payload

from sched_tui.queue import (
    InvalidTransition,
    JobNotFound,
    NewJob,
    Operation,
    QueueBusy,
    QueueStore,
    Status,
)
from sched_tui.storage import open_database


async def test_migration_creates_queue_tables(db_path: Path) -> None:
    connection = await open_database(db_path)
    try:
        rows = await connection.execute_fetchall(
            "SELECT name FROM sqlite_master WHERE name LIKE 'api_write_%' ORDER BY name"
        )
    finally:
        await connection.close()
    names = [row[0] for row in rows]
    assert "api_write_queue" in names
    assert "api_write_targets" in names
    assert "api_write_events" in names


async def test_enqueue_stores_pending_job(store: QueueStore, clock: FakeClock) -> None:
    job = await store.enqueue("zocdoc", "create", create_payload(1), subject_id="slot-1")

    stored = await store.get(job.job_id)
    assert stored.status is Status.PENDING
    assert stored.operation is Operation.CREATE
    assert stored.payload == create_payload(1)
    assert stored.next_attempt_at == clock.now()
    assert stored.subject_id == "slot-1"
    assert len(stored.idempotency_key) == 36
    assert stored.attempts == 0


@pytest.mark.parametrize(
    ("target", "operation", "payload"),
    [("", "create", {}), ("zocdoc", "delete", {}), ("zocdoc", "cancel", ["not", "an", "object"])],
)
async def test_enqueue_rejects_invalid_job(
    store: QueueStore, target: str, operation: str, payload: object
) -> None:
    with pytest.raises(ValueError):
        await store.enqueue(target, operation, payload)  # type: ignore[arg-type]
    assert (await store.stats()).total == 0


async def test_claim_takes_due_jobs_in_order(store: QueueStore, clock: FakeClock) -> None:
    first = await store.enqueue("zocdoc", "create", create_payload(1))
    clock.advance(1)
    second = await store.enqueue("zocdoc", "cancel", {"appointment_id": "a"})

    jobs = await store.claim(10, lease_s=60)

    assert [job.job_id for job in jobs] == [first.job_id, second.job_id]
    assert all(job.status is Status.PROCESSING for job in jobs)
    assert all(job.lease_expires_at == clock.now() + 60 for job in jobs)
    assert len({job.lease_token for job in jobs}) == 1
    assert await store.claim(10, lease_s=60) == []


async def test_claim_respects_batch_size_bounds(store: QueueStore) -> None:
    for bad in (0, 101):
        with pytest.raises(ValueError):
            await store.claim(bad, lease_s=60)


async def test_concurrent_claims_are_disjoint(db_path: Path, clock: FakeClock) -> None:
    stores = [await QueueStore.open(db_path, now=clock.now, owner=f"w{i}") for i in range(4)]
    try:
        await stores[0].enqueue_many(
            NewJob("zocdoc", "create", create_payload(i)) for i in range(200)
        )

        async def claim_all(store: QueueStore) -> list[str]:
            taken: list[str] = []
            while batch := await store.claim(7, lease_s=60):
                taken.extend(job.job_id for job in batch)
            return taken

        results = await asyncio.gather(*(claim_all(store) for store in stores))
    finally:
        for opened in stores:
            await opened.aclose()
    claimed = [job_id for result in results for job_id in result]
    assert len(claimed) == 200
    assert len(set(claimed)) == 200


async def test_complete_requires_current_lease(store: QueueStore, clock: FakeClock) -> None:
    await store.enqueue("zocdoc", "create", create_payload(1))
    [old] = await store.claim(1, lease_s=10)
    assert await store.mark_in_flight(old, lease_s=10)

    clock.advance(11)
    [new] = await store.claim(1, lease_s=10)
    assert new.lease_token != old.lease_token
    assert new.ambiguous
    assert await store.complete(new, {"appointment_id": "x"})

    assert not await store.complete(old, {"appointment_id": "stale"})
    assert not await store.fail(old, "stale failure")
    assert await store.retry_later(old, "stale", clock.now()) is None
    final = await store.get(new.job_id)
    assert final.status is Status.PROCESSED
    assert final.result == {"appointment_id": "x"}


async def test_expired_unsent_job_returns_to_pending(store: QueueStore, clock: FakeClock) -> None:
    job = await store.enqueue("zocdoc", "create", create_payload(1))
    await store.claim(1, lease_s=10)

    clock.advance(10)
    assert await store.recover_expired() == 1

    recovered = await store.get(job.job_id)
    assert recovered.status is Status.PENDING
    assert recovered.takeovers == 0
    assert not recovered.ambiguous


async def test_job_crashing_workers_fails_after_takeovers(
    store: QueueStore, clock: FakeClock
) -> None:
    job = await store.enqueue("zocdoc", "create", create_payload(1))
    for _ in range(store.max_takeovers):
        [claimed] = await store.claim(1, lease_s=10)
        assert await store.mark_in_flight(claimed, lease_s=10)
        clock.advance(10)

    [claimed] = await store.claim(1, lease_s=10)
    assert await store.mark_in_flight(claimed, lease_s=10)
    clock.advance(10)
    await store.recover_expired()

    final = await store.get(job.job_id)
    assert final.status is Status.FAILED
    assert final.takeovers == store.max_takeovers + 1
    assert final.last_error is not None
    assert "lease expired during the call" in final.last_error
    assert await store.claim(1, lease_s=10) == []


async def test_mark_in_flight_renews_lease(store: QueueStore, clock: FakeClock) -> None:
    await store.enqueue("zocdoc", "create", create_payload(1))
    await store.enqueue("zocdoc", "create", create_payload(2))
    [first, second] = await store.claim(2, lease_s=10)

    clock.advance(6)
    assert await store.mark_in_flight(first, lease_s=10)
    assert (await store.get(first.job_id)).lease_expires_at == clock.now() + 10

    clock.advance(4)
    assert not await store.mark_in_flight(second, lease_s=10)
    assert await store.release(second, clock.now())
    assert (await store.get(second.job_id)).status is Status.PENDING


async def test_retry_later_fails_at_max_attempts(store: QueueStore, clock: FakeClock) -> None:
    job = await store.enqueue("zocdoc", "create", create_payload(1))
    for attempt in range(1, store.max_attempts + 1):
        [claimed] = await store.claim(1, lease_s=10)
        status = await store.retry_later(claimed, "ProviderUnavailable: 503", clock.now())
        expected = Status.FAILED if attempt == store.max_attempts else Status.PENDING
        assert status is expected

    final = await store.get(job.job_id)
    assert final.attempts == store.max_attempts
    assert (
        final.last_error == f"gave up after {store.max_attempts} attempts: ProviderUnavailable: 503"
    )


async def test_retry_and_cancel_by_staff(store: QueueStore, clock: FakeClock) -> None:
    job = await store.enqueue("zocdoc", "create", create_payload(1))
    [claimed] = await store.claim(1, lease_s=10)
    with pytest.raises(InvalidTransition):
        await store.cancel(job.job_id)
    await store.fail(claimed, "ProviderRejected (HTTP 400): bad slot")

    retried = await store.retry(job.job_id)
    assert retried.status is Status.PENDING
    assert retried.attempts == 0

    cancelled = await store.cancel(job.job_id)
    assert cancelled.status is Status.FAILED
    assert cancelled.last_error == "cancelled by user"
    assert await store.claim(1, lease_s=10) == []
    assert await store.list_jobs([Status.FAILED], include_cancelled=False) == []

    with pytest.raises(JobNotFound):
        await store.retry("no-such-job")


async def test_stats_count_in_flight_apart(store: QueueStore, clock: FakeClock) -> None:
    await store.enqueue_many(NewJob("zocdoc", "create", create_payload(i)) for i in range(5))
    await store.enqueue("ics", "cancel", {"appointment_id": "a"})
    claimed = await store.claim(2, lease_s=10)
    await store.complete(claimed[0])
    [later] = await store.claim(1, lease_s=10)
    await store.retry_later(later, "ProviderUnavailable", clock.now() + 100)

    stats = await store.stats()

    assert stats.in_flight == 1
    assert stats.pending_due == 3
    assert stats.pending_scheduled == 1
    assert stats.processed == 1
    assert stats.depth == 5
    assert stats.total == 6
    assert stats.by_target["ics"] == {"pending": 1}


async def test_events_follow_outcomes(store: QueueStore) -> None:
    first = await store.enqueue("zocdoc", "create", create_payload(1))
    second = await store.enqueue("zocdoc", "create", create_payload(2))
    start = await store.last_event_seq()
    [a, b] = await store.claim(2, lease_s=10)
    await store.complete(a)
    await store.fail(b, "ProviderRejected (HTTP 422)")

    events = await store.events_after(start)

    assert [(event.job_id, event.status) for event in events] == [
        (first.job_id, Status.PROCESSED),
        (second.job_id, Status.FAILED),
    ]
    assert await store.events_after(events[-1].seq) == []


async def test_paused_target_is_not_claimed(store: QueueStore, clock: FakeClock) -> None:
    await store.enqueue("zocdoc", "create", create_payload(1))
    other = await store.enqueue("ics", "cancel", {"appointment_id": "a"})
    await store.pause_target("zocdoc", clock.now() + 30, "HTTP 429")

    assert [job.job_id for job in await store.claim(10, lease_s=600)] == [other.job_id]
    clock.advance(30)
    assert len(await store.claim(10, lease_s=600)) == 1


async def test_pause_never_shortens(store: QueueStore, clock: FakeClock) -> None:
    assert await store.pause_target("zocdoc", clock.now() + 60, "first") == clock.now() + 60
    assert await store.pause_target("zocdoc", clock.now() + 5, "second") == clock.now() + 60


async def test_send_slots_are_spaced(store: QueueStore, clock: FakeClock) -> None:
    now = clock.now()
    slots = [await store.reserve_send_slot("zocdoc", 0.5, now + 10) for _ in range(4)]
    assert slots == [(True, now), (True, now + 0.5), (True, now + 1.0), (True, now + 1.5)]

    ok, slot = await store.reserve_send_slot("zocdoc", 0.5, now + 1)
    assert not ok
    assert slot == now + 2.0


async def test_restart_keeps_pending_jobs(db_path: Path, clock: FakeClock) -> None:
    first = await QueueStore.open(db_path, now=clock.now)
    await first.enqueue_many(NewJob("zocdoc", "create", create_payload(i)) for i in range(20))
    await first.claim(5, lease_s=10)
    await first.aclose()

    clock.advance(10)
    second = await QueueStore.open(db_path, now=clock.now)
    try:
        await second.recover_expired()
        stats = await second.stats()
    finally:
        await second.aclose()
    assert stats.pending == 20
    assert stats.processing == 0


async def test_locked_database_is_retried(db_path: Path, clock: FakeClock) -> None:
    store = await QueueStore.open(db_path, busy_timeout_s=0.05, now=clock.now, busy_retry_s=10)
    blocker = sqlite3.connect(db_path, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        enqueue = asyncio.create_task(store.enqueue("zocdoc", "create", create_payload(1)))
        await asyncio.sleep(0.4)
        assert not enqueue.done()
        blocker.execute("COMMIT")
        job = await asyncio.wait_for(enqueue, 5)
        assert (await store.get(job.job_id)).status is Status.PENDING
    finally:
        blocker.close()
        await store.aclose()


async def test_lock_held_too_long_raises_queue_busy(db_path: Path, clock: FakeClock) -> None:
    store = await QueueStore.open(db_path, busy_timeout_s=0.05, now=clock.now, busy_retry_s=0.3)
    blocker = sqlite3.connect(db_path, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        with pytest.raises(QueueBusy, match="stayed locked"):
            await store.enqueue("zocdoc", "create", create_payload(1))
        blocker.execute("ROLLBACK")
    finally:
        blocker.close()
        await store.aclose()


async def test_purge_keeps_unsettled_and_recent_jobs(store: QueueStore, clock: FakeClock) -> None:
    """Old processed and staff-cancelled jobs are deleted. Pending, failed and recent ones stay."""
    old_done, old_cancelled, old_failed, old_pending = [
        await store.enqueue("zocdoc", "create", create_payload(i)) for i in range(4)
    ]
    [done] = await store.claim(1, lease_s=10)
    await store.complete(done)
    await store.cancel(old_cancelled.job_id)
    [failing, postponed] = await store.claim(2, lease_s=10)
    await store.fail(failing, "ProviderRejected (HTTP 400): bad slot")
    await store.retry_later(postponed, "ProviderUnavailable: 503", clock.now() + 60 * 86_400)
    clock.advance(31 * 86_400)
    recent = await store.enqueue("zocdoc", "create", create_payload(9))
    [recent_claim] = await store.claim(1, lease_s=10)
    await store.complete(recent_claim)
    events_before = await store.events_after(0)

    deleted = await store.purge_finished(30 * 86_400, chunk=1)

    assert done.job_id == old_done.job_id
    assert failing.job_id == old_failed.job_id
    assert deleted == 2
    left = {job.job_id for job in await store.list_jobs(limit=100)}
    assert left == {old_failed.job_id, old_pending.job_id, recent.job_id}
    assert len(events_before) == 4
    assert [event.job_id for event in await store.events_after(0)] == [recent.job_id]


async def test_resolve_id_by_start(store: QueueStore) -> None:
    for job_id in ("aaaa1111-first", "aaaa2222-second"):
        await store.connection.execute(
            "INSERT INTO api_write_queue (job_id, target_system, operation, payload,"
            " next_attempt_at, idempotency_key, created_at, updated_at)"
            " VALUES (?, 'zocdoc', 'cancel', '{}', 0, ?, 0, 0)",
            (job_id, job_id),
        )

    assert await store.resolve_id("aaaa1111-first") == "aaaa1111-first"
    assert await store.resolve_id("aaaa2") == "aaaa2222-second"
    with pytest.raises(JobNotFound, match="matches several jobs"):
        await store.resolve_id("aaaa")
    with pytest.raises(JobNotFound, match="job zzzz not found"):
        await store.resolve_id("zzzz")
