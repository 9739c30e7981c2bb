"""The status line: named segments shown left to right, each hidden while empty.

Segments fixed here: practice, week, as-of time, loading state and provider
alerts. Later features add their own (for example "cache" or "queue") with
`set_segment`, which creates a segment the first time it is named.

When the line is too short, segments with a short form switch to it, the
most recently added first. Alerts come first: if they still do not fit,
segments added later are hidden, the most recently added first, until the
alerts fit in full. The alerts are cut with an ellipsis only when no such
segment is left to hide.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.widgets import Static

# Segments composed up front, in display order; later ones are appended after these.
BUILT_IN_SEGMENTS = ("practice", "week", "as-of", "state", "alerts")
# Cells around each segment's text: its left and right padding in app.tcss.
SEGMENT_PADDING = 2


class StatusLine(Horizontal):
    """One line of short facts about what the screen shows."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        # Text of every segment, by name, in display order.
        self._texts: dict[str, str] = dict.fromkeys(BUILT_IN_SEGMENTS, "")
        # Shorter text for a crowded line, for the segments that have one.
        self._short: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        """Create the built-in segments, all empty."""
        for name in BUILT_IN_SEGMENTS:
            yield Static("", id=f"status-{name}", classes="status-segment -empty", markup=False)

    def on_resize(self, event: events.Resize) -> None:
        """Decide again which added segments make room for the alerts."""
        self._make_room_for_alerts()

    def set_segment(
        self, name: str, text: str, *, short: str | None = None, alert: bool = False
    ) -> None:
        """Show `text` in segment `name` (hidden when empty).

        `short` replaces `text` when the line is crowded ("" hides the segment
        then); `alert` styles the segment as a warning.
        """
        try:
            segment = self.query_one(f"#status-{name}", Static)
        except NoMatches:
            segment = Static("", id=f"status-{name}", classes="status-segment", markup=False)
            self.mount(segment)
        segment.set_class(alert, "-alert")
        self._texts[name] = text
        if short is None:
            self._short.pop(name, None)
        else:
            self._short[name] = short
        self._make_room_for_alerts()

    def _make_room_for_alerts(self) -> None:
        """Fit the line: short forms first, then hide added segments for the alerts."""
        width = self.size.width
        display = dict(self._texts)
        needed = _width_of(display.values())
        added = [name for name in self._texts if name not in BUILT_IN_SEGMENTS]
        built_in = [name for name in BUILT_IN_SEGMENTS if name != "alerts"]
        if width > 0:
            for name in [*reversed(added), *reversed(built_in)]:
                if needed <= width:
                    break
                if name in self._short and display[name]:
                    display[name] = self._short[name]
                    needed = _width_of(display.values())
        hidden: set[str] = set()
        if self._texts["alerts"] and width > 0:
            for name in reversed(added):
                if needed <= width:
                    break
                if display[name]:
                    hidden.add(name)
                    needed -= cell_len(display[name]) + SEGMENT_PADDING
        for name, text in display.items():
            segment = self.query_one(f"#status-{name}", Static)
            if str(segment.content) != text:
                segment.update(text)
            segment.set_class(not text, "-empty")
            segment.set_class(name in hidden, "-crowded")

    def full_text(self, name: str) -> str:
        """Return the full text of segment `name`, shown or not, "" when it does not exist."""
        return self._texts.get(name, "")

    def segment_text(self, name: str) -> str:
        """Return the text segment `name` shows, or "" when it does not exist."""
        try:
            return str(self.query_one(f"#status-{name}", Static).content)
        except NoMatches:
            return ""


def _width_of(texts: Iterable[str]) -> int:
    return sum(cell_len(text) + SEGMENT_PADDING for text in texts if text)
