"""``sched-tui worker``: send queued writes without a terminal UI, for a server.

Several workers, and TUIs, may run on one database. SIGTERM or SIGINT lets the
call under way finish, returns the batch's unsent jobs to pending and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from sched_tui.cli.common import load_config_or_fail
from sched_tui.config import Config
from sched_tui.queue import QueueError, QueueRuntime

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``worker`` subcommand."""
    from sched_tui.cli import add_config_argument

    parser = subparsers.add_parser(
        "worker",
        help="send queued writes in the foreground until stopped",
        description="Run the write queue's processor without a terminal UI. It claims up to "
        "queue.batch_size due jobs every queue.interval_s seconds. SIGTERM or SIGINT finishes "
        "the call under way and exits. Exit status: 0 after a clean stop, 1 when the database "
        "could not be used, 2 for invalid usage or config.",
    )
    add_config_argument(parser)
    parser.add_argument(
        "--once",
        action="store_true",
        help="send every job due now, batch after batch within the rate limits, then exit",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the worker and return the exit status."""
    config = load_config_or_fail(args)
    try:
        return asyncio.run(work(config, once=args.once))
    except QueueError as error:
        print(f"sched-tui: {error}", file=sys.stderr)
        return 1


async def work(config: Config, *, once: bool) -> int:
    """Process jobs until a signal arrives (or, with `once`, until no job is due)."""
    runtime = await QueueRuntime.open(config)
    try:
        if once:
            report = await runtime.processor.drain_now()
            print(
                f"processed {report.processed}, retry scheduled {report.retried}, "
                f"failed {report.failed}, rescheduled unsent {report.released}"
            )
            return 0
        loop = asyncio.get_running_loop()
        task = runtime.processor.start()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, _request_stop, runtime, signum)
        print(f"worker started on {config.storage.path}; stop with SIGTERM or Ctrl-C", flush=True)
        await task
        return 0
    finally:
        await runtime.aclose()


def _request_stop(runtime: QueueRuntime, signum: int) -> None:
    log.info("worker received %s; finishing the current job", signal.Signals(signum).name)
    runtime.processor.request_stop()
