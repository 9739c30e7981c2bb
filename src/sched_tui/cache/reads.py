"""`CachedReads`: the `Reads` implementation that calls a provider only on a miss.

Namespaces and keys:

* ``profiles``: each provider's therapist list under ``(provider, "")`` and each
  therapist under ``(provider, therapist_id)``. The Provider protocol lists
  therapists only as a whole, so a missing or invalidated therapist entry makes
  the next read fetch the provider's whole list again, in one call.
* ``availability``: one therapist's `TherapistWeek` for one week under
  ``(provider, therapist_id, "<start>/<end>")``. Misses of several therapists of
  one provider are fetched in one `fetch_week` call; each entry still expires
  and is invalidated on its own.
* ``services``: each provider's service list under ``(provider, "")``.

A read serves live entries at once. An entry past its refresh point is served
as well, and a background refresh of it starts. An expired or missing entry is
fetched (single-flight) and the read waits; when that fetch fails and an expired
value is at hand, the read returns that value and notes it as stale.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sched_tui.cache.freshness import note_served
from sched_tui.cache.store import (
    ABSENT,
    AVAILABILITY,
    PROFILES,
    SERVICES,
    CacheKey,
    CacheStore,
    Loader,
    Lookup,
    Namespace,
    State,
)
from sched_tui.model import Service, Therapist, TherapistWeek
from sched_tui.providers.base import Provider


class CachedReads:
    """Reads through a `CacheStore`; the aggregator's only path to providers."""

    def __init__(self, store: CacheStore) -> None:
        self.store = store
        self._profiles = store.namespace(PROFILES)
        self._availability = store.namespace(AVAILABILITY)
        self._services = store.namespace(SERVICES)

    async def therapists(self, provider: Provider) -> list[Therapist]:
        """Return the provider's therapists."""
        roster_key = CacheKey(provider.name)

        async def load(keys: list[CacheKey]) -> dict[CacheKey, Any]:
            therapists = await provider.list_therapists()
            values: dict[CacheKey, Any] = {roster_key: tuple(therapists)}
            for therapist in therapists:
                values[CacheKey(provider.name, therapist.id)] = therapist
            return values

        lookups = {roster_key: self._roster_lookup(roster_key)}
        values = await _read(self._profiles, lookups, load)
        return list(values.get(roster_key, ()))

    async def services(self, provider: Provider) -> list[Service]:
        """Return the provider's services."""
        key = CacheKey(provider.name)

        async def load(keys: list[CacheKey]) -> dict[CacheKey, Any]:
            return {key: tuple(await provider.list_services())}

        values = await _read(self._services, {key: self._services.lookup(key)}, load)
        return list(values.get(key, ()))

    async def week(
        self, provider: Provider, therapist_ids: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, TherapistWeek]:
        """Return each therapist's appointments and open slots in [start, end)."""
        period = f"{start.isoformat()}/{end.isoformat()}"
        keys = [CacheKey(provider.name, therapist_id, period) for therapist_id in therapist_ids]

        async def load(batch: list[CacheKey]) -> dict[CacheKey, Any]:
            weeks = await provider.fetch_week([key.subject for key in batch], start, end)
            return {CacheKey(provider.name, tid, period): week for tid, week in weeks.items()}

        lookups = {key: self._availability.lookup(key) for key in keys}
        values = await _read(self._availability, lookups, load)
        return {key.subject: value for key, value in values.items()}

    def _roster_lookup(self, roster_key: CacheKey) -> Lookup:
        """Look up a provider's therapist list together with each therapist's entry.

        The list counts as live only while every therapist in it is; it is due
        for refresh as soon as one of them is.
        """
        roster = self._profiles.lookup(roster_key)
        if not roster.live:
            return roster
        assert roster.entry is not None
        states = [
            self._profiles.lookup(CacheKey(roster_key.provider, therapist.id)).state
            for therapist in roster.entry.value
        ]
        if any(state in (State.EXPIRED, State.MISSING) for state in states):
            return Lookup(State.EXPIRED, roster.entry)
        if State.REFRESH_DUE in states:
            return Lookup(State.REFRESH_DUE, roster.entry)
        return roster


async def _read(
    namespace: Namespace, lookups: dict[CacheKey, Lookup], loader: Loader
) -> dict[CacheKey, Any]:
    """Serve `lookups` from the cache, refreshing or fetching what needs it.

    Raises the fetch's exception when a key has no value at hand.
    """
    served: dict[CacheKey, Any] = {}
    due: list[CacheKey] = []
    needed: list[CacheKey] = []
    for key, lookup in lookups.items():
        if lookup.live:
            namespace.count(hit=True)
            served[key] = lookup.entry.value if lookup.entry else None
            if lookup.state is State.REFRESH_DUE and not namespace.backing_off(key):
                due.append(key)
        elif lookup.entry is not None and namespace.backing_off(key):
            # A fetch of this key failed moments ago: show the old value without asking again.
            namespace.count(hit=False)
            namespace.count_stale()
            served[key] = lookup.entry.value
            _note(namespace, key, lookup, stale=True)
        else:
            namespace.count(hit=False)
            needed.append(key)

    if due:
        namespace.fetch(due, loader, background=True)
    for key in served:
        lookup = lookups[key]
        if lookup.live:
            _note(namespace, key, lookup, refreshing=namespace.in_flight(key))

    if needed:
        futures = namespace.fetch(needed, loader)
        for key, future in futures.items():
            try:
                value = await asyncio.shield(future)
            except Exception:
                lookup = lookups[key]
                if lookup.entry is None:
                    raise
                namespace.count_stale()
                served[key] = lookup.entry.value
                _note(namespace, key, lookup, stale=True)
                continue
            if value is not ABSENT:
                served[key] = value
                note_served(key.provider, key.subject, 0.0)
    return served


def _note(
    namespace: Namespace,
    key: CacheKey,
    lookup: Lookup,
    *,
    stale: bool = False,
    refreshing: bool = False,
) -> None:
    assert lookup.entry is not None
    age = namespace.age(lookup.entry)
    note_served(key.provider, key.subject, age, stale=stale, refreshing=refreshing)
