"""Provider errors and skipped items of a loaded week, worded for the calendar screen.

Plain Python with no Textual import, so the wording is testable without a
running app.
"""

from __future__ import annotations

from sched_tui.model import CalendarWeek, ProviderError

# Provider problems shown under the grid at most; the rest are counted in one line.
MAX_PROBLEM_LINES = 3


def error_text(error: ProviderError) -> str:
    """Return "provider: message", without repeating a provider name the message starts with."""
    return f"{error.provider}: {error.message.removeprefix(error.provider + ': ')}"


def problem_lines(calendar: CalendarWeek) -> list[str]:
    """Describe each provider error, then each skipped item, one line each ("" when none).

    After `MAX_PROBLEM_LINES` lines, one more line counts the problems left out.
    """
    lines = [f"⚠ {error_text(error)}" for error in calendar.errors]
    lines += [f"? {error_text(warning)} (item skipped)" for warning in calendar.warnings]
    if len(lines) <= MAX_PROBLEM_LINES:
        return lines
    hidden = len(lines) - (MAX_PROBLEM_LINES - 1)
    return [*lines[: MAX_PROBLEM_LINES - 1], f"… {hidden} more; `sched-tui week` lists them all"]


def new_errors(calendar: CalendarWeek, reported: dict[str, str]) -> list[ProviderError]:
    """Return the errors of `calendar` not yet reported, and update `reported` to match.

    `reported` maps each provider to the message last reported for it. A provider
    that loaded without error is dropped from it, so its next failure is reported again.
    """
    current = {error.provider: error for error in calendar.errors}
    fresh = [
        error for provider, error in current.items() if reported.get(provider) != error.message
    ]
    reported.clear()
    reported.update({provider: error.message for provider, error in current.items()})
    return fresh
