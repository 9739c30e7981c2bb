"""The week grid: days as columns, times of day as rows, with a cell cursor.

Each row (the all-day row and every time row) is one widget that draws its
seven cells. The grid paints by difference: it remembers each cell's rendered
label and tone, and a paint redraws only the rows that hold a changed cell,
all inside one `batch_update()`. `last_paint_count` is the number of cells the
latest paint changed.

Tones, today's column and the cursor are drawn with the grid's component
styles (`week-grid--*` in the stylesheet), so colours stay in the stylesheet
and no widget's CSS classes change when data arrive. (Re-applying the
stylesheet to ~175 cell widgets on every week change cost about a second on
a 2-core machine.)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.style import Style
from textual.widget import Widget

from sched_tui.model import Week
from sched_tui.tui.cache_marks import MARKS
from sched_tui.tui.cells import (
    ALL_DAY_ROW,
    PLACEHOLDER,
    TIME_WIDTH,
    TONES,
    CellKey,
    GridShape,
    RenderedCell,
    column_spans,
    fit,
)

TODAY_GLYPH = "▸"


class GridRow(Widget):
    """One row of the grid: a time label, then one cell per day."""

    def __init__(self, grid: WeekGrid, row: int, label: str) -> None:
        super().__init__(classes="grid-row")
        self.grid = grid
        self.row = row
        self.label = label

    def render(self) -> Content:
        """Draw the label and the seven cells, each cut to its column."""
        grid = self.grid
        parts: list[str | tuple[str, object]] = [
            (fit(self.label, TIME_WIDTH), grid.component_style("week-grid--time"))
        ]
        for day, (_, width) in enumerate(column_spans(self.size.width)):
            cell = grid.rendered((day, self.row))
            components = [f"week-grid--{cell.tone}"]
            if cell.mark:
                components.append(f"week-grid--{cell.mark}")
            if day == grid.today_index:
                components.append("week-grid--today")
            if (day, self.row) == grid.cursor:
                components.append("week-grid--cursor")
            parts.append(" ")
            parts.append((fit(cell.label, width), grid.component_style(*components)))
        return Content.assemble(*parts)  # type: ignore[arg-type]

    def on_click(self, event: events.Click) -> None:
        """Put the cursor on the clicked day."""
        for day, (x, width) in enumerate(column_spans(self.size.width)):
            if x <= event.x < x + width:
                self.grid.move_cursor((day, self.row))
                return


class HeaderRow(Widget):
    """The dates above the columns; today's date has a glyph and its own style."""

    def __init__(self, grid: WeekGrid) -> None:
        super().__init__(id="grid-header")
        self.grid = grid

    def render(self) -> Content:
        """Draw one dated header per column."""
        grid = self.grid
        parts: list[str | tuple[str, object]] = [" " * TIME_WIDTH]
        for day, (_, width) in enumerate(column_spans(self.size.width)):
            is_today = day == grid.today_index
            text = f"{TODAY_GLYPH if is_today else ''}{grid.week.days[day]:%a %d}"
            component = "week-grid--header-today" if is_today else "week-grid--header"
            parts.append(" ")
            parts.append((fit(text, width), grid.component_style(component)))
        return Content.assemble(*parts)  # type: ignore[arg-type]

    def header_text(self) -> str:
        """Return the headers as plain text, for tests and screen readers."""
        return " ".join(
            f"{TODAY_GLYPH if day == self.grid.today_index else ''}{date_:%a %d}"
            for day, date_ in enumerate(self.grid.week.days)
        )


class WeekGrid(Vertical, can_focus=True):
    """A Monday-to-Sunday grid with a cell cursor moved by arrow keys or the mouse."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        *(f"week-grid--{tone}" for tone in TONES),
        *(f"week-grid--{mark}" for mark in MARKS),
        "week-grid--time",
        "week-grid--today",
        "week-grid--cursor",
        "week-grid--header",
        "week-grid--header-today",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "move(0, -1)", "Up", show=False, id="grid.cursor_up"),
        Binding("down,j", "move(0, 1)", "Down", show=False, id="grid.cursor_down"),
        Binding("left", "move(-1, 0)", "Left", show=False, id="grid.cursor_left"),
        Binding("right", "move(1, 0)", "Right", show=False, id="grid.cursor_right"),
    ]

    class CellHighlighted(Message):
        """The cursor moved to `key`."""

        def __init__(self, key: CellKey) -> None:
            super().__init__()
            self.key = key

    class WeekEdgeCrossed(Message):
        """The cursor was moved past Monday (`step` -1) or Sunday (`step` 1)."""

        def __init__(self, step: int) -> None:
            super().__init__()
            self.step = step

    def __init__(
        self,
        shape: GridShape,
        week: Week,
        today: date,
        *,
        cursor_day: date | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.shape = shape
        self.week = week
        self.today = today
        # The cursor starts on `cursor_day` (default today); outside the week, on Monday.
        offset = ((cursor_day or today) - week.start).days
        self.cursor: CellKey = (offset if 0 <= offset <= 6 else 0, 0)
        self.last_paint_count = 0
        self.paint_count = 0
        self._painted: dict[CellKey, RenderedCell] = dict.fromkeys(shape.cell_keys(), PLACEHOLDER)
        self._rows: dict[int, GridRow] = {}

    def component_style(self, *names: str) -> Style:
        """Combine the stylesheet's component styles `names`, later ones on top.

        `get_visual_style` blends colours with alpha, such as `$text-muted`. In
        Textual 8.2.8 it drops `reverse`, which the cursor needs, so that flag is
        read from the Rich style.
        """
        style = self.get_visual_style(*names, partial=True)
        if any(self.get_component_rich_style(name, partial=True).reverse for name in names):
            style += Style(reverse=True)
        return style

    @property
    def today_index(self) -> int | None:
        """Column of today, or None when today is not in the shown week."""
        offset = (self.today - self.week.start).days
        return offset if 0 <= offset <= 6 else None

    def compose(self) -> ComposeResult:
        """Build the header, the pinned all-day row and the scrolling time rows."""
        yield HeaderRow(self)
        yield self._make_row(ALL_DAY_ROW, "allday")
        with VerticalScroll(id="grid-body"):
            for row in range(self.shape.row_count):
                yield self._make_row(row, f"{self.shape.row_start(row):%H:%M}")

    def set_week(self, week: Week, today: date) -> None:
        """Show `week`'s dates and today's column; cells keep what they show until painted."""
        self.week = week
        self.today = today
        self.query_one(HeaderRow).refresh()
        for row in self._rows.values():
            row.refresh()

    def paint(self, rendered: Mapping[CellKey, RenderedCell]) -> int:
        """Redraw the rows whose cells differ from what is on screen; return the changed cells."""
        changed = [key for key, cell in rendered.items() if self._painted.get(key) != cell]
        with self.app.batch_update():
            for key in changed:
                self._painted[key] = rendered[key]
            for row in {key[1] for key in changed}:
                self._rows[row].refresh()
        self.last_paint_count = len(changed)
        self.paint_count += 1
        return len(changed)

    def show_placeholders(self) -> int:
        """Put every cell back to its placeholder, as before the first data arrived."""
        return self.paint(dict.fromkeys(self._painted, PLACEHOLDER))

    def rendered(self, key: CellKey) -> RenderedCell:
        """Return what cell `key` shows now."""
        return self._painted[key]

    def row_widget(self, row: int) -> GridRow:
        """Return the widget that draws `row`."""
        return self._rows[row]

    @property
    def has_placeholders(self) -> bool:
        """True while any cell still shows its placeholder."""
        return any(cell == PLACEHOLDER for cell in self._painted.values())

    def move_cursor(self, key: CellKey) -> None:
        """Put the cursor on `key`, scroll it into view and announce it."""
        if key not in self._painted:
            return
        old_row = self.cursor[1]
        self.cursor = key
        self._rows[old_row].refresh()
        row = self._rows[key[1]]
        row.refresh()
        if key[1] != ALL_DAY_ROW:
            self.query_one("#grid-body", VerticalScroll).scroll_to_widget(row, animate=False)
        self.post_message(self.CellHighlighted(key))

    def action_move(self, dx: int, dy: int) -> None:
        """Move the cursor; moving past Monday or Sunday posts `WeekEdgeCrossed`."""
        day, row = self.cursor
        if not 0 <= day + dx <= 6:
            self.post_message(self.WeekEdgeCrossed(-1 if dx < 0 else 1))
            return
        rows = [ALL_DAY_ROW, *range(self.shape.row_count)]
        row_index = min(max(rows.index(row) + dy, 0), len(rows) - 1)
        self.move_cursor((day + dx, rows[row_index]))

    def on_focus(self) -> None:
        """Redraw the cursor row: the cursor looks stronger while the grid has focus."""
        self._rows[self.cursor[1]].refresh()

    def on_blur(self) -> None:
        """Redraw the cursor row in its unfocused look."""
        self._rows[self.cursor[1]].refresh()

    def _make_row(self, row: int, label: str) -> GridRow:
        widget = GridRow(self, row, label)
        if row == ALL_DAY_ROW:
            widget.id = "grid-all-day"
            widget.add_class("-all-day")
        self._rows[row] = widget
        return widget
