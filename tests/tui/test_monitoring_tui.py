"""Alert banners, acknowledgement, the KPI pane and the alert history, on screen.

The monitoring runtime gets a controlled clock and no background evaluation:
tests evaluate the rules themselves after moving the clock, so a rule with
`for_s = 5` fires without waiting 5 s. Latencies are still measured in real
time, so the sandbox's 2.5 s latency really elapses once.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from tests.monitoring.conftest import FakeClock, insert_events
from tests.tui.conftest import (
    MONDAY,
    NOW,
    MemoryProvider,
    make_config,
    screen_text,
    wait_loaded,
    wait_until,
)
from textual.pilot import Pilot
from textual.widgets import DataTable, Sparkline, Static

from sched_tui.aggregator import Aggregator
from sched_tui.cache.control import CacheControl
from sched_tui.cache.reads import CachedReads
from sched_tui.cache.store import CacheStore
from sched_tui.config import AlertRuleConfig, Config, ProviderConfig, SandboxFaults
from sched_tui.config.monitoring import MonitoringConfig
from sched_tui.monitoring import chart
from sched_tui.monitoring.alerts import ActiveAlert, AlertState, HistoryEntry
from sched_tui.monitoring.kpi import CacheRatio, ErrorRate, KpiSnapshot, MinuteSeries
from sched_tui.monitoring.runtime import Monitoring
from sched_tui.providers.base import Provider
from sched_tui.providers.zocdoc import ZocdocProvider
from sched_tui.providers.zocdoc_api import RetryPolicy
from sched_tui.reads import DirectReads
from sched_tui.services import Services
from sched_tui.tui.alert_watch import alert_banners, format_since
from sched_tui.tui.app import SchedApp
from sched_tui.tui.kpi_rows import chart_thresholds, kpi_rows
from sched_tui.tui.screens.alert_history import AlertHistoryScreen, history_cells
from sched_tui.tui.screens.calendar import CalendarScreen
from sched_tui.tui.screens.kpi import KpiScreen

ERROR_RULE = AlertRuleConfig(
    name="HighErrorRate",
    severity="critical",
    kpi="error_rate",
    threshold=5.0,
    window_s=60,
    for_s=5.0,
    summary="More than 5% of calls failed",
)
SLOW_RULE = AlertRuleConfig(
    name="SlowAggregatedCalendar",
    severity="warning",
    kpi="p95_latency_ms",
    call="getAggregatedCalendar",
    threshold=2000.0,
    window_s=60,
    for_s=5.0,
    summary="P95 of getAggregatedCalendar above 2000 ms",
)
SIZE = (160, 45)


def monitored_config(tmp_path: Path) -> Config:
    """Return the test config with short alert durations, a 0.1 s refresh and 3 samples minimum."""
    monitoring = MonitoringConfig(refresh_s=0.1, min_samples=3, alerts=(ERROR_RULE, SLOW_RULE))
    return replace(make_config(tmp_path), monitoring=monitoring)


@dataclass
class Rig:
    """An app whose services include a real Monitoring on a controlled clock."""

    app: SchedApp
    monitoring: Monitoring
    aggregator: Aggregator
    clock: FakeClock

    async def evaluate(self, advance_s: float = 0.0) -> None:
        """Move the clock, write buffered events, and evaluate the rules."""
        self.clock.advance(advance_s)
        assert self.monitoring.recorder is not None
        await self.monitoring.recorder.flush()
        await self.monitoring.evaluate_alerts(force=True)


async def build_rig(
    tmp_path: Path, providers: list[Provider] | None = None, *, cached: bool = False
) -> Rig:
    """Start monitoring first (so HTTP clients built afterwards are timed), then the providers."""
    config = monitored_config(tmp_path)
    clock = FakeClock(float(int(time.time())))
    monitoring = await Monitoring.start(config, background=False, clock=clock)
    if providers is None:
        zocdoc = ProviderConfig(name="zocdoc", kind="zocdoc")
        # No retries and room for every request at once, so the test waits one latency per step.
        sandbox = ZocdocProvider.from_config(
            zocdoc, config.practice.tz, retry=RetryPolicy(retries=0), concurrency=32
        )
        providers = [sandbox]
    store = CacheStore(config.cache)
    reads = CachedReads(store) if cached else DirectReads()
    aggregator = Aggregator(providers, config.practice.tz, reads=reads)
    services = Services(
        config=config,
        aggregator=aggregator,
        reads=reads,
        cache=CacheControl(store),
        monitoring=monitoring,
    )
    app = SchedApp(config, services=services, clock=lambda: NOW)
    return Rig(app, monitoring, aggregator, clock)


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    """A rig over an in-memory provider, for tests that insert events directly.

    The provider never returns, so the calendar records no getAggregatedCalendar
    call (a cancelled call is not recorded) and the tests control every event.
    """
    provider = MemoryProvider()
    provider.gate = asyncio.Event()
    yield await build_rig(tmp_path, [provider])


async def insert_failures(rig: Rig, count: int = 10) -> None:
    """Record `count` failed external calls at the current time."""
    now = rig.clock()
    rows = [(now, "Zocdoc_GetAppointments", 50.0, False, 503) for _ in range(count)]
    await insert_events(rig.monitoring.db, rows)


async def fire_error_alert(rig: Rig) -> None:
    """Make HighErrorRate fire: pending now, firing 6 s later."""
    await insert_failures(rig)
    await rig.evaluate()
    await rig.evaluate(advance_s=6)


def banner_texts(app: SchedApp) -> list[str]:
    """Return the alert banners of the current screen."""
    return [str(banner.content) for banner in app.screen.query(".banner").results(Static)]


def has_banner(app: SchedApp, text: str) -> bool:
    """Tell whether a banner of the current screen contains `text`."""
    return any(text in banner for banner in banner_texts(app))


async def wait_next_read(pilot: Pilot, app: SchedApp) -> None:
    """Wait until the alert watch completed a read that started after this call."""
    seen = app.alert_watch.reads
    await wait_until(pilot, lambda: app.alert_watch.reads >= seen + 2)


# Banners driven by the sandbox


async def test_sandbox_faults_raise_and_clear_banners(tmp_path: Path) -> None:
    rig = await build_rig(tmp_path, cached=True)
    app = rig.app
    sandbox = rig.aggregator.providers[0]
    assert isinstance(sandbox, ZocdocProvider) and sandbox.sandbox is not None

    async with app.run_test(size=SIZE) as pilot:
        # The first load fills the cache with therapists and services, without faults.
        await wait_loaded(pilot)
        sandbox.sandbox.set_faults(SandboxFaults(latency_ms=2500, error_rate=0.3, seed=3))
        weeks = [MONDAY + timedelta(weeks=n) for n in range(1, 5)]
        await asyncio.gather(*(rig.aggregator.get_aggregated_calendar(week) for week in weeks))

        await rig.evaluate()
        await wait_next_read(pilot, app)
        assert banner_texts(app) == []  # pending until for_s has passed

        await rig.evaluate(advance_s=6)
        await wait_until(pilot, lambda: len(banner_texts(app)) == 2)
        text = screen_text(app)
        assert "✖ CRITICAL HighErrorRate: More than 5% of calls failed | value " in text
        assert "⚠ WARNING SlowAggregatedCalendar: P95 of getAggregatedCalendar" in text
        assert "| since " in text
        critical = app.screen.query_one("#banner-alert-HighErrorRate", Static)
        warning = app.screen.query_one("#banner-alert-SlowAggregatedCalendar", Static)
        assert critical.has_class("-critical")
        assert warning.has_class("-warning")

        sandbox.sandbox.set_faults(SandboxFaults())
        rig.clock.advance(120)  # the faulty calls leave the 60 s windows
        weeks = [MONDAY + timedelta(weeks=n) for n in range(5, 9)]
        await asyncio.gather(*(rig.aggregator.get_aggregated_calendar(week) for week in weeks))
        await rig.evaluate()
        await wait_until(pilot, lambda: banner_texts(app) == [])

        history = await rig.monitoring.alert_history()
        assert {entry.rule for entry in history} == {"HighErrorRate", "SlowAggregatedCalendar"}
        assert all(entry.resolved_at is not None for entry in history)


# Acknowledgement, every screen, history


async def test_acknowledge_marks_banner_until_resolved(rig: Rig) -> None:
    app = rig.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.alert_watch.running)
        await fire_error_alert(rig)
        await wait_until(pilot, lambda: has_banner(app, "CRITICAL HighErrorRate"))
        assert not has_banner(app, "ack'd")

        await pilot.press("a")
        await wait_until(pilot, lambda: has_banner(app, "ack'd by "))
        banner = app.screen.query_one("#banner-alert-HighErrorRate", Static)
        assert banner.has_class("-acknowledged")
        assert banner.has_class("-critical")
        await wait_next_read(pilot, app)
        assert has_banner(app, "CRITICAL HighErrorRate")  # still listed while firing

        await rig.evaluate(advance_s=120)  # no calls in the window: keeps firing
        await wait_next_read(pilot, app)
        assert has_banner(app, "ack'd by ")


async def test_acknowledge_without_alert_notifies(rig: Rig) -> None:
    app = rig.app
    messages: list[str] = []
    app.notify = lambda message, **options: messages.append(message)  # type: ignore[method-assign,assignment,misc]
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.alert_watch.running)
        await pilot.press("a")
        await wait_until(pilot, lambda: len(messages) == 1)
        assert messages == ["No unacknowledged alert is firing."]


async def test_banners_show_on_every_screen(rig: Rig) -> None:
    app = rig.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.alert_watch.running)
        await pilot.press("K")
        await wait_until(pilot, lambda: isinstance(app.screen, KpiScreen))
        await fire_error_alert(rig)
        await wait_until(pilot, lambda: has_banner(app, "CRITICAL HighErrorRate"))

        await pilot.press("A")
        await wait_until(pilot, lambda: isinstance(app.screen, AlertHistoryScreen))
        await wait_until(pilot, lambda: has_banner(app, "CRITICAL HighErrorRate"))

        # The calendar was hidden when the alert fired; it catches up when shown.
        await pilot.press("w")
        await wait_until(pilot, lambda: isinstance(app.screen, CalendarScreen))
        await wait_until(pilot, lambda: has_banner(app, "CRITICAL HighErrorRate"))


async def test_unchanged_alerts_repaint_nothing(rig: Rig) -> None:
    app = rig.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.alert_watch.running)
        await fire_error_alert(rig)
        await wait_until(pilot, lambda: has_banner(app, "CRITICAL HighErrorRate"))
        banner = app.screen.query_one("#banner-alert-HighErrorRate", Static)
        updates = []
        original = banner.update
        banner.update = lambda *args, **kwargs: (updates.append(args), original(*args, **kwargs))  # type: ignore[method-assign]

        await wait_next_read(pilot, app)
        await wait_next_read(pilot, app)

        assert updates == []


async def test_history_lists_firings(rig: Rig) -> None:
    app = rig.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.alert_watch.running)
        await fire_error_alert(rig)
        await rig.monitoring.acknowledge("HighErrorRate", "frontdesk")

        await pilot.press("A")
        table = app.screen.query_one("#alert-history", DataTable)
        await wait_until(pilot, lambda: table.row_count == 1)
        row = [str(cell) for cell in table.get_row_at(0)]
        assert row[1:5] == ["CRITICAL", "HighErrorRate", "FIRING", "100.0%"]
        assert row[6].endswith("by frontdesk")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, CalendarScreen))


async def test_acknowledge_in_history_shows_at_once(rig: Rig) -> None:
    """Pressing a in the history view fills the Acknowledged column without a reload."""
    app = rig.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.alert_watch.running)
        await fire_error_alert(rig)
        await wait_until(pilot, lambda: has_banner(app, "CRITICAL HighErrorRate"))

        await pilot.press("A")
        table = app.screen.query_one("#alert-history", DataTable)
        await wait_until(pilot, lambda: table.row_count == 1)
        assert str(table.get_row_at(0)[6]) == ""
        await pilot.press("a")
        await wait_until(pilot, lambda: str(table.get_row_at(0)[6]).startswith(tuple("0123456789")))

    assert " by " in str(table.get_row_at(0)[6])


# KPI pane


async def test_kpi_pane_shows_na_then_values(rig: Rig) -> None:
    app = rig.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.alert_watch.running)
        await pilot.press("K")
        await wait_until(pilot, lambda: isinstance(app.screen, KpiScreen))
        pane = app.screen
        assert isinstance(pane, KpiScreen)
        await wait_until(pilot, lambda: pane.refreshes >= 1 and pane.charts_rendered >= 1)
        assert pane.row_value("p95:getAggregatedCalendar") == "n/a (0 calls)"
        assert pane.row_value("error_rate") == "n/a (0 calls)"
        assert "n/a (0 calls in the last hour)" in pane.chart_text

        now = rig.clock()
        rows = [(now, "getAggregatedCalendar", 120.0, True, None) for _ in range(5)]
        await insert_events(rig.monitoring.db, rows, kind="function")
        await wait_until(
            pilot, lambda: pane.row_value("p95:getAggregatedCalendar") == "120 ms (5 calls)"
        )
        assert pane.row_value("error_rate") == "0.0% (0 of 5 calls)"
        sparkline = pane.query_one("#kpi-row-p95_getAggregatedCalendar Sparkline", Sparkline)
        assert sparkline.data is not None and sparkline.data[-1] == 120.0
        await wait_until(pilot, lambda: "P95 getAggregatedCalendar (ms)" in pane.chart_text)


async def test_kpi_rows_fit_80_columns(rig: Rig) -> None:
    app = rig.app
    now = rig.clock()
    failures = [(now, "Zocdoc_GetAppointments", 50.0, False, 503) for _ in range(3)]
    successes = [(now, "Zocdoc_GetAppointments", 50.0, True, 200) for _ in range(68)]
    await insert_events(rig.monitoring.db, failures + successes)

    # One refresh a minute: the first chart must fit without a second refresh.
    app.config = replace(app.config, monitoring=replace(app.config.monitoring, refresh_s=60))

    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("K")
        await wait_until(pilot, lambda: isinstance(app.screen, KpiScreen))
        pane = app.screen
        assert isinstance(pane, KpiScreen)
        await wait_until(pilot, lambda: pane.row_value("error_rate").startswith("4.2% "))
        await pilot.pause()

        assert pane.row_value("error_rate") == "4.2% (3 of 71 calls)"
        value = pane.query_one("#kpi-row-error_rate .kpi-value", Static)
        assert value.size.width >= len("4.2% (3 of 71 calls)")
        for sparkline in pane.query(Sparkline).results():
            assert sparkline.size.width >= 12
            assert sparkline.region.right <= 80

        # The chart is drawn for the height left under the rows, legend included.
        chart = pane.query_one("#kpi-chart", Static)
        await wait_until(pilot, lambda: "errors (%, right axis)" in pane.chart_text)
        small = len(pane.chart_text.splitlines())
        assert small <= chart.content_size.height
        await pilot.resize_terminal(100, 40)
        # Taller now. plotext caps a chart at the height of the terminal it finds,
        # which is 24 rows under pytest, so the new height is not checked exactly.
        await wait_until(pilot, lambda: len(pane.chart_text.splitlines()) > small)
        assert len(pane.chart_text.splitlines()) <= chart.content_size.height


async def test_kpi_pane_pauses_while_hidden(rig: Rig) -> None:
    app = rig.app
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("K")
        await wait_until(pilot, lambda: isinstance(app.screen, KpiScreen))
        pane = app.screen
        assert isinstance(pane, KpiScreen)
        await wait_until(pilot, lambda: pane.refreshes >= 2)

        await pilot.press("w")
        await wait_until(pilot, lambda: isinstance(app.screen, CalendarScreen))
        await wait_until(pilot, lambda: not pane._refreshing)
        hidden_at = pane.refreshes
        # Five refresh periods of 0.1 s: a pane still polling would refresh here.
        await pilot.pause(0.5)
        assert pane.refreshes == hidden_at

        await pilot.press("K")
        await wait_until(pilot, lambda: pane.refreshes > hidden_at)


async def test_chart_render_keeps_ui_responsive(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    entered = threading.Event()
    release = threading.Event()

    def slow_render(*args: object, **kwargs: object) -> str:
        entered.set()
        release.wait(5)
        return "chart"

    monkeypatch.setattr("sched_tui.tui.screens.kpi.chart.render_chart", slow_render)
    app = rig.app
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("K")
        await wait_until(pilot, entered.is_set)

        # The chart thread is blocked, yet keys still work.
        await pilot.press("w")
        await wait_until(pilot, lambda: isinstance(app.screen, CalendarScreen))
        release.set()


# Plain logic


def _alert(rule: AlertRuleConfig, state: str, **fields: object) -> ActiveAlert:
    return ActiveAlert(
        rule, AlertState(rule.name, state, **fields), rule.summary, "12.5% (8 calls)"
    )  # type: ignore[arg-type]


def test_alert_banners_skip_pending() -> None:
    zone = ZoneInfo("America/New_York")
    firing = _alert(ERROR_RULE, "firing", firing_since=1_780_315_200.0)
    pending = _alert(SLOW_RULE, "pending", active_since=1_780_315_200.0)

    banners = alert_banners([firing, pending], 1_780_315_260.0, zone)

    assert [banner.rule for banner in banners] == ["HighErrorRate"]
    assert banners[0].severity == "critical"
    assert banners[0].text == (
        "CRITICAL HighErrorRate: More than 5% of calls failed | value 12.5% (8 calls)"
        " | since 08:00 | a: acknowledge"
    )


def test_alert_banner_marks_acknowledged() -> None:
    zone = ZoneInfo("UTC")
    alert = _alert(
        SLOW_RULE,
        "firing",
        firing_since=1_780_315_200.0,
        acknowledged_at=1_780_315_230.0,
        acknowledged_by="frontdesk",
    )

    (banner,) = alert_banners([alert], 1_780_315_260.0, zone)

    assert banner.acknowledged
    assert banner.severity == "warning"
    assert banner.text.endswith("| ack'd by frontdesk")


def test_since_shows_date_on_other_day() -> None:
    zone = ZoneInfo("UTC")
    assert format_since(1_780_315_200.0, 1_780_315_200.0 + 86_400, zone) == "Jun 01 12:00"


def test_kpi_rows_without_data() -> None:
    snapshot = KpiSnapshot(0.0, (), ErrorRate(600, 0, 0, 0), None, CacheRatio(0, 0))
    none = [None, None, None]
    series = MinuteSeries(0, 3, {}, {}, none, [0, 0, 0], [0, 0, 0], none, [0, 0, 0], [0, 0, 0])

    rows = kpi_rows(snapshot, series)

    assert [(row.key, row.value) for row in rows] == [
        ("p95:getAggregatedCalendar", "n/a (0 calls)"),
        ("error_rate", "n/a (0 calls)"),
        ("queue_depth", "n/a"),
        ("cache", "n/a (0 lookups)"),
    ]
    assert rows[1].points == (0.0, 0.0, 0.0)
    assert rows[2].points == ()
    assert rows[3].points == (0.0, 0.0, 0.0)


def test_chart_series_differ_without_colour() -> None:
    minutes = 20
    series = MinuteSeries(
        0,
        minutes,
        {
            "getAggregatedCalendar": [100.0 + (i % 4) * 10 for i in range(minutes)],
            "Zocdoc_GetAppointments": [40.0 + (i % 3) * 5 for i in range(minutes)],
        },
        {"getAggregatedCalendar": [5] * minutes, "Zocdoc_GetAppointments": [3] * minutes},
        [float(i % 5) for i in range(minutes)],
        [8] * minutes,
        [0] * minutes,
        [0] * minutes,
        [0] * minutes,
        [0] * minutes,
    )

    text = chart.render_chart(series, 78, 16, color=False)
    lines = text.split("\n")
    plot, legend = "\n".join(lines[:-2]), "\n".join(lines[-2:])

    assert len(lines) == 16
    assert "• P95 getAggregatedCalendar (ms)" in legend
    assert "x P95 Zocdoc_GetAppointments (ms)" in legend
    assert "+ errors (%, right axis)" in legend
    for marker in ("•", "x", "+"):
        assert marker in plot
    # The names are only under the plot, not in a box drawn over it.
    assert "getAggregatedCalendar" not in plot


def test_chart_thresholds_from_rules() -> None:
    assert chart_thresholds((ERROR_RULE, SLOW_RULE)) == (2000.0, 5.0)
    assert chart_thresholds(()) == (None, None)


def test_single_sample_sparkline_is_empty() -> None:
    from sched_tui.tui.widgets.kpi_row import sparkline_data

    assert sparkline_data([0.0]) == []
    assert sparkline_data([]) == []
    assert sparkline_data([0.0, 3.0]) == [0.0, 3.0]


def test_history_cells_fit_100_columns() -> None:
    """Times on the firing's day show as HH:MM, so a full row stays within 100 columns."""
    zone = ZoneInfo("America/New_York")
    fired = datetime(2026, 12, 4, 17, 2, tzinfo=zone).timestamp()
    entry = HistoryEntry(
        id=1,
        rule="HighErrorRate",
        severity="critical",
        threshold=5.0,
        active_since=fired - 600,
        fired_at=fired,
        fired_value=31.4,
        resolved_at=fired + 300,
        resolved_value=0.0,
        acknowledged_at=fired + 60,
        acknowledged_by="frontdesk",
    )
    rules = {"HighErrorRate": ERROR_RULE}

    cells = history_cells(entry, rules, zone, 2026)
    next_day = history_cells(replace(entry, acknowledged_at=fired + 86_400), rules, zone, 2026)
    last_year = history_cells(entry, rules, zone, 2027)

    assert cells == (
        "Fri 04 Dec 17:02",
        "CRITICAL",
        "HighErrorRate",
        "resolved",
        "31.4%",
        "17:07 at 0.0%",
        "17:03 by frontdesk",
    )
    # Cell widths plus DataTable's padding of one cell on each side.
    assert sum(len(cell) + 2 for cell in cells) <= 100
    assert next_day[6] == "Sat 05 Dec 17:02 by frontdesk"
    assert last_year[0] == "04 Dec 2026 17:02"


async def test_alert_banner_takes_one_row(rig: Rig) -> None:
    """At 80 columns a long alert banner is cut to one row, not wrapped over the grid."""
    app = rig.app
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.alert_watch.running)
        await fire_error_alert(rig)
        await wait_until(pilot, lambda: has_banner(app, "CRITICAL HighErrorRate"))
        await pilot.pause()
        banner = app.screen.query_one("#banner-alert-HighErrorRate", Static)
        text = str(banner.content)

        assert len(text) > banner.size.width
        assert banner.region.height == 1
