"""Jobs of the write queue: their fields, states and the errors of the queue API."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """Where a job is in its life.

    ``pending`` waits for ``next_attempt_at``; ``processing`` is claimed by a worker
    under a lease; ``processed`` reached the target; ``failed`` will not be sent
    again unless staff retry it.
    """

    PENDING = "pending"
    PROCESSING = "processing"
    PROCESSED = "processed"
    FAILED = "failed"


# The state staff see for a job they cancelled: stored as status ``failed`` with
# ``cancelled_at`` set, so it is never claimed.
CANCELLED = "cancelled"


class Operation(StrEnum):
    """The kind of write a job carries."""

    CREATE = "create"
    RESCHEDULE = "reschedule"
    CANCEL = "cancel"


class QueueError(Exception):
    """A queue operation failed; the message is fit to show to staff."""


class QueueBusy(QueueError):
    """The database stayed locked by other processes longer than the busy retry budget."""


class JobNotFound(QueueError):
    """No job has the given id."""


class InvalidTransition(QueueError):
    """The job is in a state that does not allow the requested action."""


@dataclass(frozen=True, slots=True)
class Job:
    """One row of ``api_write_queue``.

    `payload` may carry patient data: it is sent to the target and stored, but
    never logged or printed by the queue.
    """

    job_id: str
    target_system: str
    operation: Operation
    payload: dict[str, Any]
    status: Status
    attempts: int
    next_attempt_at: float
    last_error: str | None
    idempotency_key: str
    created_at: float
    updated_at: float
    subject_id: str | None
    lease_token: str | None
    lease_owner: str | None
    lease_expires_at: float | None
    in_flight: bool
    takeovers: int
    ambiguous: bool
    result: dict[str, Any] | None
    # When staff cancelled the job (its status is then ``failed``), else None.
    cancelled_at: float | None = None

    @property
    def state(self) -> str:
        """The status as staff read it: ``cancelled`` for a job staff cancelled."""
        return CANCELLED if self.cancelled_at is not None else self.status.value

    def describe(self) -> str:
        """Name the job for logs: ids, target and operation, never the payload."""
        return f"job {self.job_id} ({self.operation.value} on {self.target_system})"


# Column order used by every SELECT and RETURNING of the store.
JOB_COLUMNS = (
    "job_id, target_system, operation, payload, status, attempts, next_attempt_at, last_error,"
    " idempotency_key, created_at, updated_at, subject_id, lease_token, lease_owner,"
    " lease_expires_at, in_flight, takeovers, ambiguous, result, cancelled_at"
)


def job_from_row(row: Any) -> Job:
    """Build a Job from a row in `JOB_COLUMNS` order."""
    return Job(
        job_id=row[0],
        target_system=row[1],
        operation=Operation(row[2]),
        payload=json.loads(row[3]),
        status=Status(row[4]),
        attempts=int(row[5]),
        next_attempt_at=float(row[6]),
        last_error=row[7],
        idempotency_key=row[8],
        created_at=float(row[9]),
        updated_at=float(row[10]),
        subject_id=row[11],
        lease_token=row[12],
        lease_owner=row[13],
        lease_expires_at=None if row[14] is None else float(row[14]),
        in_flight=bool(row[15]),
        takeovers=int(row[16]),
        ambiguous=bool(row[17]),
        result=None if row[18] is None else json.loads(row[18]),
        cancelled_at=None if row[19] is None else float(row[19]),
    )


@dataclass(frozen=True, slots=True)
class QueueStats:
    """Queue depth at one moment, for the status line, the queue pane and ``queue stats``.

    In-flight jobs (claimed under a live lease) are counted apart from pending
    ones; ``stale`` jobs are claimed under a lease that has expired, so the next
    claim returns them to ``pending``.
    """

    pending_due: int
    pending_scheduled: int
    in_flight: int
    stale: int
    processed: int
    # Jobs that failed on their own and need staff attention. Cancelled jobs count in `cancelled`.
    failed: int
    oldest_pending_at: float | None
    paused_targets: dict[str, float]
    by_target: dict[str, dict[str, int]]
    # Cancelled by staff: never sent, and nothing left to do.
    cancelled: int = 0

    @property
    def pending(self) -> int:
        """Jobs waiting to be claimed, due now or later."""
        return self.pending_due + self.pending_scheduled

    @property
    def processing(self) -> int:
        """Jobs in status ``processing``, live or stale."""
        return self.in_flight + self.stale

    @property
    def depth(self) -> int:
        """Jobs not yet finished: pending plus processing."""
        return self.pending + self.processing

    @property
    def total(self) -> int:
        """Every job ever enqueued and still stored."""
        return self.depth + self.processed + self.failed + self.cancelled


@dataclass(frozen=True, slots=True)
class JobEvent:
    """A job reached ``processed`` or ``failed``; `seq` orders events across processes."""

    seq: int
    job_id: str
    status: Status
    at: float
