"""The KPI pane's chart: P95 per call and error rate over the last hour, as text.

plotext (6.x) draws on one figure per process, `plotext.figure`. The figure is
cleared before and after each rendering under a lock, so no other chart or
thread reads its state. Rendering is synchronous and takes
milliseconds; the TUI calls it from a thread worker.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import plotext

from sched_tui.monitoring.kpi import MinuteSeries

# Lines drawn at most, so the chart stays legible; the busiest calls are kept.
MAX_CALL_LINES = 4
# One marker per line, in drawing order, so lines differ without colour (NO_COLOR,
# 16-colour terminals). The error-rate line takes the marker after the last call's.
SERIES_MARKERS = ("•", "x", "+", "o", "*")
PINNED_CALL = "getAggregatedCalendar"

_figure_lock = threading.Lock()


def chosen_calls(series: MinuteSeries, names: Sequence[str] | None = None) -> list[str]:
    """Return the call names to draw: `names`, or the busiest, with the calendar call first."""
    if names is not None:
        return [name for name in names if name in series.p95_ms]
    busiest = sorted(series.calls, key=lambda name: -sum(series.calls[name]))
    chosen = [PINNED_CALL] if PINNED_CALL in series.p95_ms else []
    chosen += [name for name in busiest if name != PINNED_CALL]
    return chosen[:MAX_CALL_LINES]


def render_chart(
    series: MinuteSeries,
    width: int,
    height: int,
    *,
    names: Sequence[str] | None = None,
    p95_threshold_ms: float | None = None,
    error_threshold_pct: float | None = None,
    color: bool = False,
) -> str:
    """Render P95 per call (left axis, ms) and error rate (right axis, %) as text.

    The x axis is minutes before now, in whole minutes. Minutes without calls
    leave a gap in the line. Alert thresholds, when given, are named in the
    legend. With `color`, the text carries ANSI colour codes (for
    `rich.text.Text.from_ansi`); without, it is plain.
    """
    width = max(width, 20)
    height = max(height, 6)
    minutes_ago = [index - (series.minutes - 1) for index in range(series.minutes)]
    lines = [(f"P95 {name} (ms)", series.p95_ms[name], 0) for name in chosen_calls(series, names)]
    lines.append(("errors (%, right axis)", series.error_rate, 1))
    with _figure_lock:
        figure = plotext.figure
        figure.clear.all()
        try:
            figure.theme("default" if color else "colorless")
            # The names go in a text legend under the plot: plotext's own legend box
            # hides a large part of a plot this small.
            figure.legend(False)
            drawn = []
            for (label, values, yside), marker in zip(lines, SERIES_MARKERS, strict=False):
                if _draw_line(figure, minutes_ago, values, marker, yside):
                    drawn.append(f"{marker} {label}")
            if not drawn:
                return _empty(width, height)
            thresholds = []
            if p95_threshold_ms is not None:
                thresholds.append(f"P95 {p95_threshold_ms:g} ms")
            if error_threshold_pct is not None:
                thresholds.append(f"errors {error_threshold_pct:g}%")
            if thresholds:
                # As text: plotext placed a threshold line off the data's scale mid-plot.
                drawn.append("alert at " + ", ".join(thresholds))
            legend = legend_lines(drawn, width)
            figure.plot_size(width, max(height - len(legend), 4))
            figure.label("minutes ago", axis=0)
            ticks = minute_ticks(minutes_ago[0], width)
            figure.ruler("x").ticks(ticks, [str(tick) for tick in ticks])
            plot = str(figure.build().string(colorless=not color)).rstrip("\n")
            return "\n".join([plot, *legend])
        finally:
            figure.clear.all()


def minute_ticks(first: int, width: int) -> list[int]:
    """Return whole-minute ticks from `first` (negative) to 0, about one per 12 columns."""
    span = -first
    count = max(2, min(7, width // 12))
    step = max(1, -(-span // (count - 1)))
    return sorted({*range(0, first - 1, -step)} | {0})


def legend_lines(entries: Sequence[str], width: int) -> list[str]:
    """Join legend entries ("• P95 x (ms)") into lines of at most `width` characters."""
    lines: list[str] = []
    for entry in entries:
        if lines and len(lines[-1]) + 3 + len(entry) <= width:
            lines[-1] += "   " + entry
        else:
            lines.append(entry[:width])
    return lines


def _draw_line(
    figure: object, x: list[int], values: Sequence[float | None], marker: str, yside: int
) -> int:
    points = [(x_value, y) for x_value, y in zip(x, values, strict=True) if y is not None]
    if not points:
        return 0
    signal = figure.signal(  # type: ignore[attr-defined]
        [p[0] for p in points], [p[1] for p in points], marker=marker, yside=yside
    )
    signal.lines()
    # Break the line where minutes without data were skipped.
    for index in range(1, len(points)):
        if points[index][0] - points[index - 1][0] > 1:
            signal.line(index, False)
    figure.draw(signal)  # type: ignore[attr-defined]
    return 1


def _empty(width: int, height: int) -> str:
    message = "n/a (0 calls in the last hour)"
    lines = [" " * width for _ in range(height)]
    lines[height // 2] = message.center(width)[:width]
    return "\n".join(lines)
