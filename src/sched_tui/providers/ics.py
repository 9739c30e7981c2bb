"""The ``ics`` provider: one therapist's calendar from a file, an http(s) URL or CalDAV.

Each `fetch_week` reads the source again (the aggregator's cache decides how
often): a file is read in a worker thread, a URL is fetched with GET, and a
CalDAV collection receives a time-range REPORT for just that range. The
iCalendar data is expanded by `ical_expand.expand_calendar` in a worker thread,
because one week of the 129 KB Exchange test calendar takes about 0.5 s to
expand (measured on the development machine).

Events the expansion had to skip are logged once each and kept in
`IcsProvider.warnings` until the next fetch; see `ical_expand` for the policy.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from sched_tui.config import ProviderConfig
from sched_tui.http import build_client
from sched_tui.model import Service, Therapist, TherapistWeek
from sched_tui.providers.base import MalformedData, ProviderRejected, ProviderUnavailable
from sched_tui.providers.caldav import report_calendar_objects
from sched_tui.providers.http_errors import check_status, request_failure
from sched_tui.providers.ical_expand import Expansion, expand_calendar

log = logging.getLogger("sched_tui.providers.ics")

# Distinct warnings remembered so that each is logged once per provider.
_MAX_LOGGED_WARNINGS = 1000


class IcsProvider:
    """A Provider for one iCalendar source. Exactly one of path, url or caldav is set."""

    def __init__(
        self,
        name: str,
        tz: ZoneInfo,
        *,
        therapist_id: str,
        therapist_name: str,
        path: Path | None = None,
        url: str | None = None,
        caldav: str | None = None,
        auth: httpx.Auth | None = None,
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        setup_error: str | None = None,
    ) -> None:
        if sum(source is not None for source in (path, url, caldav)) != 1:
            raise ValueError("IcsProvider needs exactly one of path, url or caldav")
        self.name = name
        self.tz = tz
        self.therapist = Therapist(id=therapist_id, name=therapist_name, source=name)
        self.path = path
        self.url = url
        self.caldav = caldav
        self.timeout_s = timeout_s
        # Messages of the events skipped during the last fetch_week.
        self.warnings: tuple[str, ...] = ()
        self._setup_error = setup_error
        self._logged_warnings: set[str] = set()
        self._client: httpx.AsyncClient | None = None
        if url is not None or caldav is not None:
            target = "CalDAV" if caldav is not None else "ICS"
            self._client = build_client(target, timeout_s=timeout_s, transport=transport, auth=auth)

    @classmethod
    def from_config(
        cls, cfg: ProviderConfig, tz: ZoneInfo, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> IcsProvider:
        """Build the provider of one ``kind = "ics"`` config entry.

        Credentials come from the environment variables named by username_env and
        password_env. A named variable that is unset does not fail here; every
        fetch then raises ProviderRejected naming the variable.
        """
        auth, setup_error = _basic_auth(cfg)
        therapist_id = cfg.therapist_id or cfg.name
        return cls(
            cfg.name,
            tz,
            therapist_id=therapist_id,
            therapist_name=cfg.therapist_name or therapist_id,
            path=cfg.path,
            url=cfg.url,
            caldav=cfg.caldav,
            auth=auth,
            timeout_s=cfg.timeout_s,
            transport=transport,
            setup_error=setup_error,
        )

    async def list_therapists(self) -> list[Therapist]:
        """Return the one therapist this calendar belongs to."""
        return [self.therapist]

    async def list_services(self) -> list[Service]:
        """Return no services: calendars do not define bookable services."""
        return []

    async def fetch_week(
        self, therapist_ids: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, TherapistWeek]:
        """Return the appointments overlapping [start, end), or {} if not requested."""
        therapist_id = self.therapist.id
        if therapist_id not in therapist_ids:
            return {}
        if self._setup_error is not None:
            raise ProviderRejected(f"{self.name}: {self._setup_error}")

        documents = await self._read_documents(start, end)
        expansion = await asyncio.to_thread(self._expand_documents, documents, start, end)

        self.warnings = tuple(expansion.warnings)
        self._log_new_warnings(expansion.warnings)
        log.debug(
            "provider %s: %d appointments between %s and %s",
            self.name,
            len(expansion.appointments),
            start.isoformat(),
            end.isoformat(),
        )
        return {
            therapist_id: TherapistWeek(
                therapist_id, tuple(expansion.appointments), warnings=tuple(expansion.warnings)
            )
        }

    async def aclose(self) -> None:
        """Close the HTTP client, if any."""
        if self._client is not None:
            await self._client.aclose()

    async def _read_documents(
        self, start: datetime, end: datetime
    ) -> list[tuple[str, bytes | str]]:
        """Return (label, data) pairs: one for a file or URL, one per object for CalDAV."""
        if self.path is not None:
            return [(str(self.path), await self._read_file(self.path))]
        assert self._client is not None
        if self.url is not None:
            return [(self.name, await self._get(self.url))]
        assert self.caldav is not None
        objects = await report_calendar_objects(
            self._client, self.caldav, start, end, source=self.name, timeout_s=self.timeout_s
        )
        return [(obj.href, obj.data) for obj in objects]

    async def _read_file(self, path: Path) -> bytes:
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            log.warning("provider %s: calendar file %s not found", self.name, path)
            raise ProviderUnavailable(
                f"{self.name}: calendar file {path} not found; export the calendar there "
                "or correct the path in the config"
            ) from None
        except OSError as error:
            log.warning("provider %s: reading %s failed: %s", self.name, path, error.strerror)
            raise ProviderUnavailable(
                f"{self.name}: calendar file {path} could not be read ({error.strerror}); "
                "check its permissions"
            ) from None

    async def _get(self, url: str) -> bytes:
        assert self._client is not None
        try:
            response = await self._client.get(url, headers={"Accept": "text/calendar, */*;q=0.5"})
        except httpx.HTTPError as error:
            raise request_failure(error, self.name, url, self.timeout_s) from None
        check_status(response, self.name)
        return response.content

    def _expand_documents(
        self, documents: list[tuple[str, bytes | str]], start: datetime, end: datetime
    ) -> Expansion:
        """Expand every document; a bad CalDAV object is skipped, a bad single file raises."""
        merged = Expansion()
        for label, data in documents:
            try:
                expansion = expand_calendar(
                    data,
                    start,
                    end,
                    self.tz,
                    therapist_id=self.therapist.id,
                    therapist_name=self.therapist.name,
                    source=self.name,
                )
            except MalformedData as error:
                if len(documents) == 1 and self.caldav is None:
                    raise MalformedData(self._with_origin(str(error))) from None
                merged.warnings.append(f"skipped calendar object {label}: {error}")
                continue
            merged.appointments.extend(expansion.appointments)
            merged.warnings.extend(expansion.warnings)
        merged.appointments.sort(key=lambda item: (item.bounds(self.tz)[0], item.id))
        return merged

    def _with_origin(self, message: str) -> str:
        """Insert where the calendar came from after the provider name of `message`."""
        if self.path is not None:
            origin = f"calendar file {self.path}"
        else:
            # Only the host: private calendar URLs carry their secret in the path.
            origin = f"calendar from {httpx.URL(str(self.url)).host}"
        prefix = f"{self.name}: "
        rest = message.removeprefix(prefix)
        return f"{prefix}{origin}: {rest}"

    def _log_new_warnings(self, warnings: list[str]) -> None:
        for warning in warnings:
            if warning in self._logged_warnings:
                continue
            if len(self._logged_warnings) < _MAX_LOGGED_WARNINGS:
                self._logged_warnings.add(warning)
            log.warning("%s", warning)


def _basic_auth(cfg: ProviderConfig) -> tuple[httpx.BasicAuth | None, str | None]:
    """Return basic-auth credentials from the environment, or the reason they are missing."""
    if not cfg.username_env and not cfg.password_env:
        return None, None
    values: list[str] = []
    for setting, variable in (
        ("username_env", cfg.username_env),
        ("password_env", cfg.password_env),
    ):
        if not variable:
            return None, f"{setting} is not set; set both username_env and password_env or neither"
        value = os.environ.get(variable)
        if value is None:
            return None, f"environment variable {variable} (named by {setting}) is not set"
        values.append(value)
    return httpx.BasicAuth(values[0], values[1]), None
