"""The write queue's table: every state change of a job is one SQL statement here.

Each change is a single statement (an ``UPDATE ... RETURNING`` or an upsert),
so it is atomic on its own and takes the write lock at once; no transaction
spans an ``await``, which keeps the shared connection free for other callers.
Changes made on behalf of a worker are conditional on the lease token it got
from `claim`: a worker whose lease expired and was taken over changes nothing.

`SQLITE_BUSY` left over after the connection's busy timeout is retried with
jittered backoff for up to ``busy_retry_s`` seconds, then raised as `QueueBusy`,
so a caller either gets its change committed or a clear error, never a silent drop.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite
from tenacity import (
    AsyncRetrying,
    RetryError,
    retry_if_exception,
    stop_after_delay,
    wait_random_exponential,
)

from sched_tui.queue.jobs import (
    CANCELLED,
    JOB_COLUMNS,
    InvalidTransition,
    Job,
    JobEvent,
    JobNotFound,
    Operation,
    QueueBusy,
    QueueStats,
    Status,
    job_from_row,
)
from sched_tui.storage import open_database

log = logging.getLogger(__name__)

# A clock: returns the current time in Unix seconds.
Now = Callable[[], float]

# SQLite primary result codes that mean "another connection holds the lock".
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6

# Rows per INSERT statement in `enqueue_many`; 11 parameters each stays far below
# SQLite's limit of 32,766 bound parameters.
_INSERT_CHUNK = 500

ERROR_TEXT_MAX = 500


def is_busy_error(error: BaseException) -> bool:
    """Tell whether `error` is SQLite reporting a lock held by another connection."""
    if not isinstance(error, sqlite3.OperationalError):
        return False
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)
    text = str(error)
    return "database is locked" in text or "database table is locked" in text


@dataclass(frozen=True, slots=True)
class NewJob:
    """A write to enqueue: what `enqueue` and `enqueue_many` take."""

    target_system: str
    operation: Operation | str
    payload: Mapping[str, Any]
    subject_id: str | None = None
    idempotency_key: str | None = None


class QueueStore:
    """Enqueue, claim and settle jobs of ``api_write_queue`` on one connection.

    `now` returns Unix seconds; tests pass a controlled clock. `max_attempts`
    bounds the sends of one job; `max_takeovers` bounds how often a job whose
    worker died mid-call is handed to another worker.
    """

    def __init__(
        self,
        connection: aiosqlite.Connection,
        *,
        now: Now = time.time,
        max_attempts: int = 8,
        max_takeovers: int = 3,
        busy_retry_s: float = 30.0,
        owner: str | None = None,
    ) -> None:
        self.connection = connection
        self.now = now
        self.max_attempts = max_attempts
        self.max_takeovers = max_takeovers
        self.busy_retry_s = busy_retry_s
        self.owner = owner or f"pid-{_pid()}"
        self._owns_connection = False

    @classmethod
    async def open(cls, path: Path, *, busy_timeout_s: float = 5.0, **options: Any) -> QueueStore:
        """Open, creating and migrating if needed, the database at `path` on its own connection."""
        connection = await open_database(path, busy_timeout_s=busy_timeout_s)
        store = cls(connection, **options)
        store._owns_connection = True
        return store

    async def aclose(self) -> None:
        """Close the connection if `open` made it."""
        if self._owns_connection:
            await self.connection.close()

    # Enqueue ---------------------------------------------------------------

    async def enqueue(
        self,
        target_system: str,
        operation: Operation | str,
        payload: Mapping[str, Any],
        *,
        subject_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Job:
        """Store a new pending job, due now, and return it.

        Raises ValueError for an unknown operation, an empty target or a payload
        that is not a JSON object, and QueueBusy when the database stays locked.
        """
        new = NewJob(target_system, operation, payload, subject_id, idempotency_key)
        rows = await self._execute(
            f"INSERT INTO api_write_queue (job_id, target_system, operation, payload, status,"
            f" next_attempt_at, idempotency_key, created_at, updated_at, subject_id)"
            f" VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?) RETURNING {JOB_COLUMNS}",
            self._insert_values(new, self.now()),
        )
        job = job_from_row(rows[0])
        log.info("enqueued %s", job.describe())
        return job

    async def enqueue_many(self, jobs: Iterable[NewJob]) -> list[str]:
        """Store many pending jobs with multi-row INSERTs; return their ids in order."""
        now = self.now()
        values = [self._insert_values(new, now) for new in jobs]
        for start in range(0, len(values), _INSERT_CHUNK):
            chunk = values[start : start + _INSERT_CHUNK]
            placeholders = ", ".join(["(?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)"] * len(chunk))
            await self._execute(
                "INSERT INTO api_write_queue (job_id, target_system, operation, payload, status,"
                " next_attempt_at, idempotency_key, created_at, updated_at, subject_id)"
                f" VALUES {placeholders}",
                [item for row in chunk for item in row],
            )
        log.info("enqueued %d jobs", len(values))
        return [row[0] for row in values]

    @staticmethod
    def _insert_values(new: NewJob, now: float) -> tuple[Any, ...]:
        operation = Operation(new.operation)
        if not new.target_system.strip():
            raise ValueError("invalid target_system: empty; expected a configured target name")
        if not isinstance(new.payload, Mapping):
            raise ValueError(
                f"invalid payload: {type(new.payload).__name__}; expected a JSON object"
            )
        payload = json.dumps(dict(new.payload), separators=(",", ":"), ensure_ascii=False)
        key = new.idempotency_key or str(uuid.uuid4())
        return (
            str(uuid.uuid4()),
            new.target_system,
            operation.value,
            payload,
            now,
            key,
            now,
            now,
            new.subject_id,
        )

    # Claim and lease -------------------------------------------------------

    async def recover_expired(self) -> int:
        """Return jobs whose lease expired to ``pending``; return how many changed.

        A job whose call had not started goes back untouched. A job whose call
        was in flight may have reached the target, so it is marked ambiguous and
        its takeover count grows; past `max_takeovers` it fails instead of
        crashing worker after worker.
        """
        now = self.now()
        rows = await self._execute(
            "UPDATE api_write_queue SET"
            " status = CASE WHEN in_flight AND takeovers + 1 > :max_takeovers"
            "   THEN 'failed' ELSE 'pending' END,"
            " last_error = CASE WHEN in_flight AND takeovers + 1 > :max_takeovers"
            "   THEN 'lease expired during the call ' || (takeovers + 1)"
            "     || ' times; the job may be crashing its worker'"
            "   WHEN in_flight THEN 'lease expired during the call; the worker stopped or stalled'"
            "   ELSE last_error END,"
            " takeovers = takeovers + in_flight,"
            " ambiguous = ambiguous OR in_flight,"
            " next_attempt_at = :now,"
            " lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL, in_flight = 0,"
            " updated_at = :now"
            " WHERE status = 'processing' AND lease_expires_at <= :now"
            " RETURNING job_id, status, takeovers",
            {"now": now, "max_takeovers": self.max_takeovers},
        )
        for job_id, status, takeovers in rows:
            if status == Status.FAILED:
                log.error(
                    "job %s failed: lease expired during the call %d times", job_id, takeovers
                )
            else:
                log.warning(
                    "job %s: lease expired, returned to pending (takeovers %d)", job_id, takeovers
                )
        return len(rows)

    async def claim(self, batch_size: int, lease_s: float) -> list[Job]:
        """Take up to `batch_size` due jobs under a new lease, in due order.

        One ``UPDATE ... RETURNING`` selects and leases the jobs, so two
        processors never take the same job. Jobs of a target paused by a 429
        stay pending. Expired leases are recovered first.
        """
        if not 1 <= batch_size <= 100:
            raise ValueError(f"invalid batch_size: {batch_size}; expected 1 to 100")
        await self.recover_expired()
        now = self.now()
        rows = await self._execute(
            "UPDATE api_write_queue SET status = 'processing', lease_token = :token,"
            " lease_owner = :owner, lease_expires_at = :expires, in_flight = 0, updated_at = :now"
            " WHERE job_id IN ("
            "   SELECT job_id FROM api_write_queue"
            "   WHERE status = 'pending' AND next_attempt_at <= :now"
            "     AND target_system NOT IN ("
            "       SELECT target_system FROM api_write_targets WHERE paused_until > :now)"
            "   ORDER BY next_attempt_at LIMIT :limit)"
            f" RETURNING {JOB_COLUMNS}",
            {
                "token": uuid.uuid4().hex,
                "owner": self.owner,
                "expires": now + lease_s,
                "now": now,
                "limit": batch_size,
            },
        )
        jobs = sorted((job_from_row(row) for row in rows), key=lambda job: job.next_attempt_at)
        if jobs:
            log.debug("claimed %d jobs as %s", len(jobs), self.owner)
        return jobs

    async def mark_in_flight(self, job: Job, lease_s: float) -> bool:
        """Record that the call for `job` starts now and renew its lease to `lease_s` from now.

        Returns False, changing nothing, when the lease is lost or already expired.
        The caller bounds the call by a deadline shorter than `lease_s`, so the call
        ends while the renewed lease still holds.
        """
        now = self.now()
        rows = await self._execute(
            "UPDATE api_write_queue SET in_flight = 1, updated_at = :now,"
            " lease_expires_at = MAX(lease_expires_at, :now + :lease_s)"
            " WHERE job_id = :job_id AND lease_token = :token AND status = 'processing'"
            " AND lease_expires_at > :now RETURNING 1",
            {"now": now, "lease_s": lease_s, "job_id": job.job_id, "token": job.lease_token},
        )
        return bool(rows)

    async def complete(self, job: Job, result: Mapping[str, Any] | None = None) -> bool:
        """Mark `job` processed; False if the lease was lost (the outcome is then not ours)."""
        now = self.now()
        rows = await self._execute(
            "UPDATE api_write_queue SET status = 'processed', attempts = attempts + 1,"
            " result = ?, lease_token = NULL, lease_expires_at = NULL, in_flight = 0,"
            " updated_at = ? WHERE job_id = ? AND lease_token = ? AND status = 'processing'"
            " RETURNING 1",
            (_json_or_none(result), now, job.job_id, job.lease_token),
        )
        return bool(rows)

    async def retry_later(
        self,
        job: Job,
        error: str,
        next_attempt_at: float,
        *,
        ambiguous: bool = False,
    ) -> Status | None:
        """Count a failed attempt and schedule the next, or fail the job at `max_attempts`.

        `ambiguous` records that the call may have reached the target. Returns the
        new status, or None if the lease was lost.
        """
        now = self.now()
        rows = await self._execute(
            "UPDATE api_write_queue SET"
            " status = CASE WHEN attempts + 1 >= :max THEN 'failed' ELSE 'pending' END,"
            " last_error = CASE WHEN attempts + 1 >= :max"
            "   THEN 'gave up after ' || (attempts + 1) || ' attempts: ' || :error ELSE :error END,"
            " attempts = attempts + 1, next_attempt_at = :next,"
            " ambiguous = ambiguous OR :ambiguous,"
            " lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL, in_flight = 0,"
            " updated_at = :now"
            " WHERE job_id = :job_id AND lease_token = :token AND status = 'processing'"
            " RETURNING status",
            {
                "max": self.max_attempts,
                "error": _clip(error),
                "next": next_attempt_at,
                "ambiguous": int(ambiguous),
                "now": now,
                "job_id": job.job_id,
                "token": job.lease_token,
            },
        )
        return Status(rows[0][0]) if rows else None

    async def fail(self, job: Job, error: str, *, count_attempt: bool = True) -> bool:
        """Mark `job` failed for good with `error` as the reason; False if the lease was lost."""
        now = self.now()
        rows = await self._execute(
            "UPDATE api_write_queue SET status = 'failed', last_error = ?,"
            " attempts = attempts + ?, lease_token = NULL, lease_owner = NULL,"
            " lease_expires_at = NULL, in_flight = 0, updated_at = ?"
            " WHERE job_id = ? AND lease_token = ? AND status = 'processing' RETURNING 1",
            (_clip(error), int(count_attempt), now, job.job_id, job.lease_token),
        )
        return bool(rows)

    async def release(self, job: Job, next_attempt_at: float) -> bool:
        """Return a claimed job that was not sent to ``pending``, without counting an attempt."""
        now = self.now()
        rows = await self._execute(
            "UPDATE api_write_queue SET status = 'pending', next_attempt_at = ?,"
            " lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL, in_flight = 0,"
            " updated_at = ?"
            " WHERE job_id = ? AND lease_token = ? AND status = 'processing' AND in_flight = 0"
            " RETURNING 1",
            (next_attempt_at, now, job.job_id, job.lease_token),
        )
        return bool(rows)

    # Staff actions ---------------------------------------------------------

    async def retry(self, job_id: str) -> Job:
        """Make a failed job pending and due now, with fresh attempt and takeover counts.

        A pending job is made due now. Raises JobNotFound, or InvalidTransition for
        a job that is processing or processed.
        """
        now = self.now()
        rows = await self._execute(
            "UPDATE api_write_queue SET status = 'pending', next_attempt_at = :now,"
            " attempts = CASE WHEN status = 'failed' THEN 0 ELSE attempts END,"
            " takeovers = CASE WHEN status = 'failed' THEN 0 ELSE takeovers END,"
            " cancelled_at = NULL, updated_at = :now"
            f" WHERE job_id = :job_id AND status IN ('pending', 'failed') RETURNING {JOB_COLUMNS}",
            {"now": now, "job_id": job_id},
        )
        if not rows:
            await self._raise_for_state(job_id, "retry")
        job = job_from_row(rows[0])
        log.info("retry requested for %s", job.describe())
        return job

    async def cancel(self, job_id: str) -> Job:
        """Cancel a pending or failed job: it becomes ``failed`` and is never sent.

        Raises JobNotFound, or InvalidTransition for a job that is processing (its
        call may be under way) or processed.
        """
        now = self.now()
        rows = await self._execute(
            "UPDATE api_write_queue SET status = 'failed', cancelled_at = :now,"
            " last_error = 'cancelled by user', updated_at = :now"
            f" WHERE job_id = :job_id AND status IN ('pending', 'failed') AND cancelled_at IS NULL"
            f" RETURNING {JOB_COLUMNS}",
            {"now": now, "job_id": job_id},
        )
        if not rows:
            await self._raise_for_state(job_id, "cancel")
        job = job_from_row(rows[0])
        log.info("cancelled %s", job.describe())
        return job

    async def _raise_for_state(self, job_id: str, action: str) -> None:
        job = await self.get(job_id)
        if job.cancelled_at is not None:
            raise InvalidTransition(f"job {job_id} is already cancelled; nothing was changed")
        raise InvalidTransition(
            f"cannot {action} job {job_id}: it is {job.status.value}; "
            f"only pending or failed jobs can be changed"
        )

    # Housekeeping ----------------------------------------------------------

    async def purge_finished(self, older_than_s: float, *, chunk: int = 5000) -> int:
        """Delete processed and staff-cancelled jobs settled more than `older_than_s` ago.

        Jobs that failed on their own stay until staff retry or cancel them, since
        each one is a write that never reached its target. Outcome events of the
        same age go too. Rows go `chunk` at a time, so the write lock is held
        briefly; returns the number of jobs deleted.
        """
        cutoff = self.now() - older_than_s
        deleted = 0
        while True:
            rows = await self._execute(
                "DELETE FROM api_write_queue WHERE job_id IN ("
                " SELECT job_id FROM api_write_queue WHERE updated_at < :cutoff AND"
                " (status = 'processed' OR (status = 'failed' AND cancelled_at IS NOT NULL))"
                " LIMIT :chunk) RETURNING 1",
                {"cutoff": cutoff, "chunk": chunk},
            )
            deleted += len(rows)
            if len(rows) < chunk:
                break
        await self._execute("DELETE FROM api_write_events WHERE at < ?", (cutoff,))
        if deleted:
            log.info("purged %d finished jobs older than %g days", deleted, older_than_s / 86_400)
        return deleted

    # Reading ---------------------------------------------------------------

    async def get(self, job_id: str) -> Job:
        """Return the job with `job_id`; raise JobNotFound if there is none."""
        rows = await self._execute(
            f"SELECT {JOB_COLUMNS} FROM api_write_queue WHERE job_id = ?", (job_id,)
        )
        if not rows:
            raise JobNotFound(f"job {job_id} not found; `sched-tui queue list` shows the job ids")
        return job_from_row(rows[0])

    async def resolve_id(self, text: str) -> str:
        """Return the id of the one job whose id is `text` or starts with it.

        Raises JobNotFound when no job matches, or when several do.
        """
        prefix = text.strip()
        if not prefix:
            raise JobNotFound("no job id given; `sched-tui queue list` shows the job ids")
        rows = await self._execute(
            "SELECT job_id FROM api_write_queue WHERE job_id = :id"
            " UNION SELECT job_id FROM api_write_queue WHERE substr(job_id, 1, :length) = :id"
            " LIMIT 3",
            {"id": prefix, "length": len(prefix)},
        )
        ids = sorted({row[0] for row in rows})
        if prefix in ids:
            return prefix
        if len(ids) == 1:
            return str(ids[0])
        if not ids:
            raise JobNotFound(f"job {prefix} not found; `sched-tui queue list` shows the job ids")
        raise JobNotFound(
            f"job id {prefix} matches several jobs; give more of it (`sched-tui queue list`)"
        )

    async def list_jobs(
        self,
        statuses: Sequence[Status | str] = (),
        *,
        target_system: str | None = None,
        include_cancelled: bool = True,
        limit: int = 100,
    ) -> list[Job]:
        """Return jobs, oldest first, optionally filtered by state and target.

        A state is a Status or ``"cancelled"``. ``failed`` then means failed on
        its own, and ``cancelled`` the jobs staff cancelled.
        """
        clauses = []
        params: list[Any] = []
        if statuses:
            states = []
            for state in dict.fromkeys(str(status) for status in statuses):
                if state == CANCELLED:
                    states.append("cancelled_at IS NOT NULL")
                elif Status(state) is Status.FAILED:
                    states.append("(status = 'failed' AND cancelled_at IS NULL)")
                else:
                    states.append("status = ?")
                    params.append(Status(state).value)
            clauses.append(f"({' OR '.join(states)})")
        if target_system:
            clauses.append("target_system = ?")
            params.append(target_system)
        if not include_cancelled:
            clauses.append("cancelled_at IS NULL")
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        params.append(limit)
        rows = await self._execute(
            f"SELECT {JOB_COLUMNS} FROM api_write_queue{where} ORDER BY created_at, job_id LIMIT ?",
            params,
        )
        return [job_from_row(row) for row in rows]

    async def stats(self) -> QueueStats:
        """Count jobs by state and target at this moment."""
        now = self.now()
        rows = await self._execute(
            "SELECT target_system,"
            f" CASE WHEN cancelled_at IS NULL THEN status ELSE '{CANCELLED}' END AS state,"
            " SUM(status = 'pending' AND next_attempt_at <= :now),"
            " SUM(status = 'processing' AND lease_expires_at <= :now),"
            " COUNT(*), MIN(CASE WHEN status = 'pending' THEN created_at END)"
            " FROM api_write_queue GROUP BY target_system, state",
            {"now": now},
        )
        counts = {"pending_due": 0, "pending_scheduled": 0, "in_flight": 0, "stale": 0}
        finished = {Status.PROCESSED.value: 0, Status.FAILED.value: 0, CANCELLED: 0}
        by_target: dict[str, dict[str, int]] = {}
        oldest: float | None = None
        for target, status, due, stale, count, oldest_created in rows:
            by_target.setdefault(target, {})[status] = count
            if status == Status.PENDING:
                counts["pending_due"] += due
                counts["pending_scheduled"] += count - due
                oldest = oldest_created if oldest is None else min(oldest, oldest_created)
            elif status == Status.PROCESSING:
                counts["stale"] += stale
                counts["in_flight"] += count - stale
            else:
                finished[status] += count
        return QueueStats(
            **counts,
            processed=finished[Status.PROCESSED.value],
            failed=finished[Status.FAILED.value],
            oldest_pending_at=oldest,
            paused_targets=await self.paused_targets(),
            by_target=by_target,
            cancelled=finished[CANCELLED],
        )

    async def next_due_at(self) -> float | None:
        """Return when the earliest pending job may be sent (its pause included), or None."""
        rows = await self._execute(
            "SELECT MIN(MAX(queue.next_attempt_at, COALESCE(targets.paused_until, 0)))"
            " FROM api_write_queue AS queue LEFT JOIN api_write_targets AS targets"
            " USING (target_system) WHERE queue.status = 'pending'"
        )
        return None if rows[0][0] is None else float(rows[0][0])

    async def events_after(self, seq: int, limit: int = 500) -> list[JobEvent]:
        """Return outcomes (processed, failed) recorded after sequence number `seq`."""
        rows = await self._execute(
            "SELECT seq, job_id, status, at FROM api_write_events"
            " WHERE seq > ? ORDER BY seq LIMIT ?",
            (seq, limit),
        )
        return [JobEvent(int(row[0]), row[1], Status(row[2]), float(row[3])) for row in rows]

    async def last_event_seq(self) -> int:
        """Return the sequence number of the newest outcome, 0 if there is none."""
        rows = await self._execute("SELECT COALESCE(MAX(seq), 0) FROM api_write_events")
        return int(rows[0][0])

    # Per-target state --------------------------------------------------------

    async def pause_target(self, target_system: str, until: float, reason: str) -> float:
        """Stop every processor sending to `target_system` before `until`; return the pause end.

        A pause never shortens one already set by another processor.
        """
        rows = await self._execute(
            "INSERT INTO api_write_targets (target_system, paused_until, pause_reason)"
            " VALUES (:target, :until, :reason)"
            " ON CONFLICT (target_system) DO UPDATE SET"
            " pause_reason = CASE WHEN :until > paused_until THEN :reason ELSE pause_reason END,"
            " paused_until = MAX(paused_until, :until)"
            " RETURNING paused_until",
            {"target": target_system, "until": until, "reason": _clip(reason)},
        )
        return float(rows[0][0])

    async def paused_until(self, target_system: str) -> float:
        """Return the end of the target's pause (0 when it was never paused)."""
        rows = await self._execute(
            "SELECT paused_until FROM api_write_targets WHERE target_system = ?", (target_system,)
        )
        return float(rows[0][0]) if rows else 0.0

    async def paused_targets(self) -> dict[str, float]:
        """Return the targets paused at this moment, with the end of each pause."""
        rows = await self._execute(
            "SELECT target_system, paused_until FROM api_write_targets WHERE paused_until > ?",
            (self.now(),),
        )
        return {row[0]: float(row[1]) for row in rows}

    async def reserve_send_slot(
        self, target_system: str, interval_s: float, latest: float
    ) -> tuple[bool, float]:
        """Reserve the target's next send time under its rate limit and any pause.

        Every processor on the database shares the reservations, so together they
        send at most one request per `interval_s` to the target. The slot is the
        later of now, the end of the pause and the previous slot plus
        `interval_s`. Returns (True, slot) when the slot is no later than
        `latest`, else (False, slot) without reserving it.
        """
        now = self.now()
        await self._execute(
            "INSERT OR IGNORE INTO api_write_targets (target_system) VALUES (?)", (target_system,)
        )
        rows = await self._execute(
            "UPDATE api_write_targets SET next_send_at = MAX(next_send_at, paused_until, :now)"
            " + :interval WHERE target_system = :target"
            " AND MAX(next_send_at, paused_until, :now) <= :latest"
            " RETURNING next_send_at - :interval",
            {"now": now, "interval": interval_s, "target": target_system, "latest": latest},
        )
        if rows:
            return True, float(rows[0][0])
        rows = await self._execute(
            "SELECT MAX(next_send_at, paused_until, ?) FROM api_write_targets"
            " WHERE target_system = ?",
            (now, target_system),
        )
        return False, float(rows[0][0])

    # Execution -------------------------------------------------------------

    async def _execute(self, sql: str, params: Any = ()) -> list[Any]:
        """Run one statement and fetch its rows, retrying while the database is locked."""
        retrying = AsyncRetrying(
            retry=retry_if_exception(is_busy_error),
            wait=wait_random_exponential(multiplier=0.02, max=1.0),
            stop=stop_after_delay(self.busy_retry_s),
            before_sleep=_log_busy_retry,
            reraise=False,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return list(await self.connection.execute_fetchall(sql, params))
        except RetryError as error:
            raise QueueBusy(
                f"the queue database stayed locked for {self.busy_retry_s:g} s; "
                "other copies of sched-tui are writing, try again"
            ) from error.last_attempt.exception()
        raise AssertionError("unreachable: AsyncRetrying returns or raises")


def _log_busy_retry(state: Any) -> None:
    if state.attempt_number in (1, 10, 100):
        log.warning("queue database locked, retrying (attempt %d)", state.attempt_number)


def _json_or_none(value: Mapping[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(dict(value), separators=(",", ":"))


def _clip(text: str) -> str:
    return text if len(text) <= ERROR_TEXT_MAX else text[: ERROR_TEXT_MAX - 1] + "…"


def _pid() -> int:
    import os

    return os.getpid()
