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
from sched_tui.config import Config
from sched_tui.providers import build_providers
from sched_tui.reads import DirectReads, Reads
from sched_tui.storage import open_database

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything a running copy needs, opened together and closed together."""

    config: Config
    aggregator: Aggregator
    reads: Reads
    database: aiosqlite.Connection | None = None

    @classmethod
    async def start(cls, config: Config, *, open_db: bool = True) -> Services:
        """Open the database (unless `open_db` is false) and build the providers."""
        database = None
        if open_db:
            database = await open_database(
                config.storage.path, busy_timeout_s=config.storage.busy_timeout_s
            )
        reads: Reads = DirectReads()
        aggregator = Aggregator(
            build_providers(config),
            config.practice.tz,
            reads=reads,
            concurrency=config.aggregator.concurrency,
            provider_timeout_s=config.aggregator.provider_timeout_s,
        )
        log.info("started with config %s, %d providers", config.source_label, len(config.providers))
        return cls(config=config, aggregator=aggregator, reads=reads, database=database)

    async def aclose(self) -> None:
        """Close providers and the database."""
        await self.aggregator.aclose()
        if self.database is not None:
            await self.database.close()
            self.database = None
        log.info("stopped")
