"""Turn HTTP failures of calendar feeds and CalDAV servers into typed provider errors.

Messages name the provider and the host, never the full URL: secret iCalendar
addresses (Google, iCloud, Outlook) carry their access token in the path.
"""

from __future__ import annotations

import logging

import httpx

from sched_tui.providers.base import (
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)

log = logging.getLogger("sched_tui.providers.ics")


def request_failure(
    error: httpx.HTTPError, source: str, url: str, timeout_s: float
) -> ProviderUnavailable:
    """Build the error for a request that got no response (timeout, refused connection)."""
    host = httpx.URL(url).host
    log.warning("provider %s: request to %s failed: %s", source, host, type(error).__name__)
    if isinstance(error, httpx.TimeoutException):
        return ProviderUnavailable(
            f"{source}: {host} did not answer within {timeout_s:g} s; try again later"
        )
    return ProviderUnavailable(
        f"{source}: could not reach {host} ({type(error).__name__}); check the URL and the network"
    )


def check_status(response: httpx.Response, source: str) -> None:
    """Raise the typed error for a 4xx or 5xx response; do nothing for other statuses."""
    status = response.status_code
    if status < 400:
        return
    host = response.request.url.host
    reason = response.reason_phrase or "error"
    log.warning("provider %s: %s answered HTTP %d", source, host, status)

    if status in (401, 403):
        raise ProviderRejected(
            f"{source}: {host} rejected the request (HTTP {status} {reason}); "
            "check the user name and password environment variables",
            status_code=status,
        )
    if status == 404:
        raise ProviderRejected(
            f"{source}: {host} has no calendar at the configured address (HTTP 404); check the URL",
            status_code=status,
        )
    if status == 429:
        raise ProviderRateLimited(
            f"{source}: {host} asked to slow down (HTTP 429)", retry_after=_retry_after(response)
        )
    if status < 500:
        raise ProviderRejected(
            f"{source}: {host} rejected the request (HTTP {status} {reason})", status_code=status
        )
    raise ProviderUnavailable(
        f"{source}: {host} failed with HTTP {status} {reason}; try again later"
    )


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return float(value)
    except ValueError:
        # An HTTP date instead of seconds; callers then use their own backoff.
        return None
