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
from sched_tui.tui.lifecycle import ServicesFactory, ServicesHandle, ServicesUnavailable
from sched_tui.tui.screens.base import AppScreen
from sched_tui.tui.screens.calendar import CalendarScreen
from sched_tui.tui.stylesheets import stylesheet_path

log = logging.getLogger(__name__)

__all__ = ["SchedApp", "ServicesUnavailable"]


class SchedApp(App[int]):
    """The front-desk calendar in a terminal."""

    TITLE = "sched-tui"
    CSS_PATH: ClassVar = [stylesheet_path("app.tcss"), stylesheet_path("calendar.tcss")]
    MODES: ClassVar[dict[str, str | Callable[[], Screen[Any]]]] = {"calendar": CalendarScreen}
    DEFAULT_MODE: ClassVar[str] = "calendar"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(
        self,
        config: Config,
        *,
        services: Services | None = None,
        services_factory: ServicesFactory | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """Create the app; `services` or `services_factory` replace `Services.start` (for tests)."""
        super().__init__()
        self.config = config
        self.services = ServicesHandle(config, services=services, factory=services_factory)
        self._clock = clock or (lambda: datetime.now(UTC))

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
        await self.services.aclose()

    async def on_unmount(self) -> None:
        """Close the services when the app ends some other way than `action_quit`."""
        await self.services.aclose()
