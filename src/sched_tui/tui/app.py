"""The sched-tui application: wiring of screens, services, key bindings and styles.

Extension points:

- A new screen (a queue pane, a KPI pane) subclasses `AppScreen`, which puts
  the banner area on top, and is added to `MODES` with a binding that calls
  `app.switch_mode("<name>")`.
- An alert for every screen goes through `show_banner`.
- A new key binding takes an `id=` ("<area>.<action>"), so users can remap it
  with `App.set_keymap`.
- An action for every screen, such as an admin's cache invalidation, is an
  `action_*` method here with its binding in `BINDINGS`. Which OS users may run
  admin actions is `config.admins`.
- Status line items such as the cache hit ratio or the queue depth go through
  `StatusLine.set_segment`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen

from sched_tui.config import Config
from sched_tui.services import Services
from sched_tui.tui import cache_actions
from sched_tui.tui.alert_watch import AlertWatch
from sched_tui.tui.lifecycle import ServicesFactory, ServicesHandle, ServicesUnavailable
from sched_tui.tui.queue_link import QueueLink
from sched_tui.tui.screens.alert_history import AlertHistoryScreen
from sched_tui.tui.screens.base import AppScreen
from sched_tui.tui.screens.calendar import CalendarScreen
from sched_tui.tui.screens.keys import KeysScreen, key_rows
from sched_tui.tui.screens.kpi import KpiScreen
from sched_tui.tui.screens.queue import QueueScreen
from sched_tui.tui.stylesheets import stylesheet_path

log = logging.getLogger(__name__)

__all__ = ["SchedApp", "ServicesUnavailable"]


class SchedApp(App[int]):
    """The front-desk calendar in a terminal."""

    TITLE = "sched-tui"
    CSS_PATH: ClassVar = [
        stylesheet_path("app.tcss"),
        stylesheet_path("calendar.tcss"),
        stylesheet_path("monitoring.tcss"),
    ]
    MODES: ClassVar[dict[str, str | Callable[[], Screen[Any]]]] = {
        "calendar": CalendarScreen,
        "kpi": KpiScreen,
        "alerts": AlertHistoryScreen,
        "queue": QueueScreen,
    }
    DEFAULT_MODE: ClassVar[str] = "calendar"
    BINDINGS: ClassVar[list[BindingType]] = [
        # The footer must fit 80 columns: rarer keys are hidden there and listed
        # by "?", which opens Textual's keys panel.
        Binding("u", "switch_mode('queue')", "Queue", id="app.queue"),
        # "K", because the week grid uses "k" to move up.
        Binding("K", "switch_mode('kpi')", "KPIs", id="app.kpi"),
        Binding("question_mark", "toggle_keys", "Keys", key_display="?", id="app.keys"),
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("A", "switch_mode('alerts')", "Alert history", show=False, id="app.alert_history"),
        # Firing banners show "a: acknowledge".
        Binding("a", "acknowledge_alerts", "Ack alerts", show=False, id="app.acknowledge_alerts"),
        # Admin-only, so kept out of the footer like "i" on the calendar.
        Binding("I", "invalidate_all", "Invalidate all", show=False, id="cache.invalidate_all"),
    ]

    def __init__(
        self,
        config: Config,
        *,
        services: Services | None = None,
        services_factory: ServicesFactory | None = None,
        clock: Callable[[], datetime] | None = None,
        initial_date: date | None = None,
    ) -> None:
        """Create the app; `services` or `services_factory` replace `Services.start` (for tests).

        The calendar opens on the week containing `initial_date`, or today when it is None.
        """
        super().__init__()
        self.config = config
        self.initial_date = initial_date
        self.services = ServicesHandle(config, services=services, factory=services_factory)
        self._clock = clock or (lambda: datetime.now(UTC))
        # Firing alerts, shown as banners on every screen.
        self.alert_watch = AlertWatch(self)
        # The write queue and its processor, opened once the services have started.
        self.queue = QueueLink(config)

    def now(self) -> datetime:
        """Return the current time in the practice time zone."""
        return self._clock().astimezone(self.config.practice.tz)

    def today(self) -> date:
        """Return today's date in the practice time zone."""
        return self.now().date()

    async def wait_for_services(self) -> Services:
        """Return the services once started. Raises ServicesUnavailable if starting failed."""
        return await self.services.wait()

    def show_banner(self, key: str, text: str, severity: str = "warning") -> None:
        """Show an alert in the banner area of the current screen."""
        screen = self.screen
        if isinstance(screen, AppScreen):
            screen.banners.show(key, text, severity)

    def on_mount(self) -> None:
        """Start the services in the background; the first screen is already showing."""
        for warning in self.config.warnings:
            self.show_banner("config", warning, "warning")
        self._start_services()

    @work(exclusive=True, group="services", exit_on_error=False)
    async def _start_services(self) -> None:
        """Open the database and build the providers."""
        await self.services.start()
        if self.services.error is not None:
            self.show_banner("services", self.services.error, "error")
        elif self.services.services is not None:
            self.alert_watch.start(self.services.services.monitoring)
            self.queue.start(self.services.services.aggregator.providers)

    def action_invalidate_all(self) -> None:
        """Invalidate every cached entry in every running copy (admins only, after confirming)."""
        cache_actions.invalidate_all(self)

    def action_acknowledge_alerts(self) -> None:
        """Acknowledge the firing alerts; their banners stay, marked, until they resolve."""
        self.alert_watch.acknowledge()

    def action_toggle_keys(self) -> None:
        """Open the dialog that lists every key of the current screen, hidden ones included."""
        if isinstance(self.screen, KeysScreen):
            self.screen.dismiss(None)
            return
        self.push_screen(KeysScreen(key_rows(self.screen), "Keys"))

    async def action_quit(self) -> None:
        """Cancel every worker, close the services, then exit."""
        await self.stop_background_work()
        self.exit(0)

    async def stop_background_work(self) -> None:
        """Cancel all workers, wait until they have ended, and close the services."""
        workers = list(self.workers)
        for worker in workers:
            worker.cancel()
        # A cancelled worker's wait() raises WorkerCancelled; only the ending matters here.
        await asyncio.gather(*(worker.wait() for worker in workers), return_exceptions=True)
        # The queue first: its processor may be sending through a provider the services own.
        await self.queue.aclose()
        await self.services.aclose()

    async def on_unmount(self) -> None:
        """Close the queue and the services when the app ends some other way than `action_quit`."""
        await self.queue.aclose()
        await self.services.aclose()
