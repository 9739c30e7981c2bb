"""The single path by which provider data is read.

The aggregator never calls a provider's read methods itself: it calls a
`Reads` object, so a caching implementation can stand in for `DirectReads`
without touching the aggregator, the TUI or the headless commands.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from sched_tui.model import Service, Therapist, TherapistWeek
from sched_tui.providers.base import Provider


class Reads(Protocol):
    """Read access to providers, possibly through a cache."""

    async def therapists(self, provider: Provider) -> list[Therapist]:
        """Return the provider's therapists."""
        ...

    async def services(self, provider: Provider) -> list[Service]:
        """Return the provider's services."""
        ...

    async def week(
        self, provider: Provider, therapist_ids: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, TherapistWeek]:
        """Return each therapist's appointments and open slots in [start, end)."""
        ...


class DirectReads:
    """Reads that go straight to the provider every time."""

    async def therapists(self, provider: Provider) -> list[Therapist]:
        """Return the provider's therapists."""
        return await provider.list_therapists()

    async def services(self, provider: Provider) -> list[Service]:
        """Return the provider's services."""
        return await provider.list_services()

    async def week(
        self, provider: Provider, therapist_ids: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, TherapistWeek]:
        """Return each therapist's appointments and open slots in [start, end)."""
        return await provider.fetch_week(therapist_ids, start, end)
