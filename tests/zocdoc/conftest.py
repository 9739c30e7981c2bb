"""Fixtures: a sandbox served by uvicorn on a loopback port, and clients pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from sched_tui.config import ProviderConfig
from sched_tui.providers.zocdoc import ZocdocProvider
from sched_tui.sandbox import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, create_app, sandbox_state
from sched_tui.sandbox.server import BackgroundServer

from .support import (
    FROZEN_NOW,
    ID_ENV,
    NO_RETRY,
    SECRET_ENV,
    TODAY,
    TZ,
    ProviderFactory,
    RunningSandbox,
    SandboxFactory,
)


@pytest.fixture
def serve_sandbox() -> Iterator[SandboxFactory]:
    """Start sandboxes on free loopback ports; each is stopped at teardown."""
    servers: list[BackgroundServer] = []

    def start(**options: Any) -> RunningSandbox:
        options.setdefault("today", TODAY)
        app = create_app(**options)
        server = BackgroundServer(app, host="127.0.0.1", port=0)
        server.start()
        servers.append(server)
        return RunningSandbox(sandbox_state(app), server.url)

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def sandbox(serve_sandbox: SandboxFactory) -> RunningSandbox:
    """The demo practice around TODAY, seed 7."""
    return serve_sandbox()


@pytest.fixture
def credentials_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Put the sandbox's demo credentials into the environment variables the clients read."""
    monkeypatch.setenv(ID_ENV, DEMO_CLIENT_ID)
    monkeypatch.setenv(SECRET_ENV, DEMO_CLIENT_SECRET)


@pytest.fixture
async def make_provider(credentials_env: None) -> AsyncIterator[ProviderFactory]:
    """Build ZocdocProviders that reach a sandbox over HTTP; closed at teardown."""
    providers: list[ZocdocProvider] = []

    def make(sandbox: RunningSandbox, **options: Any) -> ZocdocProvider:
        config_keys = ("visit_reason_ids", "timeout_s", "client_id_env", "client_secret_env")
        config_options = {key: options.pop(key) for key in config_keys if key in options}
        config_options.setdefault("client_id_env", ID_ENV)
        config_options.setdefault("client_secret_env", SECRET_ENV)
        config = ProviderConfig(
            name="zocdoc-test", kind="zocdoc", base_url=sandbox.url, **config_options
        )
        options.setdefault("now", lambda: FROZEN_NOW)
        options.setdefault("retry", NO_RETRY)
        provider = ZocdocProvider.from_config(config, TZ, **options)
        providers.append(provider)
        return provider

    yield make
    for provider in providers:
        await provider.aclose()
