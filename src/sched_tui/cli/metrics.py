"""``sched-tui metrics``: serve the KPIs in Prometheus' text format.

The server computes the KPIs from the shared database at each scrape and, like
a running TUI, evaluates the alert rules and applies the retention in the
background, so a practice without a TUI open still gets alerts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from sched_tui.cli.common import load_config_or_fail
from sched_tui.config import Config
from sched_tui.monitoring.prometheus import KpiCollector, serve_metrics
from sched_tui.monitoring.runtime import Monitoring

DEFAULT_PORT = 9464


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``metrics`` subcommand."""
    from sched_tui.cli import add_config_argument

    parser = subparsers.add_parser(
        "metrics",
        help="serve the KPIs for Prometheus",
        description="Serve the KPIs of every copy sharing the database at http://HOST:PORT/ "
        "in Prometheus' text format until interrupted. Exit status: 0 when stopped, "
        "1 when the port cannot be opened, 2 for invalid usage or config.",
    )
    add_config_argument(parser)
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"TCP port (default: {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1, this host only)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted and return the exit status."""
    config = load_config_or_fail(args)
    if not 0 <= args.port <= 65535:
        print(f"sched-tui: invalid port {args.port}; expected 0 to 65535", file=sys.stderr)
        return 2
    try:
        return asyncio.run(serve(config, args.host, args.port))
    except KeyboardInterrupt:
        return 0
    except OSError as error:
        print(f"sched-tui: serving on {args.host}:{args.port} failed: {error}", file=sys.stderr)
        return 1


async def serve(config: Config, host: str, port: int, stop: asyncio.Event | None = None) -> int:
    """Serve the metrics until `stop` is set, SIGTERM arrives or the task is cancelled."""
    stop = stop or asyncio.Event()
    monitoring = await Monitoring.start(config, record=False, background=True)
    try:
        collector = KpiCollector(monitoring.scrape, asyncio.get_running_loop())
        server, thread = serve_metrics(collector, host, port)
        print(f"serving metrics on http://{host}:{server.server_address[1]}/", flush=True)
        loop = asyncio.get_running_loop()
        # Signal handlers exist only on Unix event loops in the main thread.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGTERM, stop.set)
        try:
            await stop.wait()
        finally:
            # shutdown() waits for the serving loop, which runs in another thread.
            await asyncio.to_thread(server.shutdown)
            server.server_close()
            thread.join(timeout=5)
    finally:
        await monitoring.aclose()
    return 0
