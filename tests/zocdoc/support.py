"""Constants and small helpers shared by the Zocdoc tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sched_tui.providers.zocdoc import ZocdocProvider
from sched_tui.providers.zocdoc_api import RetryPolicy
from sched_tui.sandbox import SandboxState

TZ = ZoneInfo("America/New_York")
# A Wednesday; sandboxes built with it keep their clock at 07:00 that day.
TODAY = date(2026, 3, 4)
FROZEN_NOW = datetime.combine(TODAY, time(7, 0), TZ)
NO_RETRY = RetryPolicy(retries=0)
ID_ENV = "SCHED_TUI_TEST_ZOCDOC_ID"
SECRET_ENV = "SCHED_TUI_TEST_ZOCDOC_SECRET"


@dataclass
class RunningSandbox:
    """A sandbox listening on 127.0.0.1, with its state for inspection."""

    state: SandboxState
    url: str


class SandboxFactory(Protocol):
    def __call__(self, **options: Any) -> RunningSandbox: ...


class ProviderFactory(Protocol):
    def __call__(self, sandbox: RunningSandbox, **options: Any) -> ZocdocProvider: ...


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += seconds
