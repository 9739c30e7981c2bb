"""The interface every schedule source implements, and the errors it raises."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from sched_tui.model import Service, Therapist, TherapistWeek


class ProviderFailure(Exception):
    """A provider could not deliver data. The message is shown to staff as it is.

    Messages name what failed and what to do, and never carry patient data or
    secrets.
    """


class ProviderUnavailable(ProviderFailure):
    """The provider could not be reached, timed out or returned a 5xx status."""


class ProviderRateLimited(ProviderFailure):
    """The provider returned 429; `retry_after` is the wait it requested, in seconds."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ProviderRejected(ProviderFailure):
    """The provider returned a 4xx other than 429, so retrying will not help."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class MalformedData(ProviderFailure):
    """The provider responded, but its response or calendar could not be read."""


@runtime_checkable
class Provider(Protocol):
    """An asynchronous source of therapists, services, open slots and appointments.

    Every datetime a provider returns is timezone-aware. `fetch_week` returns an
    entry for every requested therapist id the provider has, even when empty.
    """

    name: str

    async def list_therapists(self) -> list[Therapist]:
        """Return the therapists this provider schedules."""
        ...

    async def list_services(self) -> list[Service]:
        """Return the bookable services (visit reasons)."""
        ...

    async def fetch_week(
        self, therapist_ids: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, TherapistWeek]:
        """Return appointments and open slots that overlap [start, end), by therapist id."""
        ...

    async def aclose(self) -> None:
        """Release connections and other resources."""
        ...
