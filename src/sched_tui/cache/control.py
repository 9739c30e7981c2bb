"""`CacheControl`: statistics, change notifications and shared invalidation.

This is what the TUI and the headless commands call, never the store's
invalidation methods directly: an invalidation made here is applied to the
local store at once and appended to the shared database's log, and a background
task applies the invalidations other running copies append.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path

from sched_tui.cache.invalidation import RETENTION_S, Invalidation, InvalidationLog
from sched_tui.cache.store import CacheStats, CacheStore, ChangeListener

log = logging.getLogger(__name__)

# Polls between two prunes of old log rows (about a minute at the default period).
_PRUNE_EVERY_POLLS = 120


class CacheControl:
    """The admin and status-line side of one running copy's cache."""

    def __init__(
        self,
        store: CacheStore,
        invalidation_log: InvalidationLog | None = None,
        *,
        poll_s: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.invalidation_log = invalidation_log
        self.poll_s = poll_s if poll_s is not None else store.config.invalidation_poll_s
        self._clock = clock
        self._last_id = 0
        self._last_poll_at: float | None = None
        self._polls = 0
        self._failing = False
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def open(
        cls, store: CacheStore, database: Path, *, busy_timeout_s: float = 5.0, poll: bool = True
    ) -> CacheControl:
        """Open the invalidation log in `database` and start polling it.

        With `poll` false no background task polls, and the caller calls
        `poll_once` itself.
        """
        invalidation_log = await InvalidationLog.open(database, busy_timeout_s=busy_timeout_s)
        control = cls(store, invalidation_log)
        try:
            await control.start(poll=poll)
        except BaseException:
            await invalidation_log.aclose()
            raise
        return control

    def stats(self) -> CacheStats:
        """Return hits, misses, hit ratio and entry counts of every namespace."""
        return self.store.stats()

    def subscribe(self, listener: ChangeListener) -> Callable[[], None]:
        """Call `listener` after a background refresh or any invalidation; see `CacheStore`."""
        return self.store.subscribe(listener)

    async def invalidate(self, key: str) -> int:
        """Drop every entry of one therapist id or provider name, here and in every copy.

        Returns the number of local entries dropped. Raises sqlite3.Error when
        the shared log cannot be written; the local entries are dropped even then.
        """
        removed = self.store.invalidate(key)
        await self._publish("key", key)
        return removed

    async def invalidate_namespace(self, name: str) -> int:
        """Drop every entry of namespace `name`, here and in every copy.

        Raises ValueError for an unknown namespace, before anything is dropped.
        """
        removed = self.store.invalidate_namespace(name)
        await self._publish("namespace", name)
        return removed

    async def invalidate_all(self) -> int:
        """Drop every entry, here and in every copy."""
        removed = self.store.invalidate_all()
        await self._publish("all")
        return removed

    async def start(self, *, poll: bool = True) -> None:
        """Skip the rows written before now and, if `poll`, start polling for new ones."""
        if self.invalidation_log is None or self._task is not None:
            return
        self._last_id = await self.invalidation_log.latest_id()
        self._last_poll_at = self._clock()
        if not poll:
            return
        self._task = asyncio.create_task(self._poll_loop(), name="cache-invalidation-poll")
        log.info("polling cache invalidations every %g s from id %d", self.poll_s, self._last_id)

    async def poll_once(self) -> list[Invalidation]:
        """Apply the invalidations other copies wrote since the last poll; return them."""
        assert self.invalidation_log is not None
        now = self._clock()
        if self._last_poll_at is not None and now - self._last_poll_at > RETENTION_S:
            # Rows older than the retention may have been pruned unseen.
            log.warning(
                "no invalidation poll for %.0f s; dropping the whole cache",
                now - self._last_poll_at,
            )
            self.store.invalidate_all()
        events = await self.invalidation_log.read_since(self._last_id)
        applied = []
        for event in events:
            self._last_id = event.id
            if event.origin == self.invalidation_log.origin:
                continue
            removed = event.apply(self.store)
            log.info(
                "applied invalidation %d of %s from pid %d (%d entries)",
                event.id,
                event.describe(),
                event.origin_pid,
                removed,
            )
            applied.append(event)
        self._last_poll_at = now

        self._polls += 1
        if self._polls % _PRUNE_EVERY_POLLS == 0:
            await self.invalidation_log.prune()
        return applied

    async def aclose(self) -> None:
        """Stop polling, cancel running fetches and close the log's connection."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self.store.aclose()
        if self.invalidation_log is not None:
            await self.invalidation_log.aclose()

    async def _publish(self, scope: str, key: str = "") -> None:
        if self.invalidation_log is not None:
            await self.invalidation_log.publish(scope, key)

    async def _poll_loop(self) -> None:
        # Poll, then sleep: polls never overlap, and a slow one delays the next.
        while True:
            try:
                await self.poll_once()
            except Exception as error:
                if not self._failing:
                    log.warning("reading cache invalidations failed: %s; retrying", error)
                self._failing = True
            else:
                if self._failing:
                    log.info("reading cache invalidations works again")
                self._failing = False
            await asyncio.sleep(self.poll_s)
