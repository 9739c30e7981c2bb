"""Book, move and cancel from the week grid, and show queued writes as pending.

`CalendarWrites` is mixed into the calendar screen. Every write goes through
`QueueLink.enqueue`; nothing here calls a provider. A queued write shows at
once (`PENDING_GLYPH` in the grid, "pending ..." in the detail panel). When it
succeeds, the therapist's cached week is invalidated and the week is read
again. Until that read arrives, the change stays on screen without the mark, so
it does not flicker. When it fails for good, the change disappears with the
job and a notification gives the target's error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from textual import work
from textual.timer import Timer

from sched_tui.cache.control import CacheControl
from sched_tui.model import Appointment, CalendarWeek, Slot, Status
from sched_tui.queue import Job, Operation, QueueError
from sched_tui.queue.store import is_busy_error
from sched_tui.queue.zocdoc_requests import (
    booking_payload,
    cancel_payload,
    reschedule_payload,
    slot_subject,
)
from sched_tui.tui.cells import Cell, CellKey, build_cells
from sched_tui.tui.messages import QueueChanged
from sched_tui.tui.moves import move_starts
from sched_tui.tui.pending import QUEUED_ID_PREFIX, Overlay, apply_jobs, mark_cells
from sched_tui.tui.queue_link import (
    QueueUnavailable,
    QueueUpdate,
    describe_depth,
    describe_depth_short,
    is_user_cancel,
)
from sched_tui.tui.screens.confirm import ConfirmScreen
from sched_tui.tui.screens.write_dialogs import BookingScreen, ChoiceScreen
from sched_tui.tui.widgets.status_line import StatusLine

if TYPE_CHECKING:
    from sched_tui.tui.app import SchedApp
    from sched_tui.tui.queue_link import QueueLink

log = logging.getLogger(__name__)

# Wait after a success before reloading, so a burst of successes costs one reload, in seconds.
RELOAD_DEBOUNCE_S = 0.3
# The en dash (U+2013) between a slot's start and end times, escaped because ruff flags
# the character itself as ambiguous (RUF001).
EN_DASH = "\u2013"
# Attempts at a cache invalidation that SQLite reports as locked by another process.
INVALIDATE_ATTEMPTS = 5

OPERATION_NAMES = {
    Operation.CREATE: "booking",
    Operation.RESCHEDULE: "move",
    Operation.CANCEL: "cancel",
}


class CalendarWrites:
    """Write actions and pending marks of the calendar screen (a mixin of `CalendarScreen`)."""

    # Provided by CalendarScreen.
    calendar: CalendarWeek | None
    sched_app: SchedApp
    _shown_generation: int
    _generation: int

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Jobs enqueued here that the latest queue read did not list yet.
        self._just_enqueued: dict[str, Job] = {}
        # Succeeded jobs still drawn (unmarked) until a week read started after their success
        # arrives: job id -> (job, generation of that read).
        self._succeeded: dict[str, tuple[Job, int]] = {}
        self._open_jobs: tuple[Job, ...] = ()
        self._queue_text = ""
        self._unsubscribe_queue: Callable[[], None] | None = None
        # Therapist ids (or provider names) whose cached weeks are older than a success.
        self._stale_keys: set[str] = set()
        self._reload_timer: Timer | None = None

    # Lifecycle (called by Textual for every class in the MRO) -----------------------

    def on_mount(self) -> None:
        """Follow the write queue."""
        screen: Any = self
        self._unsubscribe_queue = self.sched_app.queue.subscribe(
            lambda update: screen.post_message(QueueChanged(update))
        )

    def on_unmount(self) -> None:
        """Stop following the write queue."""
        if self._unsubscribe_queue is not None:
            self._unsubscribe_queue()
            self._unsubscribe_queue = None

    # Pending marks ---------------------------------------------------------------

    def overlay_cells(self, calendar: CalendarWeek, shape: Any) -> dict[CellKey, Cell]:
        """Build the grid cells of `calendar` with queued writes applied and marked."""
        self._succeeded = {
            job_id: (job, generation)
            for job_id, (job, generation) in self._succeeded.items()
            if generation > self._shown_generation
        }
        overlay = self._overlay(calendar)
        return mark_cells(build_cells(overlay.calendar, shape), overlay.marks)

    def _overlay(self, calendar: CalendarWeek) -> Overlay:
        """Return `calendar` as shown: with every queued or just-sent write applied."""
        jobs = [*self._open_jobs, *self._just_enqueued.values()]
        jobs += [job for job, _ in self._succeeded.values()]
        return apply_jobs(calendar, jobs, unmarked=set(self._succeeded))

    def on_queue_changed(self, message: QueueChanged) -> None:
        """Show the queue depth, redraw pending marks and act on settled jobs."""
        update: QueueUpdate = message.update
        view = update.view
        listed = {job.job_id for job in view.jobs} | {job.job_id for job in update.settled}
        for job_id in listed:
            self._just_enqueued.pop(job_id, None)
        # A job moving from pending to in flight changes nothing on the grid.
        changed = [job.job_id for job in view.open_jobs] != [job.job_id for job in self._open_jobs]
        self._open_jobs = view.open_jobs
        # An empty queue leaves the narrow status line to the other segments.
        idle = view.stats.depth == 0 and view.stats.failed == 0
        if idle:
            self._show_queue_depth("", "")
        else:
            self._show_queue_depth(describe_depth(view.stats), describe_depth_short(view.stats))
        for job in update.settled:
            self._settle(job)
        if self.calendar is not None and (changed or update.settled):
            self.repaint_cells()

    def _show_queue_depth(self, text: str, short: str) -> None:
        if text != self._queue_text:
            self._queue_text = text
            self.query_one(StatusLine).set_segment("queue", text, short=short)

    def _settle(self, job: Job) -> None:
        """Keep a succeeded job drawn until fresh data arrive; explain a failed one."""
        if job.status.value == "processed":
            self._succeeded[job.job_id] = (job, self._generation + 1)
            self._stale_keys.add(self._therapist_of(job) or job.target_system)
            # One reload for a burst of successes, such as a "send now".
            if self._reload_timer is not None:
                self._reload_timer.stop()
            self._reload_timer = self.set_timer(RELOAD_DEBOUNCE_S, self._reload_after_success)  # type: ignore[attr-defined]
            return
        if is_user_cancel(job):
            return
        operation = OPERATION_NAMES[job.operation]
        self.sched_app.notify(
            f"The {operation} sent to {job.target_system} failed and was undone: {job.last_error}",
            title="Write failed",
            severity="error",
            timeout=30,
        )

    @work(exclusive=True, group="calendar-write-reload", exit_on_error=False)
    async def _reload_after_success(self) -> None:
        """Drop the cached weeks of the therapists written to, then read the shown week again."""
        keys, self._stale_keys = self._stale_keys, set()
        services = await self.sched_app.wait_for_services()
        for key in sorted(keys):
            if services.cache is not None:
                await _invalidate(services.cache, key)
        self.action_refresh()

    def _therapist_of(self, job: Job) -> str | None:
        if job.operation is Operation.CREATE:
            location = str(job.payload.get("data", {}).get("provider_location_id", ""))
            return location.split("|", 1)[0] or None
        appointment_id = job.payload.get("appointment_id")
        for appointment in self.calendar.appointments if self.calendar else ():
            if appointment.id == appointment_id:
                return appointment.therapist_id
        return None

    def _remember(self, job: Job) -> None:
        """Show a job just enqueued at once, before the next queue read lists it."""
        self._just_enqueued[job.job_id] = job
        if self.calendar is not None:
            self.repaint_cells()

    # Actions -------------------------------------------------------------------------

    def action_book(self) -> None:
        """Book one of the selected cell's open slots."""
        self._book()

    def action_move_appointment(self) -> None:
        """Move an appointment of the selected cell to an open slot of the same therapist."""
        self._move()

    def action_cancel_appointment(self) -> None:
        """Cancel an appointment of the selected cell, after confirming."""
        self._cancel()

    def action_send_now(self) -> None:
        """Send every due queued write at once, within each target's rate limit."""
        self._send_now()

    @work(exclusive=True, group="calendar-write", exit_on_error=False)
    async def _book(self) -> None:
        day, _row, cell = self.selected_cell()  # type: ignore[attr-defined]
        slots = [item.ref for item in cell.items if isinstance(item.ref, Slot)] if cell else []
        if not slots:
            self.sched_app.notify("No open slot here; move to a cell marked ○ to book.")
            return
        calendar = self.calendar
        names = {therapist.id: therapist for therapist in calendar.therapists} if calendar else {}
        writable = [
            slot
            for slot in slots
            if slot.source in self.sched_app.queue.targets and slot.therapist_id in names
        ]
        if not writable:
            self._check_writable(slots[0].source)
            return

        services = {service.id: service.name for service in calendar.services} if calendar else {}
        lines = [
            f"{self._local(slot.start):%H:%M}{EN_DASH}{self._local(slot.end):%H:%M} · "
            f"{names[slot.therapist_id].name} · "
            f"{services.get(slot.service_id or '', 'any service')}"
            for slot in writable
        ]
        form = await self.sched_app.push_screen_wait(
            BookingScreen(f"Book on {day:%a %d %b}", lines)
        )
        if form is None:
            return

        slot = writable[form.slot_index]
        location = names[slot.therapist_id].location_id
        if location is None or slot.service_id is None:
            self.sched_app.notify(
                "This slot lacks a Zocdoc location or visit reason.", severity="error"
            )
            return
        payload = booking_payload(
            start=slot.start,
            provider_location_id=location,
            visit_reason_id=slot.service_id,
            patient=form.patient,
            notes=form.notes,
            patient_type=form.patient_type,
        )
        await self._enqueue(
            slot.source, Operation.CREATE, payload, slot_subject(location, slot.start)
        )

    @work(exclusive=True, group="calendar-write", exit_on_error=False)
    async def _move(self) -> None:
        appointment = await self._pick_appointment("Move which appointment?")
        if appointment is None or self.calendar is None:
            return
        # Times taken by queued bookings and moves are taken, as the grid shows them.
        starts = move_starts(appointment, self._overlay(self.calendar).calendar, self._tz())
        service = appointment.service or "this session"
        if not starts:
            self.sched_app.notify(
                f"{appointment.therapist_name} has no open slot for {service} this week; "
                "show another week with h or l and try again."
            )
            return
        lines = [f"{self._local(start):%a %d %b %H:%M}" for start in starts]
        index = await self.sched_app.push_screen_wait(
            ChoiceScreen(f"Move to which start? ({appointment.therapist_name})", lines)
        )
        if index is None:
            return
        current, _ = appointment.bounds(self._tz())
        question = (
            f"Move the {service} of {appointment.therapist_name} from "
            f"{self._local(current):%a %d %b %H:%M} to {lines[index]}?"
        )
        if not await self._confirm(question, "Move appointment"):
            return
        payload = reschedule_payload(appointment.id, starts[index])
        await self._enqueue(appointment.source, Operation.RESCHEDULE, payload, appointment.id)

    @work(exclusive=True, group="calendar-write", exit_on_error=False)
    async def _cancel(self) -> None:
        appointment = await self._pick_appointment("Cancel which appointment?")
        if appointment is None:
            return
        start, _ = appointment.bounds(self._tz())
        question = (
            f"Cancel the appointment of {appointment.therapist_name} on "
            f"{self._local(start):%a %d %b at %H:%M}? The patient keeps no slot."
        )
        if not await self._confirm(question, "Cancel appointment"):
            return
        await self._enqueue(
            appointment.source, Operation.CANCEL, cancel_payload(appointment.id), appointment.id
        )

    async def _confirm(self, question: str, label: str) -> bool:
        """Ask `question` in a confirmation dialog; True when staff confirmed with `label`."""
        confirmed = await self.sched_app.push_screen_wait(
            ConfirmScreen(question, confirm_label=label)
        )
        return bool(confirmed)

    @work(exclusive=True, group="calendar-send-now", exit_on_error=False)
    async def _send_now(self) -> None:
        try:
            report = await self.sched_app.queue.send_now()
        except (QueueUnavailable, QueueError) as error:
            self.sched_app.notify(f"Send now failed: {error}", severity="error")
            return
        self.sched_app.notify(
            f"Sent: {report.processed} done, {report.retried} to retry, {report.failed} failed."
        )

    # Helpers -------------------------------------------------------------------------

    async def _enqueue(
        self, target: str, operation: Operation, payload: dict[str, Any], subject: str
    ) -> None:
        queue: QueueLink = self.sched_app.queue
        try:
            job = await queue.enqueue(target, operation, payload, subject_id=subject)
        except (QueueUnavailable, QueueError, ValueError) as error:
            log.warning("queueing a %s for %s failed: %s", operation.value, target, error)
            self.sched_app.notify(
                f"Could not queue the {OPERATION_NAMES[operation]}: {error}", severity="error"
            )
            return
        self._remember(job)
        self.sched_app.notify(
            f"The {OPERATION_NAMES[operation]} is queued and shows ⧗ until {target} confirms it."
        )

    async def _pick_appointment(self, title: str) -> Appointment | None:
        """Return the cell's appointment to change: the only one, or the one the user picks."""
        _day, _row, cell = self.selected_cell()  # type: ignore[attr-defined]
        appointments = [
            item.ref
            for item in (cell.items if cell else ())
            if isinstance(item.ref, Appointment)
            and not item.pending
            and item.ref.status is not Status.CANCELLED
            and not item.ref.all_day
        ]
        if not appointments:
            self.sched_app.notify("No appointment starts here that can be changed.")
            return None
        queued = [a for a in appointments if a.id.startswith(QUEUED_ID_PREFIX)]
        appointments = [a for a in appointments if a not in queued]
        if not appointments and queued:
            self.sched_app.notify(
                "This booking is still queued; cancel it in the queue pane (u) instead."
            )
            return None
        appointments = [a for a in appointments if self._check_writable(a.source)]
        if len(appointments) <= 1:
            return appointments[0] if appointments else None
        lines = [
            f"{self._local(a.bounds(self._tz())[0]):%H:%M} {a.therapist_name} · {a.service}"
            for a in appointments
        ]
        index = await self.sched_app.push_screen_wait(ChoiceScreen(title, lines))
        return None if index is None else appointments[index]

    def _check_writable(self, source: str) -> bool:
        """Tell whether `source` accepts writes; explain to the user when it does not."""
        if source in self.sched_app.queue.targets:
            return True
        kinds = {entry.name: entry.kind for entry in self.sched_app.config.providers}
        if kinds.get(source) == "ics":
            message = (
                f"{source} is an iCalendar/CalDAV calendar, which sched-tui only reads; "
                "change it in that calendar. Only Zocdoc appointments can be written here."
            )
        elif self.sched_app.queue.error:
            message = f"Writes are unavailable: {self.sched_app.queue.error}"
        else:
            message = f"{source} accepts no writes; only Zocdoc appointments can be written."
        self.sched_app.notify(message, severity="warning")
        return False

    def _tz(self) -> Any:
        return self.sched_app.config.practice.tz

    def _local(self, moment: datetime) -> datetime:
        return moment.astimezone(self._tz())

    # Provided by CalendarScreen; declared for type checkers.
    if TYPE_CHECKING:

        def repaint_cells(self) -> None: ...

        def action_refresh(self) -> None: ...

        def query_one(self, *args: Any, **kwargs: Any) -> Any: ...


async def _invalidate(cache: CacheControl, key: str) -> None:
    """Invalidate `key` in every copy, retrying while another process holds the database lock."""
    for attempt in range(1, INVALIDATE_ATTEMPTS + 1):
        try:
            await cache.invalidate(key)
            return
        except Exception as error:
            if not is_busy_error(error) or attempt == INVALIDATE_ATTEMPTS:
                # The week is read again anyway; other copies may show their cached copy longer.
                name = type(error).__name__
                log.warning("cache invalidation of %s after a write failed (%s)", key, name)
                return
            await asyncio.sleep(0.05 * 2**attempt)
