"""A list of therapists shown over the current screen, to pick the one an action is for."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option


class PickTherapistScreen(ModalScreen[str | None]):
    """Ask which therapist an action is for; dismisses with the therapist's id, or None.

    Arrow keys move, Enter picks and Escape cancels.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="pick_therapist.cancel"),
    ]

    def __init__(self, question: str, therapists: Mapping[str, str]) -> None:
        """Offer `therapists`, a mapping of therapist id to name, in name order."""
        super().__init__()
        self.question = question
        self.therapists = dict(sorted(therapists.items(), key=lambda pair: pair[1]))

    def compose(self) -> ComposeResult:
        """Show the question and one option per therapist."""
        with Vertical(id="pick-therapist-dialog"):
            yield Label(self.question, id="pick-therapist-question")
            yield OptionList(
                *(Option(f"{name} ({tid})", id=tid) for tid, name in self.therapists.items()),
                id="pick-therapist-options",
            )

    def on_mount(self) -> None:
        """Put the cursor in the list."""
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Dismiss with the picked therapist's id."""
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        """Dismiss with None, because no therapist was picked."""
        self.dismiss(None)
