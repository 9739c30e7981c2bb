"""The confirmation dialog: keys and buttons choose, and "No" is the default."""

from __future__ import annotations

from textual.app import App

from sched_tui.tui.screens.confirm import ConfirmScreen
from sched_tui.tui.stylesheets import stylesheet_path


class QuestionApp(App[None]):
    CSS_PATH = stylesheet_path("app.tcss")

    def __init__(self) -> None:
        super().__init__()
        self.answers: list[bool | None] = []

    def ask(self) -> None:
        self.push_screen(ConfirmScreen("Invalidate every cached entry?"), self.answers.append)


async def test_keys_answer_yes_and_no() -> None:
    app = QuestionApp()
    async with app.run_test() as pilot:
        app.ask()
        await pilot.pause()
        await pilot.press("y")
        app.ask()
        await pilot.pause()
        await pilot.press("n")
        app.ask()
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()

    assert app.answers == [True, False, False]


async def test_enter_defaults_to_no() -> None:
    app = QuestionApp()
    async with app.run_test() as pilot:
        app.ask()
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()

    assert app.answers == [False]
