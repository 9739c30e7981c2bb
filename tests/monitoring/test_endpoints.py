"""The Prometheus endpoint, the rules export, the chart and the `kpi` command."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import plotext
import pytest

from sched_tui.cli import main
from sched_tui.config import ConfigError, parse_config
from sched_tui.monitoring import kpi
from sched_tui.monitoring.chart import render_chart
from sched_tui.monitoring.prometheus import KpiCollector, serve_metrics
from sched_tui.monitoring.rules import export_prometheus_rules
from sched_tui.monitoring.runtime import Monitoring

from .conftest import FakeClock, insert_events


def config_for(db_path: Path):  # type: ignore[no-untyped-def]
    return parse_config({"storage": {"path": str(db_path)}})


async def test_metrics_endpoint_serves_kpis(db_path: Path, clock: FakeClock) -> None:
    monitoring = await Monitoring.start(
        config_for(db_path), record=False, background=False, clock=clock
    )
    await insert_events(
        monitoring.db,
        [(clock.now - 1, "Zocdoc_GetAppointments", 120.0, True, 200)] * 19
        + [(clock.now - 1, "Zocdoc_GetAppointments", 900.0, False, 503)],
    )
    server, thread = serve_metrics(
        KpiCollector(monitoring.scrape, asyncio.get_running_loop()), "127.0.0.1", 0
    )
    try:
        host, port = server.server_address[:2]
        assert host == "127.0.0.1"
        async with httpx.AsyncClient() as client:
            response = await client.get(f"http://127.0.0.1:{port}/metrics")
        assert response.status_code == 200
        text = response.text
        labels = '{call="Zocdoc_GetAppointments",window="1m"}'
        assert f"sched_tui_call_latency_p95_milliseconds{labels} 120.0" in text
        assert 'sched_tui_error_rate_percent{window="10m"} 5.0' in text
        assert 'sched_tui_calls{window="10m"} 20.0' in text
        assert "sched_tui_cache_hit_ratio" not in text  # no lookups: left out, not 0
    finally:
        await asyncio.to_thread(server.shutdown)
        server.server_close()
        thread.join(timeout=5)
        await monitoring.aclose()
    assert not thread.is_alive()


def test_rules_export_defaults() -> None:
    config = parse_config({})
    text = export_prometheus_rules(config.monitoring.alerts, config.monitoring.min_samples)
    assert text.count("- alert:") == 3
    assert "for: 10m" in text
    assert "for: 5m" in text
    assert 'severity: "critical"' in text
    assert "sched_tui_queue_depth > 50" in text


def test_rules_export_keep_firing_for() -> None:
    config = parse_config(
        {
            "alerts": [
                {
                    "name": "Limited",
                    "severity": "warning",
                    "kpi": "rate_limited_calls",
                    "threshold": 10,
                    "window_s": 300,
                    "keep_firing_for_s": 120,
                }
            ]
        }
    )
    text = export_prometheus_rules(config.monitoring.alerts, 20)
    assert 'sched_tui_rate_limited_calls{window=\\"5m\\"} > 10' in text
    assert "keep_firing_for: 2m" in text


@pytest.mark.parametrize(
    ("entry", "key"),
    [
        ({"name": "A", "severity": "fatal", "kpi": "queue_depth", "threshold": 1}, "severity"),
        ({"name": "A", "severity": "warning", "kpi": "p95_latency_ms", "threshold": 1}, "call"),
        ({"name": "A", "severity": "warning", "kpi": "queue_depth"}, "threshold"),
        ({"name": "A", "severity": "warning", "kpi": "cpu", "threshold": 1}, "kpi"),
    ],
)
def test_invalid_rule_names_key(entry: dict, key: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config({"alerts": [entry]})
    assert raised.value.key == f"alerts[0].{key}"


def test_render_chart_size_and_no_leak() -> None:
    series = kpi.MinuteSeries(
        0,
        60,
        {"getAggregatedCalendar": [float(100 + i) for i in range(60)]},
        {"getAggregatedCalendar": [1] * 60},
        [float(i % 7) for i in range(60)],
        [1] * 60,
        [0] * 60,
        [0] * 60,
        [0] * 60,
        [0] * 60,
    )
    text = render_chart(series, 80, 16, p95_threshold_ms=2000, error_threshold_pct=5)
    lines = text.split("\n")
    assert len(lines) == 16
    assert all(len(line) <= 80 for line in lines)
    assert "\x1b[" not in text
    assert lines[-1] == "alert at P95 2000 ms, errors 5%"
    # Whole minutes on the time axis, ending at 0.
    axis = lines[lines.index(next(line for line in lines if "minutes ago" in line)) - 1]
    assert axis.split() == ["-48", "-36", "-24", "-12", "0"]
    # The shared plotext figure is left empty for the next chart.
    assert "getAggregatedCalendar" not in plotext.figure.build().string(colorless=True)
    empty = kpi.MinuteSeries(
        0, 60, {}, {}, [None] * 60, [0] * 60, [0] * 60, [None] * 60, [0] * 60, [0] * 60
    )
    assert "n/a (0 calls" in render_chart(empty, 50, 8)


def write_config(tmp_path: Path, db_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[storage]\npath = "{db_path}"\n', encoding="utf-8")
    return path


def test_kpi_command_json(
    tmp_path: Path,
    db_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SCHED_TUI_LOG", str(tmp_path / "log.txt"))
    config = write_config(tmp_path, db_path)
    assert main(["kpi", "--config", str(config), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["error_rate"]["percent"] is None
    assert report["alerts"] == []

    assert main(["kpi", "--config", str(config)]) == 0
    text = capsys.readouterr().out
    assert "Error rate (10 min)  n/a (0 calls)" in text
    assert "Alerts\n  none" in text
