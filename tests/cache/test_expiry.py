"""TTL expiry, per-therapist entries, size bounds and invalidation, on a controlled timer."""

from __future__ import annotations

import pytest

from sched_tui.cache.reads import CachedReads
from sched_tui.cache.store import AVAILABILITY, PROFILES, SERVICES, CacheKey, State

from .conftest import WEEK_END, WEEK_START, FakeTimer, PracticeProvider, make_store


async def test_availability_expires_after_ttl(timer: FakeTimer) -> None:
    store = make_store(timer, availability_ttl_s=900)
    reads = CachedReads(store)
    provider = PracticeProvider(count=2)
    ids = [therapist.id for therapist in provider.therapists]

    await reads.week(provider, ids, WEEK_START, WEEK_END)
    timer.advance(899)
    await reads.week(provider, ids, WEEK_START, WEEK_END)
    assert provider.count("fetch_week") == 1

    timer.advance(1)
    await reads.week(provider, ids, WEEK_START, WEEK_END)
    assert provider.count("fetch_week") == 2


async def test_services_use_their_own_ttl(timer: FakeTimer) -> None:
    store = make_store(timer, services_ttl_s=3600, profiles_ttl_s=900)
    reads = CachedReads(store)
    provider = PracticeProvider()

    await reads.services(provider)
    await reads.therapists(provider)
    timer.advance(1000)
    await reads.services(provider)
    await reads.therapists(provider)

    assert provider.count("list_services") == 1
    assert provider.count("list_therapists") == 2


async def test_therapist_entry_expires_on_its_own(timer: FakeTimer) -> None:
    store = make_store(timer, availability_ttl_s=900)
    reads = CachedReads(store)
    provider = PracticeProvider(count=3)
    first, second, third = (therapist.id for therapist in provider.therapists)

    await reads.week(provider, [first], WEEK_START, WEEK_END)
    timer.advance(600)
    await reads.week(provider, [second, third], WEEK_START, WEEK_END)
    timer.advance(300)
    weeks = await reads.week(provider, [first, second, third], WEEK_START, WEEK_END)

    assert set(weeks) == {first, second, third}
    # Only the first therapist's entry is 900 s old; the others are still live.
    assert provider.week_calls() == [(first,), (second, third), (first,)]


async def test_misses_of_one_provider_share_one_call(timer: FakeTimer) -> None:
    store = make_store(timer)
    reads = CachedReads(store)
    provider = PracticeProvider(count=5)
    ids = [therapist.id for therapist in provider.therapists]

    await reads.week(provider, ids[:2], WEEK_START, WEEK_END)
    await reads.week(provider, ids, WEEK_START, WEEK_END)

    assert provider.week_calls() == [tuple(ids[:2]), tuple(ids[2:])]


async def test_size_bound_evicts_least_recently_used(timer: FakeTimer) -> None:
    store = make_store(timer, availability_maxsize=2)
    reads = CachedReads(store)
    provider = PracticeProvider(count=3)
    first, second, third = (therapist.id for therapist in provider.therapists)

    await reads.week(provider, [first], WEEK_START, WEEK_END)
    await reads.week(provider, [second], WEEK_START, WEEK_END)
    await reads.week(provider, [first], WEEK_START, WEEK_END)
    await reads.week(provider, [third], WEEK_START, WEEK_END)

    assert store.stats().entries[AVAILABILITY] == 2
    await reads.week(provider, [first, third], WEEK_START, WEEK_END)
    assert provider.count("fetch_week") == 3
    await reads.week(provider, [second], WEEK_START, WEEK_END)
    assert provider.count("fetch_week") == 4


async def test_refresh_points_fall_in_jitter_window(timer: FakeTimer) -> None:
    store = make_store(timer, availability_ttl_s=1000, jitter=0.1)
    namespace = store.namespace(AVAILABILITY)
    start = timer()

    for index in range(200):
        namespace.put(CacheKey("practice", f"t{index}", "w"), index)
    keys = [CacheKey("practice", f"t{index}", "w") for index in range(200)]
    entries = [namespace.lookup(key).entry for key in keys]
    points = [entry.refresh_at - start for entry in entries if entry is not None]

    assert len(points) == 200
    assert min(points) >= 900
    assert max(points) <= 1000
    assert len({round(point) for point in points}) > 50


async def test_lookup_states_follow_timer(timer: FakeTimer) -> None:
    store = make_store(timer, availability_ttl_s=100, jitter=0.5)
    namespace = store.namespace(AVAILABILITY)
    key = CacheKey("practice", "t1", "w")
    namespace.put(key, "value")
    entry = namespace.lookup(key).entry
    assert entry is not None

    assert namespace.lookup(key).state is State.FRESH
    timer.time = entry.refresh_at
    assert namespace.lookup(key).state is State.REFRESH_DUE
    timer.time = entry.stored_at + 100
    expired = namespace.lookup(key)
    assert expired.state is State.EXPIRED
    assert expired.entry is not None
    assert expired.entry.value == "value"


async def test_invalidate_key_drops_one_therapist(timer: FakeTimer) -> None:
    store = make_store(timer)
    reads = CachedReads(store)
    provider = PracticeProvider(count=3)
    ids = [therapist.id for therapist in provider.therapists]
    await reads.therapists(provider)
    await reads.week(provider, ids, WEEK_START, WEEK_END)

    removed = store.invalidate(ids[1])
    await reads.week(provider, ids, WEEK_START, WEEK_END)
    await reads.therapists(provider)

    assert removed == 2  # the therapist's profile and availability entries
    assert provider.week_calls()[-1] == (ids[1],)
    assert provider.count("list_therapists") == 2


async def test_invalidate_namespace_and_all(timer: FakeTimer) -> None:
    store = make_store(timer)
    reads = CachedReads(store)
    provider = PracticeProvider(count=2)
    ids = [therapist.id for therapist in provider.therapists]
    await reads.therapists(provider)
    await reads.services(provider)
    await reads.week(provider, ids, WEEK_START, WEEK_END)

    store.invalidate_namespace(SERVICES)
    entries = store.stats().entries
    assert entries[SERVICES] == 0
    assert entries[PROFILES] == 3
    assert entries[AVAILABILITY] == 2

    store.invalidate_all()
    assert sum(store.stats().entries.values()) == 0


async def test_invalidate_unknown_namespace_raises(timer: FakeTimer) -> None:
    store = make_store(timer)

    with pytest.raises(ValueError, match="unknown cache namespace 'slots'"):
        store.invalidate_namespace("slots")


async def test_stats_count_hits_and_misses(timer: FakeTimer) -> None:
    store = make_store(timer)
    reads = CachedReads(store)
    provider = PracticeProvider(count=4)
    ids = [therapist.id for therapist in provider.therapists]

    await reads.week(provider, ids, WEEK_START, WEEK_END)
    await reads.week(provider, ids, WEEK_START, WEEK_END)
    await reads.week(provider, ids, WEEK_START, WEEK_END)
    stats = store.stats()

    assert stats.hits == 8
    assert stats.misses == 4
    assert stats.hit_ratio == pytest.approx(8 / 12)
    assert stats.entries[AVAILABILITY] == 4
    assert stats.summary() == "cache 67% hits (profiles 0, availability 4, services 0)"
