"""The one place where HTTP clients are built.

Every outbound request of the app goes through a client made by
`build_client`, so that timing, metrics and limits can be added to all of
them at once by wrapping the transport here.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from sched_tui import __version__

USER_AGENT = f"sched-tui/{__version__}"

# Wraps the base transport of every client built after it is set; used by the
# monitoring layer to time each call. Receives the client's target name.
TransportWrapper = Callable[[httpx.AsyncBaseTransport, str], httpx.AsyncBaseTransport]
_transport_wrappers: list[TransportWrapper] = []


def add_transport_wrapper(wrapper: TransportWrapper) -> None:
    """Register a wrapper applied to the transport of every client built from now on."""
    _transport_wrappers.append(wrapper)


def remove_transport_wrapper(wrapper: TransportWrapper) -> None:
    """Unregister a wrapper added with `add_transport_wrapper`."""
    _transport_wrappers.remove(wrapper)


def build_client(
    target: str,
    *,
    base_url: str = "",
    timeout_s: float = 10.0,
    transport: httpx.AsyncBaseTransport | None = None,
    auth: httpx.Auth | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.AsyncClient:
    """Build an AsyncClient for one external target, such as "Zocdoc" or "ICS".

    `transport` replaces the network, for example with an `httpx.ASGITransport`
    serving the bundled sandbox in-process.
    """
    base: httpx.AsyncBaseTransport = transport or httpx.AsyncHTTPTransport(retries=0)
    for wrapper in _transport_wrappers:
        base = wrapper(base, target)
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(timeout_s),
        transport=base,
        auth=auth,
        headers={"User-Agent": USER_AGENT, **(headers or {})},
        follow_redirects=True,
    )
