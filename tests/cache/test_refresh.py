"""Refresh ahead of expiry, bounded refresh concurrency and stale values after failures."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sched_tui.cache.store import CacheStore

from .conftest import MONDAY, FakeTimer, PracticeProvider, make_aggregator, make_store, outage

TTL = 900.0


async def settle(store: CacheStore) -> None:
    """Let every running fetch finish (the providers here return within one loop turn)."""
    for _ in range(1000):
        if all(namespace.in_flight == 0 for namespace in store.stats().namespaces):
            return
        await asyncio.sleep(0)
    raise AssertionError("cache fetches did not finish")


async def test_forty_therapists_refresh_spread_over_time(timer: FakeTimer) -> None:
    store = make_store(timer, availability_ttl_s=TTL, profiles_ttl_s=TTL, jitter=0.1)
    provider = PracticeProvider(count=40)
    aggregator = make_aggregator(store, provider)
    ids = {therapist.id for therapist in provider.therapists}
    start = timer()
    await aggregator.get_aggregated_calendar(MONDAY)
    assert provider.week_calls() == [tuple(sorted(ids))]
    provider.calls.clear()
    provider.version = 2

    call_times: dict[str, float] = {}
    timer.time = start + TTL * 0.9 - 1
    while timer() < start + TTL - 1:
        timer.advance(1)
        calls_before = len(provider.week_calls())
        calendar = await aggregator.get_aggregated_calendar(MONDAY)

        shown = {appointment.therapist_id: appointment for appointment in calendar.appointments}
        assert set(shown) == ids, "a therapist's cell went blank during the refresh"
        for therapist_id in calendar.refreshing:
            assert shown[therapist_id].summary == "version 1"
        assert not calendar.stale
        assert not calendar.errors
        await settle(store)
        for batch in provider.week_calls()[calls_before:]:
            for therapist_id in batch:
                call_times.setdefault(therapist_id, timer() - start)

    batches = provider.week_calls()
    refreshed = [therapist_id for batch in batches for therapist_id in batch]
    assert sorted(refreshed) == sorted(ids), "each therapist is refreshed exactly once"
    assert len(set(call_times.values())) >= 10
    assert max(len(batch) for batch in batches) <= 6
    assert min(call_times.values()) >= TTL * 0.9 - 1
    assert max(call_times.values()) < TTL
    assert provider.count("list_therapists") == 1
    assert provider.count("list_services") == 0

    calendar = await aggregator.get_aggregated_calendar(MONDAY)
    assert {appointment.summary for appointment in calendar.appointments} == {"version 2"}
    assert not calendar.refreshing


async def test_refreshes_run_with_bounded_concurrency(timer: FakeTimer) -> None:
    store = make_store(
        timer, availability_ttl_s=TTL, profiles_ttl_s=TTL, jitter=0.1, refresh_concurrency=4
    )
    providers = [PracticeProvider(name=f"calendar{index}", count=1) for index in range(10)]
    aggregator = make_aggregator(store, *providers)
    start = timer()
    await aggregator.get_aggregated_calendar(MONDAY)
    gate = asyncio.Event()
    for provider in providers:
        provider.gate = gate
        provider.calls.clear()

    timer.time = start + TTL - 0.001
    calendar = await aggregator.get_aggregated_calendar(MONDAY)
    for _ in range(20):
        await asyncio.sleep(0)
    running = sum(provider.active for provider in providers)
    gate.set()
    await settle(store)

    assert len(calendar.refreshing) == 10
    assert running == 4
    # One therapist list and one week per provider, all in the background.
    assert sum(len(provider.calls) for provider in providers) == 20


async def test_failed_refresh_shows_expired_value_marked(timer: FakeTimer) -> None:
    store = make_store(timer, availability_ttl_s=TTL, profiles_ttl_s=TTL, failure_backoff_s=30)
    provider = PracticeProvider(count=3)
    aggregator = make_aggregator(store, provider)
    ids = {therapist.id for therapist in provider.therapists}
    await aggregator.get_aggregated_calendar(MONDAY)
    timer.advance(TTL + 60)
    provider.failing = outage()
    provider.calls.clear()

    calendar = await aggregator.get_aggregated_calendar(MONDAY)

    assert not calendar.errors
    assert {appointment.therapist_id for appointment in calendar.appointments} == ids
    assert calendar.stale == {provider.name: TTL + 60}
    assert calendar.stale_therapists == dict.fromkeys(ids, TTL + 60)
    assert calendar.fetched_at is not None
    assert calendar.as_of == calendar.fetched_at - timedelta(seconds=TTL + 60)
    assert provider.count("list_therapists") == 1
    assert store.stats().namespaces[0].stale_served == 1


async def test_failed_key_is_not_asked_again_during_backoff(timer: FakeTimer) -> None:
    store = make_store(timer, availability_ttl_s=TTL, profiles_ttl_s=TTL, failure_backoff_s=30)
    provider = PracticeProvider(count=2)
    aggregator = make_aggregator(store, provider)
    await aggregator.get_aggregated_calendar(MONDAY)
    timer.advance(TTL)
    provider.failing = outage()
    await aggregator.get_aggregated_calendar(MONDAY)
    calls_after_failure = len(provider.calls)

    timer.advance(10)
    calendar = await aggregator.get_aggregated_calendar(MONDAY)
    assert len(provider.calls) == calls_after_failure
    assert calendar.stale

    provider.failing = None
    timer.advance(30)
    calendar = await aggregator.get_aggregated_calendar(MONDAY)
    assert len(provider.calls) > calls_after_failure
    assert not calendar.stale
    assert calendar.as_of == calendar.fetched_at


async def test_failure_without_cached_value_is_an_error(timer: FakeTimer) -> None:
    store = make_store(timer)
    provider = PracticeProvider(count=2)
    provider.failing = outage()
    aggregator = make_aggregator(store, provider)

    calendar = await aggregator.get_aggregated_calendar(MONDAY)

    assert [error.provider for error in calendar.errors] == [provider.name]
    assert "unavailable" in calendar.errors[0].message
    assert not calendar.appointments
    assert not calendar.stale


async def test_background_refresh_failure_keeps_live_value(timer: FakeTimer) -> None:
    store = make_store(timer, availability_ttl_s=TTL, profiles_ttl_s=TTL, jitter=0.1)
    provider = PracticeProvider(count=2)
    aggregator = make_aggregator(store, provider)
    await aggregator.get_aggregated_calendar(MONDAY)
    timer.advance(TTL - 0.001)
    provider.failing = outage()

    calendar = await aggregator.get_aggregated_calendar(MONDAY)
    await settle(store)
    after = await aggregator.get_aggregated_calendar(MONDAY)

    assert len(calendar.appointments) == 2
    assert len(after.appointments) == 2
    assert not after.errors
    # Within the TTL the value is not stale, and the failed keys back off.
    assert not after.stale
    assert not after.refreshing


async def test_change_listener_hears_refresh_and_invalidation(timer: FakeTimer) -> None:
    store = make_store(timer, availability_ttl_s=TTL, profiles_ttl_s=TTL, jitter=0.1)
    provider = PracticeProvider(count=1)
    aggregator = make_aggregator(store, provider)
    heard: list[str | None] = []
    unsubscribe = store.subscribe(lambda namespace, keys: heard.append(namespace))
    await aggregator.get_aggregated_calendar(MONDAY)
    assert heard == []

    timer.advance(TTL - 0.001)
    await aggregator.get_aggregated_calendar(MONDAY)
    await settle(store)
    assert sorted(name for name in heard if name) == ["availability", "profiles"]

    store.invalidate(provider.therapists[0].id)
    assert heard[-1] is None
    unsubscribe()
    store.invalidate_all()
    assert len(heard) == 3
