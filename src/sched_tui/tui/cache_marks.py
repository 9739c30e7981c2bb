"""Marks for the age of cached data on screen: stale, refreshing, "as of" and cache stats.

Plain Python with no Textual import, so the wording and the marking rules are
testable without a running app. A cell is marked when any therapist with an
item in it is marked in the `CalendarWeek`:

* stale (`STALE_GLYPH`): a refresh failed, so the cell shows data from an
  expired cache entry (`CalendarWeek.stale_therapists`);
* refreshing (`REFRESHING_GLYPH`): the cell shows the previous data while a
  background refresh runs (`CalendarWeek.refreshing`).

Stale wins over refreshing. Each mark is a glyph in the label, so it reads
without colour, and a component style of the grid (`week-grid--<mark>`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sched_tui.cache.store import CacheStats
from sched_tui.model import CalendarWeek
from sched_tui.tui.cells import Cell, CellItem, RenderedCell, render_cell

STALE_GLYPH = "≈"
REFRESHING_GLYPH = "↻"
STALE = "stale"
REFRESHING = "refreshing"
MARKS = (STALE, REFRESHING)
_GLYPHS = {STALE: STALE_GLYPH, REFRESHING: REFRESHING_GLYPH}


def format_age(seconds: float) -> str:
    """Describe an age in seconds compactly: "40 s", "12 min", "2 h 05 min"."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def cell_therapists(cell: Cell) -> dict[str, str]:
    """Return the therapists with an item in `cell` (starting or still running), id to name."""
    items: tuple[CellItem, ...] = cell.items + cell.continued
    return {item.therapist_id: item.therapist for item in items if item.therapist_id}


def cell_mark(cell: Cell, calendar: CalendarWeek) -> str:
    """Return the cell's mark: `STALE`, `REFRESHING` or "" for none."""
    ids = cell_therapists(cell)
    if any(therapist_id in calendar.stale_therapists for therapist_id in ids):
        return STALE
    if any(therapist_id in calendar.refreshing for therapist_id in ids):
        return REFRESHING
    return ""


def render_marked(cell: Cell, calendar: CalendarWeek) -> RenderedCell:
    """Render `cell` as `render_cell` does, with its mark's glyph in front of the label."""
    rendered = render_cell(cell)
    mark = cell_mark(cell, calendar)
    if not mark:
        return rendered
    return replace(rendered, label=_GLYPHS[mark] + rendered.label, mark=mark)


def detail_notes(cell: Cell, calendar: CalendarWeek) -> list[str]:
    """Describe, for the detail panel, which therapists in `cell` show old data and how old."""
    notes = []
    for therapist_id, name in sorted(cell_therapists(cell).items(), key=lambda pair: pair[1]):
        age = calendar.stale_therapists.get(therapist_id)
        if age is not None:
            notes.append(f"{STALE_GLYPH} {name}: stale {format_age(age)}, refresh failed")
        elif therapist_id in calendar.refreshing:
            notes.append(f"{REFRESHING_GLYPH} {name}: refreshing, showing the previous data")
    return notes


def stale_alerts(calendar: CalendarWeek) -> list[str]:
    """Return one status-line alert per provider whose data are stale."""
    return [
        f"⚠ stale: {provider} ({format_age(age)} old, refresh failed)"
        for provider, age in sorted(calendar.stale.items())
    ]


def refreshing_text(calendar: CalendarWeek) -> str:
    """Return the status-line note for therapists being refreshed, "" when none are."""
    count = len(calendar.refreshing)
    if not count:
        return ""
    return f"{REFRESHING_GLYPH} refreshing {count} therapist{'s' if count > 1 else ''}"


def as_of_text(calendar: CalendarWeek) -> str:
    """Return "as of HH:MM" in the practice time zone, "" when the time is unknown.

    The time is when the oldest therapist week shown was fetched from its
    provider, or when the calendar was built if the reads bypassed the cache.
    """
    moment: datetime | None = calendar.as_of or calendar.fetched_at
    if moment is None:
        return ""
    return f"as of {moment.astimezone(calendar.week.tz):%H:%M}"


def cache_text(stats: CacheStats) -> str:
    """Describe the cache for the status line: "cache 87% · 22 entries".

    The ratio counts reads since this copy started ("no reads" before the first).
    Entries are those within their TTL, over every namespace.
    """
    ratio = stats.hit_ratio
    ratio_text = "no reads" if ratio is None else f"{ratio:.0%}"
    entries = sum(stats.entries.values())
    return f"cache {ratio_text} · {entries} entr{'y' if entries == 1 else 'ies'}"


def cache_short_text(stats: CacheStats) -> str:
    """Describe the cache for a crowded status line: "cache 87%"."""
    ratio = stats.hit_ratio
    return "cache -" if ratio is None else f"cache {ratio:.0%}"
