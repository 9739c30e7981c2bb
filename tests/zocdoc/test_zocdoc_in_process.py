"""ZocdocProvider without base_url: the demo practice served in-process through ASGITransport."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest

from sched_tui.config import ProviderConfig, SandboxFaults
from sched_tui.model import Week
from sched_tui.providers.base import Provider, ProviderUnavailable
from sched_tui.providers.zocdoc import ZocdocProvider
from sched_tui.providers.zocdoc_api import RetryPolicy

from .support import TZ

Factory = Callable[..., ZocdocProvider]


@pytest.fixture
async def in_process() -> AsyncIterator[Factory]:
    """Build in-process providers; closed at teardown."""
    providers: list[ZocdocProvider] = []

    def make(**config: object) -> ZocdocProvider:
        provider = ZocdocProvider.from_config(
            ProviderConfig(name="zocdoc-sandbox", kind="zocdoc", **config),  # type: ignore[arg-type]
            TZ,
            retry=RetryPolicy(retries=0),
        )
        providers.append(provider)
        return provider

    yield make
    for provider in providers:
        await provider.aclose()


async def test_demo_practice_served(in_process: Factory) -> None:
    provider = in_process()
    therapists = await provider.list_therapists()
    services = await provider.list_services()
    week = Week.containing(datetime.now(TZ).date(), TZ)

    weeks = await provider.fetch_week(
        [t.id for t in therapists],
        week.start_at - timedelta(weeks=4),
        week.end_at + timedelta(weeks=4),
    )

    assert isinstance(provider, Provider)
    assert provider.sandbox is not None
    assert 8 <= len(therapists) <= 12
    assert {s.name for s in services} >= {
        "Individual therapy",
        "Couples therapy",
        "Intake assessment",
    }
    appointments = [a for w in weeks.values() for a in w.appointments]
    assert 200 <= len(appointments) <= 1000
    assert min(a.start for a in appointments) < week.start_at - timedelta(weeks=3)  # type: ignore[operator]
    assert max(a.start for a in appointments) > week.end_at + timedelta(weeks=3)  # type: ignore[operator]


async def test_demo_slots_within_hours(in_process: Factory) -> None:
    provider = in_process()
    therapists = await provider.list_therapists()
    week = Week.containing(datetime.now(TZ).date(), TZ).shifted(1)
    assert provider.sandbox is not None
    hours = {p.provider_id: p.hours for p in provider.sandbox.practice.providers}

    weeks = await provider.fetch_week([t.id for t in therapists], week.start_at, week.end_at)

    slots = [s for w in weeks.values() for s in w.slots]
    assert slots
    for slot in slots:
        start, end = slot.start.astimezone(TZ), slot.end.astimezone(TZ)
        intervals = hours[slot.therapist_id].get(start.weekday(), ())
        assert any(begin <= start.time() and end.time() <= finish for begin, finish in intervals), (
            slot
        )
        assert slot.start > datetime.now(UTC)


async def test_config_faults_applied(in_process: Factory) -> None:
    provider = in_process(sandbox=SandboxFaults(error_rate=1.0, seed=5))

    with pytest.raises(ProviderUnavailable):
        await provider.list_therapists()


async def test_in_process_timeout(in_process: Factory) -> None:
    provider = in_process(sandbox=SandboxFaults(timeout_rate=1.0), timeout_s=0.2)

    with pytest.raises(ProviderUnavailable) as caught:
        await provider.list_therapists()

    assert "timed out after 0.2 s" in str(caught.value)
