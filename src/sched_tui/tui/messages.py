"""Typed messages that carry worker results and user intent between TUI parts."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from sched_tui.model import CalendarWeek, Filters, Week
from sched_tui.tui.queue_link import QueueUpdate


@dataclass(frozen=True, slots=True)
class WeekQuery:
    """One request for a week's calendar.

    `generation` numbers requests in order, so the result of an older one is dropped.
    """

    generation: int
    week: Week
    filters: Filters


class WeekLoaded(Message):
    """The calendar worker finished a query."""

    def __init__(self, query: WeekQuery, calendar: CalendarWeek) -> None:
        super().__init__()
        self.query = query
        self.calendar = calendar


class WeekFailed(Message):
    """The calendar worker could not produce a calendar for a query."""

    def __init__(self, query: WeekQuery, reason: str) -> None:
        super().__init__()
        self.query = query
        self.reason = reason


class FiltersChanged(Message):
    """The user settled on new filters (sent once per debounced burst of edits)."""

    def __init__(self, filters: Filters) -> None:
        super().__init__()
        self.filters = filters


class QueueChanged(Message):
    """The write queue changed: new depth or jobs, or jobs that reached an outcome."""

    def __init__(self, update: QueueUpdate) -> None:
        super().__init__()
        self.update = update
