"""The KPIs in Prometheus' text format, served by prometheus-client.

`KpiCollector` computes the KPIs at each scrape. prometheus-client calls it on
its server thread, so it hands the computation to the asyncio loop that owns
the database connection and waits for the result.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from sched_tui.config import AlertRuleConfig
from sched_tui.monitoring import kpi
from sched_tui.monitoring.alerts import FIRING, ActiveAlert
from sched_tui.monitoring.rules import METRIC_PREFIX, format_duration

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Scrape:
    """The KPIs, extra windows and alerts of one scrape."""

    snapshot: kpi.KpiSnapshot
    # Error rates of the windows the rules use, besides the snapshot's.
    error_rates: tuple[kpi.ErrorRate, ...]
    # P95s of the windows the rules use, besides the snapshot's.
    percentiles: tuple[kpi.Percentile, ...]
    alerts: tuple[ActiveAlert, ...]


def extra_windows(rules: Sequence[AlertRuleConfig]) -> tuple[set[int], set[int]]:
    """Return the error-rate and latency windows rules use beyond the standard ones."""
    error_windows = {
        rule.window_s for rule in rules if rule.kpi in ("error_rate", "rate_limited_calls")
    }
    latency_windows = {rule.window_s for rule in rules if rule.kpi == "p95_latency_ms"}
    return (
        error_windows - {kpi.ERROR_RATE_WINDOW_S},
        latency_windows - set(kpi.LATENCY_WINDOWS_S),
    )


class KpiCollector(Collector):
    """A prometheus-client collector that reports a fresh `Scrape` each time."""

    def __init__(
        self,
        scrape: Callable[[], Awaitable[Scrape]],
        loop: asyncio.AbstractEventLoop,
        *,
        timeout_s: float = 10.0,
    ) -> None:
        self._scrape = scrape
        self._loop = loop
        self._timeout_s = timeout_s

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Compute the KPIs on the event loop and yield them as gauges."""
        future = asyncio.run_coroutine_threadsafe(_call(self._scrape), self._loop)
        scrape = future.result(self._timeout_s)
        yield from metric_families(scrape)


async def _call(scrape: Callable[[], Awaitable[Scrape]]) -> Scrape:
    return await scrape()


def metric_families(scrape: Scrape) -> Iterator[GaugeMetricFamily]:
    """Yield the gauges of one scrape; a KPI without data is left out rather than reported as 0."""
    snapshot = scrape.snapshot

    p95 = GaugeMetricFamily(
        f"{METRIC_PREFIX}_call_latency_p95_milliseconds",
        "95th percentile latency per call name over the window (nearest rank), in ms.",
        labels=["call", "window"],
    )
    samples = GaugeMetricFamily(
        f"{METRIC_PREFIX}_call_latency_samples",
        "Calls with a latency per call name in the window.",
        labels=["call", "window"],
    )
    for item in (*snapshot.latency, *scrape.percentiles):
        labels = [item.name, format_duration(item.window_s)]
        samples.add_metric(labels, item.samples)
        if item.p95_ms is not None:
            p95.add_metric(labels, item.p95_ms)
    yield p95
    yield samples

    rate = GaugeMetricFamily(
        f"{METRIC_PREFIX}_error_rate_percent",
        "Failed external calls and backend functions in % of those with an outcome.",
        labels=["window"],
    )
    calls = GaugeMetricFamily(
        f"{METRIC_PREFIX}_calls",
        "External calls and backend functions with an outcome in the window.",
        labels=["window"],
    )
    limited = GaugeMetricFamily(
        f"{METRIC_PREFIX}_rate_limited_calls",
        "Calls answered HTTP 429 in the window; not counted as failures.",
        labels=["window"],
    )
    for error_rate in (snapshot.error_rate, *scrape.error_rates):
        window = [format_duration(error_rate.window_s)]
        calls.add_metric(window, error_rate.calls)
        limited.add_metric(window, error_rate.rate_limited)
        if error_rate.percent is not None:
            rate.add_metric(window, error_rate.percent)
    yield rate
    yield calls
    yield limited

    if snapshot.queue_depth is not None:
        yield GaugeMetricFamily(
            f"{METRIC_PREFIX}_queue_depth",
            "Pending jobs in the write queue.",
            value=snapshot.queue_depth,
        )

    cache_window = [format_duration(kpi.CACHE_WINDOW_S)]
    lookups = GaugeMetricFamily(
        f"{METRIC_PREFIX}_cache_lookups", "Cache hits plus misses.", labels=["window"]
    )
    lookups.add_metric(cache_window, snapshot.cache.lookups)
    yield lookups
    if snapshot.cache.ratio is not None:
        ratio = GaugeMetricFamily(
            f"{METRIC_PREFIX}_cache_hit_ratio",
            "Cache hits over lookups, from 0 to 1.",
            labels=["window"],
        )
        ratio.add_metric(cache_window, snapshot.cache.ratio)
        yield ratio

    alerts = GaugeMetricFamily(
        f"{METRIC_PREFIX}_alert_firing",
        "1 for each alert rule of sched-tui that fires, 0 while it is pending.",
        labels=["rule", "severity"],
    )
    for alert in scrape.alerts:
        alerts.add_metric(
            [alert.rule.name, alert.rule.severity], 1.0 if alert.state.state == FIRING else 0.0
        )
    yield alerts


def serve_metrics(
    collector: Collector, host: str = "127.0.0.1", port: int = 9464
) -> tuple[WSGIServer, threading.Thread]:
    """Serve `collector` alone on http://host:port/ from a daemon thread.

    Port 0 picks a free port, readable from ``server.server_address``. Stop with
    ``server.shutdown()`` and ``server.server_close()``.
    """
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    server, thread = start_http_server(port, addr=host, registry=registry)
    log.info("serving metrics on http://%s:%d/", host, server.server_address[1])
    return server, thread
