"""Namespaced TTL caches with single-flight fetches and refresh ahead of expiry.

Each namespace keeps two cachetools maps of the same maximum size:

* ``fresh``, a `TTLCache`: entries within their time to live, least recently used
  evicted first. cachetools does the expiry.
* ``last_known``, an `LRUCache`: the last value stored under each key, kept after
  its TTL ran out so that a failed refresh can show it, marked stale.

An entry also carries a refresh point, drawn at random in the last `jitter`
share of its TTL. A read past that point still returns the cached value, and
starts a background refresh of that key (bounded by a semaphore shared by all
namespaces), so entries stored together are refreshed at different times.

Fetches are single-flight: one asyncio task per batch of keys, and one future
per key that every concurrent reader of that key awaits behind `asyncio.shield`.
Cancelling a reader therefore never cancels the fetch the others wait for. A
failed fetch stores nothing and hands its exception to every waiter.

cachetools is not thread-safe; a store is used from one event loop only.
"""

from __future__ import annotations

import asyncio
import contextvars
import enum
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from cachetools import LRUCache, TTLCache

from sched_tui.config.cache import CacheConfig
from sched_tui.monitoring.events import log_custom
from sched_tui.monitoring.kpi import CACHE_HIT_EVENT, CACHE_MISS_EVENT

log = logging.getLogger(__name__)

PROFILES = "profiles"
AVAILABILITY = "availability"
SERVICES = "services"
NAMESPACES = (PROFILES, AVAILABILITY, SERVICES)


class CacheKey(NamedTuple):
    """Identity of a cached value: its provider, subject and period.

    `subject` is a therapist id, or "" for an entry about the whole provider
    (its service list, its therapist list). `period` names the week of an
    availability entry and is "" elsewhere.
    """

    provider: str
    subject: str = ""
    period: str = ""

    def matches(self, name: str) -> bool:
        """Tell whether `invalidate(name)` drops this key: `name` is its provider or therapist."""
        return name in (self.provider, self.subject)


class State(enum.Enum):
    """Outcome of a lookup."""

    FRESH = "fresh"
    # Within the TTL but past the entry's refresh point: serve it and refresh it.
    REFRESH_DUE = "refresh_due"
    # The TTL ran out; only the last known value is left.
    EXPIRED = "expired"
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class Entry:
    """A cached value and when it was stored, in the store's timer units (seconds)."""

    value: Any
    stored_at: float
    refresh_at: float


@dataclass(frozen=True, slots=True)
class Lookup:
    """The state of one key and its entry, if any (the last known one when expired)."""

    state: State
    entry: Entry | None = None

    @property
    def live(self) -> bool:
        """Whether the entry is within its TTL."""
        return self.state in (State.FRESH, State.REFRESH_DUE)


# Result of a fetch for a key the provider returned nothing for.
ABSENT: Any = object()

Loader = Callable[[list[CacheKey]], Awaitable[dict[CacheKey, Any]]]
# Called with the namespace that changed (None: several) and the keys that
# changed (None: every key the change matched).
ChangeListener = Callable[[str | None, tuple[CacheKey, ...] | None], None]


@dataclass(frozen=True, slots=True)
class NamespaceStats:
    """Counters and sizes of one namespace."""

    name: str
    ttl_s: float
    maxsize: int
    # Entries within their TTL.
    entries: int
    # Last known values kept, including those whose TTL ran out.
    last_known: int
    hits: int
    misses: int
    # Reads served an expired value because a fetch failed.
    stale_served: int
    fetches: int
    failures: int
    in_flight: int


@dataclass(frozen=True, slots=True)
class CacheStats:
    """Counters of every namespace, for the status line and the KPI pane."""

    namespaces: tuple[NamespaceStats, ...]

    @property
    def hits(self) -> int:
        """Reads served from an entry within its TTL, over all namespaces."""
        return sum(namespace.hits for namespace in self.namespaces)

    @property
    def misses(self) -> int:
        """Reads that had to wait for a fetch, over all namespaces."""
        return sum(namespace.misses for namespace in self.namespaces)

    @property
    def hit_ratio(self) -> float | None:
        """Hits over hits plus misses, from 0 to 1; None before the first read."""
        total = self.hits + self.misses
        return self.hits / total if total else None

    @property
    def entries(self) -> dict[str, int]:
        """Entries within their TTL, by namespace."""
        return {namespace.name: namespace.entries for namespace in self.namespaces}

    def summary(self) -> str:
        """Describe the cache in one short line, for example "cache 97% hits, 41/40/1"."""
        ratio = self.hit_ratio
        ratio_text = "no reads yet" if ratio is None else f"{ratio:.0%} hits"
        counts = ", ".join(f"{name} {count}" for name, count in self.entries.items())
        return f"cache {ratio_text} ({counts})"


@dataclass(eq=False)
class _Flight:
    """One running fetch for a batch of keys."""

    keys: tuple[CacheKey, ...]
    futures: dict[CacheKey, asyncio.Future[Any]]
    background: bool
    # Set by an invalidation that arrives while the fetch runs: its result may
    # predate the invalidation, so it is handed to the current waiters but not stored.
    invalidated: bool = False
    task: asyncio.Task[None] | None = field(default=None, repr=False)


class Namespace:
    """One kind of cached data with its own TTL and maximum size."""

    def __init__(
        self,
        name: str,
        *,
        ttl_s: float,
        maxsize: int,
        jitter: float,
        fetch_timeout_s: float,
        failure_backoff_s: float,
        refresh_slots: asyncio.Semaphore,
        timer: Callable[[], float],
        rng: random.Random,
        on_change: ChangeListener,
    ) -> None:
        self.name = name
        self.ttl_s = ttl_s
        self.maxsize = maxsize
        self._jitter = jitter
        self._fetch_timeout_s = fetch_timeout_s
        self._refresh_slots = refresh_slots
        self._timer = timer
        self._rng = rng
        self._on_change = on_change
        self._fresh: TTLCache[CacheKey, Entry] = TTLCache(maxsize, ttl_s, timer=timer)
        self._last_known: LRUCache[CacheKey, Entry] = LRUCache(maxsize)
        # Keys whose last fetch failed; while one is here, a value at hand is
        # served without asking the provider again.
        self._backoff: TTLCache[CacheKey, bool] | None = (
            TTLCache(maxsize, failure_backoff_s, timer=timer) if failure_backoff_s > 0 else None
        )
        self._flights: dict[CacheKey, _Flight] = {}
        self.hits = 0
        self.misses = 0
        self.stale_served = 0
        self.fetches = 0
        self.failures = 0

    def now(self) -> float:
        """Return the store timer's current reading, in seconds."""
        return self._timer()

    def lookup(self, key: CacheKey) -> Lookup:
        """Return the state of `key` without fetching or counting anything."""
        entry = self._fresh.get(key)
        if entry is not None:
            state = State.REFRESH_DUE if self._timer() >= entry.refresh_at else State.FRESH
            return Lookup(state, entry)
        last = self._last_known.get(key)
        if last is not None:
            return Lookup(State.EXPIRED, last)
        return Lookup(State.MISSING)

    def put(self, key: CacheKey, value: Any) -> None:
        """Store `value` under `key` with a fresh TTL and a random refresh point."""
        now = self._timer()
        early = self.ttl_s * self._jitter * self._rng.random()
        entry = Entry(value=value, stored_at=now, refresh_at=now + self.ttl_s - early)
        self._fresh[key] = entry
        self._last_known[key] = entry
        if self._backoff is not None:
            self._backoff.pop(key, None)

    def age(self, entry: Entry) -> float:
        """Return how long ago `entry` was fetched, in seconds."""
        return max(0.0, self._timer() - entry.stored_at)

    def in_flight(self, key: CacheKey) -> bool:
        """Tell whether a fetch for `key` is running."""
        return key in self._flights

    def backing_off(self, key: CacheKey) -> bool:
        """Tell whether the last fetch of `key` failed less than `failure_backoff_s` ago."""
        return self._backoff is not None and key in self._backoff

    def count(self, *, hit: bool) -> None:
        """Count one read as a hit or a miss, here and as a monitoring event.

        The events (``Cache_Hit``, ``Cache_Miss``) are what the cache hit ratio
        KPI counts, so every copy sharing the database shows the shared ratio.
        Recording only appends to the recorder's buffer; without one it does nothing.
        """
        if hit:
            self.hits += 1
        else:
            self.misses += 1
        log_custom(CACHE_HIT_EVENT if hit else CACHE_MISS_EVENT)

    def count_stale(self) -> None:
        """Count one read served an expired value."""
        self.stale_served += 1

    def fetch(
        self, keys: Sequence[CacheKey], loader: Loader, *, background: bool = False
    ) -> dict[CacheKey, asyncio.Future[Any]]:
        """Start or join the fetch of `keys`; return the future of each key.

        Keys already being fetched join that fetch; the others are fetched
        together by one call of `loader`. A background fetch first waits for one
        of the store's refresh slots. Await the futures through `asyncio.shield`,
        so that a cancelled reader leaves them to the other readers.
        """
        futures: dict[CacheKey, asyncio.Future[Any]] = {}
        new_keys: list[CacheKey] = []
        for key in dict.fromkeys(keys):
            flight = self._flights.get(key)
            if flight is not None:
                futures[key] = flight.futures[key]
            else:
                new_keys.append(key)
        if new_keys:
            flight = self._start(tuple(new_keys), loader, background)
            futures.update(flight.futures)
        return futures

    def invalidate(self, match: Callable[[CacheKey], bool] | None = None) -> int:
        """Drop the entries whose key `match` accepts (all when None); return how many."""
        removed: set[CacheKey] = set()
        for cache in (self._fresh, self._last_known):
            for key in [key for key in cache if match is None or match(key)]:
                cache.pop(key, None)
                removed.add(key)
        if self._backoff is not None:
            for key in [key for key in self._backoff if match is None or match(key)]:
                self._backoff.pop(key, None)
        for key, flight in list(self._flights.items()):
            if match is None or match(key):
                flight.invalidated = True
                del self._flights[key]
        return len(removed)

    def stats(self) -> NamespaceStats:
        """Return this namespace's counters and sizes."""
        return NamespaceStats(
            name=self.name,
            ttl_s=self.ttl_s,
            maxsize=self.maxsize,
            entries=len(self._fresh),
            last_known=len(self._last_known),
            hits=self.hits,
            misses=self.misses,
            stale_served=self.stale_served,
            fetches=self.fetches,
            failures=self.failures,
            in_flight=len(self._flights),
        )

    async def aclose(self) -> None:
        """Cancel the running fetches and wait for them to end."""
        tasks = {flight.task for flight in self._flights.values() if flight.task is not None}
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _start(self, keys: tuple[CacheKey, ...], loader: Loader, background: bool) -> _Flight:
        loop = asyncio.get_running_loop()
        futures: dict[CacheKey, asyncio.Future[Any]] = {}
        for key in keys:
            future: asyncio.Future[Any] = loop.create_future()
            future.add_done_callback(_retrieve_exception)
            futures[key] = future
        flight = _Flight(keys=keys, futures=futures, background=background)
        for key in keys:
            self._flights[key] = flight
        # A fresh context, so the fetch neither records into the first reader's
        # freshness report nor inherits anything else from that reader.
        flight.task = asyncio.create_task(
            self._run(flight, loader),
            name=f"cache-fetch-{self.name}",
            context=contextvars.Context(),
        )
        return flight

    async def _run(self, flight: _Flight, loader: Loader) -> None:
        try:
            if flight.background:
                async with self._refresh_slots:
                    values = await self._load(flight, loader)
            else:
                values = await self._load(flight, loader)
        except asyncio.CancelledError:
            for future in flight.futures.values():
                future.cancel()
            raise
        except Exception as error:
            self._fail(flight, error)
        else:
            self._succeed(flight, values)
        finally:
            for key in flight.keys:
                if self._flights.get(key) is flight:
                    del self._flights[key]

    async def _load(self, flight: _Flight, loader: Loader) -> dict[CacheKey, Any]:
        self.fetches += 1
        provider = flight.keys[0].provider
        log.debug(
            "fetching %d %s entries of provider %s%s",
            len(flight.keys),
            self.name,
            provider,
            " in the background" if flight.background else "",
        )
        async with asyncio.timeout(self._fetch_timeout_s):
            return await loader(list(flight.keys))

    def _succeed(self, flight: _Flight, values: dict[CacheKey, Any]) -> None:
        if not flight.invalidated:
            for key, value in values.items():
                self.put(key, value)
        for key, future in flight.futures.items():
            if not future.done():
                future.set_result(values.get(key, ABSENT))
        if flight.background and not flight.invalidated:
            self._on_change(self.name, flight.keys)

    def _fail(self, flight: _Flight, error: Exception) -> None:
        self.failures += 1
        if self._backoff is not None and not flight.invalidated:
            for key in flight.keys:
                self._backoff[key] = True
        log.warning(
            "%s fetch of %d %s entries of provider %s failed: %s",
            "background" if flight.background else "shared",
            len(flight.keys),
            self.name,
            flight.keys[0].provider,
            _describe(error),
        )
        for future in flight.futures.values():
            if not future.done():
                future.set_exception(error)


class CacheStore:
    """The namespaces of one running copy, with their shared refresh slots and listeners."""

    def __init__(
        self,
        config: CacheConfig | None = None,
        *,
        timer: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config or CacheConfig()
        self.timer = timer
        self._listeners: list[ChangeListener] = []
        refresh_slots = asyncio.Semaphore(self.config.refresh_concurrency)
        rng = rng or random.Random()
        sizes = {
            PROFILES: (self.config.profiles_ttl_s, self.config.profiles_maxsize),
            AVAILABILITY: (self.config.availability_ttl_s, self.config.availability_maxsize),
            SERVICES: (self.config.services_ttl_s, self.config.services_maxsize),
        }
        self._namespaces = {
            name: Namespace(
                name,
                ttl_s=ttl_s,
                maxsize=maxsize,
                jitter=self.config.jitter,
                fetch_timeout_s=self.config.fetch_timeout_s,
                failure_backoff_s=self.config.failure_backoff_s,
                refresh_slots=refresh_slots,
                timer=timer,
                rng=rng,
                on_change=self._notify,
            )
            for name, (ttl_s, maxsize) in sizes.items()
        }

    def namespace(self, name: str) -> Namespace:
        """Return the namespace `name`; raise ValueError for an unknown name."""
        try:
            return self._namespaces[name]
        except KeyError:
            raise ValueError(
                f"unknown cache namespace {name!r}; expected one of {', '.join(NAMESPACES)}"
            ) from None

    def invalidate(self, key: str) -> int:
        """Drop every entry of the therapist or provider named `key`; return how many."""
        removed = sum(
            namespace.invalidate(lambda cache_key: cache_key.matches(key))
            for namespace in self._namespaces.values()
        )
        log.info("invalidated %d entries for key %s", removed, key)
        self._notify(None, None)
        return removed

    def invalidate_namespace(self, name: str) -> int:
        """Drop every entry of one namespace; return how many."""
        removed = self.namespace(name).invalidate()
        log.info("invalidated namespace %s (%d entries)", name, removed)
        self._notify(name, None)
        return removed

    def invalidate_all(self) -> int:
        """Drop every entry; return how many."""
        removed = sum(namespace.invalidate() for namespace in self._namespaces.values())
        log.info("invalidated the whole cache (%d entries)", removed)
        self._notify(None, None)
        return removed

    def stats(self) -> CacheStats:
        """Return the counters and sizes of every namespace."""
        return CacheStats(tuple(namespace.stats() for namespace in self._namespaces.values()))

    def subscribe(self, listener: ChangeListener) -> Callable[[], None]:
        """Call `listener(namespace, keys)` after a background refresh or an invalidation.

        A reader that shows cached data reloads it then: a refresh has newer
        data, an invalidation wants fresh data fetched. Listeners run on the
        event loop and must not block. Returns a function that removes the listener.
        """
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    async def aclose(self) -> None:
        """Cancel every running fetch."""
        await asyncio.gather(*(namespace.aclose() for namespace in self._namespaces.values()))

    def _notify(self, name: str | None, keys: tuple[CacheKey, ...] | None) -> None:
        for listener in list(self._listeners):
            try:
                listener(name, keys)
            except Exception:
                log.exception("cache change listener failed for namespace %s", name or "(several)")


def _retrieve_exception(future: asyncio.Future[Any]) -> None:
    # Mark a failed fetch's exception as retrieved, because no reader retrieves
    # it when every reader was cancelled or the fetch was a background refresh.
    if not future.cancelled():
        future.exception()


def _describe(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return "timed out"
    return str(error) or type(error).__name__
