"""Delays between attempts of a job, and the Retry-After header's two forms."""

from __future__ import annotations

import email.utils
import math
from dataclasses import dataclass

from tenacity import wait_random_exponential


@dataclass(frozen=True, slots=True)
class _AttemptState:
    """The one field of tenacity's RetryCallState that its wait strategies read."""

    attempt_number: int


class Backoff:
    """Exponential backoff with full jitter: tenacity's `wait_random_exponential`.

    The delay after attempt n is drawn uniformly from [0, min(cap, base * 2**(n-1))],
    so jobs that failed together retry at spread-out times, also once the cap
    is reached.
    """

    def __init__(self, base_s: float, cap_s: float) -> None:
        self.base_s = base_s
        self.cap_s = cap_s
        self._wait = wait_random_exponential(multiplier=base_s, max=cap_s)

    def delay(self, attempts: int) -> float:
        """Return the wait in seconds after the `attempts`-th failed attempt (1 or more)."""
        return float(self._wait(_AttemptState(max(1, attempts))))  # type: ignore[arg-type]


def parse_retry_after(value: str | float | None, now: float) -> float | None:
    """Return the wait in seconds a Retry-After value asks for, or None if it is unreadable.

    RFC 9110 allows delay-seconds ("120") or an HTTP-date ("Wed, 21 Oct 2026
    07:28:00 GMT"); a date in the past means no wait.
    """
    if value is None:
        return None
    if isinstance(value, int | float):
        return max(0.0, float(value)) if math.isfinite(value) else None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)
