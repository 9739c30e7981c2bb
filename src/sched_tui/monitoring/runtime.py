"""Monitoring of one running copy: recorder, transport timing, alerts and retention together.

`Monitoring.start` must run before the providers build their HTTP clients,
because only clients built afterwards are timed. The TUI's KPI pane and
banners, `sched-tui kpi` and `sched-tui metrics` read everything through the
methods of this class.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import logging
import time
from pathlib import Path

import aiosqlite

from sched_tui.config import Config
from sched_tui.monitoring import events, kpi
from sched_tui.monitoring.alerts import ActiveAlert, AlertEvaluator, HistoryEntry, Transition
from sched_tui.monitoring.events import Clock, EventRecorder
from sched_tui.monitoring.prometheus import Scrape, extra_windows
from sched_tui.monitoring.retention import RetentionResult, apply_retention
from sched_tui.monitoring.transport import install_transport_timing, uninstall_transport_timing
from sched_tui.storage import open_database

log = logging.getLogger(__name__)

# Period of the rollup and deletion of old data, in seconds; any copy may run it.
RETENTION_INTERVAL_S = 300.0


class Monitoring:
    """The monitoring objects of one running copy, started and closed together."""

    def __init__(
        self,
        config: Config,
        db: aiosqlite.Connection,
        recorder: EventRecorder | None,
        *,
        clock: Clock = time.time,
        cache_source: kpi.CacheStatsSource | None = None,
    ) -> None:
        self.config = config
        self.db = db
        self.recorder = recorder
        self.clock = clock
        self.cache_source = cache_source
        settings = config.monitoring
        self.evaluator = AlertEvaluator(
            db,
            settings.alerts,
            min_samples=settings.min_samples,
            interval_s=settings.evaluation_interval_s,
            clock=clock,
            cache_source=cache_source,
        )
        self._series = kpi.MinuteSeriesCache()
        self._wrapper: object | None = None
        self._retention_task: asyncio.Task[None] | None = None

    @classmethod
    async def start(
        cls,
        config: Config,
        *,
        record: bool = True,
        background: bool = True,
        clock: Clock = time.time,
        cache_source: kpi.CacheStatsSource | None = None,
        path: Path | None = None,
    ) -> Monitoring:
        """Open the database and start what `record` and `background` ask for.

        With `record`, a recorder is installed and every HTTP client built from
        now on is timed. With `background`, alert evaluation and retention run
        periodically.
        """
        path = path or config.storage.path
        busy = config.storage.busy_timeout_s
        db = await open_database(path, busy_timeout_s=busy)
        recorder = None
        if record:
            recorder = await EventRecorder.open(
                path,
                busy_timeout_s=busy,
                clock=clock,
                flush_interval_s=config.monitoring.flush_interval_s,
            )
        monitoring = cls(config, db, recorder, clock=clock, cache_source=cache_source)
        if recorder is not None:
            events.install(recorder)
            monitoring._wrapper = install_transport_timing(recorder)
        if background:
            monitoring.evaluator.start()
            monitoring._retention_task = asyncio.get_running_loop().create_task(
                monitoring._retention_loop(), name="monitoring-retention"
            )
        log.info("monitoring started (recording %s, background %s)", record, background)
        return monitoring

    async def snapshot(self) -> kpi.KpiSnapshot:
        """Return every KPI now."""
        return await kpi.snapshot(self.db, self.clock(), self.cache_source)

    async def minute_series(self, minutes: int = 60) -> kpi.MinuteSeries:
        """Return per-minute P95 and error rate for the chart and sparklines.

        The first call reads the whole window; later calls only the unsettled minutes.
        """
        return await self._series.series(self.db, self.clock(), minutes)

    async def evaluate_alerts(self, *, force: bool = False) -> list[Transition]:
        """Evaluate the alert rules once now (skipped if another copy just did, unless `force`)."""
        return await self.evaluator.evaluate(force=force)

    async def active_alerts(self) -> list[ActiveAlert]:
        """Return the pending and firing alerts, firing and critical first."""
        return await self.evaluator.active()

    async def acknowledge(self, rule: str, user: str | None = None) -> bool:
        """Acknowledge the firing alert of `rule`; False when it does not fire."""
        return await self.evaluator.store.acknowledge(rule, user or getpass.getuser(), self.clock())

    async def alert_history(self, limit: int = 100, rule: str | None = None) -> list[HistoryEntry]:
        """Return the latest firings, newest first."""
        return await self.evaluator.store.history(limit, rule)

    async def scrape(self) -> Scrape:
        """Return what the Prometheus endpoint reports."""
        now = self.clock()
        error_windows, latency_windows = extra_windows(self.evaluator.rules)
        return Scrape(
            snapshot=await kpi.snapshot(self.db, now, self.cache_source),
            error_rates=tuple(
                [await kpi.error_rate(self.db, now, window) for window in sorted(error_windows)]
            ),
            percentiles=await kpi.latency_percentiles(self.db, now, sorted(latency_windows)),
            alerts=tuple(await self.evaluator.active()),
        )

    async def apply_retention(self, *, min_interval_s: float = 0.0) -> RetentionResult:
        """Roll up and delete old data now."""
        settings = self.config.monitoring
        async with self.evaluator.store.lock:
            return await apply_retention(
                self.db,
                self.clock(),
                raw_retention_s=settings.raw_retention_minutes * 60,
                retention_days=settings.retention_days,
                min_interval_s=min_interval_s,
            )

    async def aclose(self) -> None:
        """Stop the background tasks, write buffered events and close the connections."""
        await self.evaluator.aclose()
        if self._retention_task is not None:
            self._retention_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retention_task
            self._retention_task = None
        if self._wrapper is not None:
            uninstall_transport_timing(self._wrapper)  # type: ignore[arg-type]
            self._wrapper = None
        if self.recorder is not None:
            events.uninstall(self.recorder)
            await self.recorder.aclose()
        await self.db.close()
        log.info("monitoring stopped")

    async def _retention_loop(self) -> None:
        while True:
            try:
                await self.apply_retention(min_interval_s=RETENTION_INTERVAL_S / 2)
            except Exception:
                log.exception("applying monitoring retention failed")
            await asyncio.sleep(RETENTION_INTERVAL_S)
