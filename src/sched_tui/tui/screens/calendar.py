"""The calendar screen: filters, the week grid, cell details and the status line.

Data flow: every user intent (week change, filter change, refresh) becomes a
`WeekQuery` with a new generation number and starts the exclusive
"calendar-fetch" worker, which cancels the previous query. The worker's result
comes back as `WeekLoaded`; a result whose generation is not the latest is
dropped, never painted.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Static

from sched_tui.model import CalendarWeek, Filters, Week
from sched_tui.tui import cache_actions
from sched_tui.tui.cache_marks import (
    as_of_text,
    detail_notes,
    refreshing_text,
    render_marked,
    stale_alerts,
)
from sched_tui.tui.cells import Cell, CellKey, GridShape
from sched_tui.tui.lifecycle import ServicesUnavailable
from sched_tui.tui.messages import FiltersChanged, WeekFailed, WeekLoaded, WeekQuery
from sched_tui.tui.provider_problems import error_text, new_errors, problem_lines
from sched_tui.tui.screens.base import AppScreen
from sched_tui.tui.screens.calendar_writes import CalendarWrites
from sched_tui.tui.widgets.detail_panel import DetailPanel
from sched_tui.tui.widgets.filter_bar import FilterBar
from sched_tui.tui.widgets.status_line import StatusLine
from sched_tui.tui.widgets.week_grid import WeekGrid

log = logging.getLogger(__name__)

# Seconds a notification of a provider error stays up; the line under the grid keeps it.
PROVIDER_ERROR_TIMEOUT_S = 15


class CalendarScreen(CalendarWrites, AppScreen):
    """One week of every therapist's appointments and open slots."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("h", "shift_week(-1)", "Prev", key_display="h", id="calendar.previous_week"),
        Binding("l", "shift_week(1)", "Next", key_display="l", id="calendar.next_week"),
        Binding("t", "today", "Today", id="calendar.today"),
        Binding("slash", "focus_filters", "Filter", key_display="/", id="calendar.filter"),
        Binding("b", "book", "Book", id="calendar.book"),
        # The keys below are kept out of the footer, which has no room to spare at
        # 80 columns; "?" lists them.
        # Reads through the cache, so data change only once their entries expire;
        # "i" and "I" (admins) drop cached entries to force fresh data.
        Binding("r", "refresh", "Reload", show=False, id="calendar.refresh"),
        Binding("m", "move_appointment", "Move", show=False, id="calendar.move"),
        Binding("x", "cancel_appointment", "Cancel appt", show=False, id="calendar.cancel"),
        Binding("s", "send_now", "Send now", show=False, id="queue.send_now"),
        # Admin-only.
        Binding(
            "i",
            "invalidate_therapist",
            "Invalidate therapist",
            show=False,
            id="cache.invalidate_therapist",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.filters = Filters()
        self.calendar: CalendarWeek | None = None
        self._cells: dict[CellKey, Cell] = {}
        self._generation = 0
        self._shown_generation = 0
        self.cache_sync = cache_actions.CacheSync(self)
        # Provider name -> error message last notified, so each error pops up once.
        self._reported_errors: dict[str, str] = {}

    def compose_body(self) -> ComposeResult:
        """Build the status line, filters, grid, detail panel and footer."""
        config = self.sched_app.config
        practice = config.practice
        today = self.sched_app.today()
        self.shape = GridShape(practice.day_start, practice.day_end, practice.slot_minutes)
        self.week = Week.containing(self.sched_app.initial_date or today, practice.tz)
        yield StatusLine(id="status")
        yield FilterBar(config.ui.debounce_ms / 1000, id="filters")
        cursor_day = self.sched_app.initial_date or today
        yield WeekGrid(self.shape, self.week, today, cursor_day=cursor_day, id="grid")
        yield Static("", id="provider-problems", classes="-empty", markup=False)
        yield DetailPanel(id="detail")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        """Show the skeleton at once and ask for the current week."""
        status = self.query_one(StatusLine)
        # The practice name is the first thing a crowded line can do without.
        status.set_segment("practice", self.sched_app.config.practice.name, short="")
        grid = self.query_one(WeekGrid)
        grid.focus()
        self._show_detail(grid.cursor)
        self._request()
        self.cache_sync.start()

    def on_unmount(self) -> None:
        """Stop following the cache."""
        self.cache_sync.close()

    @property
    def generation(self) -> int:
        """Number of the latest query; results of older ones are dropped."""
        return self._generation

    @property
    def shows_latest(self) -> bool:
        """True when the grid shows the result of the latest query."""
        return self._generation > 0 and self._shown_generation == self._generation

    def selected_cell(self) -> tuple[date, int, Cell | None]:
        """Return the selected cell's day, row and contents (None before its data arrived).

        Actions on a selected cell, such as booking an open slot or cancelling an
        appointment, start from here.
        """
        day, row = self.query_one(WeekGrid).cursor
        return self.week.days[day], row, self._cells.get((day, row))

    def action_shift_week(self, weeks: int) -> None:
        """Show the week `weeks` weeks later (earlier when negative)."""
        self._request(week=self.week.shifted(weeks))

    def action_today(self) -> None:
        """Show the week containing today and put the cursor on today."""
        today = self.sched_app.today()
        grid = self.query_one(WeekGrid)
        week = Week.containing(today, self.week.tz)
        if week != self.week:
            self._request(week=week)
        grid.move_cursor((today.weekday(), grid.cursor[1]))

    def action_refresh(self) -> None:
        """Read the shown week again through the cache and repaint only the cells that changed."""
        self._request()

    def action_invalidate_therapist(self) -> None:
        """Invalidate the cached data of the selected cell's therapist (admins only)."""
        cache_actions.invalidate_therapist(self)

    def action_focus_filters(self) -> None:
        """Put the cursor in the therapist filter."""
        self.query_one("#filter-therapist").focus()

    def on_filters_changed(self, message: FiltersChanged) -> None:
        """Query the shown week with the new filters."""
        self._request(filters=message.filters)

    def on_week_grid_week_edge_crossed(self, message: WeekGrid.WeekEdgeCrossed) -> None:
        """Moving past Sunday or Monday shows the next or previous week."""
        grid = self.query_one(WeekGrid)
        row = grid.cursor[1]
        self._request(week=self.week.shifted(message.step))
        grid.move_cursor((0 if message.step > 0 else 6, row))

    def on_week_grid_cell_highlighted(self, message: WeekGrid.CellHighlighted) -> None:
        """Show the highlighted cell's items."""
        self._show_detail(message.key)

    def on_week_loaded(self, message: WeekLoaded) -> None:
        """Paint the result of the latest query and drop the result of any older one."""
        if message.query.generation != self._generation:
            log.debug("dropped stale result of query %d", message.query.generation)
            return
        calendar = message.calendar
        self.calendar = calendar
        self._shown_generation = message.query.generation
        self.repaint_cells()
        grid = self.query_one(WeekGrid)
        self._show_status(calendar)
        self.cache_sync.show_stats()
        services = [service.name for service in calendar.services]
        services += [item.service for item in calendar.appointments]
        self.query_one(FilterBar).set_services(services)
        self._show_detail(grid.cursor)

    def repaint_cells(self) -> None:
        """Rebuild the cells from the shown week and the queued writes; repaint changed ones."""
        calendar = self.calendar
        assert calendar is not None
        self._cells = self.overlay_cells(calendar, self.shape)
        grid = self.query_one(WeekGrid)
        grid.paint({key: render_marked(cell, calendar) for key, cell in self._cells.items()})
        self._show_detail(grid.cursor)

    def on_week_failed(self, message: WeekFailed) -> None:
        """Report a query that produced no calendar; the grid keeps what it shows."""
        if message.query.generation != self._generation:
            return
        status = self.query_one(StatusLine)
        status.set_segment("state", "")
        status.set_segment("alerts", f"✗ week not loaded: {message.reason}", alert=True)

    def _request(self, *, week: Week | None = None, filters: Filters | None = None) -> None:
        """Start a query for the shown week with the current filters, after applying changes."""
        grid = self.query_one(WeekGrid)
        if week is not None and week != self.week:
            self.week = week
            self.calendar = None
            self._cells = {}
            grid.set_week(week, self.sched_app.today())
            grid.show_placeholders()
            self._show_detail(grid.cursor)
            self.query_one(StatusLine).set_segment("as-of", "")
        if filters is not None:
            self.filters = filters
        self._generation += 1
        status = self.query_one(StatusLine)
        status.set_segment(
            "week", f"week of {self.week.start:%a %d %b %Y}", short=f"wk {self.week.start:%d %b}"
        )
        status.set_segment("state", "loading…")
        self._fetch(WeekQuery(self._generation, self.week, self.filters))

    @work(exclusive=True, group="calendar-fetch", exit_on_error=False)
    async def _fetch(self, query: WeekQuery) -> None:
        """Fetch one week from the aggregator and post the result as a message."""
        try:
            services = await self.sched_app.wait_for_services()
            calendar = await services.aggregator.get_aggregated_calendar(
                query.week.start, query.filters
            )
        except ServicesUnavailable as error:
            self.post_message(WeekFailed(query, str(error)))
            return
        except Exception as error:
            log.exception("fetching the week of %s failed", query.week.start)
            reason = f"unexpected error ({type(error).__name__}); see the log"
            self.post_message(WeekFailed(query, reason))
            return
        self.post_message(WeekLoaded(query, calendar))

    def _show_status(self, calendar: CalendarWeek) -> None:
        status = self.query_one(StatusLine)
        status.set_segment("state", refreshing_text(calendar))
        status.set_segment("as-of", as_of_text(calendar))
        # Provider messages often start with the provider's name already; show it once.
        alerts = [f"⚠ {error_text(error)}" for error in calendar.errors]
        alerts += stale_alerts(calendar)
        # Skipped data is counted here; the log and `sched-tui week` give each reason.
        skipped: dict[str, int] = {}
        for warning in calendar.warnings:
            skipped[warning.provider] = skipped.get(warning.provider, 0) + 1
        alerts += [
            f"? {provider}: {count} item{'s' if count > 1 else ''} skipped"
            for provider, count in skipped.items()
        ]
        status.set_segment("alerts", "  ".join(alerts), alert=bool(alerts))
        self._show_problems(calendar)

    def _show_problems(self, calendar: CalendarWeek) -> None:
        """List the week's provider problems under the grid; notify each new error once."""
        problems = self.query_one("#provider-problems", Static)
        text = "\n".join(problem_lines(calendar))
        if str(problems.content) != text:
            problems.update(text)
            problems.set_class(not text, "-empty")
        for error in new_errors(calendar, self._reported_errors):
            self.sched_app.notify(
                error_text(error),
                severity="warning",
                timeout=PROVIDER_ERROR_TIMEOUT_S,
            )

    def _show_detail(self, key: CellKey) -> None:
        day, row = key
        cell = self._cells.get(key) if self.calendar is not None else None
        notes: list[str] = []
        if cell is not None and self.calendar is not None:
            notes = detail_notes(cell, self.calendar)
        self.query_one(DetailPanel).show_cell(self.week.days[day], row, self.shape, cell, notes)
