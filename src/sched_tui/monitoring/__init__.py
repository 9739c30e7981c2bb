"""Monitoring: timed external calls, shared KPIs and alert rules.

Modules, one capability each: `events` (recording, `log_custom`, `measure`),
`transport` (timing of every httpx client), `kpi` (P95, error rate, queue
depth, cache hit ratio and their series), `rules` and `alerts` (alert rules
and their state machine), `retention` (rollup and deletion), `prometheus`
(the metrics endpoint), `chart` (the plotext chart) and `runtime` (all of it
started together). Nothing here imports Textual.
"""

from sched_tui.monitoring.events import log_custom, measure

AGGREGATED_CALENDAR = "getAggregatedCalendar"

__all__ = ["AGGREGATED_CALENDAR", "log_custom", "measure"]
