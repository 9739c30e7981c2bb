"""The queue of one running copy, built from the configuration: store, targets, processor."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Mapping
from typing import Any

from sched_tui.config import Config
from sched_tui.queue.clock import Clock, SystemClock
from sched_tui.queue.jobs import Job, JobEvent, Operation, QueueStats
from sched_tui.queue.processor import JobOutcome, Processor
from sched_tui.queue.store import QueueStore
from sched_tui.queue.targets import WriteTarget

log = logging.getLogger(__name__)


def build_targets(config: Config) -> dict[str, WriteTarget]:
    """Create a write target for every configured provider that accepts writes (Zocdoc)."""
    targets: dict[str, WriteTarget] = {}
    for provider in config.providers:
        if provider.kind == "zocdoc":
            from sched_tui.queue.zocdoc import ZocdocTarget

            targets[provider.name] = ZocdocTarget.from_config(provider, config.practice.tz)
    return targets


def worker_name() -> str:
    """Name this process in lease records: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


class QueueRuntime:
    """The store and processor one process uses; the TUI and ``sched-tui worker`` both build one."""

    def __init__(self, store: QueueStore, processor: Processor) -> None:
        self.store = store
        self.processor = processor

    @classmethod
    async def open(
        cls,
        config: Config,
        *,
        targets: Mapping[str, WriteTarget] | None = None,
        clock: Clock | None = None,
        on_outcome: Callable[[JobOutcome], None] | None = None,
    ) -> QueueRuntime:
        """Open the database named by the config and build the processor (not started)."""
        clock = clock or SystemClock()
        settings = config.queue
        store = await QueueStore.open(
            config.storage.path,
            busy_timeout_s=config.storage.busy_timeout_s,
            now=clock.now,
            max_attempts=settings.max_attempts,
            max_takeovers=settings.max_takeovers,
            busy_retry_s=settings.busy_retry_s,
            owner=worker_name(),
        )
        if targets is None:
            targets = build_targets(config)
        processor = Processor(store, targets, settings, clock=clock, on_outcome=on_outcome)
        return cls(store, processor)

    async def enqueue(
        self,
        target_system: str,
        operation: Operation | str,
        payload: Mapping[str, Any],
        *,
        subject_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Job:
        """Store a write for the processor to send; see `QueueStore.enqueue`."""
        return await self.store.enqueue(
            target_system,
            operation,
            payload,
            subject_id=subject_id,
            idempotency_key=idempotency_key,
        )

    async def stats(self) -> QueueStats:
        """Return the queue depth by state, in-flight jobs counted apart from pending ones."""
        return await self.store.stats()

    async def events_after(self, seq: int) -> list[JobEvent]:
        """Return outcomes recorded by any process after sequence number `seq`."""
        return await self.store.events_after(seq)

    async def aclose(self) -> None:
        """Stop the processor, close the targets and the database."""
        await self.processor.stop()
        for target in self.processor.targets.values():
            try:
                await target.aclose()
            except Exception:
                log.exception("closing a write target failed")
        await self.store.aclose()
