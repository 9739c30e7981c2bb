"""Tokens in ZocdocProvider: refresh before expiry, renewal after 401, one shared request."""

from __future__ import annotations

import asyncio
import logging

import pytest

from sched_tui.providers.base import ProviderFailure, ProviderRejected

from .support import FakeClock, ProviderFactory, RunningSandbox, SandboxFactory


async def test_token_reused_while_valid(
    serve_sandbox: SandboxFactory, make_provider: ProviderFactory
) -> None:
    sandbox = serve_sandbox(token_ttl_s=300)
    clock = FakeClock()
    provider = make_provider(sandbox, clock=clock)

    await provider.list_services()
    clock.advance(200)
    await provider.list_services()

    assert sandbox.state.token_requests == 1


async def test_token_refreshed_near_expiry(
    serve_sandbox: SandboxFactory, make_provider: ProviderFactory
) -> None:
    sandbox = serve_sandbox(token_ttl_s=300)
    clock = FakeClock()
    provider = make_provider(sandbox, clock=clock)

    await provider.list_services()
    clock.advance(250)
    await provider.list_services()

    assert sandbox.state.token_requests == 2


async def test_expired_token_renewed_after_401(
    serve_sandbox: SandboxFactory, make_provider: ProviderFactory
) -> None:
    sandbox_clock = FakeClock()
    sandbox = serve_sandbox(token_ttl_s=300)
    sandbox.state.clock = sandbox_clock
    provider = make_provider(sandbox)
    await provider.list_services()

    # The sandbox ages past the token's lifetime while the client still trusts it.
    sandbox_clock.advance(301)
    services = await provider.list_services()

    assert services
    assert sandbox.state.token_requests == 2
    statuses = [r.path for r in sandbox.state.requests_to("/v1/visit_reasons")]
    assert len(statuses) == 3


async def test_revoked_token_renewed_once(
    sandbox: RunningSandbox, make_provider: ProviderFactory
) -> None:
    provider = make_provider(sandbox)
    await provider.list_services()

    sandbox.state.revoke_tokens()
    await provider.list_services()

    assert sandbox.state.token_requests == 2


async def test_second_401_raises_rejected(
    sandbox: RunningSandbox, make_provider: ProviderFactory
) -> None:
    provider = make_provider(sandbox)
    sandbox.state.inject("401", count=2, path="/v1/visit_reasons")

    with pytest.raises(ProviderRejected) as caught:
        await provider.list_services()

    assert caught.value.status_code == 401
    assert sandbox.state.token_requests == 2


async def test_concurrent_callers_share_token(
    sandbox: RunningSandbox, make_provider: ProviderFactory
) -> None:
    provider = make_provider(sandbox)

    await asyncio.gather(*(provider.list_services() for _ in range(8)))

    assert sandbox.state.token_requests == 1


async def test_wrong_secret_rejected_without_leak(
    sandbox: RunningSandbox,
    make_provider: ProviderFactory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "wrong-secret-3f9c1a"
    monkeypatch.setenv("SCHED_TUI_TEST_ZOCDOC_SECRET", secret)
    provider = make_provider(sandbox)
    caplog.set_level(logging.DEBUG)

    with pytest.raises(ProviderRejected) as caught:
        await provider.list_therapists()

    assert caught.value.status_code == 401
    assert "SCHED_TUI_TEST_ZOCDOC_SECRET" in str(caught.value)
    assert secret not in str(caught.value)
    assert secret not in caplog.text
    assert secret not in repr(provider)


async def test_missing_variable_named(
    sandbox: RunningSandbox, make_provider: ProviderFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SCHED_TUI_TEST_ZOCDOC_ID")
    provider = make_provider(sandbox)

    with pytest.raises(ProviderFailure) as caught:
        await provider.list_therapists()

    assert "SCHED_TUI_TEST_ZOCDOC_ID" in str(caught.value)
    assert "not set" in str(caught.value)
    assert sandbox.state.token_requests == 0


async def test_secrets_absent_from_logs(
    sandbox: RunningSandbox, make_provider: ProviderFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    provider = make_provider(sandbox)
    sandbox.state.inject("503", path="/v1/visit_reasons")

    with pytest.raises(ProviderFailure):
        await provider.list_services()
    sandbox.state.revoke_tokens()
    await provider.list_therapists()

    tokens = list(sandbox.state._tokens)
    assert tokens
    for secret in [sandbox.state.client_secret, *tokens]:
        assert secret not in caplog.text
        assert secret not in repr(provider)
        assert secret not in repr(provider._api)
    assert "sched_tui.providers.zocdoc" in {record.name for record in caplog.records}
