"""Filter inputs: therapist (text), service and status (choices), debounced.

Text edits are debounced: every keystroke stops the pending timer and starts a
new one, so a burst of typing sends one `FiltersChanged` after `debounce_s` of
quiet. A choice in a Select is sent at once. Filters equal to the last ones
sent are not sent again, so resetting the service choices never starts a query.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widgets import Input, Select

from sched_tui.model import Filters, Status
from sched_tui.tui.cells import STATUS_GLYPHS
from sched_tui.tui.messages import FiltersChanged


class FilterBar(Horizontal):
    """Therapist, service and status filters on one line."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", "Back to grid", id="filters.leave"),
    ]

    def __init__(self, debounce_s: float, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.debounce_s = debounce_s
        self._timer: Timer | None = None
        self._sent = Filters()
        self._service_names: tuple[str, ...] = ()

    def compose(self) -> ComposeResult:
        """Build the three filter controls."""
        therapist = Input(placeholder="therapist…", id="filter-therapist", compact=True)
        # A blinking cursor repaints twice a second; idle must mean no repaints.
        therapist.cursor_blink = False
        yield therapist
        yield Select[str]([], prompt="any service", id="filter-service", compact=True)
        status_options = [
            (f"{STATUS_GLYPHS[status]} {status.value}", status.value) for status in Status
        ]
        yield Select[str](status_options, prompt="any status", id="filter-status", compact=True)

    @property
    def filters(self) -> Filters:
        """The filters the controls show now."""
        therapist = self.query_one("#filter-therapist", Input).value.strip()
        service = self.query_one("#filter-service", Select).value
        status = self.query_one("#filter-status", Select).value
        return Filters(
            therapist=therapist,
            service=service if isinstance(service, str) else "",
            status=Status(status) if isinstance(status, str) else None,
        )

    def set_services(self, names: Iterable[str]) -> None:
        """Offer `names` in the service choice; the current choice stays selected and offered."""
        offered = tuple(sorted({name for name in names if name}))
        select = self.query_one("#filter-service", Select)
        current = select.value
        if isinstance(current, str) and current not in offered:
            offered = tuple(sorted((*offered, current)))
        if offered == self._service_names:
            return
        self._service_names = offered
        select.set_options((name, name) for name in offered)
        if isinstance(current, str):
            select.value = current

    def on_input_changed(self, event: Input.Changed) -> None:
        """Restart the debounce timer on every edit."""
        event.stop()
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self.debounce_s <= 0:
            self._send()
            return
        self._timer = self.set_timer(self.debounce_s, self._send, name="filter-debounce")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Send at once on Enter instead of waiting for the debounce."""
        event.stop()
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._send()

    def on_select_changed(self, event: Select.Changed) -> None:
        """Send a new choice at once."""
        event.stop()
        self._send()

    def action_leave(self) -> None:
        """Move focus back to the week grid."""
        self.screen.query_one("WeekGrid").focus()

    def _send(self) -> None:
        self._timer = None
        filters = self.filters
        if filters == self._sent:
            return
        self._sent = filters
        self.post_message(FiltersChanged(filters))
