"""IcsProvider reading a file and an http(s) feed, and its typed errors."""

from __future__ import annotations

import base64
import logging
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from conftest import FIXTURES, free_port, week_range
from sched_tui.config import ProviderConfig
from sched_tui.model import Therapist
from sched_tui.providers.base import (
    MalformedData,
    Provider,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from sched_tui.providers.ics import IcsProvider

NEW_YORK = ZoneInfo("America/New_York")
EXDATE_FILE = "exchange-eastern-weekly-multi-exdate.ics"


def config(**source: object) -> ProviderConfig:
    return ProviderConfig(
        name="dr-lee-calendar", kind="ics", therapist_id="lee", therapist_name="Dr. Lee", **source
    )  # type: ignore[arg-type]


async def fetch(provider: IcsProvider, monday: date) -> list[str]:
    start, end = week_range(monday, NEW_YORK)
    weeks = await provider.fetch_week(["lee"], start, end)
    return [a.start.isoformat() for a in weeks["lee"].appointments]


async def test_file_provider_week() -> None:
    provider = IcsProvider.from_config(config(path=FIXTURES / EXDATE_FILE), NEW_YORK)
    assert isinstance(provider, Provider)
    assert await provider.list_therapists() == [
        Therapist(id="lee", name="Dr. Lee", source="dr-lee-calendar")
    ]
    assert await provider.list_services() == []
    # Fridays 11:00 Eastern; 2022-03-25 is after the DST change.
    assert await fetch(provider, date(2022, 3, 21)) == ["2022-03-25T11:00:00-04:00"]
    await provider.aclose()


async def test_other_therapist_not_fetched(tmp_path: Path) -> None:
    provider = IcsProvider.from_config(config(path=tmp_path / "absent.ics"), NEW_YORK)
    start, end = week_range(date(2022, 3, 21), NEW_YORK)
    assert await provider.fetch_week(["someone-else"], start, end) == {}


async def test_missing_file_names_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "lee.ics"
    provider = IcsProvider.from_config(config(path=missing), NEW_YORK)
    with pytest.raises(ProviderUnavailable) as raised:
        await fetch(provider, date(2022, 3, 21))
    assert str(missing) in str(raised.value)
    assert "dr-lee-calendar" in str(raised.value)
    assert "path" in str(raised.value)


async def test_unparseable_file_is_malformed(tmp_path: Path) -> None:
    broken = tmp_path / "broken.ics"
    broken.write_bytes((FIXTURES / "outlook-vfreebusy-malformed-dates.ics").read_bytes())
    provider = IcsProvider.from_config(config(path=broken), NEW_YORK)
    with pytest.raises(MalformedData) as raised:
        await fetch(provider, date(2006, 7, 17))
    assert "2006717T080000Z" in str(raised.value)
    assert str(raised.value).startswith(f"dr-lee-calendar: calendar file {broken}: ")


async def test_truncated_file_names_path(tmp_path: Path) -> None:
    """A file cut before its END lines names the file, so staff know which export to redo."""
    cut = tmp_path / "cut.ics"
    whole = (FIXTURES / EXDATE_FILE).read_text(encoding="utf-8")
    cut.write_text(whole[: whole.index("END:VEVENT")], encoding="utf-8")
    provider = IcsProvider.from_config(config(path=cut), NEW_YORK)

    with pytest.raises(MalformedData) as raised:
        await fetch(provider, date(2022, 3, 7))

    assert str(raised.value).startswith(f"dr-lee-calendar: calendar file {cut}: ")
    assert "the file was cut short" in str(raised.value)


async def test_malformed_url_names_host_only(fixture_server: str) -> None:
    """A calendar URL may carry a secret in its path, so only its host is named."""
    url = f"{fixture_server}/private-part/outlook-vfreebusy-malformed-dates.ics"
    provider = IcsProvider.from_config(config(url=url), NEW_YORK)
    try:
        with pytest.raises(MalformedData) as raised:
            await fetch(provider, date(2006, 7, 17))
    finally:
        await provider.aclose()

    assert str(raised.value).startswith("dr-lee-calendar: calendar from 127.0.0.1: ")
    assert "private-part" not in str(raised.value)


async def test_url_provider_week(fixture_server: str) -> None:
    provider = IcsProvider.from_config(config(url=f"{fixture_server}/{EXDATE_FILE}"), NEW_YORK)
    try:
        assert await fetch(provider, date(2022, 3, 7)) == ["2022-03-11T11:00:00-05:00"]
        assert await fetch(provider, date(2022, 3, 28)) == []
    finally:
        await provider.aclose()


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (401, ProviderRejected),
        (404, ProviderRejected),
        (429, ProviderRateLimited),
        (500, ProviderUnavailable),
        (503, ProviderUnavailable),
    ],
)
async def test_url_http_errors_typed(
    fixture_server: str, status: int, error_type: type[Exception]
) -> None:
    provider = IcsProvider.from_config(config(url=f"{fixture_server}/status/{status}"), NEW_YORK)
    try:
        with pytest.raises(error_type) as raised:
            await fetch(provider, date(2022, 3, 7))
    finally:
        await provider.aclose()
    message = str(raised.value)
    assert "dr-lee-calendar" in message
    assert str(status) in message
    assert "/status/" not in message
    if isinstance(raised.value, ProviderRejected):
        assert raised.value.status_code == status


async def test_url_timeout_unavailable(fixture_server: str) -> None:
    cfg = ProviderConfig(
        name="dr-lee-calendar",
        kind="ics",
        url=f"{fixture_server}/slow/{EXDATE_FILE}",
        therapist_id="lee",
        therapist_name="Dr. Lee",
        timeout_s=0.2,
    )
    provider = IcsProvider.from_config(cfg, NEW_YORK)
    try:
        with pytest.raises(ProviderUnavailable) as raised:
            await fetch(provider, date(2022, 3, 7))
    finally:
        await provider.aclose()
    assert "0.2 s" in str(raised.value)


async def test_url_connection_refused() -> None:
    provider = IcsProvider.from_config(
        config(url=f"http://127.0.0.1:{free_port()}/lee.ics"), NEW_YORK
    )
    try:
        with pytest.raises(ProviderUnavailable) as raised:
            await fetch(provider, date(2022, 3, 7))
    finally:
        await provider.aclose()
    assert "127.0.0.1" in str(raised.value)


async def test_basic_auth_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Authorization"))
        return httpx.Response(200, content=(FIXTURES / EXDATE_FILE).read_bytes())

    monkeypatch.setenv("LEE_USER", "frontdesk")
    monkeypatch.setenv("LEE_PASSWORD", "s3cret")
    cfg = ProviderConfig(
        name="dr-lee-calendar",
        kind="ics",
        url="https://calendar.example.org/lee.ics",
        username_env="LEE_USER",
        password_env="LEE_PASSWORD",
        therapist_id="lee",
        therapist_name="Dr. Lee",
    )
    provider = IcsProvider.from_config(cfg, NEW_YORK, transport=httpx.MockTransport(handler))
    assert await fetch(provider, date(2022, 3, 7)) == ["2022-03-11T11:00:00-05:00"]
    await provider.aclose()
    assert seen == ["Basic " + base64.b64encode(b"frontdesk:s3cret").decode()]


async def test_missing_credential_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEE_PASSWORD", raising=False)
    monkeypatch.setenv("LEE_USER", "frontdesk")
    cfg = ProviderConfig(
        name="dr-lee-calendar",
        kind="ics",
        url="https://calendar.example.org/lee.ics",
        username_env="LEE_USER",
        password_env="LEE_PASSWORD",
        therapist_id="lee",
        therapist_name="Dr. Lee",
    )
    provider = IcsProvider.from_config(cfg, NEW_YORK)
    with pytest.raises(ProviderRejected) as raised:
        await fetch(provider, date(2022, 3, 7))
    await provider.aclose()
    assert "LEE_PASSWORD" in str(raised.value)


async def test_skipped_events_logged_without_summaries(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    calendar = tmp_path / "lee.ics"
    calendar.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\n"
        "BEGIN:VEVENT\r\nUID:uid-17\r\nSUMMARY:Session with patient Jane Roe\r\n"
        "DTSTART;TZID=Mars/Base:20220322T100000\r\nDURATION:PT1H\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    provider = IcsProvider.from_config(config(path=calendar), NEW_YORK)
    with caplog.at_level(logging.WARNING, logger="sched_tui.providers.ics"):
        assert await fetch(provider, date(2022, 3, 21)) == []
        assert await fetch(provider, date(2022, 3, 21)) == []
    warnings = [
        record.getMessage() for record in caplog.records if record.name == "sched_tui.providers.ics"
    ]
    assert len(warnings) == 1
    assert "uid-17" in warnings[0]
    assert "Mars/Base" in warnings[0]
    assert "Jane Roe" not in caplog.text
    assert provider.warnings == tuple(warnings)
