"""Dialogs for writes from the week grid: choose one item, and the booking form."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Select, Static

from sched_tui.queue.zocdoc_requests import (
    MAX_NOTES_CHARS,
    PatientDetails,
    check_notes,
    patient_field_labels,
)

_PLACEHOLDERS = {
    "date_of_birth": "YYYY-MM-DD",
    "state": "two letters, e.g. NY",
}
# Patient fields that take one of a few values the API accepts, chosen from a list.
_CHOICES: dict[str, list[tuple[str, str]]] = {
    "sex_at_birth": [("female", "female"), ("male", "male")],
}


class ChoiceScreen(ModalScreen[int | None]):
    """Ask the user to choose one of several lines; dismisses with its index, or None on Escape."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_none", "Back", id="choice.back"),
    ]

    def __init__(self, title: str, choices: Sequence[str]) -> None:
        super().__init__()
        self.title_text = title
        self.choices = list(choices)

    def compose(self) -> ComposeResult:
        """Show the title and the choices."""
        with Vertical(id="choice-dialog", classes="write-dialog"):
            yield Label(self.title_text, id="choice-title")
            yield OptionList(*self.choices, id="choice-list")

    def on_mount(self) -> None:
        """Focus the list, so arrow keys and Enter work at once."""
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Dismiss with the chosen line's index."""
        event.stop()
        self.dismiss(event.option_index)

    def action_dismiss_none(self) -> None:
        """Close without a choice."""
        self.dismiss(None)


@dataclass(frozen=True, slots=True)
class BookingForm:
    """The booking form's result: the chosen slot's index, the patient and the notes."""

    slot_index: int
    patient: PatientDetails
    notes: str
    patient_type: str


class BookingScreen(ModalScreen[BookingForm | None]):
    """The booking form for one open slot, or one of several in a cell.

    The line under the heading always names the chosen slot. With several
    slots, the form opens on the slot list, and the line follows its
    highlight. Enter in any field or ctrl+s books; Escape closes without
    booking. Invalid fields are named below the form and nothing is queued.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "submit", "Book", id="booking.submit"),
        Binding("escape", "dismiss_none", "Back", id="booking.back"),
    ]

    def __init__(self, heading: str, slots: Sequence[str]) -> None:
        super().__init__()
        self.heading = heading
        self.slots = list(slots)

    def compose(self) -> ComposeResult:
        """Build the heading, the chosen slot, the slot list, the labelled fields and the buttons.

        The slot list exists only when there is more than one slot.
        """
        with Vertical(id="booking-dialog", classes="write-dialog"):
            yield Label(self.heading, id="booking-heading")
            yield Static(_slot_line(self.slots[0]), id="booking-slot-line", markup=False)
            if len(self.slots) > 1:
                slot_list = OptionList(*self.slots, id="booking-slot", compact=True)
                slot_list.highlighted = 0
                yield slot_list
            with VerticalScroll(id="booking-fields"):
                yield from _field_row(
                    "Patient type",
                    Select(
                        [("existing patient", "existing"), ("new patient", "new")],
                        value="existing",
                        allow_blank=False,
                        id="booking-patient_type",
                    ),
                )
                for name, label in patient_field_labels().items():
                    field: Input | Select[str]
                    if name in _CHOICES:
                        field = Select(_CHOICES[name], prompt="choose", id=f"booking-{name}")
                    else:
                        placeholder = _PLACEHOLDERS.get(name, "")
                        field = Input(placeholder=placeholder, id=f"booking-{name}")
                    yield from _field_row(label.capitalize(), field)
                yield from _field_row(
                    f"Notes (≤ {MAX_NOTES_CHARS} chars)",
                    Input(max_length=MAX_NOTES_CHARS, id="booking-notes"),
                )
            yield Static("", id="booking-error", classes="-empty", markup=False)
            with Horizontal(classes="write-buttons"):
                yield Button("Book (ctrl+s)", id="booking-book", variant="primary", compact=True)
                yield Button("Back (esc)", id="booking-back", compact=True)

    def on_mount(self) -> None:
        """Focus the slot list when there is a choice, else the first patient field."""
        if len(self.slots) > 1:
            self.query_one("#booking-slot", OptionList).focus()
        else:
            self.query_one("#booking-first_name", Input).focus()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        """Name the highlighted slot in the line under the heading."""
        # The patient type's Select has an option list of its own.
        if event.option_list.id != "booking-slot":
            return
        event.stop()
        line = _slot_line(self.slots[event.option_index])
        self.query_one("#booking-slot-line", Static).update(line)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter on a slot keeps it and moves on to the patient fields."""
        if event.option_list.id != "booking-slot":
            return
        event.stop()
        self.query_one("#booking-first_name", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in a field books."""
        event.stop()
        self.action_submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Book or go back."""
        event.stop()
        if event.button.id == "booking-book":
            self.action_submit()
        else:
            self.dismiss(None)

    def action_submit(self) -> None:
        """Check the fields; close with the form, or name the first invalid field."""
        fields = {name: self._field_value(name) for name in patient_field_labels()}
        patient_type = str(self.query_one("#booking-patient_type", Select).value)
        try:
            patient = PatientDetails.parse(fields)
            notes = check_notes(self.query_one("#booking-notes", Input).value)
        except ValueError as error:
            message = self.query_one("#booking-error", Static)
            message.update(f"✗ {error}")
            message.remove_class("-empty")
            return
        index = 0
        if len(self.slots) > 1:
            index = self.query_one("#booking-slot", OptionList).highlighted or 0
        self.dismiss(BookingForm(index, patient, notes, patient_type))

    def action_dismiss_none(self) -> None:
        """Close without booking."""
        self.dismiss(None)

    def _field_value(self, name: str) -> str:
        """Return a patient field's text, or its choice ("" while none is made)."""
        if name in _CHOICES:
            value = self.query_one(f"#booking-{name}", Select).value
            return "" if value is Select.NULL else str(value)
        return self.query_one(f"#booking-{name}", Input).value


def _slot_line(slot: str) -> str:
    return f"Slot: {slot}"


def _field_row(label: str, field: Input | Select[str]) -> ComposeResult:
    """Yield one form row: the label on the left, its field on the same line."""
    field.compact = True
    yield Horizontal(Label(label, classes="booking-label"), field, classes="booking-row")
