"""Timing of every external call, in one transport that wraps the shared httpx clients.

`install_transport_timing` registers `TimedTransport` with
`sched_tui.http.add_transport_wrapper`, so every client `build_client` makes
from then on records one event per request, named ``<Target>_<Operation>``.
The latency runs from sending the request until the response body is read or
closed. Event names are built from the method and the fixed words of the path
only: ids, query strings and bodies never reach the database.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Callable

import httpx

from sched_tui import http
from sched_tui.monitoring.events import KIND_EXTERNAL, EventRecorder

# Request extension that names the operation explicitly, for example
# client.get(url, extensions={OPERATION_EXTENSION: "GetAvailability"}).
OPERATION_EXTENSION = "sched_tui.operation"

# Targets that serve calendar files rather than a REST API: named by method alone.
CALENDAR_TARGETS = frozenset({"ICS", "CalDAV"})
_CALENDAR_OPERATIONS = {
    "GET": "Fetch",
    "HEAD": "Head",
    "REPORT": "Report",
    "PROPFIND": "Discover",
    "OPTIONS": "Options",
}

_REST_VERBS = {
    "GET": "Get",
    "HEAD": "Get",
    "POST": "Create",
    "PUT": "Update",
    "PATCH": "Update",
    "DELETE": "Delete",
}
# Path segments that are resource words; anything else (digits, UUIDs, names)
# is treated as an id and never appears in an event name.
_WORD = re.compile(r"^[A-Za-z][A-Za-z_-]*$")
_VERSION = re.compile(r"^v\d+$")
# Verb-like last segments: POST /v1/appointments/{id}/cancel is CancelAppointment.
_ACTIONS = frozenset({"cancel", "confirm", "reschedule", "search", "refresh"})


def operation_name(target: str, request: httpx.Request) -> str:
    """Return the operation part of the event name of `request`."""
    explicit = request.extensions.get(OPERATION_EXTENSION)
    if isinstance(explicit, str) and explicit:
        return explicit
    method = request.method.upper()
    if target in CALENDAR_TARGETS:
        return _CALENDAR_OPERATIONS.get(method, method.capitalize())
    return _rest_operation(method, request.url.path)


def _rest_operation(method: str, path: str) -> str:
    segments = [segment for segment in path.split("/") if segment and not _VERSION.match(segment)]
    if segments[-2:] == ["oauth", "token"] or segments[-1:] == ["token"]:
        return "GetToken"

    words = [(index, segment) for index, segment in enumerate(segments) if _WORD.match(segment)]
    if not words:
        return _REST_VERBS.get(method, method.capitalize())
    last_index, last_word = words[-1]

    if last_word.lower() in _ACTIONS and len(words) > 1:
        resource = _singular(_camel(words[-2][1]))
        return _camel(last_word) + resource
    resource = _camel(last_word)
    item = last_index < len(segments) - 1  # an id follows the resource word
    if item or method in ("POST", "PUT", "PATCH", "DELETE"):
        resource = _singular(resource)
    return _REST_VERBS.get(method, method.capitalize()) + resource


def _camel(word: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[_-]+", word) if part)


def _singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def event_name(target: str, request: httpx.Request) -> str:
    """Return ``<Target>_<Operation>`` for `request` sent through `target`'s client."""
    return f"{target}_{operation_name(target, request)}"


class TimedTransport(httpx.AsyncBaseTransport):
    """Records one event per request sent through the wrapped transport."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        target: str,
        recorder: EventRecorder,
        *,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._inner = inner
        self._target = target
        self._recorder = recorder
        self._timer = timer

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request`; the event is recorded once the response body is closed."""
        name = event_name(self._target, request)
        started = self._timer()
        try:
            response = await self._inner.handle_async_request(request)
        except httpx.HTTPError as error:
            self._record_failure(name, started, error)
            raise
        stream = response.stream
        if not isinstance(stream, httpx.AsyncByteStream):
            # A synchronous body is already complete, so the call ends here.
            self._record_response(name, started, response.status_code)
            return response
        response.stream = _TimedStream(stream, self, name, response.status_code, started)
        return response

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self._inner.aclose()

    def _record_failure(self, name: str, started: float, error: BaseException) -> None:
        self._recorder.record_call(
            name,
            (self._timer() - started) * 1000.0,
            success=False,
            status=None,
            fields={"error": type(error).__name__},
        )

    def _record_response(self, name: str, started: float, status: int) -> None:
        self._recorder.record_call(
            name,
            (self._timer() - started) * 1000.0,
            success=status < 400,
            status=status,
            rate_limited=status == 429,
            kind=KIND_EXTERNAL,
        )


class _TimedStream(httpx.AsyncByteStream):
    """A response body that records the call when it is consumed or closed."""

    def __init__(
        self,
        inner: httpx.AsyncByteStream,
        transport: TimedTransport,
        name: str,
        status: int,
        started: float,
    ) -> None:
        self._inner = inner
        self._transport = transport
        self._name = name
        self._status = status
        self._started = started
        self._done = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                yield chunk
        except httpx.HTTPError as error:
            self._finish(error)
            raise

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            self._finish(None)

    def _finish(self, error: BaseException | None) -> None:
        if self._done:
            return
        self._done = True
        if error is not None:
            self._transport._record_failure(self._name, self._started, error)
        else:
            self._transport._record_response(self._name, self._started, self._status)


def install_transport_timing(recorder: EventRecorder) -> http.TransportWrapper:
    """Time every client built from now on; return the wrapper for `uninstall_transport_timing`."""

    def wrap(inner: httpx.AsyncBaseTransport, target: str) -> httpx.AsyncBaseTransport:
        return TimedTransport(inner, target, recorder)

    http.add_transport_wrapper(wrap)
    return wrap


def uninstall_transport_timing(wrapper: http.TransportWrapper) -> None:
    """Stop timing clients built from now on; clients already built keep their timing."""
    http.remove_transport_wrapper(wrapper)
