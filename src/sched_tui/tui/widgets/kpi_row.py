"""One line of the KPI pane: label, current value and a sparkline of the last hour."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Sparkline, Static

from sched_tui.tui.kpi_rows import KpiRow


class KpiRowView(Horizontal):
    """Shows one `KpiRow` and updates only the parts that changed."""

    def __init__(self, row: KpiRow, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="kpi-row")
        self.row = row

    def compose(self) -> ComposeResult:
        """Create the label, the value and the sparkline."""
        yield Static(self.row.label, classes="kpi-label", markup=False)
        yield Static(self.row.value, classes="kpi-value", markup=False)
        yield Sparkline(sparkline_data(self.row.points), classes="kpi-sparkline")

    @property
    def value_text(self) -> str:
        """The value shown."""
        return self.row.value

    def show(self, row: KpiRow) -> None:
        """Show `row`; an unchanged label, value or sparkline is not repainted."""
        if row == self.row:
            return
        if row.label != self.row.label:
            self.query_one(".kpi-label", Static).update(row.label)
        if row.value != self.row.value:
            self.query_one(".kpi-value", Static).update(row.value)
        if row.points != self.row.points:
            self.query_one(Sparkline).data = sparkline_data(row.points)
        self.row = row


def sparkline_data(points: Sequence[float]) -> list[float]:
    """Return the values to draw; fewer than two draw as an empty baseline.

    Textual 8.2.8 draws a single value as full-height bars, which would show a
    queue depth of 0 as a maximum.
    """
    return list(points) if len(points) >= 2 else []
