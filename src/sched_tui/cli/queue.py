"""``sched-tui queue``: list, count, retry and cancel jobs of the write queue.

Payloads carry patient data, so no subcommand prints them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime, tzinfo
from typing import Any

from sched_tui.cli.common import load_config_or_fail
from sched_tui.config import Config
from sched_tui.queue import CANCELLED, Job, QueueError, QueueStats, QueueStore, Status

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``queue`` subcommand and its actions."""
    from sched_tui.cli import add_config_argument

    parser = subparsers.add_parser(
        "queue",
        help="inspect and manage queued writes (bookings, reschedules, cancels)",
        description="Inspect and manage the queue of writes to external systems. Exit status: "
        "0 on success, 1 when the job is not found or cannot be changed or the database stays "
        "locked, 2 for invalid usage or config.",
    )
    add_config_argument(parser)
    actions = parser.add_subparsers(dest="queue_action", metavar="ACTION", required=True)

    list_parser = actions.add_parser("list", help="list jobs, oldest first")
    add_config_argument(list_parser)
    list_parser.add_argument(
        "--status",
        action="append",
        choices=[*(status.value for status in Status), CANCELLED],
        help="show only jobs in this state; repeat for several (default: pending, "
        "processing and failed; cancelled jobs are listed only when asked for)",
    )
    list_parser.add_argument("--target", help="show only jobs for this target")
    list_parser.add_argument(
        "--limit", type=int, default=100, help="show at most this many jobs (default: 100)"
    )
    list_parser.add_argument("--json", action="store_true", help="print one JSON array")
    list_parser.set_defaults(handler=run_list)

    stats_parser = actions.add_parser("stats", help="count jobs by state")
    add_config_argument(stats_parser)
    stats_parser.add_argument("--json", action="store_true", help="print one JSON object")
    stats_parser.set_defaults(handler=run_stats)

    retry_parser = actions.add_parser(
        "retry", help="send a failed job again, with fresh attempts, or a pending one now"
    )
    add_config_argument(retry_parser)
    retry_parser.add_argument(
        "job_id", metavar="JOB_ID", help="the job id, or its start as the queue pane shows it"
    )
    retry_parser.set_defaults(handler=run_retry)

    cancel_parser = actions.add_parser("cancel", help="cancel a pending or failed job")
    add_config_argument(cancel_parser)
    cancel_parser.add_argument(
        "job_id", metavar="JOB_ID", help="the job id, or its start as the queue pane shows it"
    )
    cancel_parser.set_defaults(handler=run_cancel)


def run_list(args: argparse.Namespace) -> int:
    """Print jobs as a table or JSON."""
    statuses = args.status or [Status.PENDING, Status.PROCESSING, Status.FAILED]

    async def fetch(store: QueueStore) -> list[Job]:
        return await store.list_jobs(statuses, target_system=args.target, limit=args.limit)

    return _run(
        args,
        fetch,
        lambda jobs, config: _print_jobs(jobs, config.practice.tz, as_json=args.json),
    )


def run_stats(args: argparse.Namespace) -> int:
    """Print queue depth by state."""

    async def fetch(store: QueueStore) -> QueueStats:
        return await store.stats()

    return _run(args, fetch, lambda stats, _config: _print_stats(stats, as_json=args.json))


def run_retry(args: argparse.Namespace) -> int:
    """Make a job pending and due now."""

    async def change(store: QueueStore) -> Job:
        return await store.retry(await store.resolve_id(args.job_id))

    return _run(args, change, lambda job, _config: print(f"job {job.job_id} is pending, due now"))


def run_cancel(args: argparse.Namespace) -> int:
    """Cancel a job so it is never sent."""

    async def change(store: QueueStore) -> Job:
        return await store.cancel(await store.resolve_id(args.job_id))

    return _run(args, change, lambda job, _config: print(f"job {job.job_id} cancelled"))


def _run(args: argparse.Namespace, action: Any, show: Any) -> int:
    config = load_config_or_fail(args)
    try:
        result = asyncio.run(_with_store(config, action))
    except QueueError as error:
        print(f"sched-tui: {error}", file=sys.stderr)
        return EXIT_FAILED
    show(result, config)
    return EXIT_OK


async def _with_store(config: Config, action: Any) -> Any:
    store = await QueueStore.open(
        config.storage.path,
        busy_timeout_s=config.storage.busy_timeout_s,
        busy_retry_s=config.queue.busy_retry_s,
    )
    try:
        return await action(store)
    finally:
        await store.aclose()


def job_to_json(job: Job) -> dict[str, Any]:
    """Describe one job without its payload, as ``queue list --json`` prints it."""
    return {
        "job_id": job.job_id,
        "target_system": job.target_system,
        "operation": job.operation.value,
        # "cancelled" for a job staff cancelled, as in the text listing.
        "status": job.state,
        "cancelled_at": _iso(job.cancelled_at),
        "attempts": job.attempts,
        "next_attempt_at": _iso(job.next_attempt_at),
        "last_error": job.last_error,
        "idempotency_key": job.idempotency_key,
        "subject_id": job.subject_id,
        "created_at": _iso(job.created_at),
        "updated_at": _iso(job.updated_at),
        "lease_owner": job.lease_owner,
        "lease_expires_at": _iso(job.lease_expires_at),
        "takeovers": job.takeovers,
        "ambiguous": job.ambiguous,
        "result": job.result,
    }


def stats_to_json(stats: QueueStats) -> dict[str, Any]:
    """Describe queue depth, as ``queue stats --json`` prints it."""
    return {
        "pending": stats.pending,
        "pending_due": stats.pending_due,
        "pending_scheduled": stats.pending_scheduled,
        "in_flight": stats.in_flight,
        "stale": stats.stale,
        "processed": stats.processed,
        "failed": stats.failed,
        "cancelled": stats.cancelled,
        "depth": stats.depth,
        "total": stats.total,
        "oldest_pending_at": _iso(stats.oldest_pending_at),
        "paused_targets": {name: _iso(until) for name, until in stats.paused_targets.items()},
        "by_target": stats.by_target,
    }


def _print_jobs(jobs: list[Job], tz: tzinfo, *, as_json: bool) -> None:
    if as_json:
        json.dump([job_to_json(job) for job in jobs], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    if not jobs:
        print("no jobs")
        return
    print(
        f"{'JOB ID':36}  {'QUEUED':16}  {'TARGET':16}  {'OPERATION':10}  {'STATUS':10}  "
        "ATT  NEXT ATTEMPT"
    )
    for job in jobs:
        next_attempt = _local(job.next_attempt_at, tz) if job.status is Status.PENDING else "-"
        line = (
            f"{job.job_id:36}  {_local(job.created_at, tz):16}  {job.target_system[:16]:16}  "
            f"{job.operation.value:10}  {job.state:10}  {job.attempts:>3}  {next_attempt}"
        )
        print(line)
        if job.last_error:
            print(f"    last error: {job.last_error}")


def _local(moment: float, tz: tzinfo) -> str:
    """Render a time in the practice's zone, as the TUI does: "Fri 04 Dec 18:06"."""
    return f"{datetime.fromtimestamp(moment, tz):%a %d %b %H:%M}"


def _print_stats(stats: QueueStats, *, as_json: bool) -> None:
    if as_json:
        json.dump(stats_to_json(stats), sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    due, later = stats.pending_due, stats.pending_scheduled
    print(f"pending:    {stats.pending} ({due} due now, {later} later)")
    print(f"in flight:  {stats.in_flight}")
    print(f"stale:      {stats.stale} (lease expired; returned to pending by the next claim)")
    print(f"processed:  {stats.processed}")
    print(f"failed:     {stats.failed}")
    print(f"cancelled:  {stats.cancelled}")
    for name, until in sorted(stats.paused_targets.items()):
        print(f"paused:     {name} until {_iso(until)}")


def _iso(moment: float | None) -> str | None:
    if moment is None:
        return None
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds")
