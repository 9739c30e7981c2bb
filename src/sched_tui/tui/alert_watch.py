"""Firing alerts as banners on every screen, and their acknowledgement.

The Monitoring runtime evaluates the alert rules in its own background task
(every `monitoring.evaluation_interval_s`). `AlertWatch` only reads the stored
states every `monitoring.refresh_s`: it reads, renders, and then schedules the
next read, so reads never overlap. Its state belongs to the app, because each
mode screen has its own banner area. The current screen is updated after each
read, and every other screen is brought up to date when it is shown again
(`AppScreen` calls `sync` on resume).
"""

from __future__ import annotations

import asyncio
import logging
import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from textual.css.query import NoMatches
from textual.screen import Screen
from textual.timer import Timer

from sched_tui.monitoring.alerts import ActiveAlert
from sched_tui.tui.screens.base import AppScreen

if TYPE_CHECKING:
    from sched_tui.monitoring.runtime import Monitoring
    from sched_tui.tui.app import SchedApp

log = logging.getLogger(__name__)

# Banner severity (see `BannerArea`) and label of each rule severity; the
# label is in the text, so the severity reads without colour.
SEVERITY_BANNERS = {"critical": ("critical", "CRITICAL"), "warning": ("warning", "WARNING")}
KEY_PREFIX = "alert-"


@dataclass(frozen=True, slots=True)
class AlertBanner:
    """The content of one firing alert's banner."""

    key: str
    rule: str
    severity: str
    text: str
    acknowledged: bool


def banner_key(rule: str) -> str:
    """Return the banner key of `rule`, which must be a valid widget id suffix."""
    return KEY_PREFIX + re.sub(r"[^A-Za-z0-9_-]", "_", rule)


def format_since(moment: float, now: float, tz: ZoneInfo) -> str:
    """Render a time as "HH:MM", with the date in front when it is not today."""
    at = datetime.fromtimestamp(moment, tz)
    if at.date() == datetime.fromtimestamp(now, tz).date():
        return f"{at:%H:%M}"
    return f"{at:%b %d %H:%M}"


def alert_banners(alerts: list[ActiveAlert], now: float, tz: ZoneInfo) -> tuple[AlertBanner, ...]:
    """Build the banners of the firing alerts, in the order `active_alerts` returns them.

    Pending alerts get no banner, because their condition has not held for `for_s` yet.
    """
    banners = []
    for alert in alerts:
        if not alert.firing:
            continue
        severity, label = SEVERITY_BANNERS.get(alert.rule.severity, ("warning", "WARNING"))
        text = f"{label} {alert.rule.name}: {alert.summary} | value {alert.value_text}"
        since = alert.state.firing_since
        if since is not None:
            text += f" | since {format_since(since, now, tz)}"
        if alert.acknowledged:
            text += f" | ack'd by {alert.state.acknowledged_by}"
        else:
            text += " | a: acknowledge"
        banners.append(
            AlertBanner(
                banner_key(alert.rule.name), alert.rule.name, severity, text, alert.acknowledged
            )
        )
    return tuple(banners)


class AlertWatch:
    """Reads the active alerts periodically and shows the firing ones on every screen."""

    def __init__(self, app: SchedApp) -> None:
        self.app = app
        self.alerts: list[ActiveAlert] = []
        self.banners: tuple[AlertBanner, ...] = ()
        # Banners each screen shows, so a read that changed nothing repaints nothing.
        self._shown: weakref.WeakKeyDictionary[AppScreen, dict[str, AlertBanner]] = (
            weakref.WeakKeyDictionary()
        )
        self._monitoring: Monitoring | None = None
        self._timer: Timer | None = None
        self._reading = False
        self._read_again = False
        # Completed reads, for tests that wait for the next one.
        self.reads = 0

    @property
    def running(self) -> bool:
        """True once `start` found a Monitoring to read from."""
        return self._monitoring is not None

    def start(self, monitoring: Monitoring | None) -> None:
        """Start reading alerts from `monitoring`; do nothing when monitoring is off."""
        if monitoring is None:
            log.info("alert banners are off: monitoring is not running")
            return
        self._monitoring = monitoring
        self.read_now()

    def read_now(self) -> None:
        """Read the alerts now, or right after the read in progress ends."""
        if self._monitoring is None or not self.app.services.started:
            return
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self._reading:
            self._read_again = True
            return
        self._reading = True
        # A coroutine function rather than a coroutine, so no coroutine is left
        # unawaited when the app ends before the worker starts. Textual 8.2.8's
        # WorkType annotation infers Never for it, hence the ignore.
        self.app.run_worker(self._read, group="alert-watch", exit_on_error=False)  # type: ignore[arg-type]

    def acknowledge(self, on_done: Callable[[], object] | None = None) -> None:
        """Acknowledge every firing alert not yet acknowledged, then call `on_done`."""
        pending = [
            alert.rule.name for alert in self.alerts if alert.firing and not alert.acknowledged
        ]
        if self._monitoring is None or not pending:
            self.app.notify("No unacknowledged alert is firing.", timeout=3)
            return
        monitoring = self._monitoring
        self.app.run_worker(
            partial(self._acknowledge, monitoring, pending, on_done),  # type: ignore[arg-type]
            group="alert-ack",
            exit_on_error=False,
        )

    def sync(self, screen: Screen[object]) -> None:
        """Make `screen`'s banner area show the current alert banners, touching only changes."""
        if not isinstance(screen, AppScreen):
            return
        try:
            area = screen.banners
        except NoMatches:
            return  # Not composed yet; its resume calls sync again.
        shown = self._shown.setdefault(screen, {})
        wanted = {banner.key: banner for banner in self.banners}
        for key in [key for key in shown if key not in wanted]:
            area.withdraw(key)
            del shown[key]
        for banner in self.banners:
            if shown.get(banner.key) != banner:
                # One line each: the alert history (A) has every banner's whole text.
                area.show(
                    banner.key,
                    banner.text,
                    banner.severity,
                    acknowledged=banner.acknowledged,
                    one_line=True,
                )
                shown[banner.key] = banner

    async def _read(self) -> None:
        monitoring = self._monitoring
        assert monitoring is not None
        try:
            alerts = await monitoring.active_alerts()
        except asyncio.CancelledError:
            # Cancelled at quit: no next read.
            self._reading = False
            raise
        except Exception:
            if not self.app.services.started:
                # The services closed during the read (the app is ending): no next read.
                self._reading = False
                return
            log.exception("reading the active alerts failed")
        else:
            self.alerts = alerts
            self.banners = alert_banners(alerts, monitoring.clock(), self.app.config.practice.tz)
            self.sync(self.app.screen)
            self.reads += 1
        finally:
            if self._reading:
                self._reading = False
                self._schedule_next()

    def _schedule_next(self) -> None:
        if self._read_again:
            self._read_again = False
            self.read_now()
            return
        period = self.app.config.monitoring.refresh_s
        self._timer = self.app.set_timer(period, self.read_now, name="alert-watch")

    async def _acknowledge(
        self, monitoring: Monitoring, rules: list[str], on_done: Callable[[], object] | None
    ) -> None:
        for rule in rules:
            try:
                await monitoring.acknowledge(rule)
            except Exception:
                log.exception("acknowledging alert %s failed", rule)
                self.app.notify(f"Acknowledging {rule} failed; see the log.", severity="error")
        self.read_now()
        if on_done is not None:
            on_done()
