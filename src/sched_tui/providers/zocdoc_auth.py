"""OAuth2 client-credentials tokens for Zocdoc, fetched once and shared by concurrent callers."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from sched_tui.providers.base import MalformedData, ProviderFailure, ProviderRejected
from sched_tui.providers.zocdoc_errors import error_for_status, error_for_transport

log = logging.getLogger("sched_tui.providers.zocdoc")

# A token is renewed when less than this many seconds of its lifetime remain.
REFRESH_MARGIN_S = 60.0


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """A client id and secret; the secret is left out of repr()."""

    client_id: str
    client_secret: str = field(repr=False)
    # Environment variables the values came from, named in error messages.
    id_env: str = "ZOCDOC_CLIENT_ID"
    secret_env: str = "ZOCDOC_CLIENT_SECRET"


class TokenSource:
    """Obtains an access token with the client-credentials grant and renews it before expiry.

    `clock` is a monotonic clock in seconds; tests replace it to make a token
    age without waiting.
    """

    def __init__(
        self,
        *,
        client: httpx.AsyncClient,
        token_url: str,
        credentials: ClientCredentials | None,
        label: str,
        timeout_s: float,
        missing_credentials: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        refresh_margin_s: float = REFRESH_MARGIN_S,
    ) -> None:
        self._client = client
        self._token_url = token_url
        self._credentials = credentials
        self._missing = missing_credentials
        self._label = label
        self._timeout_s = timeout_s
        self._clock = clock
        self._now = now
        self._margin = refresh_margin_s
        self._token: str | None = None
        self._renew_at = 0.0
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"TokenSource(token_url={self._token_url!r}, has_token={self._token is not None})"

    async def get(self) -> str:
        """Return a valid access token, requesting a new one when needed."""
        token = self._current()
        if token is not None:
            return token
        async with self._lock:
            # Another caller may have renewed the token while this one waited.
            token = self._current()
            if token is not None:
                return token
            return await self._request_token()

    async def invalidate(self, token: str) -> None:
        """Forget `token` after the API rejected it, unless it was already replaced."""
        async with self._lock:
            if self._token == token:
                self._token = None

    def _current(self) -> str | None:
        if self._token is not None and self._clock() < self._renew_at:
            return self._token
        return None

    async def _request_token(self) -> str:
        if self._credentials is None:
            raise ProviderFailure(f"{self._label}: {self._missing}")
        request = f"POST {httpx.URL(self._token_url).path}"
        form = {
            "grant_type": "client_credentials",
            "client_id": self._credentials.client_id,
            "client_secret": self._credentials.client_secret,
        }
        try:
            async with asyncio.timeout(self._timeout_s):
                response = await self._client.post(self._token_url, data=form)
        except (httpx.TransportError, TimeoutError) as error:
            failure = error_for_transport(
                error, label=self._label, request=request, timeout_s=self._timeout_s
            )
            log.warning("%s", failure)
            raise failure from None

        if response.status_code in (400, 401, 403):
            raise ProviderRejected(
                f"{self._label}: the token endpoint rejected the client credentials "
                f"(HTTP {response.status_code}); check {self._credentials.id_env} and "
                f"{self._credentials.secret_env}",
                response.status_code,
            )
        status_failure = error_for_status(
            response, label=self._label, request=request, now=self._now, quote_server=False
        )
        if status_failure is not None:
            log.warning("%s", status_failure)
            raise status_failure

        token, lifetime = self._read_token(response, request)
        self._token = token
        # A very short lifetime would otherwise mean renewing before every call.
        self._renew_at = self._clock() + lifetime - min(self._margin, lifetime / 2)
        log.info("%s: obtained an access token valid for %g s", self._label, lifetime)
        return token

    def _read_token(self, response: httpx.Response, request: str) -> tuple[str, float]:
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise MalformedData(
                f"{self._label}: {request} returned a body that is not JSON"
            ) from None
        if not isinstance(body, dict):
            raise MalformedData(
                f"{self._label}: {request} returned unexpected data: not a JSON object"
            )
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise MalformedData(
                f"{self._label}: {request} returned unexpected data: access_token is missing"
            )
        # OAuth2 only recommends expires_in (RFC 6749, section 5.1); without it, assume an hour.
        lifetime = body.get("expires_in", 3600)
        if isinstance(lifetime, bool) or not isinstance(lifetime, (int, float)) or lifetime <= 0:
            raise MalformedData(
                f"{self._label}: {request} returned unexpected data: "
                "expires_in is not a positive number"
            )
        return token, float(lifetime)
