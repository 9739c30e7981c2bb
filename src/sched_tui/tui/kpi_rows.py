"""The rows of the KPI pane, computed from a snapshot and the per-minute series.

Plain Python, so the pane's content is tested without Textual. Each row has a
label, the current value as `sched-tui kpi` prints it, and the points of its
sparkline, oldest first.
"""

from __future__ import annotations

from dataclasses import dataclass

from sched_tui.config import AlertRuleConfig
from sched_tui.monitoring import AGGREGATED_CALENDAR, kpi

# Window of the P95 values shown, in seconds; the sparklines are per minute.
LATENCY_WINDOW_S = 300


@dataclass(frozen=True, slots=True)
class KpiRow:
    """One KPI line of the pane."""

    key: str
    label: str
    value: str
    points: tuple[float, ...]


def _points(values: list[float | None]) -> tuple[float, ...]:
    # NOTE: a Textual Sparkline cannot show a gap, so a minute without calls is drawn as 0.
    return tuple(0.0 if value is None else value for value in values)


def latency_names(snapshot: kpi.KpiSnapshot, series: kpi.MinuteSeries) -> list[str]:
    """Return the call names to show: getAggregatedCalendar first, then the others sorted."""
    others = sorted((set(snapshot.call_names) | set(series.p95_ms)) - {AGGREGATED_CALENDAR})
    return [AGGREGATED_CALENDAR, *others]


def kpi_rows(snapshot: kpi.KpiSnapshot, series: kpi.MinuteSeries) -> list[KpiRow]:
    """Build every row: P95 per call name, error rate, queue depth and cache hit ratio."""
    rows = []
    for name in latency_names(snapshot, series):
        rows.append(
            KpiRow(
                key=f"p95:{name}",
                label=f"P95 {LATENCY_WINDOW_S // 60} min {name}",
                value=kpi.format_latency(snapshot.p95(name, LATENCY_WINDOW_S)),
                points=_points(series.p95_ms.get(name, [])),
            )
        )
    rate = snapshot.error_rate
    rows.append(
        KpiRow(
            key="error_rate",
            label=f"Error rate ({rate.window_s // 60} min)",
            value=kpi.format_error_rate(rate),
            points=_points(series.error_rate),
        )
    )
    rows.append(
        KpiRow(
            key="queue_depth",
            label="Queue depth",
            value=kpi.format_queue_depth(snapshot.queue_depth),
            points=()
            if snapshot.queue_depth is None
            else _points([None if depth is None else float(depth) for depth in series.queue_depth]),
        )
    )
    rows.append(
        KpiRow(
            key="cache",
            label="Cache hits",
            value=kpi.format_cache(snapshot.cache),
            points=_points(
                [None if ratio is None else 100.0 * ratio for ratio in series.cache_ratio]
            ),
        )
    )
    return rows


def chart_thresholds(rules: tuple[AlertRuleConfig, ...]) -> tuple[float | None, float | None]:
    """Return the P95 threshold in ms and the error-rate threshold in % the chart draws.

    They come from the first alert rule on getAggregatedCalendar's P95 (or on
    any P95) and the first rule on the error rate; None when no rule exists.
    """
    p95_rules = [rule for rule in rules if rule.kpi == "p95_latency_ms"]
    pinned = [rule for rule in p95_rules if rule.call == AGGREGATED_CALENDAR]
    p95 = next(iter(pinned or p95_rules), None)
    errors = next((rule for rule in rules if rule.kpi == "error_rate"), None)
    return (
        None if p95 is None else p95.threshold,
        None if errors is None else errors.threshold,
    )
