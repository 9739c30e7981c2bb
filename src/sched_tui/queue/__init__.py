"""The durable write queue: every booking, reschedule and cancel sent to an external system.

Nothing in the app writes to an external API directly. The TUI and the command
line call `QueueStore.enqueue`, which stores a job in the ``api_write_queue``
table of the shared database; a `Processor` (inside the TUI, or the headless
``sched-tui worker``) claims due jobs under a lease and sends them through a
`WriteTarget`, retrying with jittered exponential backoff. `QueueRuntime` puts
these together from the configuration.
"""

from sched_tui.queue.backoff import Backoff, parse_retry_after
from sched_tui.queue.clock import Clock, SystemClock
from sched_tui.queue.jobs import (
    CANCELLED,
    InvalidTransition,
    Job,
    JobEvent,
    JobNotFound,
    Operation,
    QueueBusy,
    QueueError,
    QueueStats,
    Status,
)
from sched_tui.queue.processor import JobOutcome, PassReport, Processor
from sched_tui.queue.runtime import QueueRuntime, build_targets
from sched_tui.queue.store import NewJob, QueueStore
from sched_tui.queue.targets import InvalidPayload, NoopTarget, WriteTarget

__all__ = [
    "CANCELLED",
    "Backoff",
    "Clock",
    "InvalidPayload",
    "InvalidTransition",
    "Job",
    "JobEvent",
    "JobNotFound",
    "JobOutcome",
    "NewJob",
    "NoopTarget",
    "Operation",
    "PassReport",
    "Processor",
    "QueueBusy",
    "QueueError",
    "QueueRuntime",
    "QueueStats",
    "QueueStore",
    "Status",
    "SystemClock",
    "WriteTarget",
    "build_targets",
    "parse_retry_after",
]
