"""The queue pane: pending, in-flight and failed writes, with retry, cancel and send now.

The table is keyed by job id and updated by difference: a queue read that
changed nothing touches no row, and a changed job rewrites only its changed
cells. It follows `QueueLink`, which reads the queue after every outcome and
every few seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Static
from textual.widgets.data_table import RowDoesNotExist

from sched_tui.queue import Job, QueueError, Status
from sched_tui.tui.messages import QueueChanged
from sched_tui.tui.queue_link import QueueUnavailable, QueueUpdate, describe_depth
from sched_tui.tui.screens.base import AppScreen
from sched_tui.tui.screens.confirm import ConfirmScreen

log = logging.getLogger(__name__)

COLUMNS = (
    ("job", "Job"),
    ("queued", "Queued"),
    ("target", "Target"),
    ("operation", "Operation"),
    ("status", "Status"),
    ("attempts", "Attempts"),
    ("next", "Next attempt"),
    ("error", "Last error"),
)
ERROR_WIDTH = 70
# Characters of the job id shown; `sched-tui queue retry` and `cancel` accept them.
JOB_ID_SHOWN = 8


def job_row(job: Job, tz: object) -> tuple[str, ...]:
    """Return the table cells of one job, in `COLUMNS` order."""
    if job.status is Status.PROCESSING:
        status = "in flight" if job.in_flight else "claimed"
    else:
        status = job.status.value
    if job.status is Status.PENDING:
        when = datetime.fromtimestamp(job.next_attempt_at, tz)  # type: ignore[arg-type]
        next_attempt = f"{when:%a %d %b %H:%M:%S}"
    else:
        next_attempt = "—"
    error = job.last_error or ""
    if len(error) > ERROR_WIDTH:
        error = error[: ERROR_WIDTH - 1] + "…"
    queued = datetime.fromtimestamp(job.created_at, tz)  # type: ignore[arg-type]
    return (
        job.job_id[:JOB_ID_SHOWN],
        f"{queued:%a %H:%M}",
        job.target_system,
        job.operation.value,
        status,
        str(job.attempts),
        next_attempt,
        error,
    )


class QueueScreen(AppScreen):
    """Every write not yet done, and the failed ones, oldest first."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "retry", "Retry failed", id="queue.retry"),
        Binding("c", "cancel_job", "Cancel job", id="queue.cancel"),
        Binding("s", "send_now", "Send now", id="queue.send_now"),
        Binding("escape,w", "back", "Calendar", id="queue.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._rows: dict[str, tuple[str, ...]] = {}
        self._jobs: dict[str, Job] = {}
        self._unsubscribe: Callable[[], None] | None = None

    def compose_body(self) -> ComposeResult:
        """Build the depth line, the job table and the footer."""
        yield Static("queue: opening…", id="queue-summary", markup=False)
        table: DataTable[str] = DataTable(id="queue-table", cursor_type="row", zebra_stripes=True)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        yield table
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        """Follow the write queue."""
        self._unsubscribe = self.sched_app.queue.subscribe(self._post_update)
        self.query_one(DataTable).focus()

    def _post_update(self, update: QueueUpdate) -> None:
        self.post_message(QueueChanged(update))

    def on_unmount(self) -> None:
        """Stop following the write queue."""
        if self._unsubscribe is not None:
            self._unsubscribe()

    def on_queue_changed(self, message: QueueChanged) -> None:
        """Show the new depth and apply the jobs' changes to the table."""
        view = message.update.view
        summary = self.query_one("#queue-summary", Static)
        text = describe_depth(view.stats)
        if view.stats.paused_targets:
            paused = ", ".join(sorted(view.stats.paused_targets))
            text += f" · paused after HTTP 429: {paused}"
        if str(summary.content) != text:
            summary.update(text)
        self.apply_jobs(view.jobs)

    def apply_jobs(self, jobs: tuple[Job, ...]) -> int:
        """Add, update and remove rows so the table lists `jobs`; return the cells changed."""
        table = self.query_one(DataTable)
        tz = self.sched_app.config.practice.tz
        wanted = {job.job_id: job_row(job, tz) for job in jobs}
        changed = 0
        with self.app.batch_update():
            for job_id in [job_id for job_id in self._rows if job_id not in wanted]:
                table.remove_row(job_id)
                del self._rows[job_id]
                changed += 1
            for job_id, cells in wanted.items():
                old = self._rows.get(job_id)
                if old is None:
                    table.add_row(*cells, key=job_id)
                    changed += len(cells)
                else:
                    for (column, _), before, after in zip(COLUMNS, old, cells, strict=True):
                        if before != after:
                            table.update_cell(job_id, column, after)
                            changed += 1
                self._rows[job_id] = cells
        self._jobs = {job.job_id: job for job in jobs}
        return changed

    def selected_job(self) -> Job | None:
        """Return the job under the table's cursor, or None when the table is empty."""
        table = self.query_one(DataTable)
        if not self._rows:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        except RowDoesNotExist:
            return None
        return self._jobs.get(str(key.value))

    def action_retry(self) -> None:
        """Send the selected failed job again, with fresh attempts."""
        job = self.selected_job()
        if job is None or job.status is not Status.FAILED:
            self.app.notify("Select a failed job to retry.")
            return
        self._retry(job.job_id)

    def action_cancel_job(self) -> None:
        """Cancel the selected pending or failed job after confirming; it is never sent."""
        job = self.selected_job()
        if job is None or job.status not in (Status.PENDING, Status.FAILED):
            self.app.notify(
                "Select a pending or failed job to cancel; a job in flight cannot be stopped."
            )
            return
        self._cancel(job)

    def action_send_now(self) -> None:
        """Send every due job at once, within each target's rate limit."""
        self._send_now()

    def action_back(self) -> None:
        """Show the calendar."""
        self.app.switch_mode("calendar")

    @work(exclusive=True, group="queue-action", exit_on_error=False)
    async def _retry(self, job_id: str) -> None:
        try:
            await self.sched_app.queue.retry(job_id)
        except (QueueError, QueueUnavailable) as error:
            self.app.notify(f"Retry failed: {error}", severity="error")
            return
        self.app.notify("The job is pending again and will be sent at the next pass (s sends now).")

    @work(exclusive=True, group="queue-action", exit_on_error=False)
    async def _cancel(self, job: Job) -> None:
        question = (
            f"Cancel this {job.operation.value} for {job.target_system}? "
            "It will never be sent, and its pending change disappears from the calendar."
        )
        if not await self.app.push_screen_wait(ConfirmScreen(question, confirm_label="Cancel job")):
            return
        try:
            await self.sched_app.queue.cancel(job.job_id)
        except (QueueError, QueueUnavailable) as error:
            self.app.notify(f"Cancel failed: {error}", severity="error")
            return
        self.app.notify("The job is cancelled.")

    @work(exclusive=True, group="queue-send-now", exit_on_error=False)
    async def _send_now(self) -> None:
        try:
            report = await self.sched_app.queue.send_now()
        except (QueueError, QueueUnavailable) as error:
            self.app.notify(f"Send now failed: {error}", severity="error")
            return
        self.app.notify(
            f"Sent: {report.processed} done, {report.retried} to retry, {report.failed} failed."
        )
