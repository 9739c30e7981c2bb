"""Single flight: concurrent misses share one provider call, its result and its error."""

from __future__ import annotations

import asyncio

import pytest

from sched_tui.cache.reads import CachedReads
from sched_tui.cache.store import AVAILABILITY
from sched_tui.providers.base import ProviderUnavailable

from .conftest import WEEK_END, WEEK_START, FakeTimer, PracticeProvider, make_store, outage

READERS = 100


async def _wait_for_call(provider: PracticeProvider) -> None:
    # The readers reach the gated provider within a few event-loop turns.
    for _ in range(100):
        if provider.calls:
            return
        await asyncio.sleep(0)
    raise AssertionError("the provider was never called")


async def test_hundred_misses_make_one_call(timer: FakeTimer) -> None:
    store = make_store(timer)
    reads = CachedReads(store)
    provider = PracticeProvider(count=1)
    therapist_id = provider.therapists[0].id
    provider.gate = asyncio.Event()

    readers = [
        asyncio.create_task(reads.week(provider, [therapist_id], WEEK_START, WEEK_END))
        for _ in range(READERS)
    ]
    await _wait_for_call(provider)
    provider.gate.set()
    results = await asyncio.gather(*readers)

    assert provider.count("fetch_week") == 1
    assert all(result[therapist_id].appointments for result in results)
    assert len({id(result[therapist_id]) for result in results}) == 1
    stats = store.stats()
    assert stats.misses == READERS
    assert stats.entries[AVAILABILITY] == 1


async def test_failed_call_reaches_all_and_caches_nothing(timer: FakeTimer) -> None:
    store = make_store(timer)
    reads = CachedReads(store)
    provider = PracticeProvider(count=1)
    therapist_id = provider.therapists[0].id
    provider.gate = asyncio.Event()
    provider.failing = outage()

    readers = [
        asyncio.create_task(reads.week(provider, [therapist_id], WEEK_START, WEEK_END))
        for _ in range(READERS)
    ]
    await _wait_for_call(provider)
    provider.gate.set()
    results = await asyncio.gather(*readers, return_exceptions=True)

    assert provider.count("fetch_week") == 1
    assert all(isinstance(result, ProviderUnavailable) for result in results)
    assert store.stats().entries[AVAILABILITY] == 0
    assert store.stats().namespaces[1].last_known == 0

    provider.failing = None
    provider.gate = None
    weeks = await reads.week(provider, [therapist_id], WEEK_START, WEEK_END)
    assert provider.count("fetch_week") == 2
    assert weeks[therapist_id].appointments


async def test_cancelled_reader_leaves_others_served(timer: FakeTimer) -> None:
    store = make_store(timer)
    reads = CachedReads(store)
    provider = PracticeProvider(count=1)
    therapist_id = provider.therapists[0].id
    provider.gate = asyncio.Event()

    readers = [
        asyncio.create_task(reads.week(provider, [therapist_id], WEEK_START, WEEK_END))
        for _ in range(READERS)
    ]
    await _wait_for_call(provider)
    readers[0].cancel()
    await asyncio.sleep(0)
    provider.gate.set()
    results = await asyncio.gather(*readers, return_exceptions=True)

    assert isinstance(results[0], asyncio.CancelledError)
    served = [result for result in results[1:] if isinstance(result, dict)]
    assert len(served) == READERS - 1
    assert provider.count("fetch_week") == 1
    assert store.stats().entries[AVAILABILITY] == 1


async def test_every_reader_cancelled_still_stores(timer: FakeTimer) -> None:
    store = make_store(timer)
    reads = CachedReads(store)
    provider = PracticeProvider(count=1)
    therapist_id = provider.therapists[0].id
    provider.gate = asyncio.Event()

    reader = asyncio.create_task(reads.week(provider, [therapist_id], WEEK_START, WEEK_END))
    await _wait_for_call(provider)
    reader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reader
    provider.gate.set()
    await reads.week(provider, [therapist_id], WEEK_START, WEEK_END)

    assert provider.count("fetch_week") == 1


async def test_readers_of_different_therapists_overlap(timer: FakeTimer) -> None:
    store = make_store(timer)
    reads = CachedReads(store)
    provider = PracticeProvider(count=3)
    first, second, third = (therapist.id for therapist in provider.therapists)
    provider.gate = asyncio.Event()

    first_reader = asyncio.create_task(reads.week(provider, [first, second], WEEK_START, WEEK_END))
    await _wait_for_call(provider)
    second_reader = asyncio.create_task(reads.week(provider, [second, third], WEEK_START, WEEK_END))
    await asyncio.sleep(0)
    provider.gate.set()
    results = await asyncio.gather(first_reader, second_reader)

    # The second reader joins the running fetch for `second` and fetches only `third`.
    assert provider.week_calls() == [(first, second), (third,)]
    assert set(results[1]) == {second, third}


async def test_hung_fetch_times_out_for_every_reader(timer: FakeTimer) -> None:
    store = make_store(timer, fetch_timeout_s=0.05)
    reads = CachedReads(store)
    provider = PracticeProvider(count=1)
    therapist_id = provider.therapists[0].id
    provider.gate = asyncio.Event()

    readers = [
        asyncio.create_task(reads.week(provider, [therapist_id], WEEK_START, WEEK_END))
        for _ in range(3)
    ]
    results = await asyncio.gather(*readers, return_exceptions=True)

    assert all(isinstance(result, TimeoutError) for result in results)
    assert store.namespace(AVAILABILITY).stats().in_flight == 0
