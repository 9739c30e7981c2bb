"""The cache on screen: admin invalidation, stale and refreshing marks, reloads across copies.

The app reads through a real cache store on a controlled timer, with the
invalidation log in the test's SQLite file. `MemoryProvider.ranges` counts the
provider's week fetches, so a reload served from the cache adds none.
"""

from __future__ import annotations

import asyncio
import getpass
import random
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import time, timedelta
from zoneinfo import ZoneInfo

from tests.cache.conftest import FakeTimer
from tests.tui.conftest import (
    MONDAY,
    NOW,
    ZONE,
    CountingAggregator,
    MemoryProvider,
    at,
    calendar_of,
    grid_of,
    screen_text,
    wait_loaded,
    wait_until,
)

from sched_tui.cache.admin import NOT_ADMIN_MESSAGE
from sched_tui.cache.control import CacheControl
from sched_tui.cache.reads import CachedReads
from sched_tui.cache.store import AVAILABILITY, CacheStore
from sched_tui.config import Config
from sched_tui.model import CalendarWeek, Week
from sched_tui.providers.base import ProviderUnavailable
from sched_tui.services import Services
from sched_tui.tui.app import SchedApp
from sched_tui.tui.cache_actions import RELOAD_DELAY_S
from sched_tui.tui.cache_marks import (
    REFRESHING_GLYPH,
    STALE_GLYPH,
    cell_mark,
    detail_notes,
    format_age,
)
from sched_tui.tui.cells import Cell, CellItem
from sched_tui.tui.screens.confirm import ConfirmScreen
from sched_tui.tui.screens.pick_therapist import PickTherapistScreen
from sched_tui.tui.widgets.status_line import StatusLine

SIZE = (120, 36)
# Wednesday 14:00 contains one appointment (Chen), and Monday 9:00 contains Rivera's and Chen's.
CHEN_CELL = (2, time(14))
SHARED_CELL = (0, time(9))


def make_cached_app(
    config: Config,
    providers: Sequence[MemoryProvider],
    timer: FakeTimer,
    *,
    jitter: float = 0.0,
) -> tuple[SchedApp, CacheStore]:
    """Build an app that reads `providers` through a cache store on `timer`."""
    store = CacheStore(replace(config.cache, jitter=jitter), timer=timer, rng=random.Random(7))
    reads = CachedReads(store)
    aggregator = CountingAggregator(providers, config.practice.tz, reads=reads)

    async def start(config: Config) -> Services:
        cache = await CacheControl.open(store, config.storage.path)
        return Services(config=config, aggregator=aggregator, reads=reads, cache=cache)

    return SchedApp(config, services_factory=start, clock=lambda: NOW), store


def as_admin(config: Config) -> Config:
    """Return `config` with the user running the tests as the only admin."""
    return replace(config, admins=(getpass.getuser(),))


def select(app: SchedApp, day: int, moment: time) -> None:
    """Put the grid cursor on `day` (0 is Monday) at the row holding `moment`."""
    grid = grid_of(app)
    grid.move_cursor((day, grid.shape.row_of(moment)))


def availability_entries(store: CacheStore) -> int:
    """Return how many availability entries are within their TTL."""
    return store.stats().entries[AVAILABILITY]


async def test_non_admin_cannot_invalidate(config, provider: MemoryProvider) -> None:
    config = replace(config, admins=())
    app, store = make_cached_app(config, [provider], FakeTimer())

    # Toasts are off in test runs unless asked for.
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_loaded(pilot)
        fetches = len(provider.ranges)
        entries = availability_entries(store)
        select(app, *CHEN_CELL)

        await pilot.press("i")
        # The message's first clause; the toast may wrap the rest.
        await wait_until(pilot, lambda: NOT_ADMIN_MESSAGE.split(":")[0] in screen_text(app))
        assert not isinstance(app.screen, ConfirmScreen)

        await pilot.press("I")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)

        status = app.screen.query_one(StatusLine)
        total = sum(store.stats().entries.values())
        assert status.segment_text("cache") == f"cache 0% · {total} entries"
        hits = store.stats().hits
        await pilot.press("r")
        await wait_loaded(pilot)
        assert len(provider.ranges) == fetches
        assert availability_entries(store) == entries
        assert store.stats().hits > hits
        assert re.fullmatch(r"cache [1-9]\d*% · \d+ entries", status.segment_text("cache"))
        assert re.fullmatch(r"as of \d\d:\d\d", status.segment_text("as-of"))


async def test_admin_invalidates_therapist(config, provider: MemoryProvider) -> None:
    app, store = make_cached_app(as_admin(config), [provider], FakeTimer())

    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot)
        fetches = len(provider.ranges)
        entries = availability_entries(store)
        select(app, *CHEN_CELL)

        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        question = app.screen.query_one("#confirm-question").render()
        assert "Sam Chen (chen)" in str(question)
        await pilot.press("n")
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        await pilot.press("r")
        await wait_loaded(pilot)
        assert len(provider.ranges) == fetches
        assert availability_entries(store) == entries

        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(
            pilot,
            lambda: len(provider.ranges) == fetches + 1 and calendar_of(app).shows_latest,
        )
        assert availability_entries(store) == entries
        assert (
            grid_of(app)
            .rendered((2, grid_of(app).shape.row_of(time(14))))
            .label.startswith("✓14:00 Che")
        )


async def test_therapist_comes_from_cell(config, provider: MemoryProvider) -> None:
    app, store = make_cached_app(as_admin(config), [provider], FakeTimer())

    # Toasts are off in test runs unless asked for.
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_loaded(pilot)
        fetches = len(provider.ranges)
        entries = availability_entries(store)

        select(app, 4, time(16))
        await pilot.press("i")
        await wait_until(pilot, lambda: "select a cell with an appointment" in screen_text(app))
        assert not isinstance(app.screen, ConfirmScreen)

        select(app, *SHARED_CELL)
        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(app.screen, PickTherapistScreen))
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        question = str(app.screen.query_one("#confirm-question").render())
        assert "Sam Chen (chen)" in question

        await pilot.press("n")
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        assert availability_entries(store) == entries
        assert len(provider.ranges) == fetches


async def test_admin_invalidates_all(config, provider: MemoryProvider) -> None:
    app, store = make_cached_app(as_admin(config), [provider], FakeTimer())

    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot)
        fetches = len(provider.ranges)
        entries = availability_entries(store)

        await pilot.press("I")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        assert availability_entries(store) == entries

        await pilot.press("I")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(
            pilot,
            lambda: len(provider.ranges) == fetches + 1 and calendar_of(app).shows_latest,
        )
        assert availability_entries(store) == entries
        # The reload after the invalidation fetched once, not once more per cache notice.
        await pilot.pause(RELOAD_DELAY_S + 0.15)
        assert len(provider.ranges) == fetches + 1


async def test_failed_refresh_shows_stale_values(config, provider: MemoryProvider) -> None:
    timer = FakeTimer()
    app, _ = make_cached_app(config, [provider], timer)

    async with app.run_test(size=SIZE) as pilot:
        grid = grid_of(app)
        await wait_loaded(pilot)
        nine = (0, grid.shape.row_of(time(9)))
        fresh_label = grid.rendered(nine).label

        provider.failure = ProviderUnavailable("memory is unavailable (HTTP 503)")
        timer.advance(config.cache.availability_ttl_s + 60)
        await pilot.press("r")
        await wait_loaded(pilot)

        cell = grid.rendered(nine)
        assert cell.label == STALE_GLYPH + fresh_label
        assert cell.mark == "stale"
        status = app.screen.query_one(StatusLine)
        assert "⚠ stale: memory (16 min old, refresh failed)" in status.segment_text("alerts")
        assert STALE_GLYPH + fresh_label[:8] in screen_text(app)

        select(app, *SHARED_CELL)
        await pilot.pause()
        detail = str(app.screen.query_one("#detail-items").render())
        assert "Sam Chen: stale 16 min, refresh failed" in detail


async def test_refresh_window_marks_refreshing(config, provider: MemoryProvider) -> None:
    timer = FakeTimer()
    app, _ = make_cached_app(config, [provider], timer, jitter=0.5)

    async with app.run_test(size=SIZE) as pilot:
        grid = grid_of(app)
        await wait_loaded(pilot)
        nine = (0, grid.shape.row_of(time(9)))
        old_label = grid.rendered(nine).label
        provider.book("a4", "rivera", at(MONDAY + timedelta(days=4), 9))

        # Past every entry's refresh point (at least half the TTL) but within the TTL.
        provider.gate = asyncio.Event()
        timer.advance(config.cache.availability_ttl_s * 0.99)
        await pilot.press("r")
        await wait_loaded(pilot)

        cell = grid.rendered(nine)
        assert cell.label == REFRESHING_GLYPH + old_label
        assert cell.mark == "refreshing"
        status = app.screen.query_one(StatusLine)
        assert status.segment_text("state") == "↻ refreshing 2 therapists"
        friday = (4, grid.shape.row_of(time(9)))
        assert grid.rendered(friday).label == ""

        # The finished background refresh reloads the week without any key press.
        provider.gate.set()
        await wait_until(pilot, lambda: grid.rendered(friday).label.startswith("✓9:00 Riv"))
        assert grid.rendered(nine).label == old_label
        assert grid.rendered(nine).mark == ""
        assert status.segment_text("state") == ""


async def test_other_copy_invalidation_reloads(config, provider: MemoryProvider) -> None:
    app, _ = make_cached_app(config, [provider], FakeTimer())
    other = await CacheControl.open(CacheStore(config.cache), config.storage.path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_loaded(pilot)
            fetches = len(provider.ranges)

            await other.invalidate("rivera")
            await wait_until(
                pilot,
                lambda: len(provider.ranges) == fetches + 1 and calendar_of(app).shows_latest,
                limit_s=2.0,
            )
    finally:
        await other.aclose()


# Marks and wording, without a running app.


def test_age_formats() -> None:
    assert format_age(40) == "40 s"
    assert format_age(12 * 60 + 10) == "12 min"
    assert format_age(2 * 3600 + 5 * 60) == "2 h 05 min"


def test_stale_mark_wins_over_refreshing() -> None:
    calendar = CalendarWeek(
        week=Week(MONDAY, ZoneInfo(ZONE)),
        timezone=ZONE,
        stale_therapists={"rivera": 720.0},
        refreshing=frozenset({"rivera", "chen"}),
    )
    rivera = CellItem(
        "slot", NOW, NOW, "Dr. Ana Rivera", "Riv", "", "", None, "memory", therapist_id="rivera"
    )
    chen = replace(rivera, therapist="Sam Chen", therapist_short="Che", therapist_id="chen")

    assert cell_mark(Cell((rivera, chen)), calendar) == "stale"
    assert cell_mark(Cell((chen,)), calendar) == "refreshing"
    assert cell_mark(Cell(continued=(chen,)), calendar) == "refreshing"
    assert cell_mark(Cell(), calendar) == ""
    assert detail_notes(Cell((rivera, chen)), calendar) == [
        "≈ Dr. Ana Rivera: stale 12 min, refresh failed",
        "↻ Sam Chen: refreshing, showing the previous data",
    ]


async def test_reload_as_of_is_data_age(config, provider: MemoryProvider) -> None:
    timer = FakeTimer()
    store = CacheStore(replace(config.cache, jitter=0.0), timer=timer, rng=random.Random(7))
    reads = CachedReads(store)
    # The aggregator's clock moves with the cache's timer, from 15:00 in New York.
    aggregator = CountingAggregator(
        [provider],
        config.practice.tz,
        reads=reads,
        clock=lambda: NOW + timedelta(seconds=timer.time - 1000.0),
    )
    services = Services(config=config, aggregator=aggregator, reads=reads)
    app = SchedApp(config, services=services, clock=lambda: NOW)

    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot)
        status = app.screen.query_one(StatusLine)
        assert status.segment_text("as-of") == "as of 15:00"

        # Within the TTL, a reload serves the cached week: "as of" keeps its fetch time.
        fetches = len(provider.ranges)
        timer.advance(5 * 60)
        await pilot.press("r")
        await wait_loaded(pilot)
        assert len(provider.ranges) == fetches
        assert status.segment_text("as-of") == "as of 15:00"

        # Past the TTL, the reload fetches again and "as of" moves to the new fetch.
        timer.advance(config.cache.availability_ttl_s)
        await pilot.press("r")
        await wait_loaded(pilot)
        assert len(provider.ranges) > fetches
        assert status.segment_text("as-of") == "as of 15:20"
