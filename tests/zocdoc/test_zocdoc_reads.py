"""ZocdocProvider reads against the sandbox over a loopback socket: directory, paging, chunking."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta

from sched_tui.model import Slot, Status
from sched_tui.sandbox.practice import SandboxAppointment

from .support import TODAY, TZ, ProviderFactory, RunningSandbox, SandboxFactory

WEEK_START = datetime.combine(TODAY - timedelta(days=TODAY.weekday()), time(), TZ)


def _expected_appointments(sandbox: RunningSandbox, start: datetime, end: datetime) -> set[str]:
    return {
        a.appointment_id
        for a in sandbox.state.practice.appointments
        if a.start < end and a.end > start
    }


def _within_hours(sandbox: RunningSandbox, slot: Slot) -> bool:
    provider = next(
        p for p in sandbox.state.practice.providers if p.provider_id == slot.therapist_id
    )
    local_start, local_end = slot.start.astimezone(TZ), slot.end.astimezone(TZ)
    return any(
        begin <= local_start.time()
        and local_end.time() <= finish
        and local_start.date() == local_end.date()
        for begin, finish in provider.hours.get(local_start.weekday(), ())
    )


def _blocking(sandbox: RunningSandbox, therapist_id: str) -> list[SandboxAppointment]:
    return [
        a
        for a in sandbox.state.practice.appointments
        if a.provider_id == therapist_id and a.blocks_time
    ]


async def test_therapists_match_directory(
    sandbox: RunningSandbox, make_provider: ProviderFactory
) -> None:
    provider = make_provider(sandbox)

    therapists = await provider.list_therapists()

    expected = {p.provider_id: p.provider_location_id for p in sandbox.state.practice.providers}
    assert {t.id: t.location_id for t in therapists} == expected
    assert all(t.source == "zocdoc-test" for t in therapists)
    assert all(t.specialties for t in therapists)


async def test_services_have_durations(
    sandbox: RunningSandbox, make_provider: ProviderFactory
) -> None:
    provider = make_provider(sandbox)

    services = {s.name: s for s in await provider.list_services()}

    assert services["Individual therapy"].duration_minutes == 50
    assert services["Couples therapy"].duration_minutes == 80
    assert services["Group therapy"].duration_minutes == 90


async def test_paging_returns_each_appointment_once(
    sandbox: RunningSandbox, make_provider: ProviderFactory
) -> None:
    provider = make_provider(sandbox)
    ids = [t.id for t in await provider.list_therapists()]
    start, end = WEEK_START - timedelta(weeks=2), WEEK_START + timedelta(weeks=2)

    weeks = await provider.fetch_week(ids, start, end)

    received = [a.id for week in weeks.values() for a in week.appointments]
    assert len(received) > 100
    assert len(received) == len(set(received))
    assert set(received) == _expected_appointments(sandbox, start, end)
    pages = [int(r.query["page"]) for r in sandbox.state.requests_to("/v1/appointments")]
    assert sorted(pages) == list(range(len(pages)))
    assert len(pages) >= 2
    assert all(r.query["page_size"] == "100" for r in sandbox.state.requests_to("/v1/appointments"))


async def test_appointments_converted_to_model(
    sandbox: RunningSandbox, make_provider: ProviderFactory
) -> None:
    provider = make_provider(sandbox)
    ids = [t.id for t in await provider.list_therapists()]

    weeks = await provider.fetch_week(ids, WEEK_START, WEEK_START + timedelta(weeks=1))

    stored = {a.appointment_id: a for a in sandbox.state.practice.appointments}
    appointments = [a for week in weeks.values() for a in week.appointments]
    assert appointments
    for appointment in appointments:
        source = stored[appointment.id]
        assert appointment.start == source.start
        assert appointment.start.tzinfo is TZ
        assert appointment.end == source.end
        assert appointment.therapist_id == source.provider_id
        expected = {"cancelled": Status.CANCELLED, "pending_booking": Status.TENTATIVE}.get(
            source.status, Status.CONFIRMED
        )
        assert appointment.status is expected
        assert str(source.patient["last_name"]) not in appointment.summary
    assert set(weeks) == set(ids)


async def test_slots_inside_working_hours(
    sandbox: RunningSandbox, make_provider: ProviderFactory
) -> None:
    provider = make_provider(sandbox)
    ids = [t.id for t in await provider.list_therapists()]

    weeks = await provider.fetch_week(ids, WEEK_START, WEEK_START + timedelta(weeks=1))

    slots = [s for week in weeks.values() for s in week.slots]
    assert len(slots) > 50
    for slot in slots:
        assert _within_hours(sandbox, slot), slot
        assert slot.start.date() >= TODAY
        for booked in _blocking(sandbox, slot.therapist_id):
            assert not (booked.start < slot.end and slot.start < booked.end), (
                slot,
                booked.appointment_id,
            )


async def test_past_week_makes_no_availability_calls(
    sandbox: RunningSandbox, make_provider: ProviderFactory
) -> None:
    provider = make_provider(sandbox)
    ids = [t.id for t in await provider.list_therapists()]

    weeks = await provider.fetch_week(
        ids, WEEK_START - timedelta(weeks=2), WEEK_START - timedelta(weeks=1)
    )

    assert sum(len(w.appointments) for w in weeks.values()) > 0
    assert sum(len(w.slots) for w in weeks.values()) == 0
    assert sandbox.state.requests_to("/v1/provider_locations/availability") == []


async def test_unknown_therapist_ids_skipped(
    sandbox: RunningSandbox, make_provider: ProviderFactory
) -> None:
    provider = make_provider(sandbox)
    known = (await provider.list_therapists())[0].id

    weeks = await provider.fetch_week(
        [known, "pr_not-a-provider"], WEEK_START, WEEK_START + timedelta(days=7)
    )

    assert set(weeks) == {known}


async def test_availability_chunks_of_fifty_ids(
    serve_sandbox: SandboxFactory, make_provider: ProviderFactory
) -> None:
    sandbox = serve_sandbox(therapist_count=120)
    reason = sandbox.state.practice.visit_reasons[0]
    provider = make_provider(sandbox, visit_reason_ids=(reason.id,))
    ids = [t.id for t in await provider.list_therapists()]
    offering = [
        p.provider_location_id
        for p in sandbox.state.practice.providers
        if reason.id in p.visit_reason_ids
    ]

    await provider.fetch_week(ids, WEEK_START, WEEK_START + timedelta(days=7))

    calls = sandbox.state.requests_to("/v1/provider_locations/availability")
    requested = [r.query["provider_location_ids"].split(",") for r in calls]
    assert len(offering) > 100
    assert len(calls) == math.ceil(len(offering) / 50)
    assert all(len(chunk) <= 50 for chunk in requested)
    assert sorted(i for chunk in requested for i in chunk) == sorted(offering)
    assert len(sandbox.state.requests_to("/v1/providers")) == math.ceil(120 / 50)


async def test_availability_windows_of_31_days(
    sandbox: RunningSandbox, make_provider: ProviderFactory
) -> None:
    reason = sandbox.state.practice.visit_reasons[0]
    provider = make_provider(sandbox, visit_reason_ids=(reason.id,))
    ids = [t.id for t in await provider.list_therapists()]
    end = datetime.combine(TODAY + timedelta(days=70), time(), TZ)

    await provider.fetch_week(ids, datetime.combine(TODAY, time(), TZ), end)

    calls = sandbox.state.requests_to("/v1/provider_locations/availability")
    windows = sorted(
        (
            date.fromisoformat(r.query["start_date_in_provider_local_time"]),
            date.fromisoformat(r.query["end_date_in_provider_local_time"]),
        )
        for r in calls
    )
    assert len(windows) == 3
    assert windows[0][0] == TODAY
    assert windows[-1][1] == TODAY + timedelta(days=69)
    for (first, last), following in zip(windows, [*windows[1:], None], strict=True):
        assert (last - first).days <= 30
        if following is not None:
            assert following[0] == last + timedelta(days=1)


async def test_result_cap_splits_window(
    serve_sandbox: SandboxFactory, make_provider: ProviderFactory
) -> None:
    sandbox = serve_sandbox(therapist_count=120)
    provider = make_provider(
        sandbox, visit_reason_ids=(sandbox.state.practice.visit_reasons[0].id,)
    )
    ids = [t.id for t in await provider.list_therapists()]
    start, end = WEEK_START - timedelta(weeks=3), WEEK_START

    weeks = await provider.fetch_week(ids, start, end)

    received = [a.id for week in weeks.values() for a in week.appointments]
    expected = _expected_appointments(sandbox, start, end)
    assert len(expected) > 2000
    assert len(received) == len(set(received))
    assert set(received) == expected
    calls = sandbox.state.requests_to("/v1/appointments")
    assert all(int(r.query["page"]) <= 10 for r in calls)
    windows = {
        (r.query["provider_ids"], r.query["start_time_utc_min"], r.query["start_time_utc_max"])
        for r in calls
    }
    assert len(windows) > 3
