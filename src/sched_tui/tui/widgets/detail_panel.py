"""The detail panel: every item of the selected cell, in full."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from sched_tui.tui.cells import ALL_DAY_ROW, CONTINUED_GLYPH, Cell, GridShape, describe_item


class DetailPanel(VerticalScroll):
    """Lists the appointments and open slots of one cell."""

    def compose(self) -> ComposeResult:
        """Create the heading and the item list."""
        yield Static("", id="detail-heading", markup=False)
        yield Static("", id="detail-items", markup=False)

    def show_cell(
        self,
        day: date,
        row: int,
        shape: GridShape,
        cell: Cell | None,
        notes: Sequence[str] = (),
    ) -> None:
        """Describe the cell at `day`/`row`; `cell` None means its data have not arrived yet.

        `notes` are extra lines after the items, such as how old stale data are.
        """
        if row == ALL_DAY_ROW:
            when = f"{day:%a %d %b %Y}, all day"
        else:
            when = f"{day:%a %d %b %Y}, from {shape.row_start(row):%H:%M}"
        if cell is None:
            lines = ["loading…"]
        else:
            lines = [describe_item(item) for item in cell.items]
            lines += [
                f"{CONTINUED_GLYPH} still running: {describe_item(item)}" for item in cell.continued
            ]
            if not lines:
                lines = ["nothing booked and no open slot"]
            lines += notes
        self.query_one("#detail-heading", Static).update(when)
        self.query_one("#detail-items", Static).update("\n".join(lines))
