"""How old the data of one calendar request is, as the cached reads served it.

The aggregator opens `recording_freshness()` around one request. Every read the
cache serves inside it notes the age of its data, and whether it was stale or is
being refreshed. Tasks started inside the block copy the context, so their reads
are noted too. Reads that bypass the cache note nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(slots=True)
class ReadFreshness:
    """Ages and marks collected during one calendar request."""

    # Age of the oldest therapist data served (a therapist's week, the grid's
    # content), in seconds; None when none was noted. Provider-wide lists such as
    # services live longer and do not count.
    oldest_age_s: float | None = None
    # Providers with data served from an expired entry because a fetch failed,
    # mapped to the age of their oldest such data, in seconds.
    stale: dict[str, float] = field(default_factory=dict)
    # The same for therapist ids.
    stale_therapists: dict[str, float] = field(default_factory=dict)
    # Therapist ids whose data is being refreshed in the background.
    refreshing: set[str] = field(default_factory=set)

    def note(
        self,
        provider: str,
        therapist_id: str,
        age_s: float,
        *,
        stale: bool = False,
        refreshing: bool = False,
    ) -> None:
        """Record one served value; `therapist_id` is "" for provider-wide data."""
        if therapist_id and (self.oldest_age_s is None or age_s > self.oldest_age_s):
            self.oldest_age_s = age_s
        if stale:
            self.stale[provider] = max(age_s, self.stale.get(provider, 0.0))
            if therapist_id:
                self.stale_therapists[therapist_id] = max(
                    age_s, self.stale_therapists.get(therapist_id, 0.0)
                )
        if refreshing and therapist_id:
            self.refreshing.add(therapist_id)

    def as_of(self, now: datetime) -> datetime | None:
        """Return when the oldest therapist data served was fetched, given the current time."""
        if self.oldest_age_s is None:
            return None
        return now - timedelta(seconds=self.oldest_age_s)


_current: ContextVar[ReadFreshness | None] = ContextVar("sched_tui_read_freshness", default=None)


@contextmanager
def recording_freshness() -> Iterator[ReadFreshness]:
    """Collect the freshness of every cached read made inside the block."""
    record = ReadFreshness()
    token = _current.set(record)
    try:
        yield record
    finally:
        _current.reset(token)


def note_served(
    provider: str,
    therapist_id: str,
    age_s: float,
    *,
    stale: bool = False,
    refreshing: bool = False,
) -> None:
    """Record one served value in the current request's report, if one is open."""
    record = _current.get()
    if record is not None:
        record.note(provider, therapist_id, age_s, stale=stale, refreshing=refreshing)
