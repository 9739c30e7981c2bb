"""Turn a `CalendarWeek` into the labelled cells of the week grid.

Plain Python with no Textual import, so the layout rules are testable without
a running app. A cell is addressed by `(day, row)`: `day` is 0 for Monday to 6
for Sunday, and `row` is `ALL_DAY_ROW` for the all-day row or the index of a
time row counted from `practice.day_start`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

from rich.cells import cell_len, set_cell_size

from sched_tui.model import Appointment, CalendarWeek, Slot, Status, Week

ALL_DAY_ROW = -1

CellKey = tuple[int, int]

# Glyphs that carry each status without colour (NO_COLOR, monochrome terminals).
STATUS_GLYPHS = {
    Status.CONFIRMED: "✓",
    Status.TENTATIVE: "?",
    Status.CANCELLED: "✗",
}
OPEN_GLYPH = "○"
# An item changed by a queued write that the target has not confirmed yet.
PENDING_GLYPH = "⧗"
CONTINUED_GLYPH = "┊"
PLACEHOLDER_LABEL = "···"

_TITLES = {"dr", "dr.", "mx", "mx.", "ms", "ms.", "mr", "mr.", "mrs", "mrs.", "prof", "prof."}


@dataclass(frozen=True, slots=True)
class GridShape:
    """The time rows of the grid: from `day_start` to `day_end` in `slot_minutes` steps."""

    day_start: time
    day_end: time
    slot_minutes: int

    @property
    def row_count(self) -> int:
        """Number of time rows; a partial last step still gets a row."""
        minutes = _minutes(self.day_end) - _minutes(self.day_start)
        return max(1, -(-minutes // self.slot_minutes))

    def row_start(self, row: int) -> time:
        """Return the clock time at which time row `row` starts."""
        total = _minutes(self.day_start) + row * self.slot_minutes
        return time(total // 60, total % 60)

    def row_of(self, moment: time) -> int:
        """Return the row that contains `moment`; earlier times go to row 0, later to the last."""
        offset = _minutes(moment) - _minutes(self.day_start)
        return min(max(offset // self.slot_minutes, 0), self.row_count - 1)

    def cell_keys(self) -> list[CellKey]:
        """Return every cell key, the all-day row first."""
        rows = [ALL_DAY_ROW, *range(self.row_count)]
        return [(day, row) for row in rows for day in range(7)]


@dataclass(frozen=True, slots=True)
class CellItem:
    """One appointment or open slot as the grid and the detail panel show it."""

    kind: str  # "appointment" or "slot"
    start: datetime  # local time in the practice time zone
    end: datetime
    therapist: str
    therapist_short: str
    service: str
    service_short: str
    status: Status | None  # None for an open slot
    source: str
    all_day: bool = False
    summary: str = ""
    # The provider's id of the therapist; the cache is invalidated and marked by it.
    therapist_id: str = ""
    # The appointment or slot shown; writes read its ids. Not compared, so cells diff by look.
    ref: Appointment | Slot | None = field(default=None, compare=False)
    # What a queued write not yet confirmed does to the item ("pending booking"), else "".
    pending: str = ""

    @property
    def glyph(self) -> str:
        """The pending glyph, the status glyph, or the open-slot glyph."""
        if self.pending:
            return PENDING_GLYPH
        return OPEN_GLYPH if self.status is None else STATUS_GLYPHS[self.status]


@dataclass(frozen=True, slots=True)
class Cell:
    """Contents of one grid cell: items starting in it and appointments running through it."""

    items: tuple[CellItem, ...] = ()
    # Appointments that started in an earlier row of the same day and are still running.
    continued: tuple[CellItem, ...] = ()


# Names of the ways a cell can look; the grid's stylesheet gives each one a style.
TONES = ("placeholder", "empty", "continued", "open", "confirmed", "tentative", "cancelled")


@dataclass(frozen=True, slots=True)
class RenderedCell:
    """A cell's label and tone: the unit the grid diffs before painting."""

    label: str
    tone: str
    # "stale" or "refreshing" when the cell shows old cached data, else "".
    mark: str = ""


PLACEHOLDER = RenderedCell(PLACEHOLDER_LABEL, "placeholder")


def short_therapist(name: str) -> str:
    """Abbreviate a therapist's name to three letters of the surname.

    Titles before the name and credentials after a comma are skipped:
    "Dr. Ana Rivera" and "Ana Rivera, LMHC" both give "Riv".
    """
    words = [word for word in name.split(",")[0].split() if word.casefold() not in _TITLES]
    if not words:
        return name[:3]
    return words[-1][:3].capitalize()


def short_service(name: str) -> str:
    """Abbreviate a service: initials of its words ("Couples therapy" -> "CT"), or 4 letters."""
    words = [word for word in name.replace("-", " ").split() if word]
    if len(words) > 1:
        return "".join(word[0].upper() for word in words[:3])
    return name[:4]


def build_cells(calendar: CalendarWeek, shape: GridShape) -> dict[CellKey, Cell]:
    """Place every appointment and open slot of `calendar` in the cell where it starts."""
    tz = calendar.week.tz
    names = {therapist.id: therapist.name for therapist in calendar.therapists}
    services = {service.id: service.name for service in calendar.services}
    items: dict[CellKey, list[CellItem]] = defaultdict(list)
    continued: dict[CellKey, list[CellItem]] = defaultdict(list)

    for appointment in calendar.appointments:
        item = _appointment_item(appointment, tz)
        if appointment.all_day:
            for day in _all_day_indexes(appointment, calendar.week, tz):
                items[(day, ALL_DAY_ROW)].append(item)
            continue
        start = max(item.start, calendar.week.start_at)
        key = (_day_index(start, calendar.week), shape.row_of(start.time()))
        items[key].append(item)
        if item.status is not Status.CANCELLED:
            for row in _rows_after_start(item, start, key[1], shape):
                continued[(key[0], row)].append(item)

    for slot in calendar.slots:
        item = _slot_item(slot, tz, names, services)
        key = (_day_index(item.start, calendar.week), shape.row_of(item.start.time()))
        items[key].append(item)

    cells: dict[CellKey, Cell] = {}
    for key in shape.cell_keys():
        cell_items = sorted(items.get(key, ()), key=_item_order)
        cells[key] = Cell(tuple(cell_items), tuple(continued.get(key, ())))
    return cells


def render_cell(cell: Cell) -> RenderedCell:
    """Label a cell compactly and pick its tone.

    One item: "✓9:00 Riv IT". Several: "3: ✓Riv ✗Che ○1" (appointments, then the
    number of open slots). Open slots only: "○ 4 open".
    """
    appointments = [item for item in cell.items if item.kind == "appointment"]
    slots = [item for item in cell.items if item.kind == "slot"]

    if not cell.items:
        if cell.continued:
            names = dict.fromkeys(item.therapist_short for item in cell.continued)
            return RenderedCell(CONTINUED_GLYPH + " ".join(names), "continued")
        return RenderedCell("", "empty")

    if len(cell.items) == 1:
        label = _single_label(cell.items[0])
    elif not appointments:
        label = f"{OPEN_GLYPH} {len(slots)} open"
    else:
        parts = [item.glyph + item.therapist_short for item in appointments]
        if slots:
            parts.append(f"{OPEN_GLYPH}{len(slots)}")
        label = f"{len(cell.items)}: " + " ".join(parts)

    # A confirmed appointment sets the tone, else a tentative one, else a cancelled one.
    statuses = {item.status for item in appointments}
    if not appointments:
        tone = "open"
    elif Status.CONFIRMED in statuses:
        tone = "confirmed"
    elif Status.TENTATIVE in statuses:
        tone = "tentative"
    else:
        tone = "cancelled"
    return RenderedCell(label, tone)


def describe_item(item: CellItem) -> str:
    """Describe one item in full for the detail panel."""
    when = "all day" if item.all_day else f"{item.start:%H:%M}-{item.end:%H:%M}"
    state = "open slot" if item.status is None else item.status.value
    parts = [f"{item.glyph} {when}", item.therapist, item.service or "(no service)", state]
    if item.summary and item.summary != item.service:
        parts.append(item.summary)
    if item.pending:
        parts.append(item.pending)
    return " · ".join(parts) + f"  [{item.source}]"


def _single_label(item: CellItem) -> str:
    # No leading zero: at 80 columns a day column is about ten cells wide.
    when = "" if item.all_day else f"{item.start.hour}:{item.start.minute:02d} "
    text = f"{item.glyph}{when}{item.therapist_short}"
    if item.service_short:
        text += f" {item.service_short}"
    return text


def _appointment_item(appointment: Appointment, tz: tzinfo) -> CellItem:
    start, end = appointment.bounds(tz)
    return CellItem(
        kind="appointment",
        start=start.astimezone(tz),
        end=end.astimezone(tz),
        therapist=appointment.therapist_name,
        therapist_short=short_therapist(appointment.therapist_name),
        service=appointment.service,
        service_short=short_service(appointment.service),
        status=appointment.status,
        source=appointment.source,
        therapist_id=appointment.therapist_id,
        all_day=appointment.all_day,
        summary=appointment.summary,
        ref=appointment,
    )


def _slot_item(slot: Slot, tz: tzinfo, names: dict[str, str], services: dict[str, str]) -> CellItem:
    therapist = names.get(slot.therapist_id, slot.therapist_id)
    service = services.get(slot.service_id or "", "")
    return CellItem(
        kind="slot",
        start=slot.start.astimezone(tz),
        end=slot.end.astimezone(tz),
        therapist=therapist,
        therapist_short=short_therapist(therapist),
        service=service,
        service_short=short_service(service),
        status=None,
        source=slot.source,
        therapist_id=slot.therapist_id,
        ref=slot,
    )


def _day_index(moment: datetime, week: Week) -> int:
    return min(max((moment.date() - week.start).days, 0), 6)


def _all_day_indexes(appointment: Appointment, week: Week, tz: tzinfo) -> list[int]:
    start, end = appointment.bounds(tz)
    first: date = max(start.date(), week.start)
    # The end date is exclusive; an event with no length still shows on its start day.
    last: date = min(max(end.date() - timedelta(days=1), first), week.start + timedelta(days=6))
    return [(first - week.start).days + offset for offset in range((last - first).days + 1)]


def _rows_after_start(item: CellItem, start: datetime, start_row: int, shape: GridShape) -> range:
    """Return the later rows of the same day that a timed appointment still covers."""
    day_end = datetime.combine(start.date() + timedelta(days=1), time(), start.tzinfo)
    last_moment = min(item.end, day_end) - timedelta(minutes=1)
    if last_moment.date() != start.date() or last_moment <= start:
        return range(0)
    return range(start_row + 1, shape.row_of(last_moment.time()) + 1)


def _item_order(item: CellItem) -> tuple[int, datetime, str]:
    return (0 if item.kind == "appointment" else 1, item.start, item.therapist)


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute


# Width of the time column ("08:30", "allday") and the gap before each day column, in cells.
TIME_WIDTH = 6
GAP = 1


def column_spans(width: int) -> list[tuple[int, int]]:
    """Return (x, width) of the seven day columns in a row `width` cells wide.

    The space after the time column is shared evenly; the first columns take
    one extra cell each when it does not divide by seven.
    """
    free = max(width - TIME_WIDTH - 7 * GAP, 7)
    base, extra = divmod(free, 7)
    spans = []
    x = TIME_WIDTH
    for day in range(7):
        x += GAP
        column = base + (1 if day < extra else 0)
        spans.append((x, column))
        x += column
    return spans


def fit(text: str, width: int) -> str:
    """Pad or cut `text` to exactly `width` terminal cells, ending a cut text with "…"."""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + "…"
