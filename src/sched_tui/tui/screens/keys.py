"""Every key of the screen underneath, in a dialog that scrolls from the keyboard."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static


def key_rows(screen: Screen[object]) -> list[tuple[str, str]]:
    """Return (key, description) for every binding active on `screen`, hidden ones included.

    The screen's and the app's keys come first, then those of the focused
    widget (cursor movement). Bindings without a description are left out.
    """
    actives = list(screen.active_bindings.values())
    ordered = [a for a in actives if a.node in (screen, screen.app)]
    ordered += [a for a in actives if a.node not in (screen, screen.app)]
    rows: list[tuple[str, str]] = []
    for active in ordered:
        binding = active.binding
        row = (screen.app.get_key_display(binding), binding.description)
        if binding.description and row not in rows:
            rows.append(row)
    return rows


class KeysScreen(ModalScreen[None]):
    """Dialog listing the keys of the screen it opened over; arrows and PgUp/PgDn scroll it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "Close", id="keys.close"),
    ]

    def __init__(self, rows: list[tuple[str, str]], title: str) -> None:
        super().__init__()
        self.rows = rows
        self.title_text = title

    def compose(self) -> ComposeResult:
        """Show the title, the scrolling list of keys and how to close."""
        width = max((len(key) for key, _ in self.rows), default=1)
        text = "\n".join(f"{key:>{width}}  {description}" for key, description in self.rows)
        with Vertical(id="keys-dialog"):
            yield Label(self.title_text, id="keys-title")
            with VerticalScroll(id="keys-list"):
                yield Static(text, id="keys-text", markup=False)
            yield Label("↑ ↓ PgUp PgDn scroll · Esc or ? closes", id="keys-hint")

    def on_mount(self) -> None:
        """Focus the list, so the arrow keys scroll it."""
        self.query_one("#keys-list", VerticalScroll).focus()

    def action_close(self) -> None:
        """Close the dialog."""
        self.dismiss(None)
