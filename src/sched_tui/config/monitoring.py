"""``[monitoring]`` and ``[[alerts]]``: how calls are measured and when alerts fire.

Example::

    [monitoring]
    retention_days = 7
    min_samples = 20

    [[alerts]]
    name = "HighErrorRate"
    severity = "critical"
    kpi = "error_rate"
    threshold = 5.0
    window_s = 600
    for_s = 600

Any ``[[alerts]]`` entry replaces the default rules as a whole; ``alerts = []``
turns every rule off.
"""

from __future__ import annotations

from dataclasses import dataclass

from sched_tui.config.reader import Table

# KPIs a rule can watch, and the unit of their threshold.
#   error_rate          failed external calls and backend functions, in % of all
#                       calls with an outcome; 429 responses are not failures
#   p95_latency_ms      95th percentile latency of the call named by `call`, in ms
#   rate_limited_calls  calls that got a 429 response within the window
#   queue_depth         pending jobs in the write queue
#   cache_hit_ratio     cache hits over hits plus misses, from 0 to 1
KPI_KINDS = ("error_rate", "p95_latency_ms", "rate_limited_calls", "queue_depth", "cache_hit_ratio")
# KPIs that count calls, so `min_samples` applies to them.
SAMPLED_KPIS = ("error_rate", "p95_latency_ms", "cache_hit_ratio")
SEVERITIES = ("critical", "warning")
OPERATORS = (">", ">=", "<", "<=")


@dataclass(frozen=True, slots=True)
class AlertRuleConfig:
    """One ``[[alerts]]`` entry, with the semantics of a Prometheus alerting rule."""

    # Unique rule name, shown on the banner, for example "HighErrorRate".
    name: str
    # "critical" (red banner) or "warning" (yellow banner).
    severity: str
    # One of KPI_KINDS.
    kpi: str
    # The condition holds when `<kpi value> <op> <threshold>`.
    threshold: float
    op: str = ">"
    # p95_latency_ms only: the call name, for example "getAggregatedCalendar".
    call: str | None = None
    # Window the KPI is computed over, in seconds, at most 3600; queue_depth ignores it.
    window_s: int = 600
    # How long the condition must hold at every evaluation before the alert fires, in s.
    for_s: float = 0.0
    # How long a firing alert keeps firing after the condition stopped holding, in s.
    keep_firing_for_s: float = 0.0
    # Minimum calls in the window for the value to count; None uses monitoring.min_samples.
    min_samples: int | None = None
    # One line for the banner and the Prometheus annotation; empty builds one from the rule.
    summary: str = ""


DEFAULT_ALERTS: tuple[AlertRuleConfig, ...] = (
    AlertRuleConfig(
        name="HighErrorRate",
        severity="critical",
        kpi="error_rate",
        threshold=5.0,
        window_s=600,
        for_s=600.0,
        summary="More than 5% of external calls and backend functions failed for 10 minutes",
    ),
    AlertRuleConfig(
        name="SlowAggregatedCalendar",
        severity="warning",
        kpi="p95_latency_ms",
        call="getAggregatedCalendar",
        threshold=2000.0,
        window_s=300,
        for_s=300.0,
        summary="P95 of getAggregatedCalendar above 2000 ms for 5 minutes",
    ),
    AlertRuleConfig(
        name="QueueBacklog",
        severity="warning",
        kpi="queue_depth",
        threshold=50.0,
        summary="More than 50 writes wait in the queue",
    ),
)


@dataclass(frozen=True, slots=True)
class MonitoringConfig:
    """``[monitoring]``: measurement, retention and alert evaluation."""

    # Record events and evaluate alerts at all.
    enabled: bool = True
    # Days events (as per-minute rollups) and resolved alerts are kept.
    retention_days: int = 7
    # Minutes single events are kept before they are rolled up per minute. At
    # least 60, because the KPI pane's charts read the last hour of events.
    raw_retention_minutes: int = 120
    # Refresh period of the KPI pane and of `sched-tui kpi --watch`'s default, in s.
    refresh_s: float = 5.0
    # Minimum calls in a window for a rate or percentile to raise or resolve an alert.
    min_samples: int = 20
    # Period between two evaluations of the alert rules, in s.
    evaluation_interval_s: float = 15.0
    # Maximum time a recorded event waits in memory before it is written, in s.
    flush_interval_s: float = 1.0
    alerts: tuple[AlertRuleConfig, ...] = DEFAULT_ALERTS


def parse_monitoring(root: Table) -> tuple[MonitoringConfig, list[Table]]:
    """Read ``[monitoring]`` and ``[[alerts]]``.

    Returns the config and the ``[[alerts]]`` entry tables, whose unknown keys the
    caller reports (``[monitoring]`` reports its own through `root`).
    """
    table = root.table("monitoring")
    min_samples = table.integer("min_samples", 20, 1, 1_000_000)
    alerts, alert_tables = _parse_alerts(root)
    config = MonitoringConfig(
        enabled=table.boolean("enabled", True),
        retention_days=table.integer("retention_days", 7, 1, 3650),
        raw_retention_minutes=table.integer("raw_retention_minutes", 120, 60, 7 * 24 * 60),
        refresh_s=table.number("refresh_s", 5.0, 0.5, 3600),
        min_samples=min_samples,
        evaluation_interval_s=table.number("evaluation_interval_s", 15.0, 1.0, 3600),
        flush_interval_s=table.number("flush_interval_s", 1.0, 0.05, 60),
        alerts=alerts,
    )
    return config, alert_tables


def _parse_alerts(root: Table) -> tuple[tuple[AlertRuleConfig, ...], list[Table]]:
    entries = root.raw("alerts", None)
    if entries is None:
        return DEFAULT_ALERTS, []
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise root.error("alerts", entries, "an array of tables: [[alerts]]")

    rules: list[AlertRuleConfig] = []
    tables: list[Table] = []
    for index, entry in enumerate(entries):
        table = Table(entry, f"alerts[{index}]", root.source)
        rule = _parse_rule(table)
        if any(existing.name == rule.name for existing in rules):
            raise table.error("name", rule.name, "a name no other alert rule uses")
        rules.append(rule)
        tables.append(table)
    return tuple(rules), tables


def _parse_rule(table: Table) -> AlertRuleConfig:
    kpi = table.choice("kpi", KPI_KINDS)
    call = table.string("call", None)
    if kpi == "p95_latency_ms" and call is None:
        raise table.error(
            "call", None, 'the call name for kpi "p95_latency_ms", e.g. "getAggregatedCalendar"'
        )
    if kpi != "p95_latency_ms" and call is not None:
        raise table.error("call", call, 'no call name unless kpi is "p95_latency_ms"')
    threshold = table.number("threshold", 0.0)
    if not table.has("threshold"):
        raise table.error("threshold", None, "a number (the key is required)")
    min_samples = (
        table.integer("min_samples", 0, 1, 1_000_000) if table.has("min_samples") else None
    )
    return AlertRuleConfig(
        name=table.string("name"),
        severity=table.choice("severity", SEVERITIES),
        kpi=kpi,
        threshold=threshold,
        op=table.choice("op", OPERATORS, ">"),
        call=call,
        window_s=table.integer("window_s", 600, 10, 3600),
        for_s=table.number("for_s", 0.0, 0.0, 7 * 24 * 3600),
        keep_firing_for_s=table.number("keep_firing_for_s", 0.0, 0.0, 7 * 24 * 3600),
        min_samples=min_samples,
        summary=table.string("summary", ""),
    )
