"""External systems the queue writes to, behind one small interface.

A target sends one job and raises the typed errors of
`sched_tui.providers.base` on failure; the processor turns those errors into
retries, pauses or permanent failures. `reconcile` looks at the target to see
whether an earlier, ambiguous call already took effect, so the processor does
not send the write a second time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from sched_tui.queue.jobs import Job


class InvalidPayload(Exception):
    """The job's payload cannot be sent as it is; retrying will not help.

    The message names the missing or wrong field, never its value.
    """


@runtime_checkable
class WriteTarget(Protocol):
    """One external system that accepts queued writes."""

    async def send(self, job: Job) -> Mapping[str, Any] | None:
        """Perform the job's write once, passing `job.idempotency_key` along.

        Returns what the target reports (for example the new appointment id).
        Raises ProviderRateLimited, ProviderRejected, ProviderUnavailable,
        MalformedData or InvalidPayload.
        """
        ...

    async def reconcile(self, job: Job) -> Mapping[str, Any] | None:
        """Return the write's result if an earlier call already took effect, else None.

        Called before resending a job whose earlier call may have reached the
        target (a timeout, a reset connection or a worker that died mid-call).
        Raises the same errors as `send`.
        """
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


class NoopTarget:
    """A target that accepts every write at once without sending anything.

    Used by the queue benchmark to measure the queue itself, and by tests.
    """

    def __init__(self) -> None:
        self.sent = 0

    async def send(self, job: Job) -> Mapping[str, Any] | None:
        """Count the job and report success."""
        self.sent += 1
        return None

    async def reconcile(self, job: Job) -> Mapping[str, Any] | None:
        """Report that nothing was written before."""
        return None

    async def aclose(self) -> None:
        """Nothing to release."""
