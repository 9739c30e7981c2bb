"""Wiring: the long-lived objects one running copy of the app uses.

The TUI and the headless commands build a `Services` from the configuration
and talk only to it, so neither depends on how providers, the read path or the
database are put together.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import aiosqlite

from sched_tui.aggregator import Aggregator
from sched_tui.cache.control import CacheControl
from sched_tui.cache.reads import CachedReads
from sched_tui.cache.store import CacheStore
from sched_tui.config import Config
from sched_tui.monitoring.runtime import Monitoring
from sched_tui.providers import build_providers
from sched_tui.reads import Reads
from sched_tui.storage import open_database

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything a running copy needs, opened together and closed together."""

    config: Config
    aggregator: Aggregator
    reads: Reads
    database: aiosqlite.Connection | None = None
    # Cache statistics and invalidation; `start` always sets it.
    cache: CacheControl | None = None
    # KPIs and alerts; set by `start` when the database is open and monitoring is enabled.
    monitoring: Monitoring | None = None

    @classmethod
    async def start(cls, config: Config, *, open_db: bool = True) -> Services:
        """Open the database (unless `open_db` is false) and build the providers.

        Every provider read goes through the cache. With the database open, the
        cache also applies invalidations made by other running copies.
        """
        database = None
        store = CacheStore(config.cache)
        cache = CacheControl(store)
        if open_db:
            database = await open_database(
                config.storage.path, busy_timeout_s=config.storage.busy_timeout_s
            )
            try:
                cache = await CacheControl.open(
                    store, config.storage.path, busy_timeout_s=config.storage.busy_timeout_s
                )
            except BaseException:
                await database.close()
                raise
        monitoring = None
        if open_db and config.monitoring.enabled:
            # Started before the providers, so their HTTP clients are timed. The cache
            # hit ratio comes from the Cache_Hit/Cache_Miss events of every copy.
            monitoring = await Monitoring.start(config)
        reads: Reads = CachedReads(store)
        aggregator = Aggregator(
            build_providers(config),
            config.practice.tz,
            reads=reads,
            concurrency=config.aggregator.concurrency,
            provider_timeout_s=config.aggregator.provider_timeout_s,
            deadline_s=config.aggregator.deadline_s,
        )
        log.info("started with config %s, %d providers", config.source_label, len(config.providers))
        return cls(
            config=config,
            aggregator=aggregator,
            reads=reads,
            database=database,
            cache=cache,
            monitoring=monitoring,
        )

    async def aclose(self) -> None:
        """Stop the cache, then close providers and the database."""
        if self.cache is not None:
            await self.cache.aclose()
        await self.aggregator.aclose()
        if self.monitoring is not None:
            await self.monitoring.aclose()
            self.monitoring = None
        if self.database is not None:
            await self.database.close()
            self.database = None
        log.info("stopped")
