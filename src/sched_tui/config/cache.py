"""``[cache]``: how long provider data is reused and how invalidations travel.

Example::

    [cache]
    profiles_ttl_s = 900
    availability_ttl_s = 900
    services_ttl_s = 3600
    jitter = 0.1

Every key is optional; the defaults are the values shown in `CacheConfig`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sched_tui.config.reader import Table


@dataclass(frozen=True, slots=True)
class CacheConfig:
    """``[cache]``: time to live and size of each cache namespace, and refresh behaviour."""

    # Time to live of therapist profiles (and of each provider's therapist list), in s.
    profiles_ttl_s: float = 900.0
    # Time to live of one therapist's appointments and open slots for one week, in s.
    availability_ttl_s: float = 900.0
    # Time to live of a provider's service list (Zocdoc visit reasons), in s.
    services_ttl_s: float = 3600.0
    # Maximum entries per namespace; the least recently used entry is evicted first.
    # Profiles: one per therapist plus one list per provider.
    profiles_maxsize: int = 2000
    # Availability: one per therapist and week.
    availability_maxsize: int = 5000
    # Services: one per provider.
    services_maxsize: int = 256
    # Share of the time to live, from 0 to 0.5, over which background refreshes are
    # spread: an entry is refreshed at a random point in the last `jitter` share of
    # its TTL, so entries stored together are not all refreshed together.
    jitter: float = 0.1
    # Background refreshes that may run at the same time, across all providers.
    refresh_concurrency: int = 4
    # Deadline of one shared provider fetch, in s. Keep it below
    # aggregator.provider_timeout_s, so that a hung provider's expired data is
    # shown as stale before the calendar gives up on that provider.
    fetch_timeout_s: float = 15.0
    # After a failed fetch, how long the same entries are served from the cache
    # (fresh or stale) without asking the provider again, in s.
    failure_backoff_s: float = 30.0
    # Period at which each running copy reads invalidations made by other copies
    # from the shared database, in s. At most 1.5, so that an invalidation reaches
    # every copy within 2 s: one period plus one database query.
    invalidation_poll_s: float = 0.5


def parse_cache(root: Table) -> CacheConfig:
    """Read ``[cache]``; unknown keys in it are reported through `root`."""
    table = root.table("cache")
    return CacheConfig(
        profiles_ttl_s=table.number("profiles_ttl_s", 900.0, 1.0, 86_400),
        availability_ttl_s=table.number("availability_ttl_s", 900.0, 1.0, 86_400),
        services_ttl_s=table.number("services_ttl_s", 3600.0, 1.0, 86_400),
        profiles_maxsize=table.integer("profiles_maxsize", 2000, 1, 1_000_000),
        availability_maxsize=table.integer("availability_maxsize", 5000, 1, 1_000_000),
        services_maxsize=table.integer("services_maxsize", 256, 1, 1_000_000),
        jitter=table.number("jitter", 0.1, 0.0, 0.5),
        refresh_concurrency=table.integer("refresh_concurrency", 4, 1, 64),
        fetch_timeout_s=table.number("fetch_timeout_s", 15.0, 0.1, 600),
        failure_backoff_s=table.number("failure_backoff_s", 30.0, 0.0, 3600),
        invalidation_poll_s=table.number("invalidation_poll_s", 0.5, 0.05, 1.5),
    )
