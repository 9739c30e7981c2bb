"""Translate HTTP outcomes of Zocdoc calls into the provider errors of `providers.base`.

Messages name the provider, the request and the reason. They never contain a
request body, a token or a client secret.
"""

from __future__ import annotations

import email.utils
import json
from collections.abc import Callable
from datetime import UTC, datetime

import httpx

from sched_tui.providers.base import (
    MalformedData,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)

# Maximum length of a server's error text quoted in our messages, in characters.
MAX_QUOTED_CHARS = 160


def parse_retry_after(value: str | None, now: Callable[[], datetime]) -> float | None:
    """Read a Retry-After header as seconds to wait: delay-seconds or an HTTP-date.

    Returns None when the header is missing or unreadable; a date in the past
    gives 0.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - now()).total_seconds())


def error_for_status(
    response: httpx.Response,
    *,
    label: str,
    request: str,
    now: Callable[[], datetime],
    quote_server: bool = True,
) -> Exception | None:
    """Return the provider error for a non-2xx response, or None for a 2xx.

    `label` names the provider ("Zocdoc (clinic)"), `request` the call
    ("GET /v1/appointments"). `quote_server` adds the fields and messages of an
    ErrorResult body; callers switch it off when the request carried patient
    data that a server might echo, and then only the field names are added.
    """
    status = response.status_code
    if status < 300:
        return None
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("retry-after"), now)
        wait = f"; retry after {retry_after:g} s" if retry_after is not None else ""
        return ProviderRateLimited(
            f"{label}: {request} was rate limited (HTTP 429){wait}", retry_after
        )
    if status >= 500:
        return ProviderUnavailable(f"{label}: {request} failed with HTTP {status}; try again later")
    detail = _server_detail(response, fields_only=not quote_server)
    advice = {
        401: "the access token or client credentials were rejected",
        403: "the credentials lack the scope this request needs",
        404: "not found",
        409: "conflicts with the appointment's current state",
    }.get(status, "the request was rejected")
    return ProviderRejected(
        f"{label}: {request} failed with HTTP {status}, {advice}{detail}", status
    )


def _server_detail(response: httpx.Response, *, fields_only: bool = False) -> str:
    """Summarise an ErrorResult body as "(field: message; ...)", or "" if there is none.

    With `fields_only`, messages are left out: "(invalid field F; ...)", or "" without fields.
    """
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return ""
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return ""
    parts = []
    for error in errors:
        if not isinstance(error, dict):
            continue
        field, message = error.get("field"), error.get("message")
        if fields_only:
            if field:
                parts.append(f"invalid field {field}")
            continue
        text = f"{field}: {message}" if field else str(message)
        parts.append(text)
    summary = "; ".join(parts)
    if len(summary) > MAX_QUOTED_CHARS:
        summary = summary[: MAX_QUOTED_CHARS - 1] + "…"
    return f" ({summary})" if summary else ""


def error_for_transport(
    error: Exception, *, label: str, request: str, timeout_s: float
) -> ProviderUnavailable:
    """Return the provider error for a timeout or a connection failure."""
    if isinstance(error, (httpx.TimeoutException, TimeoutError)):
        return ProviderUnavailable(f"{label}: {request} timed out after {timeout_s:g} s")
    if isinstance(error, httpx.ConnectError):
        return ProviderUnavailable(
            f"{label}: could not connect for {request}; check base_url and the network"
        )
    return ProviderUnavailable(f"{label}: {request} failed ({type(error).__name__})")


def malformed(label: str, request: str, field: str, expected: str) -> MalformedData:
    """Build the error for a response field that is missing or of the wrong type."""
    return MalformedData(f"{label}: {request} returned unexpected data: {field} is not {expected}")
