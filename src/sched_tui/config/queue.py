"""``[queue]``: the durable queue of writes to external systems and its processor.

Example::

    [queue]
    interval_s = 60
    batch_size = 10
    max_attempts = 8

    [queue.rate_limits]
    zocdoc = 5

Keys of ``[queue.rate_limits]`` are target names: the ``name`` of a
``[[providers]]`` entry that accepts writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sched_tui.config.reader import Table


@dataclass(frozen=True, slots=True)
class QueueConfig:
    """``[queue]``: how often, how fast and how persistently queued writes are sent."""

    # Seconds from the end of one processor pass to the start of the next.
    interval_s: float = 60.0
    # Most jobs one pass claims, from 1 to 100.
    batch_size: int = 10
    # Sends of one job before it fails for good.
    max_attempts: int = 8
    # Deadline of one send, the check for an earlier ambiguous send included, in seconds.
    call_timeout_s: float = 30.0
    # How long a claimed job stays reserved for its worker, in seconds; renewed when
    # its call starts. Must exceed call_timeout_s, so a call cut at its deadline
    # still ends within the lease.
    lease_s: float = 120.0
    # Times a job's lease may expire during its call (its worker died or stalled)
    # before the job fails instead of being handed to another worker.
    max_takeovers: int = 3
    # Backoff with full jitter: the wait after failed attempt n is drawn uniformly
    # from 0 to min(backoff_cap_s, backoff_base_s * 2 ** (n - 1)) seconds.
    backoff_base_s: float = 30.0
    backoff_cap_s: float = 900.0
    # How long one queue statement keeps retrying while other copies hold the
    # database's write lock, in seconds, before the caller gets an error.
    busy_retry_s: float = 30.0
    # Requests per second to a target that has no entry in rate_limits; 0 means no limit.
    default_rate_limit_per_s: float = 5.0
    # Days a processed (or staff-cancelled) job stays in the database for the
    # queue pane and `queue list`; 0 keeps them forever. Failed jobs stay until
    # staff retry or cancel them.
    keep_finished_days: float = 30.0
    # ``[queue.rate_limits]``: requests per second per target name; 0 means no limit.
    # The limit is shared by every processor on the database.
    rate_limits: Mapping[str, float] = field(default_factory=dict)

    def rate_limit_for(self, target_system: str) -> float:
        """Return the target's limit in requests per second (0 for none)."""
        return self.rate_limits.get(target_system, self.default_rate_limit_per_s)


def parse_queue(root: Table) -> QueueConfig:
    """Read and validate ``[queue]`` and ``[queue.rate_limits]``."""
    table = root.table("queue")
    call_timeout_s = table.number("call_timeout_s", 30.0, 0.1, 600)
    lease_s = table.number("lease_s", 120.0, 1, 86_400)
    if lease_s <= call_timeout_s:
        raise table.error(
            "lease_s", lease_s, f"more than queue.call_timeout_s ({call_timeout_s:g})"
        )
    backoff_base_s = table.number("backoff_base_s", 30.0, 0.01, 3600)
    backoff_cap_s = table.number("backoff_cap_s", 900.0, 0.01, 86_400)
    if backoff_cap_s < backoff_base_s:
        raise table.error(
            "backoff_cap_s", backoff_cap_s, f"at least queue.backoff_base_s ({backoff_base_s:g})"
        )

    limits_table = table.table("rate_limits")
    rate_limits = {
        name: limits_table.number(name, 0.0, 0.0, 10_000) for name in list(limits_table.data)
    }
    return QueueConfig(
        interval_s=table.number("interval_s", 60.0, 0.01, 86_400),
        batch_size=table.integer("batch_size", 10, 1, 100),
        max_attempts=table.integer("max_attempts", 8, 1, 1000),
        call_timeout_s=call_timeout_s,
        lease_s=lease_s,
        max_takeovers=table.integer("max_takeovers", 3, 0, 1000),
        backoff_base_s=backoff_base_s,
        backoff_cap_s=backoff_cap_s,
        busy_retry_s=table.number("busy_retry_s", 30.0, 0.1, 3600),
        default_rate_limit_per_s=table.number("default_rate_limit_per_s", 5.0, 0.0, 10_000),
        keep_finished_days=table.number("keep_finished_days", 30.0, 0.0, 36_500),
        rate_limits=rate_limits,
    )
