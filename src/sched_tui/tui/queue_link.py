"""The write queue inside the TUI: its runtime, its processor task and what screens show of it.

Plain asyncio with no Textual import. `QueueLink.start` opens a `QueueRuntime`
on the shared database in a background task, starts its processor when this
copy has a write target, and then follows the queue: it reads the jobs not yet
done, the queue depth and the outcomes every process records, and notifies its
listeners when any of them changed. It reads again `poll_s` after the previous
read finished, and at once after this copy's processor settles a job or staff
enqueue, retry or cancel one, so reads never overlap and an idle queue costs
three small queries per poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sched_tui.config import Config
from sched_tui.providers.base import Provider
from sched_tui.queue import (
    Job,
    JobOutcome,
    Operation,
    PassReport,
    QueueError,
    QueueRuntime,
    QueueStats,
    Status,
)
from sched_tui.queue.embedded import build_embedded_targets

log = logging.getLogger(__name__)

# The last_error `QueueStore.cancel` stores; such a failure is staff's own action, not an error.
CANCELLED_BY_USER = "cancelled by user"
# Jobs read per poll; the queue pane and the pending marks show at most this many.
VIEW_LIMIT = 500
DEFAULT_POLL_S = 2.0


class QueueUnavailable(Exception):
    """The queue could not be opened; the message gives the reason."""


@dataclass(frozen=True, slots=True)
class QueueView:
    """The queue as the screens show it at one moment."""

    stats: QueueStats
    # Pending, processing and failed jobs (cancelled ones left out), oldest first.
    jobs: tuple[Job, ...]

    @property
    def open_jobs(self) -> tuple[Job, ...]:
        """Jobs that may still reach their target: pending or processing."""
        return tuple(job for job in self.jobs if job.status in (Status.PENDING, Status.PROCESSING))


@dataclass(frozen=True, slots=True)
class QueueUpdate:
    """A change listeners hear about: the current view and the jobs settled since the last one."""

    view: QueueView
    # Jobs that reached processed or failed, as stored after their outcome.
    settled: tuple[Job, ...] = ()


QueueListener = Callable[[QueueUpdate], None]


def describe_depth(stats: QueueStats) -> str:
    """Return the status-line text of the queue depth, in-flight jobs counted apart."""
    return f"queue {stats.pending} pending · {stats.processing} in flight · {stats.failed} failed"


def describe_depth_short(stats: QueueStats) -> str:
    """Return the queue depth for a crowded status line: the counts that are not zero."""
    counts = ((stats.pending, "pending"), (stats.processing, "sending"), (stats.failed, "failed"))
    parts = [f"{count} {name}" for count, name in counts if count]
    return "queue " + (" · ".join(parts) if parts else "empty")


def is_user_cancel(job: Job) -> bool:
    """Tell whether `job` failed because staff cancelled it."""
    return job.status is Status.FAILED and job.last_error == CANCELLED_BY_USER


class QueueLink:
    """One running copy's write queue, shared by its screens."""

    def __init__(self, config: Config, *, poll_s: float = DEFAULT_POLL_S) -> None:
        self.config = config
        self.poll_s = poll_s
        self.runtime: QueueRuntime | None = None
        self.view: QueueView | None = None
        self._listeners: list[QueueListener] = []
        self._ready = asyncio.Event()
        self._wake = asyncio.Event()
        self._error: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._last_seq = 0
        self._closed = False
        # Jobs enqueued here and not settled yet, reported even if settled between two reads.
        self._enqueued_here: set[str] = set()
        # The running "send now"; a second request waits for it instead of starting another.
        self._drain: asyncio.Future[PassReport] | None = None

    # Lifecycle ---------------------------------------------------------------

    def start(self, providers: Sequence[Provider]) -> None:
        """Open the queue in a background task; `providers` are the ones the calendar reads."""
        if self._task is None and not self._closed:
            self._task = asyncio.create_task(self._run(providers), name="queue-link")

    async def aclose(self) -> None:
        """Stop following the queue, stop the processor and close the database; idempotent."""
        self._closed = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        runtime, self.runtime = self.runtime, None
        if runtime is not None:
            runtime.processor.request_stop()
            if self._drain is not None:
                with contextlib.suppress(Exception):
                    await self._drain
            await runtime.aclose()
            log.info("queue closed")
        if not self._ready.is_set():
            self._error = self._error or "the queue is closed"
            self._ready.set()

    @property
    def error(self) -> str | None:
        """Why the queue could not be opened, or None."""
        return self._error

    @property
    def targets(self) -> frozenset[str]:
        """Names of the targets this copy can write to (empty until opened)."""
        if self.runtime is None:
            return frozenset()
        return frozenset(self.runtime.processor.targets)

    async def wait(self) -> QueueRuntime:
        """Return the runtime once open. Raises QueueUnavailable if opening failed."""
        await self._ready.wait()
        if self.runtime is None:
            raise QueueUnavailable(self._error or "the queue is closed")
        return self.runtime

    def subscribe(self, listener: QueueListener) -> Callable[[], None]:
        """Call `listener` on every change; returns a function that unsubscribes it."""
        self._listeners.append(listener)
        if self.view is not None:
            listener(QueueUpdate(self.view))

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return unsubscribe

    def poke(self) -> None:
        """Read the queue again at once instead of at the next poll."""
        self._wake.set()

    # Staff actions -------------------------------------------------------------

    async def enqueue(
        self,
        target_system: str,
        operation: Operation | str,
        payload: Mapping[str, Any],
        *,
        subject_id: str | None = None,
    ) -> Job:
        """Store a write for a processor to send; the one enqueue path of the TUI.

        Raises QueueUnavailable, ValueError for an invalid job, or QueueBusy.
        """
        runtime = await self.wait()
        job = await runtime.enqueue(target_system, operation, payload, subject_id=subject_id)
        self._enqueued_here.add(job.job_id)
        self.poke()
        return job

    async def retry(self, job_id: str) -> Job:
        """Make a failed job pending and due now. Raises QueueError subclasses."""
        job = await (await self.wait()).store.retry(job_id)
        self.poke()
        return job

    async def cancel(self, job_id: str) -> Job:
        """Cancel a pending or failed job so it is never sent. Raises QueueError subclasses."""
        job = await (await self.wait()).store.cancel(job_id)
        self.poke()
        return job

    async def send_now(self) -> PassReport:
        """Send every due job at once within the targets' rate limits ("send now")."""
        runtime = await self.wait()
        if not runtime.processor.targets:
            raise QueueUnavailable("this copy has no write target; only Zocdoc accepts writes")
        if self._drain is None or self._drain.done():
            self._drain = asyncio.ensure_future(runtime.processor.drain_now())
        # Shielded: cancelling the caller (a worker at quit) must not cut a send short;
        # `aclose` stops the drain after the job being sent instead.
        report = await asyncio.shield(self._drain)
        self.poke()
        return report

    async def refresh(self) -> None:
        """Read the queue now and tell listeners about any change."""
        runtime = await self.wait()
        await self._read(runtime)

    # Following the queue ---------------------------------------------------------

    async def _run(self, providers: Sequence[Provider]) -> None:
        try:
            await self._open(providers)
        except (QueueError, OSError, ValueError) as error:
            log.exception("opening the write queue failed")
            self._error = f"write queue unavailable: {error}"
            self._ready.set()
            return
        self._ready.set()
        while True:
            try:
                await self._read(self.runtime)  # type: ignore[arg-type]
            except QueueError as error:
                log.warning("reading the write queue failed: %s", error)
            except Exception:
                # The loop must outlive one failed read; the next poll tries again.
                log.exception("reading the write queue failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_s)
            self._wake.clear()

    async def _open(self, providers: Sequence[Provider]) -> None:
        targets = build_embedded_targets(self.config, providers)
        runtime = await QueueRuntime.open(self.config, targets=targets, on_outcome=self._on_outcome)
        self.runtime = runtime
        self._last_seq = await runtime.store.last_event_seq()
        if targets:
            runtime.processor.start()
        else:
            log.info("no write target among the calendar's providers; queue processor not started")

    def _on_outcome(self, outcome: JobOutcome) -> None:
        self.poke()

    async def _read(self, runtime: QueueRuntime) -> None:
        """Read jobs, depth and new outcomes; notify listeners when something changed."""
        store = runtime.store
        jobs = await store.list_jobs(
            (Status.PENDING, Status.PROCESSING, Status.FAILED),
            include_cancelled=False,
            limit=VIEW_LIMIT,
        )
        stats = await runtime.stats()
        settled = await self._settled_since_last_read(runtime)
        view = QueueView(stats, tuple(jobs))
        if view == self.view and not settled:
            return
        self.view = view
        update = QueueUpdate(view, tuple(settled))
        for listener in list(self._listeners):
            try:
                listener(update)
            except Exception:
                log.exception("a queue listener failed")

    async def _settled_since_last_read(self, runtime: QueueRuntime) -> list[Job]:
        """Return jobs with an outcome recorded after the last one seen, by any process.

        Only jobs this copy enqueued or showed as open, and jobs that failed, are
        read back: the others need neither a revert nor a notice.
        """
        events = await runtime.store.events_after(self._last_seq)
        if not events:
            return []
        self._last_seq = events[-1].seq
        listed = {job.job_id for job in self.view.open_jobs} if self.view else set()
        settled = []
        for event in events:
            mine = event.job_id in self._enqueued_here
            if mine or event.job_id in listed or event.status is Status.FAILED:
                self._enqueued_here.discard(event.job_id)
                settled.append(await runtime.store.get(event.job_id))
        return settled
