"""The booking form names the chosen slot, starts on the slot choice and fits the terminal."""

from __future__ import annotations

from typing import ClassVar

import pytest
from tests.tui.conftest import PATIENT, fill
from textual.app import App
from textual.widgets import Button, Input, OptionList, Select, Static

from sched_tui.tui.screens.calendar_writes import EN_DASH
from sched_tui.tui.screens.write_dialogs import BookingForm, BookingScreen
from sched_tui.tui.stylesheets import stylesheet_path

SLOTS = [
    f"09:00{EN_DASH}09:50 · Lucia Brennan-Oduya, LMFT · Family therapy",
    f"09:00{EN_DASH}09:50 · Sam Chen · Individual therapy",
    f"09:30{EN_DASH}10:20 · Dr. Ana Rivera · Couples therapy",
]


class FormApp(App[None]):
    """Shows one booking form with the app's stylesheets; `result` is what it closed with."""

    CSS_PATH: ClassVar = [stylesheet_path("app.tcss"), stylesheet_path("calendar.tcss")]

    def __init__(self, slots: list[str]) -> None:
        super().__init__()
        self.slots = slots
        self.result: list[BookingForm | None] = []

    def on_mount(self) -> None:
        self.push_screen(BookingScreen("Book on Sat 05 Dec", self.slots), self.result.append)


def visible(screen: BookingScreen, selector: str) -> bool:
    """Tell whether the widget matching `selector` is shown in full on the screen."""
    region = screen.query_one(selector).region
    return region.height > 0 and screen.region.contains_region(region)


async def test_slot_line_follows_choice() -> None:
    app = FormApp(SLOTS)

    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, BookingScreen)
        line = screen.query_one("#booking-slot-line", Static)

        assert isinstance(app.focused, OptionList)
        assert str(line.content) == f"Slot: {SLOTS[0]}"

        await pilot.press("down")
        assert str(line.content) == f"Slot: {SLOTS[1]}"

        await pilot.press("enter")
        assert app.focused is screen.query_one("#booking-first_name", Input)
        await pilot.press("escape")


async def test_single_slot_is_text() -> None:
    app = FormApp(SLOTS[:1])

    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, BookingScreen)

        assert not screen.query("#booking-slot")
        assert str(screen.query_one("#booking-slot-line", Static).content) == f"Slot: {SLOTS[0]}"
        assert app.focused is screen.query_one("#booking-first_name", Input)


@pytest.mark.parametrize("slots", [SLOTS, SLOTS[:1]])
async def test_form_fits_80_by_24(slots: list[str]) -> None:
    app = FormApp(slots)

    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, BookingScreen)

        for selector in ("#booking-heading", "#booking-slot-line", "#booking-book"):
            assert visible(screen, selector), selector
        # Every field row, with its label, is on screen without scrolling.
        for field in screen.query(Input).results():
            assert screen.region.contains_region(field.region), field.id
            assert field.region.height == 1, field.id
        labels = [str(label.content) for label in screen.query(".booking-label").results(Static)]
        assert labels[:3] == ["Patient type", "First name", "Last name"]


async def test_form_grows_on_tall_terminal() -> None:
    async with FormApp(SLOTS).run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        short = pilot.app.screen.query_one("#booking-fields").region.height
    async with FormApp(SLOTS).run_test(size=(80, 70)) as pilot:
        await pilot.pause()
        screen = pilot.app.screen
        fields = screen.query_one("#booking-fields")
        tall = fields.region.height

        assert tall >= short
        # Nothing left to scroll: every field shows at once.
        assert fields.max_scroll_y == 0
        assert screen.query_one("#booking-book", Button).region.bottom <= 70


async def test_patient_type_is_a_choice() -> None:
    """Patient type offers existing or new only; the form closes with the one chosen."""
    app = FormApp(SLOTS)

    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        line = screen.query_one("#booking-slot-line", Static)
        choice = screen.query_one("#booking-patient_type", Select)
        assert choice.value == "existing"
        for name, value in PATIENT.items():
            fill(screen, name, value)
        choice.focus()
        await pilot.press("enter", "down", "enter")
        await pilot.pause()
        assert choice.value == "new"
        # Choosing in the Select leaves the slot choice alone.
        assert str(line.content) == f"Slot: {SLOTS[0]}"
        await pilot.press("ctrl+s")
        await pilot.pause()

    [form] = app.result
    assert form is not None
    assert form.patient_type == "new"


async def test_sex_at_birth_must_be_chosen() -> None:
    app = FormApp(SLOTS[:1])

    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        choice = screen.query_one("#booking-sex_at_birth", Select)
        assert choice.value is Select.NULL
        for name, value in PATIENT.items():
            if name != "sex_at_birth":
                fill(screen, name, value)
        await pilot.press("ctrl+s")
        await pilot.pause()
        error = str(screen.query_one("#booking-error", Static).content)

    assert app.result == []
    assert "sex at birth" in error
