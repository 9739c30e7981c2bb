"""Authenticated JSON calls to Zocdoc's partner API: typed errors, retries, a concurrency bound."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx

from sched_tui.providers.base import MalformedData, ProviderRateLimited, ProviderUnavailable
from sched_tui.providers.zocdoc_auth import TokenSource
from sched_tui.providers.zocdoc_errors import error_for_status, error_for_transport, malformed

log = logging.getLogger("sched_tui.providers.zocdoc")

# The one write whose body contains no patient data, so its error messages may be quoted.
RESCHEDULE_PATH = "/v1/appointments/reschedule"

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retry settings for reads after a timeout, a 5xx or a 429; writes are not retried here."""

    # Extra attempts after the first one.
    retries: int = 2
    # Wait before the first retry, in seconds; it doubles with each retry.
    backoff_s: float = 0.5
    # A 429 asking for a longer wait than this, in seconds, is raised to the caller.
    max_wait_s: float = 5.0


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a PaginatedBaseResult."""

    items: list[Any]
    total_count: int
    has_next: bool


class ZocdocApi:
    """Sends requests with a bearer token and turns every failure into a provider error."""

    def __init__(
        self,
        *,
        client: httpx.AsyncClient,
        tokens: TokenSource,
        label: str,
        timeout_s: float,
        retry: RetryPolicy | None = None,
        concurrency: int = 4,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.label = label
        self._client = client
        self._tokens = tokens
        self._timeout_s = timeout_s
        self._retry = retry or RetryPolicy()
        self._limit = asyncio.Semaphore(concurrency)
        self._sleep = sleep
        self._now = now

    def __repr__(self) -> str:
        return f"ZocdocApi(label={self.label!r}, base_url={str(self._client.base_url)!r})"

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()

    async def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """GET a JSON object, retrying timeouts, 5xx and short 429 waits."""
        return await self._call("GET", path, params=params, retry=True)

    async def post(
        self, path: str, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """POST a JSON body once; only a 401 leads to a second attempt with a new token."""
        return await self._call("POST", path, body=body, headers=headers, retry=False)

    async def get_page(self, path: str, params: dict[str, Any], page: int, page_size: int) -> Page:
        """GET one page of a paginated list whose ``data`` is an array."""
        body = await self.get(path, {**params, "page": page, "page_size": page_size})
        request = f"GET {path}"
        items = body.get("data")
        if not isinstance(items, list):
            raise malformed(self.label, request, "data", "an array")
        total = body.get("total_count", len(items))
        if isinstance(total, bool) or not isinstance(total, int):
            raise malformed(self.label, request, "total_count", "an integer")
        return Page(items, total, body.get("next_url") is not None)

    async def get_remaining_pages(
        self, path: str, params: dict[str, Any], first: Page, page_size: int, last_page: int
    ) -> list[Any]:
        """Return the items of `first` and of every following page up to `last_page`."""
        items = list(first.items)
        page, has_next = 0, first.has_next
        while has_next and page < last_page:
            page += 1
            result = await self.get_page(path, params, page, page_size)
            items.extend(result.items)
            has_next = result.has_next and bool(result.items)
        return items

    async def gather(self, calls: Iterable[Awaitable[T]]) -> list[T]:
        """Await several calls at once; the concurrency bound applies per HTTP request."""
        return list(await asyncio.gather(*calls))

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        retry: bool,
    ) -> dict[str, Any]:
        request = f"{method} {path}"
        attempt = 0
        while True:
            try:
                async with self._limit:
                    return await self._call_once(method, path, request, params, body, headers)
            except (ProviderUnavailable, ProviderRateLimited) as error:
                wait = self._retry_wait(error, attempt) if retry else None
                if wait is None:
                    log.warning("%s", error)
                    raise
                attempt += 1
                log.warning(
                    "%s; retry %d of %d in %.2f s", error, attempt, self._retry.retries, wait
                )
                await self._sleep(wait)

    def _retry_wait(self, error: Exception, attempt: int) -> float | None:
        """Return the wait before the next attempt, or None when the error must be raised."""
        if attempt >= self._retry.retries:
            return None
        wait = self._retry.backoff_s * 2.0**attempt
        if isinstance(error, ProviderRateLimited) and error.retry_after is not None:
            requested = float(error.retry_after)
            if requested > self._retry.max_wait_s:
                return None
            wait = max(wait, requested)
        return wait

    async def _call_once(
        self,
        method: str,
        path: str,
        request: str,
        params: dict[str, Any] | None,
        body: dict[str, Any] | None,
        headers: dict[str, str] | None,
    ) -> dict[str, Any]:
        token = await self._tokens.get()
        response = await self._send(method, path, request, token, params, body, headers)
        if response.status_code == 401:
            # The token may have been revoked or expired early: renew it once.
            log.info(
                "%s: %s returned 401; renewing the access token and retrying once",
                self.label,
                request,
            )
            await self._tokens.invalidate(token)
            token = await self._tokens.get()
            response = await self._send(method, path, request, token, params, body, headers)

        # Booking and cancel bodies carry patient data or free text that a server's
        # error message might repeat. A reschedule carries only an id and a time.
        quote = method == "GET" or path == RESCHEDULE_PATH
        failure = error_for_status(
            response, label=self.label, request=request, now=self._now, quote_server=quote
        )
        if failure is not None:
            raise failure
        return self._json_object(response, request)

    async def _send(
        self,
        method: str,
        path: str,
        request: str,
        token: str,
        params: dict[str, Any] | None,
        body: dict[str, Any] | None,
        headers: dict[str, str] | None,
    ) -> httpx.Response:
        # asyncio.timeout also bounds transports that ignore httpx timeouts, such as ASGITransport.
        try:
            async with asyncio.timeout(self._timeout_s):
                return await self._client.request(
                    method,
                    path,
                    params=params,
                    json=body,
                    headers={"Authorization": f"Bearer {token}", **(headers or {})},
                )
        except (httpx.TransportError, TimeoutError) as error:
            raise error_for_transport(
                error, label=self.label, request=request, timeout_s=self._timeout_s
            ) from None

    def _json_object(self, response: httpx.Response, request: str) -> dict[str, Any]:
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise MalformedData(
                f"{self.label}: {request} returned a body that is not JSON"
            ) from None
        if not isinstance(body, dict):
            raise malformed(self.label, request, "the response body", "a JSON object")
        return body


def utc_instant(moment: datetime) -> str:
    """Format an instant as the API's examples do: ``2024-01-01 00:00:00+00:00``."""
    return moment.astimezone(UTC).isoformat(sep=" ", timespec="seconds")
