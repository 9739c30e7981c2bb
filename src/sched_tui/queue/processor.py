"""The loop that sends queued writes: claim a batch, send each job, record the outcome.

The same `Processor` runs as an asyncio task inside the TUI and in the headless
``sched-tui worker``; any number of them may share one database. Each pass
claims up to ``batch_size`` due jobs under a lease and sends them one at a time.
Each send waits for a slot of the target's shared rate limit and honours the
target's pause after a 429. The next pass starts ``interval_s`` after the
current one finishes, or earlier when a retry falls due, so passes never overlap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from sched_tui.config import QueueConfig
from sched_tui.providers.base import (
    MalformedData,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from sched_tui.queue.backoff import Backoff
from sched_tui.queue.clock import Clock, SystemClock
from sched_tui.queue.jobs import Job, QueueError, Status
from sched_tui.queue.store import QueueStore
from sched_tui.queue.targets import InvalidPayload, WriteTarget

log = logging.getLogger(__name__)

# HTTP statuses after which resending the same request cannot succeed.
PERMANENT_STATUSES = frozenset({400, 401, 403, 404, 409, 422})

# Seconds between purges of old finished jobs by one processor.
_PURGE_EVERY_S = 3600.0

# Upper bound on batches in one `drain_now`, so a job that keeps becoming due
# again at once (a zero backoff draw) cannot keep the drain running.
_MAX_DRAIN_BATCHES = 1000


@dataclass(frozen=True, slots=True)
class JobOutcome:
    """The result of one pass for one job, delivered to `Processor.on_outcome`.

    ``status`` is the job's status afterwards. ``released`` means the job went
    back to pending without being sent (rate limit, pause or shutdown).
    """

    job: Job
    status: Status
    error: str | None = None
    next_attempt_at: float | None = None
    released: bool = False
    reconciled: bool = False
    result: Mapping[str, Any] | None = None


@dataclass(slots=True)
class PassReport:
    """Counts of one pass or one drain."""

    claimed: int = 0
    processed: int = 0
    retried: int = 0
    failed: int = 0
    released: int = 0
    lost: int = 0
    outcomes: list[JobOutcome] = field(default_factory=list)

    def add(self, other: PassReport) -> None:
        """Add the counts of `other` to this report."""
        self.claimed += other.claimed
        self.processed += other.processed
        self.retried += other.retried
        self.failed += other.failed
        self.released += other.released
        self.lost += other.lost
        self.outcomes.extend(other.outcomes)


class Processor:
    """Sends the queue's due jobs to their targets at a controlled pace.

    `targets` maps a ``target_system`` name to its WriteTarget. `clock` must be
    the clock the store's `now` reads. `on_outcome` is called in this process for
    every job a pass settles; other processes' outcomes are read with
    `QueueStore.events_after`.
    """

    def __init__(
        self,
        store: QueueStore,
        targets: Mapping[str, WriteTarget],
        settings: QueueConfig,
        *,
        clock: Clock | None = None,
        on_outcome: Callable[[JobOutcome], None] | None = None,
    ) -> None:
        self.store = store
        self.targets = dict(targets)
        self.settings = settings
        self.clock = clock or SystemClock()
        self.on_outcome = on_outcome
        self.backoff = Backoff(settings.backoff_base_s, settings.backoff_cap_s)
        self._pass_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._next_purge_at = 0.0

    # Lifecycle -------------------------------------------------------------

    def start(self) -> asyncio.Task[None]:
        """Start the loop as an asyncio task in the running event loop."""
        if self._task is None or self._task.done():
            self._stopping = False
            self._task = asyncio.create_task(self.run(), name="queue-processor")
        return self._task

    def request_stop(self) -> None:
        """Ask the loop to stop after the job being sent; safe to call from a signal handler."""
        self._stopping = True
        self._wake.set()

    async def stop(self) -> None:
        """Finish the job being sent, return the batch's unsent jobs to pending and stop."""
        self.request_stop()
        if self._task is not None:
            await self._task
            self._task = None

    @property
    def running(self) -> bool:
        """Whether the loop task is alive."""
        return self._task is not None and not self._task.done()

    async def run(self) -> None:
        """Run passes every ``interval_s`` until `stop` is called."""
        log.info(
            "queue processor started as %s: every %g s, batch %d, targets %s",
            self.store.owner,
            self.settings.interval_s,
            self.settings.batch_size,
            ", ".join(sorted(self.targets)) or "none",
        )
        while not self._stopping:
            await self._guarded_pass()
            await self._wait(await self._pause_before_next_pass())
        log.info("queue processor %s stopped", self.store.owner)

    async def _guarded_pass(self) -> None:
        try:
            await self.run_once()
            await self.purge_if_due()
        except QueueError as error:
            log.warning("queue pass skipped: %s", error)
        except Exception:
            # The loop must survive a bug in one pass; the next pass retries.
            log.exception("queue pass failed")

    async def _pause_before_next_pass(self) -> float:
        """Return the wait before the next pass: ``interval_s``, or less when a retry falls due.

        Waking at a retry's own jittered time keeps retries of jobs that failed
        together spread out, instead of gathering them at the next interval. Jobs
        already due (a backlog) wait for the full interval, so a backlog drains at
        ``batch_size`` per ``interval_s``. The wait is at least min(1 s, ``interval_s``).
        """
        interval = self.settings.interval_s
        try:
            due = await self.store.next_due_at()
        except QueueError:
            return interval
        now = self.clock.now()
        if due is None or due <= now:
            # Nothing scheduled, or a backlog already due: keep the batch cadence.
            return interval
        return min(interval, max(min(1.0, interval), due - now))

    async def _wait(self, seconds: float) -> None:
        """Sleep on the clock for `seconds`, or until `stop` wakes the loop."""
        sleeper = asyncio.ensure_future(self.clock.sleep(seconds))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, waker):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._wake.clear()

    async def purge_if_due(self) -> int:
        """Delete finished jobs past ``keep_finished_days``, at most once an hour per processor.

        Several processors on one database may each purge. Deleting is
        idempotent, so a second purge costs only a scan. Returns the number deleted.
        """
        keep_days = self.settings.keep_finished_days
        now = self.clock.now()
        if keep_days <= 0 or now < self._next_purge_at:
            return 0
        self._next_purge_at = now + _PURGE_EVERY_S
        return await self.store.purge_finished(keep_days * 86_400)

    # Passes ----------------------------------------------------------------

    async def run_once(self) -> PassReport:
        """Claim up to ``batch_size`` due jobs and send them; return what happened."""
        async with self._pass_lock:
            return await self._pass()

    async def drain_now(self) -> PassReport:
        """Send every due job at once ("send now"), batch after batch, within the rate limits."""
        total = PassReport()
        async with self._pass_lock:
            for _ in range(_MAX_DRAIN_BATCHES):
                report = await self._pass()
                total.add(report)
                if report.claimed < self.settings.batch_size or self._stopping:
                    break
        log.info(
            "send now: %d processed, %d retried, %d failed",
            total.processed,
            total.retried,
            total.failed,
        )
        return total

    async def _pass(self) -> PassReport:
        report = PassReport()
        jobs = await self.store.claim(self.settings.batch_size, self.settings.lease_s)
        report.claimed = len(jobs)
        for index, job in enumerate(jobs):
            if self._stopping:
                await self._release_rest(jobs[index:], report)
                break
            await self._process(job, report)
        return report

    async def _release_rest(self, jobs: list[Job], report: PassReport) -> None:
        now = self.clock.now()
        for job in jobs:
            if await self.store.release(job, now):
                self._record(
                    report, JobOutcome(job, Status.PENDING, next_attempt_at=now, released=True)
                )

    # One job -----------------------------------------------------------------

    async def _process(self, job: Job, report: PassReport) -> None:
        """Send one claimed job and record its outcome under the job's lease."""
        target = self.targets.get(job.target_system)
        if target is None:
            error = f"no target named {job.target_system!r} is configured in this process"
            await self._retry(job, report, error, ambiguous=False)
            return

        if not await self._wait_for_slot(job, report):
            return
        if not await self.store.mark_in_flight(job, self.settings.lease_s):
            # The lease expired while the job waited for its turn, or another worker took it.
            if await self.store.release(job, self.clock.now()):
                self._record(report, JobOutcome(job, Status.PENDING, released=True))
            else:
                report.lost += 1
            return

        try:
            async with asyncio.timeout(self.settings.call_timeout_s):
                reconciled = await self._reconcile(job, target)
                result = reconciled if reconciled is not None else await target.send(job)
        except ProviderRateLimited as error:
            await self._rate_limited(job, report, error)
        except ProviderRejected as error:
            await self._rejected(job, report, error)
        except InvalidPayload as error:
            await self._fail(job, report, f"invalid payload: {error}")
        except (ProviderUnavailable, MalformedData, TimeoutError) as error:
            await self._retry(job, report, _describe(error), ambiguous=not _never_sent(error))
        except Exception as error:
            log.exception("%s: unexpected error from the target", job.describe())
            await self._retry(job, report, _describe(error), ambiguous=True)
        else:
            await self._complete(job, report, result, reconciled is not None)

    async def _wait_for_slot(self, job: Job, report: PassReport) -> bool:
        """Wait for the target's next send slot; release the job if the slot is past its lease.

        The job's budget is its lease: a pause or rate-limit wait that ends later
        reschedules the job at its slot instead of sleeping in the processor.
        """
        assert job.lease_expires_at is not None
        latest = job.lease_expires_at
        rate = self.settings.rate_limit_for(job.target_system)
        if rate > 0:
            ok, slot = await self.store.reserve_send_slot(job.target_system, 1.0 / rate, latest)
        else:
            slot = max(self.clock.now(), await self.store.paused_until(job.target_system))
            ok = slot <= latest
        if not ok:
            if await self.store.release(job, slot):
                log.info(
                    "%s: next send slot is later than the lease allows, rescheduled", job.describe()
                )
                self._record(
                    report, JobOutcome(job, Status.PENDING, next_attempt_at=slot, released=True)
                )
            return False
        wait = slot - self.clock.now()
        if wait > 0:
            await self.clock.sleep(wait)
        return True

    async def _reconcile(self, job: Job, target: WriteTarget) -> Mapping[str, Any] | None:
        if not job.ambiguous:
            return None
        found = await target.reconcile(job)
        if found is not None:
            log.info("%s: an earlier call already took effect; not sending again", job.describe())
        return found

    # Outcomes ----------------------------------------------------------------

    async def _complete(
        self, job: Job, report: PassReport, result: Mapping[str, Any] | None, reconciled: bool
    ) -> None:
        if await self.store.complete(job, result):
            log.info("%s processed (attempt %d)", job.describe(), job.attempts + 1)
            self._record(
                report,
                JobOutcome(job, Status.PROCESSED, reconciled=reconciled, result=result),
            )
        else:
            self._lost(job, report)

    async def _rate_limited(self, job: Job, report: PassReport, error: ProviderRateLimited) -> None:
        now = self.clock.now()
        if error.retry_after is not None:
            wait = max(0.0, error.retry_after)
        else:
            wait = self.backoff.delay(job.attempts + 1)
        until = await self.store.pause_target(
            job.target_system, now + wait, f"HTTP 429 for {job.describe()}"
        )
        log.warning(
            "%s: target returned 429; %s paused for %.1f s",
            job.describe(),
            job.target_system,
            until - now,
        )
        await self._retry(job, report, _describe(error), ambiguous=False, next_attempt_at=until)

    async def _rejected(self, job: Job, report: PassReport, error: ProviderRejected) -> None:
        if error.status_code is None or error.status_code in PERMANENT_STATUSES:
            await self._fail(job, report, _describe(error))
        else:
            await self._retry(job, report, _describe(error), ambiguous=False)

    async def _retry(
        self,
        job: Job,
        report: PassReport,
        error: str,
        *,
        ambiguous: bool,
        next_attempt_at: float | None = None,
    ) -> None:
        if next_attempt_at is None:
            next_attempt_at = self.clock.now() + self.backoff.delay(job.attempts + 1)
        status = await self.store.retry_later(job, error, next_attempt_at, ambiguous=ambiguous)
        if status is None:
            self._lost(job, report)
        elif status is Status.FAILED:
            log.error("%s failed after %d attempts: %s", job.describe(), job.attempts + 1, error)
            self._record(report, JobOutcome(job, Status.FAILED, error=error))
        else:
            log.warning(
                "%s attempt %d failed (%s); next attempt in %.1f s",
                job.describe(),
                job.attempts + 1,
                error,
                next_attempt_at - self.clock.now(),
            )
            self._record(
                report,
                JobOutcome(job, Status.PENDING, error=error, next_attempt_at=next_attempt_at),
            )

    async def _fail(self, job: Job, report: PassReport, error: str) -> None:
        if await self.store.fail(job, error):
            log.error("%s failed permanently: %s", job.describe(), error)
            self._record(report, JobOutcome(job, Status.FAILED, error=error))
        else:
            self._lost(job, report)

    def _lost(self, job: Job, report: PassReport) -> None:
        # Another worker took the job over after this lease expired, so its outcome is kept.
        log.warning(
            "%s: lease lost before the outcome was recorded; outcome dropped", job.describe()
        )
        report.lost += 1

    def _record(self, report: PassReport, outcome: JobOutcome) -> None:
        if outcome.released:
            report.released += 1
        elif outcome.status is Status.PROCESSED:
            report.processed += 1
        elif outcome.status is Status.FAILED:
            report.failed += 1
        else:
            report.retried += 1
        report.outcomes.append(outcome)
        if self.on_outcome is not None:
            try:
                self.on_outcome(outcome)
            except Exception:
                log.exception("queue outcome listener failed for job %s", outcome.job.job_id)


def _describe(error: BaseException) -> str:
    """Describe an error for ``last_error`` and the log: class and message, no payload."""
    if isinstance(error, TimeoutError):
        return "TimeoutError: the call did not finish before its deadline"
    if isinstance(error, ProviderRejected) and error.status_code is not None:
        return f"{type(error).__name__} (HTTP {error.status_code}): {error}"
    return f"{type(error).__name__}: {error}"


def _never_sent(error: BaseException) -> bool:
    """Tell whether the error proves the request never left this host (connection refused)."""
    cause: BaseException | None = error
    for _ in range(10):
        if cause is None:
            break
        if isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
            return True
        cause = cause.__cause__ or cause.__context__
    return False
