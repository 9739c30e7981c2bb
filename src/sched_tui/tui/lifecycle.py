"""Start, share and close the `Services` one running TUI uses.

The app starts services in a worker from `on_mount`, so the grid skeleton is
drawn without waiting for the database or the providers. Code that
needs the services awaits `ServicesHandle.wait()`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sched_tui.config import Config
from sched_tui.services import Services

log = logging.getLogger(__name__)

ServicesFactory = Callable[[Config], Awaitable[Services]]


class ServicesUnavailable(Exception):
    """The services could not be started; the message gives the reason."""


class ServicesHandle:
    """Holds the app's services from start to close."""

    def __init__(
        self,
        config: Config,
        *,
        services: Services | None = None,
        factory: ServicesFactory | None = None,
    ) -> None:
        self.config = config
        self.services = services
        self._factory: ServicesFactory = factory or Services.start
        self._ready = asyncio.Event()
        self._error: str | None = None
        self._closed = False
        if services is not None:
            self._ready.set()

    @property
    def started(self) -> bool:
        """True once services exist (given or started)."""
        return self.services is not None

    async def start(self) -> None:
        """Build the services with the factory unless they were given; record a failure."""
        if self._ready.is_set():
            return
        try:
            self.services = await self._factory(self.config)
        except Exception as error:
            log.exception("starting services failed")
            self._error = f"could not start: {error}"
        finally:
            # A cancelled start leaves waiters blocked; they are cancelled with it at quit.
            if self.services is not None or self._error is not None:
                self._ready.set()
        if self._closed and self.services is not None:
            await self.aclose()

    @property
    def error(self) -> str | None:
        """Why starting failed, or None."""
        return self._error

    async def wait(self) -> Services:
        """Return the services once started. Raises ServicesUnavailable if starting failed."""
        await self._ready.wait()
        if self.services is None:
            raise ServicesUnavailable(self._error or "services are closed")
        return self.services

    async def aclose(self) -> None:
        """Close the services once; later calls do nothing."""
        self._closed = True
        services, self.services = self.services, None
        if services is not None:
            await services.aclose()
