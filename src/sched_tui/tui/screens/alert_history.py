"""The alert history: every firing of every rule, newest first, read when the view is shown."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Static

from sched_tui.config import AlertRuleConfig
from sched_tui.monitoring.alerts import HistoryEntry
from sched_tui.monitoring.rules import format_value
from sched_tui.tui.screens.base import AppScreen

log = logging.getLogger(__name__)

# Firings listed at most.
HISTORY_LIMIT = 200
COLUMNS = ("Fired", "Severity", "Rule", "State", "Value", "Resolved", "Acknowledged")


def _when(seconds: float | None, tz: ZoneInfo, year: int, day_of: float | None = None) -> str:
    """Render a time as "Fri 04 Dec 17:02", or only "17:05" on the same day as `day_of`.

    The short forms keep the table within 100 columns. The year shows only for
    a time outside `year` (the current one), since retention_days may reach back years.
    """
    if seconds is None:
        return ""
    moment = datetime.fromtimestamp(seconds, tz)
    if day_of is not None and datetime.fromtimestamp(day_of, tz).date() == moment.date():
        return f"{moment:%H:%M}"
    if moment.year != year:
        return f"{moment:%d %b %Y %H:%M}"
    return f"{moment:%a %d %b %H:%M}"


def _value(entry_value: float | None, rule: AlertRuleConfig | None) -> str:
    if entry_value is None:
        return "n/a"
    return format_value(rule, entry_value) if rule is not None else f"{entry_value:g}"


def history_cells(
    entry: HistoryEntry, rules: dict[str, AlertRuleConfig], tz: ZoneInfo, year: int
) -> tuple[str, ...]:
    """Return the table cells of one firing, in the order of `COLUMNS`.

    A rule that is no longer configured shows its values without a unit.
    """
    rule = rules.get(entry.rule)
    if entry.resolved_at is None:
        state = "FIRING"
        resolved = ""
    else:
        state = "resolved"
        resolved_at = _when(entry.resolved_at, tz, year, entry.fired_at)
        resolved = f"{resolved_at} at {_value(entry.resolved_value, rule)}"
    acknowledged = ""
    if entry.acknowledged_at is not None:
        acknowledged_at = _when(entry.acknowledged_at, tz, year, entry.fired_at)
        acknowledged = f"{acknowledged_at} by {entry.acknowledged_by}"
    return (
        _when(entry.fired_at, tz, year),
        entry.severity.upper(),
        entry.rule,
        state,
        _value(entry.fired_value, rule),
        resolved,
        acknowledged,
    )


def _count(firings: int) -> str:
    if firings == 0:
        return "no firings yet"
    return "1 firing" if firings == 1 else f"{firings} firings"


class AlertHistoryScreen(AppScreen):
    """A table of past and current firings, read again each time the view is shown."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,w", "app.switch_mode('calendar')", "Calendar", id="alert_history.back"),
        Binding("r", "reload", "Reload", id="alert_history.reload"),
        Binding("a", "acknowledge", "Acknowledge", id="alert_history.acknowledge"),
    ]

    def compose_body(self) -> ComposeResult:
        """Lay out the heading and the table."""
        yield Static("Alert history, newest first", id="alert-history-heading", markup=False)
        table: DataTable[str] = DataTable(id="alert-history", cursor_type="row", zebra_stripes=True)
        table.add_columns(*COLUMNS)
        yield table
        yield Footer(show_command_palette=False)

    def on_screen_resume(self) -> None:
        """Read the history whenever the view is shown."""
        self._load()

    def action_reload(self) -> None:
        """Read the history again."""
        self._load()

    def action_acknowledge(self) -> None:
        """Acknowledge the firing alerts, then show the acknowledgement in the table."""
        self.sched_app.alert_watch.acknowledge(on_done=self._load)

    @work(exclusive=True, group="alert-history", exit_on_error=False)
    async def _load(self) -> None:
        heading = self.query_one("#alert-history-heading", Static)
        try:
            services = await self.sched_app.wait_for_services()
            if services.monitoring is None:
                heading.update("Alert history: monitoring is off.")
                return
            entries = await services.monitoring.alert_history(HISTORY_LIMIT)
        except Exception:
            log.exception("reading the alert history failed")
            heading.update("Reading the alert history failed; see the log. Press r to retry.")
            return
        config = self.sched_app.config
        rules = {rule.name: rule for rule in config.monitoring.alerts}
        table = self.query_one("#alert-history", DataTable)
        table.clear()
        year = self.sched_app.now().year
        for entry in entries:
            cells = history_cells(entry, rules, config.practice.tz, year)
            table.add_row(*cells, key=str(entry.id))
        heading.update(f"Alert history, newest first ({_count(len(entries))})")
