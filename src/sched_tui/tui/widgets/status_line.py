"""The status line: named segments shown left to right, each hidden while empty.

Segments fixed here: practice, week, as-of time, loading state and provider
alerts. Later features add their own (for example "cache" or "queue") with
`set_segment`, which creates a segment the first time it is named.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.widgets import Static

# Segments composed up front, in display order; later ones are appended after these.
BUILT_IN_SEGMENTS = ("practice", "week", "as-of", "state", "alerts")


class StatusLine(Horizontal):
    """One line of short facts about what the screen shows."""

    def compose(self) -> ComposeResult:
        """Create the built-in segments, all empty."""
        for name in BUILT_IN_SEGMENTS:
            yield Static("", id=f"status-{name}", classes="status-segment -empty", markup=False)

    def set_segment(self, name: str, text: str, *, alert: bool = False) -> None:
        """Show `text` in segment `name` (hidden when empty); `alert` styles it as a warning."""
        try:
            segment = self.query_one(f"#status-{name}", Static)
        except NoMatches:
            segment = Static("", id=f"status-{name}", classes="status-segment", markup=False)
            self.mount(segment)
        segment.update(text)
        segment.set_class(not text, "-empty")
        segment.set_class(alert, "-alert")

    def segment_text(self, name: str) -> str:
        """Return the text segment `name` shows, or "" when it does not exist."""
        try:
            return str(self.query_one(f"#status-{name}", Static).content)
        except NoMatches:
            return ""
