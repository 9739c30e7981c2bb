"""Placing and labelling calendar items in grid cells, without a running app."""

from __future__ import annotations

from datetime import date, time, timedelta

from tests.tui.conftest import MONDAY, ZONE, at

from sched_tui.model import Appointment, CalendarWeek, Slot, Status, Therapist, Week
from sched_tui.tui.cells import (
    ALL_DAY_ROW,
    GridShape,
    build_cells,
    render_cell,
    short_service,
    short_therapist,
)

SHAPE = GridShape(time(8, 0), time(20, 0), 30)


def calendar(appointments=(), slots=()) -> CalendarWeek:
    from zoneinfo import ZoneInfo

    return CalendarWeek(
        week=Week(MONDAY, ZoneInfo(ZONE)),
        timezone=ZONE,
        therapists=(Therapist("rivera", "Dr. Ana Rivera", "m"), Therapist("chen", "Sam Chen", "m")),
        appointments=tuple(appointments),
        slots=tuple(slots),
    )


def appointment(
    start, minutes=50, therapist="rivera", status=Status.CONFIRMED, **kwargs
) -> Appointment:
    names = {"rivera": "Dr. Ana Rivera", "chen": "Sam Chen"}
    return Appointment(
        id=f"{therapist}-{start}",
        therapist_id=therapist,
        therapist_name=names[therapist],
        source="m",
        start=start,
        end=start + timedelta(minutes=minutes) if not kwargs.get("all_day") else kwargs.pop("end"),
        status=status,
        service=kwargs.pop("service", "Individual therapy"),
        **kwargs,
    )


def test_shape_rows_and_clamping() -> None:
    assert SHAPE.row_count == 24
    assert SHAPE.row_start(3) == time(9, 30)
    assert SHAPE.row_of(time(9, 10)) == 2
    assert SHAPE.row_of(time(6, 0)) == 0
    assert SHAPE.row_of(time(22, 0)) == 23
    assert GridShape(time(8, 0), time(9, 10), 30).row_count == 3


def test_short_names() -> None:
    assert short_therapist("Dr. Ana Rivera") == "Riv"
    assert short_therapist("Sam Chen") == "Che"
    assert short_therapist("Ana Rivera, LMHC") == "Riv"
    assert short_therapist("Dr.") == "Dr."
    assert short_service("Individual therapy") == "IT"
    assert short_service("Cognitive behavioral therapy") == "CBT"
    assert short_service("Intake") == "Inta"
    assert short_service("") == ""


def test_single_item_label() -> None:
    cells = build_cells(calendar([appointment(at(MONDAY, 9, 10))]), SHAPE)

    rendered = render_cell(cells[(0, 2)])

    assert rendered.label == "✓9:10 Riv IT"
    assert rendered.tone == "confirmed"


def test_several_items_label() -> None:
    items = [
        appointment(at(MONDAY, 9)),
        appointment(at(MONDAY, 9), therapist="chen", status=Status.CANCELLED),
    ]
    slots = [Slot("chen", at(MONDAY, 9, 15), at(MONDAY, 10), "m")]

    rendered = render_cell(build_cells(calendar(items, slots), SHAPE)[(0, 2)])

    assert rendered.label == "3: ✓Riv ✗Che ○1"
    assert rendered.tone == "confirmed"


def test_open_slots_only_label() -> None:
    slots = [Slot(t, at(MONDAY, 11), at(MONDAY, 12), "m") for t in ("rivera", "chen")]

    rendered = render_cell(build_cells(calendar(slots=slots), SHAPE)[(0, 6)])

    assert rendered.label == "○ 2 open"
    assert rendered.tone == "open"


def test_long_appointment_marks_later_rows() -> None:
    cells = build_cells(calendar([appointment(at(MONDAY, 9), minutes=90)]), SHAPE)

    assert render_cell(cells[(0, 3)]).label == "┊Riv"
    assert render_cell(cells[(0, 4)]).label == "┊Riv"
    assert render_cell(cells[(0, 5)]).label == ""


def test_cancelled_appointment_does_not_continue() -> None:
    cancelled = appointment(at(MONDAY, 9), minutes=90, status=Status.CANCELLED)

    cells = build_cells(calendar([cancelled]), SHAPE)

    assert render_cell(cells[(0, 3)]).label == ""


def test_all_day_event_spans_days() -> None:
    wednesday, friday = MONDAY + timedelta(days=2), MONDAY + timedelta(days=4)
    event = appointment(wednesday, all_day=True, end=friday, summary="Conference")

    cells = build_cells(calendar([event]), SHAPE)

    assert [day for day in range(7) if cells[(day, ALL_DAY_ROW)].items] == [2, 3]
    assert render_cell(cells[(2, ALL_DAY_ROW)]).label == "✓Riv IT"


def test_early_and_late_items_clamped() -> None:
    items = [appointment(at(MONDAY, 7)), appointment(at(MONDAY, 21), therapist="chen")]

    cells = build_cells(calendar(items), SHAPE)

    assert render_cell(cells[(0, 0)]).label == "✓7:00 Riv IT"
    assert render_cell(cells[(0, 23)]).label == "✓21:00 Che IT"


def test_every_cell_present() -> None:
    cells = build_cells(calendar(), SHAPE)

    assert len(cells) == 7 * 25
    assert date(2026, 12, 7) == MONDAY
