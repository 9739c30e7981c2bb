"""The write queue in the TUI: book, move and cancel on the in-process sandbox, the queue pane.

These tests run the real app, queue, processor and in-process Zocdoc sandbox on
a database file under `tmp_path`, with the wall clock: the sandbox offers only
future slots, so bookings go to next week. The processor's own passes are an
hour apart, so jobs are sent only when a test presses "send now".
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from tests.tui.conftest import (
    PATIENT,
    ZONE,
    calendar_of,
    fill,
    grid_of,
    screen_text,
    wait_loaded,
    wait_until,
)
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from sched_tui.aggregator import Aggregator
from sched_tui.config import Config, PracticeConfig, ProviderConfig, QueueConfig, StorageConfig
from sched_tui.model import Slot
from sched_tui.model import Status as AppointmentStatus
from sched_tui.providers import build_providers
from sched_tui.providers.zocdoc import ZocdocProvider
from sched_tui.queue import Job, Status
from sched_tui.reads import DirectReads
from sched_tui.sandbox import SandboxState
from sched_tui.services import Services
from sched_tui.tui.app import SchedApp
from sched_tui.tui.cells import PENDING_GLYPH, CellKey
from sched_tui.tui.screens.confirm import ConfirmScreen
from sched_tui.tui.screens.queue import QueueScreen
from sched_tui.tui.screens.write_dialogs import BookingScreen, ChoiceScreen
from sched_tui.tui.widgets.detail_panel import DetailPanel

SIZE = (140, 45)


def sandbox_config(tmp_path: Path) -> Config:
    """One in-process Zocdoc sandbox named "zocdoc"; no rate limit, passes an hour apart."""
    queue = replace(
        QueueConfig(),
        interval_s=3600.0,
        default_rate_limit_per_s=0.0,
        backoff_base_s=0.05,
        backoff_cap_s=0.1,
    )
    return Config(
        practice=PracticeConfig(name="Test practice", timezone=ZONE),
        storage=StorageConfig(path=tmp_path / "sched.db"),
        queue=queue,
        providers=(ProviderConfig(name="zocdoc", kind="zocdoc"),),
    )


def sandbox_app(config: Config) -> tuple[SchedApp, SandboxState]:
    """Build the app on the wall clock, with the sandbox the calendar reads and writes."""
    providers = build_providers(config)
    aggregator = Aggregator(providers, config.practice.tz)
    services = Services(config=config, aggregator=aggregator, reads=DirectReads())
    app = SchedApp(config, services=services)
    app.queue.poll_s = 0.1
    [provider] = providers
    assert isinstance(provider, ZocdocProvider) and provider.sandbox is not None
    return app, provider.sandbox


async def show_next_week(pilot: Pilot) -> None:
    """Show next week, whose slots are all in the future."""
    await wait_loaded(pilot, 10)
    await wait_until(pilot, lambda: bool(pilot.app.queue.targets), 10)
    await pilot.press("l")
    await wait_loaded(pilot, 10)


def slot_cell(app: SchedApp) -> tuple[CellKey, Slot]:
    """Return a timed cell with open slots and no appointment, and its first slot."""
    cells = calendar_of(app)._cells
    candidates = [
        (len(cell.items), key, cell.items[0].ref)
        for key, cell in cells.items()
        if key[1] >= 0
        and cell.items
        and all(isinstance(item.ref, Slot) for item in cell.items)
        and not cell.continued
    ]
    assert candidates, f"no cell with open slots next week; {len(cells)} cells"
    _, key, slot = min(candidates, key=lambda found: found[:2])
    assert isinstance(slot, Slot)
    return key, slot


async def book_slot(pilot: Pilot, key: CellKey, notes: str = "") -> None:
    """Select `key`, open the booking form, fill it in and submit it."""
    app = pilot.app
    grid_of(app).move_cursor(key)
    await pilot.press("b")
    await wait_until(pilot, lambda: isinstance(app.screen, BookingScreen))
    for name, value in PATIENT.items():
        fill(app.screen, name, value)
    app.screen.query_one("#booking-notes", Input).value = notes
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: not isinstance(app.screen, BookingScreen))


def detail_text(app: SchedApp) -> str:
    panel = app.screen.query_one(DetailPanel)
    return str(panel.query_one("#detail-items").content)


def notifications(app: SchedApp, severity: str | None = None) -> list[str]:
    return [
        note.message for note in app._notifications if severity is None or note.severity == severity
    ]


async def test_booking_pending_then_confirmed(tmp_path: Path) -> None:
    app, sandbox = sandbox_app(sandbox_config(tmp_path))

    async with app.run_test(size=SIZE) as pilot:
        await show_next_week(pilot)
        key, slot = slot_cell(app)

        await book_slot(pilot, key, notes="first visit")
        await wait_until(pilot, lambda: PENDING_GLYPH in grid_of(app).rendered(key).label)
        assert "pending booking" in detail_text(app)
        assert sandbox.bookings_created == 0
        runtime = await app.queue.wait()
        [job] = await runtime.store.list_jobs()
        assert job.status is Status.PENDING
        assert job.subject_id is not None and job.subject_id.endswith(slot.start.isoformat())
        assert job.payload["data"]["notes"] == "first visit"

        await pilot.press("s")
        await wait_until(pilot, lambda: sandbox.bookings_created == 1, 10)
        await wait_until(pilot, lambda: PENDING_GLYPH not in grid_of(app).rendered(key).label, 10)
        await wait_loaded(pilot, 10)
        label = grid_of(app).rendered(key).label
        assert label[0] in "✓?", label
        assert "pending" not in detail_text(app)
        assert (await runtime.store.get(job.job_id)).status is Status.PROCESSED
        assert sandbox.booking_requests == 1
        assert notifications(app, "error") == []


async def test_permanent_failure_reverts(tmp_path: Path) -> None:
    app, sandbox = sandbox_app(sandbox_config(tmp_path))

    async with app.run_test(size=SIZE) as pilot:
        await show_next_week(pilot)
        key, _ = slot_cell(app)
        before = grid_of(app).rendered(key)
        await book_slot(pilot, key)
        await wait_until(pilot, lambda: PENDING_GLYPH in grid_of(app).rendered(key).label)

        # Another desk takes the slot first, so Zocdoc returns 400 "not an available timeslot".
        [job] = await (await app.queue.wait()).store.list_jobs()
        other: dict[str, Any] = {**job.payload, "data": {**job.payload["data"]}}
        other["data"]["patient"] = {**other["data"]["patient"], "developer_patient_id": "other"}
        sandbox.book(other, None)

        await pilot.press("s")
        await wait_until(pilot, lambda: bool(notifications(app, "error")), 10)
        await wait_until(pilot, lambda: PENDING_GLYPH not in grid_of(app).rendered(key).label)

        [message] = notifications(app, "error")
        assert "booking sent to zocdoc failed and was undone" in message
        assert "HTTP 400" in message
        assert "Patient" not in message
        assert grid_of(app).rendered(key) == before
        assert sandbox.bookings_created == 1
        assert (await (await app.queue.wait()).store.get(job.job_id)).status is Status.FAILED


async def test_ics_calendar_is_read_only(tmp_path: Path) -> None:
    from tests.tui.conftest import MONDAY, MemoryProvider, at

    config = replace(
        sandbox_config(tmp_path),
        providers=(ProviderConfig(name="memory", kind="ics", path=tmp_path / "x.ics"),),
    )
    memory = MemoryProvider()
    memory.book("a1", "rivera", at(MONDAY, 9))
    aggregator = Aggregator([memory], config.practice.tz)
    services = Services(config=config, aggregator=aggregator, reads=DirectReads())
    from tests.tui.conftest import NOW

    app = SchedApp(config, services=services, clock=lambda: NOW)

    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot)
        grid_of(app).move_cursor((0, 2))
        await pilot.press("x")
        await wait_until(pilot, lambda: bool(notifications(app)))
        [message] = notifications(app)
        assert "iCalendar/CalDAV calendar, which sched-tui only reads" in message
        assert not isinstance(app.screen, ConfirmScreen)


async def test_cancel_and_move_appointment(tmp_path: Path) -> None:
    app, sandbox = sandbox_app(sandbox_config(tmp_path))

    async with app.run_test(size=SIZE) as pilot:
        await show_next_week(pilot)
        key, _ = slot_cell(app)
        await book_slot(pilot, key)
        await pilot.press("s")
        await wait_until(pilot, lambda: sandbox.bookings_created == 1, 10)
        booked = sandbox.practice.appointments[-1]
        # The week read after the success shows the appointment under its Zocdoc id.
        await wait_until(
            pilot,
            lambda: any(
                getattr(item.ref, "id", "") == booked.appointment_id
                for item in calendar_of(app)._cells[key].items
            ),
            10,
        )

        await pilot.press("m")
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Move the" in screen_text(app)
        await pilot.press("y")
        await wait_until(pilot, lambda: PENDING_GLYPH in screen_text(app))
        assert "pending move" in screen_text(app) or PENDING_GLYPH in screen_text(app)
        await pilot.press("s")
        await wait_until(pilot, lambda: booked.status in ("rescheduled", "pending_reschedule"), 10)
        await wait_until(pilot, lambda: PENDING_GLYPH not in screen_text(app), 10)
        await wait_loaded(pilot, 10)

        moved = calendar_of(app)
        new_key = next(
            cell_key
            for cell_key, cell in moved._cells.items()
            if any(getattr(item.ref, "id", None) == booked.appointment_id for item in cell.items)
        )
        grid_of(app).move_cursor(new_key)
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceScreen | ConfirmScreen))
        if isinstance(app.screen, ChoiceScreen):
            # Other appointments start in the same cell: pick ours among those the
            # dialog lists, which leaves out cancelled and all-day ones.
            choices = [
                item.ref
                for item in moved._cells[new_key].items
                if item.kind == "appointment"
                and item.ref.status is not AppointmentStatus.CANCELLED
                and not item.ref.all_day
            ]
            for _ in range([ref.id for ref in choices].index(booked.appointment_id)):
                await pilot.press("down")
            await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: PENDING_GLYPH in grid_of(app).rendered(new_key).label)
        assert "pending cancel" in detail_text(app)
        await pilot.press("s")
        await wait_until(pilot, lambda: booked.status == "cancelled", 10)

        def shown_cancelled() -> bool:
            items = calendar_of(app)._cells[new_key].items
            [ours] = [
                item for item in items if getattr(item.ref, "id", "") == booked.appointment_id
            ]
            return ours.glyph == "✗" and not ours.pending

        await wait_until(pilot, shown_cancelled, 10)
        assert "✗" in grid_of(app).rendered(new_key).label
        assert notifications(app, "error") == []


async def fail_one_job(app: SchedApp, pilot: Pilot[None]) -> Job:
    """Queue a booking that fails for good, send it, and return the job as queued."""
    # A booking without a developer_patient_id fails for good (invalid payload).
    broken = {
        "appointment_type": "providers",
        "data": {"start_time": "2030-01-07T10:00:00-05:00"},
    }
    failed = await app.queue.enqueue("zocdoc", "create", broken, subject_id="broken")
    await pilot.press("s")
    await wait_until(pilot, lambda: bool(notifications(app, "error")), 10)
    return failed


async def test_queue_pane_retry_and_cancel(tmp_path: Path) -> None:
    app, sandbox = sandbox_app(sandbox_config(tmp_path))

    async with app.run_test(size=SIZE) as pilot:
        await show_next_week(pilot)
        failed = await fail_one_job(app, pilot)
        key, _ = slot_cell(app)
        await book_slot(pilot, key)

        await pilot.press("u")
        await wait_until(pilot, lambda: isinstance(app.screen, QueueScreen))
        pane = app.screen
        assert isinstance(pane, QueueScreen)
        table = pane.query_one(DataTable)
        await wait_until(pilot, lambda: table.row_count == 2)
        rows = {str(row_key.value): table.get_row(row_key) for row_key in table.rows}
        assert rows[failed.job_id][0] == failed.job_id[:8]
        assert rows[failed.job_id][2:6] == ["zocdoc", "create", "failed", "1"]
        assert "invalid payload" in rows[failed.job_id][7]
        pending_id = next(job_id for job_id in rows if job_id != failed.job_id)
        assert rows[pending_id][2:6] == ["zocdoc", "create", "pending", "0"]
        assert "queue 1 pending · 0 in flight · 1 failed" in screen_text(app)

        table.move_cursor(row=table.get_row_index(failed.job_id))
        await pilot.press("r")
        await wait_until(pilot, lambda: table.get_row(failed.job_id)[4] == "pending")
        assert table.get_row(failed.job_id)[5] == "0"

        table.move_cursor(row=table.get_row_index(pending_id))
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await pilot.pause()
        assert table.row_count == 2
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: table.row_count == 1)
        assert pending_id not in {str(row_key.value) for row_key in table.rows}

        await pilot.press("w")
        await wait_until(pilot, lambda: not isinstance(app.screen, QueueScreen))
        await wait_until(pilot, lambda: PENDING_GLYPH not in grid_of(app).rendered(key).label)
        assert sandbox.bookings_created == 0


async def test_queue_pane_cancels_failed_job(tmp_path: Path) -> None:
    """A failed job can be cleared from the pane; it then counts as cancelled, not failed."""
    app, _ = sandbox_app(sandbox_config(tmp_path))

    async with app.run_test(size=SIZE) as pilot:
        await show_next_week(pilot)
        failed = await fail_one_job(app, pilot)

        await pilot.press("u")
        await wait_until(pilot, lambda: isinstance(app.screen, QueueScreen))
        table = app.screen.query_one(DataTable)
        await wait_until(pilot, lambda: table.row_count == 1)
        table.move_cursor(row=table.get_row_index(failed.job_id))
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: table.row_count == 0)
        await wait_until(pilot, lambda: "0 failed" in screen_text(app))

        stats = await (await app.queue.wait()).store.stats()
        assert (stats.failed, stats.cancelled) == (0, 1)


async def test_restart_keeps_pending_jobs(tmp_path: Path) -> None:
    config = sandbox_config(tmp_path)
    app, _ = sandbox_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await show_next_week(pilot)
        key, _ = slot_cell(app)
        await book_slot(pilot, key)
        await wait_until(pilot, lambda: PENDING_GLYPH in grid_of(app).rendered(key).label)
        # A pause (as after a 429) keeps the next copy's processor from sending it at start.
        store = (await app.queue.wait()).store
        await store.pause_target("zocdoc", time.time() + 3600, "paused by the test")
        await pilot.press("q")

    again, sandbox = sandbox_app(config)
    async with again.run_test(size=SIZE) as pilot:
        await show_next_week(pilot)
        await wait_until(pilot, lambda: PENDING_GLYPH in grid_of(again).rendered(key).label)
        status = calendar_of(again).query_one("#status-queue")
        assert str(status.content) == "queue 1 pending · 0 in flight · 0 failed"
        [job] = await (await again.queue.wait()).store.list_jobs()
        assert job.status is Status.PENDING
        assert sandbox.bookings_created == 0


async def test_status_counts_in_flight_apart(tmp_path: Path) -> None:
    app, sandbox = sandbox_app(sandbox_config(tmp_path))

    async with app.run_test(size=SIZE) as pilot:
        await show_next_week(pilot)
        key, _ = slot_cell(app)
        await book_slot(pilot, key)
        segment = calendar_of(app).query_one("#status-queue")
        await wait_until(pilot, lambda: str(segment.content).startswith("queue 1 pending"))

        # The sandbox delays the booking request by 3 s, then returns 503: time
        # enough for a queue poll and a redraw even on a loaded machine.
        sandbox.hang_s = 3.0
        sandbox.inject("timeout", path="/v1/appointments")
        await pilot.press("s")
        await wait_until(
            pilot, lambda: str(segment.content) == "queue 0 pending · 1 in flight · 0 failed", 5
        )
        await wait_until(
            pilot, lambda: str(segment.content) == "queue 1 pending · 0 in flight · 0 failed", 5
        )
        assert PENDING_GLYPH in grid_of(app).rendered(key).label
        assert sandbox.bookings_created == 0


@pytest.mark.parametrize("notes", ["x" * 101])
async def test_booking_form_rejects_long_notes(tmp_path: Path, notes: str) -> None:
    app, _ = sandbox_app(sandbox_config(tmp_path))

    async with app.run_test(size=SIZE) as pilot:
        await show_next_week(pilot)
        key, _ = slot_cell(app)
        grid_of(app).move_cursor(key)
        await pilot.press("b")
        await wait_until(pilot, lambda: isinstance(app.screen, BookingScreen))
        slot_line = str(app.screen.query_one("#booking-slot-line", Static).content)
        assert re.fullmatch(r"Slot: \d\d:\d\d\u2013\d\d:\d\d · .+ · .+", slot_line)
        await pilot.press("ctrl+s")
        await pilot.pause()
        error = app.screen.query_one("#booking-error")
        assert str(error.content).startswith("✗ first name, last name, date of birth, ")
        assert str(error.content).endswith(" are missing")
        assert isinstance(app.screen, BookingScreen)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, BookingScreen))
        assert (await (await app.queue.wait()).store.list_jobs()) == []
