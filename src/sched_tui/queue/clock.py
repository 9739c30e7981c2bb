"""Time as the queue sees it, injectable so tests control it instead of sleeping."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    """A source of Unix time and a way to wait on it."""

    def now(self) -> float:
        """Return the current time in Unix seconds."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait until `seconds` have passed on this clock."""
        ...


class SystemClock:
    """Wall-clock time and asyncio sleep."""

    def now(self) -> float:
        """Return the current time in Unix seconds."""
        return time.time()

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of real time."""
        await asyncio.sleep(max(0.0, seconds))
