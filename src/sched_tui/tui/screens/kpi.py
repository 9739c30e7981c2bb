"""The KPI pane: a row per KPI with a sparkline, and a chart of the last hour.

It refreshes every `monitoring.refresh_s` while it is shown, and not at all
while hidden. Each refresh reads the KPIs, repaints what changed, renders the
chart in a thread, and only then schedules the next refresh, so refreshes
never overlap.
"""

from __future__ import annotations

import asyncio
import logging
from typing import ClassVar

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.css.query import NoMatches
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Footer, Static

from sched_tui.monitoring import chart
from sched_tui.monitoring.kpi import MinuteSeries
from sched_tui.tui.kpi_rows import chart_thresholds, kpi_rows
from sched_tui.tui.screens.base import AppScreen
from sched_tui.tui.widgets.kpi_row import KpiRowView

log = logging.getLogger(__name__)

SERIES_MINUTES = 60
# Chart size used before the pane has been laid out, in cells.
DEFAULT_CHART_SIZE = (80, 14)


class ChartRendered(Message):
    """The chart thread finished rendering the chart of refresh `generation`."""

    def __init__(self, generation: int, text: str) -> None:
        super().__init__()
        self.generation = generation
        self.text = text


class KpiScreen(AppScreen):
    """P95 per call, error rate, queue depth and cache hit ratio of every copy."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,w", "app.switch_mode('calendar')", "Calendar", id="kpi.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._visible = False
        self._refreshing = False
        self._timer: Timer | None = None
        self._generation = 0
        self._chart_source = ""
        self._series: MinuteSeries | None = None
        # Completed refreshes and charts, for tests that wait for the next one.
        self.refreshes = 0
        self.charts_rendered = 0

    def compose_body(self) -> ComposeResult:
        """Lay out the heading, the KPI rows and the chart."""
        yield Static("", id="kpi-heading", markup=False)
        yield VerticalScroll(id="kpi-rows")
        yield Static("", id="kpi-chart", markup=False)
        yield Footer(show_command_palette=False)

    def on_screen_resume(self) -> None:
        """Refresh now and keep refreshing while the pane is shown."""
        self._visible = True
        self.refresh_now()

    def on_screen_suspend(self) -> None:
        """Stop refreshing while the pane is hidden."""
        self._visible = False
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def refresh_now(self) -> None:
        """Start a refresh unless one is running; the running one schedules the next."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if not self._refreshing:
            self._refreshing = True
            self._refresh_kpis()

    def row_value(self, key: str) -> str:
        """Return the value text of a row: "p95:<call>", "error_rate", "queue_depth" or "cache"."""
        return self._row_view(key).value_text

    @property
    def chart_text(self) -> str:
        """The chart as shown, without styles."""
        return str(self.query_one("#kpi-chart", Static).content)

    @work(exclusive=True, group="kpi-refresh", exit_on_error=False)
    async def _refresh_kpis(self) -> None:
        try:
            await self._read_and_show()
        except asyncio.CancelledError:
            self._refreshing = False
            raise
        except Exception:
            log.exception("refreshing the KPI pane failed")
            self._heading("Reading the KPIs failed; see the log. Retrying.")
        self._refreshing = False
        self.refreshes += 1
        if self._visible:
            period = self.sched_app.config.monitoring.refresh_s
            self._timer = self.set_timer(period, self.refresh_now, name="kpi-refresh")

    async def _read_and_show(self) -> None:
        services = await self.sched_app.wait_for_services()
        monitoring = services.monitoring
        if monitoring is None:
            self._heading("Monitoring is off ([monitoring] enabled = false, or no database).")
            return
        snapshot = await monitoring.snapshot()
        series = await monitoring.minute_series(SERIES_MINUTES)
        rows = kpi_rows(snapshot, series)

        period = self.sched_app.config.monitoring.refresh_s
        self._heading(f"KPIs of every copy sharing the database; refreshed every {period:g} s")
        container = self.query_one("#kpi-rows", VerticalScroll)
        with self.app.batch_update():
            for row in rows:
                try:
                    self._row_view(row.key).show(row)
                except NoMatches:
                    await container.mount(KpiRowView(row, id=_row_id(row.key)))

        self._series = series
        # After the layout that places any new rows, so the chart gets the height left.
        self.call_after_refresh(self._redraw_chart)

    def _redraw_chart(self) -> None:
        """Render the chart of the last series read at the chart's current size."""
        if self._series is None:
            return
        self._generation += 1
        self._render_chart(self._generation, self._series, *self._chart_size())

    def on_resize(self, event: events.Resize) -> None:
        """Draw the chart again for the new terminal size."""
        self.call_after_refresh(self._redraw_chart)

    def _row_view(self, key: str) -> KpiRowView:
        return self.query_one(f"#{_row_id(key)}", KpiRowView)

    def _heading(self, text: str) -> None:
        heading = self.query_one("#kpi-heading", Static)
        if str(heading.content) != text:
            heading.update(text)

    def _chart_size(self) -> tuple[int, int]:
        size = self.query_one("#kpi-chart", Static).content_size
        if size.width < 20 or size.height < 6:
            return DEFAULT_CHART_SIZE
        return size.width, size.height

    @work(thread=True, exclusive=True, group="kpi-chart", exit_on_error=False)
    def _render_chart(self, generation: int, series: MinuteSeries, width: int, height: int) -> None:
        p95_ms, error_pct = chart_thresholds(self.sched_app.config.monitoring.alerts)
        text = chart.render_chart(
            series,
            width,
            height,
            p95_threshold_ms=p95_ms,
            error_threshold_pct=error_pct,
            color=True,
        )
        self.post_message(ChartRendered(generation, text))

    def on_chart_rendered(self, message: ChartRendered) -> None:
        """Show a rendered chart unless a newer refresh started since or nothing changed."""
        if message.generation != self._generation:
            return
        self.charts_rendered += 1
        if message.text == self._chart_source:
            return
        self._chart_source = message.text
        self.query_one("#kpi-chart", Static).update(Text.from_ansi(message.text))


def _row_id(key: str) -> str:
    """Return a widget id for a row key; call names may contain any characters."""
    return "kpi-row-" + "".join(char if char.isalnum() or char in "_-" else "_" for char in key)
