"""Alert rules: the KPI reading each rule compares, and export as Prometheus rules.

A reading carries the value and the number of calls behind it. A rule whose
reading has fewer calls than its minimum has no data: it neither fires nor
resolves (see `sched_tui.monitoring.alerts`).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import aiosqlite

from sched_tui.config import AlertRuleConfig
from sched_tui.config.monitoring import SAMPLED_KPIS
from sched_tui.monitoring import kpi

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}

METRIC_PREFIX = "sched_tui"


@dataclass(frozen=True, slots=True)
class Reading:
    """A rule's KPI value at one evaluation."""

    # None when there were no calls (or no queue table).
    value: float | None
    # Calls behind the value; None for KPIs that are not sampled (queue depth).
    samples: int | None
    # The value counts: it exists and has at least the rule's minimum of calls.
    has_data: bool

    def describe(self, rule: AlertRuleConfig) -> str:
        """Render the value with its unit and sample count, for banners and the CLI."""
        # The cache ratio counts lookups; every other sampled KPI counts calls.
        noun = "lookup" if rule.kpi == "cache_hit_ratio" else "call"
        if self.value is None:
            return f"n/a (0 {noun}s)" if self.samples is not None else "n/a"
        text = format_value(rule, self.value)
        if self.samples is not None:
            text += f" ({kpi.count_text(self.samples, noun)})"
        return text


def format_value(rule: AlertRuleConfig, value: float) -> str:
    """Render a value in the unit of the rule's KPI."""
    if rule.kpi == "error_rate":
        return f"{value:.1f}%"
    if rule.kpi == "p95_latency_ms":
        return f"{value:.0f} ms"
    if rule.kpi == "cache_hit_ratio":
        return f"{value * 100:.0f}%"
    return f"{value:g}"


def holds(rule: AlertRuleConfig, reading: Reading) -> bool:
    """Tell whether the rule's condition holds for `reading` (False without data)."""
    if not reading.has_data or reading.value is None:
        return False
    return _COMPARE[rule.op](reading.value, rule.threshold)


def describe_rule(rule: AlertRuleConfig) -> str:
    """Return the rule's summary, or one built from its condition."""
    if rule.summary:
        return rule.summary
    subject = f"P95 of {rule.call}" if rule.kpi == "p95_latency_ms" else rule.kpi.replace("_", " ")
    text = f"{subject} {rule.op} {format_value(rule, rule.threshold)}"
    if rule.for_s:
        text += f" for {format_duration(rule.for_s)}"
    return text


class RuleReader:
    """Computes each rule's reading, sharing queries between rules with the same KPI and window."""

    def __init__(
        self,
        db: aiosqlite.Connection,
        *,
        min_samples: int,
        cache_source: kpi.CacheStatsSource | None = None,
    ) -> None:
        self._db = db
        self._min_samples = min_samples
        self._cache_source = cache_source

    async def read_all(self, rules: Sequence[AlertRuleConfig], now: float) -> dict[str, Reading]:
        """Return the reading of every rule at `now`, by rule name."""
        memo: dict[tuple[str, int], object] = {}
        return {rule.name: await self._read(rule, now, memo) for rule in rules}

    async def _read(
        self, rule: AlertRuleConfig, now: float, memo: dict[tuple[str, int], object]
    ) -> Reading:
        minimum = rule.min_samples if rule.min_samples is not None else self._min_samples
        key = (rule.kpi, rule.window_s)

        if rule.kpi in ("error_rate", "rate_limited_calls"):
            if key not in memo:
                memo[key] = await kpi.error_rate(self._db, now, rule.window_s)
            rate = memo[key]
            assert isinstance(rate, kpi.ErrorRate)
            if rule.kpi == "rate_limited_calls":
                return Reading(float(rate.rate_limited), rate.calls, True)
            return _sampled(rate.percent, rate.calls, minimum)

        if rule.kpi == "p95_latency_ms":
            if key not in memo:
                memo[key] = await kpi.p95_by_name(self._db, now, rule.window_s)
            found = memo[key]
            assert isinstance(found, dict)
            item = found.get(rule.call)
            if item is None:
                return Reading(None, 0, False)
            return _sampled(item.p95_ms, item.samples, minimum)

        if rule.kpi == "queue_depth":
            depth = await kpi.queue_depth(self._db)
            return Reading(None if depth is None else float(depth), None, depth is not None)

        cache = await kpi.cache_ratio(self._db, now, self._cache_source, rule.window_s)
        return _sampled(cache.ratio, cache.lookups, minimum)


def _sampled(value: float | None, samples: int, minimum: int) -> Reading:
    return Reading(value, samples, value is not None and samples >= minimum)


def format_duration(seconds: float) -> str:
    """Render seconds as a Prometheus duration: 600 as "10m", 90 as "90s"."""
    whole = round(seconds)
    for unit, size in (("h", 3600), ("m", 60)):
        if whole and whole % size == 0:
            return f"{whole // size}{unit}"
    return f"{whole}s"


def prometheus_expression(rule: AlertRuleConfig, min_samples: int) -> str:
    """Return the PromQL expression of `rule` over the metrics `sched-tui metrics` serves."""
    window = f'window="{format_duration(rule.window_s)}"'
    minimum = rule.min_samples if rule.min_samples is not None else min_samples
    threshold = f"{rule.threshold:g}"
    if rule.kpi == "error_rate":
        return (
            f"{METRIC_PREFIX}_error_rate_percent{{{window}}} {rule.op} {threshold}"
            f" and {METRIC_PREFIX}_calls{{{window}}} >= {minimum}"
        )
    if rule.kpi == "rate_limited_calls":
        return f"{METRIC_PREFIX}_rate_limited_calls{{{window}}} {rule.op} {threshold}"
    if rule.kpi == "p95_latency_ms":
        labels = f'call="{rule.call}",{window}'
        return (
            f"{METRIC_PREFIX}_call_latency_p95_milliseconds{{{labels}}} {rule.op} {threshold}"
            f" and {METRIC_PREFIX}_call_latency_samples{{{labels}}} >= {minimum}"
        )
    if rule.kpi == "queue_depth":
        return f"{METRIC_PREFIX}_queue_depth {rule.op} {threshold}"
    return (
        f"{METRIC_PREFIX}_cache_hit_ratio{{{window}}} {rule.op} {threshold}"
        f" and {METRIC_PREFIX}_cache_lookups{{{window}}} >= {minimum}"
    )


def export_prometheus_rules(
    rules: Sequence[AlertRuleConfig], min_samples: int, group: str = "sched-tui"
) -> str:
    """Return the rules as a Prometheus alerting-rules file (YAML).

    Prometheus resolves an alert when its series disappears, unlike the app,
    which keeps a firing alert through a gap in the data. The file's header notes it.
    """
    lines = [
        "# Alerting rules of sched-tui, for the metrics `sched-tui metrics` serves.",
        "# Unlike sched-tui, Prometheus resolves an alert when the data stop.",
        "groups:",
        f"  - name: {_quote(group)}",
        "    rules:",
    ]
    if not rules:
        lines[-1] = "    rules: []"
    for rule in rules:
        lines.append(f"      - alert: {_quote(rule.name)}")
        lines.append(f"        expr: {_quote(prometheus_expression(rule, min_samples))}")
        if rule.for_s:
            lines.append(f"        for: {format_duration(rule.for_s)}")
        if rule.keep_firing_for_s:
            lines.append(f"        keep_firing_for: {format_duration(rule.keep_firing_for_s)}")
        lines.append("        labels:")
        lines.append(f"          severity: {_quote(rule.severity)}")
        lines.append("        annotations:")
        lines.append(f"          summary: {_quote(describe_rule(rule))}")
        lines.append("          value: '{{ $value }}'")
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    """Quote `text` as a YAML double-quoted scalar."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def sampled_kpi(rule: AlertRuleConfig) -> bool:
    """Tell whether `min_samples` applies to the rule's KPI."""
    return rule.kpi in SAMPLED_KPIS
