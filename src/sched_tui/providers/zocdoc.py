"""Zocdoc's partner REST API as a schedule source, plus thin write calls for the write queue.

Reads follow Zocdoc's OpenAPI description v1.176: the directory comes from
``GET /v1/reference/npi`` and ``GET /v1/providers``, services from
``GET /v1/visit_reasons``, bookings from ``GET /v1/appointments`` and open slots
from ``GET /v1/provider_locations/availability``. Without a ``base_url`` the
provider talks to the bundled sandbox in-process through `httpx.ASGITransport`,
on the same code path as real HTTP.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import httpx

from sched_tui.config import ProviderConfig
from sched_tui.http import build_client
from sched_tui.model import Appointment, Service, Slot, Therapist, TherapistWeek, sort_key
from sched_tui.providers.zocdoc_api import RetryPolicy, ZocdocApi, utc_instant
from sched_tui.providers.zocdoc_auth import ClientCredentials, TokenSource
from sched_tui.providers.zocdoc_parse import (
    DEFAULT_DURATION_MINUTES,
    DirectoryEntry,
    Reader,
    read_appointment,
    read_directory,
    read_service,
    read_slots,
)
from sched_tui.providers.zocdoc_writes import (
    APPOINTMENT_PAGE_SIZE,
    APPOINTMENTS,
    MAX_APPOINTMENT_PAGE,
    ZocdocWrites,
)

if TYPE_CHECKING:
    from sched_tui.sandbox import SandboxState

log = logging.getLogger("sched_tui.providers.zocdoc")

# Limits stated in Zocdoc's OpenAPI v1.176.
MAX_IDS_PER_CALL = 50
MAX_AVAILABILITY_DATES = 31
AVAILABILITY_HORIZON_DAYS = 150
MAX_APPOINTMENT_RESULTS = 1000
# A window of appointments that still hits the 1,000-result cap is not split below this.
MIN_APPOINTMENT_WINDOW = timedelta(minutes=1)
NPI_PAGE_SIZE = 5000
VISIT_REASON_PAGE_SIZE = 500

# Token endpoints of Zocdoc's two API hosts; other hosts serve /oauth/token themselves.
KNOWN_TOKEN_URLS = {
    "api-developer-sandbox.zocdoc.com": "https://auth-api-developer-sandbox.zocdoc.com/oauth/token",
    "api-developer.zocdoc.com": "https://auth.zocdoc.com/oauth/token",
}
IN_PROCESS_URL = "http://sandbox.in-process"
# The patient type sent with availability calls: the front desk mostly books existing clients.
PATIENT_TYPE = "existing"


class ZocdocProvider(ZocdocWrites):
    """Reads therapists, services, bookings and open slots from Zocdoc's partner API."""

    def __init__(
        self,
        *,
        name: str,
        api: ZocdocApi,
        tz: ZoneInfo,
        visit_reason_ids: Sequence[str] = (),
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        base_url: str = "",
        sandbox: SandboxState | None = None,
    ) -> None:
        self.name = name
        self.tz = tz
        # State of the in-process sandbox, when the provider serves it; None otherwise.
        self.sandbox = sandbox
        self._api = api
        self._label = api.label
        self._visit_reason_ids = tuple(visit_reason_ids)
        self._now = now
        self._base_url = base_url
        self._directory: dict[str, DirectoryEntry] | None = None
        self._services: dict[str, Service] | None = None

    @classmethod
    def from_config(
        cls,
        cfg: ProviderConfig,
        tz: ZoneInfo,
        *,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        concurrency: int = 4,
    ) -> ZocdocProvider:
        """Build the provider one ``[[providers]]`` entry describes.

        Without ``base_url``, the bundled sandbox is served in-process with demo
        credentials. Otherwise the client id and secret are read from the
        environment variables the entry names. A missing one makes every call
        raise ProviderFailure naming the variable. `clock` (monotonic seconds)
        and `now` (wall clock) are replaceable for tests.
        """
        label = f"Zocdoc ({cfg.name})"
        state: SandboxState | None = None
        transport: httpx.AsyncBaseTransport | None = None
        missing: str | None = None
        if cfg.base_url is None:
            from sched_tui import sandbox

            app = sandbox.create_app(faults=cfg.sandbox, tz=tz)
            state = sandbox.sandbox_state(app)
            transport = httpx.ASGITransport(app=app)
            base_url = IN_PROCESS_URL
            token_url = f"{IN_PROCESS_URL}/oauth/token"
            credentials: ClientCredentials | None = ClientCredentials(
                sandbox.DEMO_CLIENT_ID, sandbox.DEMO_CLIENT_SECRET
            )
        else:
            base_url = cfg.base_url
            token_url = cfg.token_url or token_url_for(base_url)
            credentials, missing = _credentials_from_env(cfg)

        client = build_client(
            "Zocdoc", base_url=base_url, timeout_s=cfg.timeout_s, transport=transport
        )
        tokens = TokenSource(
            client=client,
            token_url=token_url,
            credentials=credentials,
            label=label,
            timeout_s=cfg.timeout_s,
            missing_credentials=missing,
            clock=clock,
            now=now,
        )
        api = ZocdocApi(
            client=client,
            tokens=tokens,
            label=label,
            timeout_s=cfg.timeout_s,
            retry=retry,
            concurrency=concurrency,
            now=now,
            **({"sleep": sleep} if sleep else {}),
        )
        return cls(
            name=cfg.name,
            api=api,
            tz=tz,
            visit_reason_ids=cfg.visit_reason_ids,
            now=now,
            base_url=base_url,
            sandbox=state,
        )

    def __repr__(self) -> str:
        return f"ZocdocProvider(name={self.name!r}, base_url={self._base_url!r})"

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._api.aclose()

    # Directory and services

    async def list_therapists(self) -> list[Therapist]:
        """Fetch the providers in the developer's directory."""
        directory = await self._load_directory()
        return [entry.therapist for entry in directory.values()]

    async def list_services(self) -> list[Service]:
        """Fetch the visit reasons."""
        services = await self._load_services()
        return list(services.values())

    async def _load_directory(self) -> dict[str, DirectoryEntry]:
        npis = await self._npis()
        chunks = [npis[i : i + MAX_IDS_PER_CALL] for i in range(0, len(npis), MAX_IDS_PER_CALL)]
        bodies = await self._api.gather(
            self._api.get("/v1/providers", {"npis": ",".join(chunk)}) for chunk in chunks
        )
        reader = Reader(self._label, "GET /v1/providers")
        directory: dict[str, DirectoryEntry] = {}
        for body in bodies:
            for entry in read_directory(reader, body, self.name):
                directory.setdefault(entry.therapist.id, entry)
        self._directory = directory
        return directory

    async def _npis(self) -> list[str]:
        reader = Reader(self._label, "GET /v1/reference/npi")
        npis: list[str] = []
        page = 0
        while True:
            body = await self._api.get(
                "/v1/reference/npi", {"page": page, "page_size": NPI_PAGE_SIZE}
            )
            data = reader.obj(body.get("data"), "data")
            items = reader.array(data, "npis", "data")
            npis.extend(str(npi) for npi in items)
            if body.get("next_url") is None or not items:
                return npis
            page += 1

    async def _load_services(self) -> dict[str, Service]:
        reader = Reader(self._label, "GET /v1/visit_reasons")
        services: dict[str, Service] = {}
        page = 0
        while True:
            result = await self._api.get_page("/v1/visit_reasons", {}, page, VISIT_REASON_PAGE_SIZE)
            for index, item in enumerate(result.items):
                service = read_service(reader, item, f"data[{index}]", self.name)
                services[service.id] = service
            if not result.has_next or not result.items:
                break
            page += 1
        self._services = services
        return services

    # The week

    async def fetch_week(
        self, therapist_ids: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, TherapistWeek]:
        """Fetch appointments and open slots overlapping [start, end) for the known therapists."""
        directory = self._directory if self._directory is not None else await self._load_directory()
        services = self._services if self._services is not None else await self._load_services()
        requested = [directory[i] for i in dict.fromkeys(therapist_ids) if i in directory]
        if not requested:
            return {}

        appointments, slots = await asyncio.gather(
            self._appointments(requested, services, start, end),
            self._slots(requested, services, start, end),
        )
        weeks: dict[str, tuple[list[Appointment], list[Slot]]] = {
            e.therapist.id: ([], []) for e in requested
        }
        for appointment in appointments:
            weeks[appointment.therapist_id][0].append(appointment)
        for slot in slots:
            weeks[slot.therapist_id][1].append(slot)
        return {
            therapist_id: TherapistWeek(
                therapist_id, tuple(sorted(booked, key=sort_key)), tuple(sorted(free, key=sort_key))
            )
            for therapist_id, (booked, free) in weeks.items()
        }

    async def _appointments(
        self,
        requested: list[DirectoryEntry],
        services: dict[str, Service],
        start: datetime,
        end: datetime,
    ) -> list[Appointment]:
        # Appointments are listed by start time, so look back far enough to catch one
        # that started before `start` and is still running.
        longest = max(
            (s.duration_minutes for s in services.values()), default=DEFAULT_DURATION_MINUTES
        )
        low = _floor_second(start - timedelta(minutes=longest))
        high = _ceil_second(end)
        ids = [entry.therapist.id for entry in requested]
        chunks = [ids[i : i + MAX_IDS_PER_CALL] for i in range(0, len(ids), MAX_IDS_PER_CALL)]
        windows = await self._api.gather(
            self._appointment_window(chunk, low, high) for chunk in chunks
        )

        directory = {entry.therapist.id: entry for entry in requested}
        reader = Reader(self._label, f"GET {APPOINTMENTS}")
        seen: set[str] = set()
        appointments: list[Appointment] = []
        for items in windows:
            for index, item in enumerate(items):
                appointment = read_appointment(
                    reader,
                    item,
                    f"data[{index}]",
                    directory=directory,
                    services=services,
                    tz=self.tz,
                    source=self.name,
                )
                if (
                    appointment is None
                    or appointment.id in seen
                    or not appointment.overlaps(start, end)
                ):
                    continue
                seen.add(appointment.id)
                appointments.append(appointment)
        return appointments

    async def _appointment_window(
        self, provider_ids: list[str], low: datetime, high: datetime
    ) -> list[Any]:
        """Fetch every appointment starting in [low, high], halving the window at the result cap."""
        params = {
            "provider_ids": ",".join(provider_ids),
            "start_time_utc_min": utc_instant(low),
            "start_time_utc_max": utc_instant(high),
            "sort_by": "start_time_utc",
            "sort_direction": "ascending",
        }
        first = await self._api.get_page(APPOINTMENTS, params, 0, APPOINTMENT_PAGE_SIZE)
        if first.total_count >= MAX_APPOINTMENT_RESULTS:
            if high - low > MIN_APPOINTMENT_WINDOW:
                middle = _floor_second(low + (high - low) / 2)
                log.info(
                    "%s: %d appointments from %s to %s reach the 1,000-result cap; splitting",
                    self._label,
                    first.total_count,
                    utc_instant(low),
                    utc_instant(high),
                )
                halves = await self._api.gather(
                    [
                        self._appointment_window(provider_ids, low, middle),
                        self._appointment_window(provider_ids, middle, high),
                    ]
                )
                return halves[0] + halves[1]
            log.warning(
                "%s: more than 1,000 appointments start between %s and %s; the rest are not shown",
                self._label,
                utc_instant(low),
                utc_instant(high),
            )
        return await self._api.get_remaining_pages(
            APPOINTMENTS, params, first, APPOINTMENT_PAGE_SIZE, MAX_APPOINTMENT_PAGE
        )

    async def _slots(
        self,
        requested: list[DirectoryEntry],
        services: dict[str, Service],
        start: datetime,
        end: datetime,
    ) -> list[Slot]:
        # Availability exists only from today up to the API's horizon.
        today = self._now().astimezone(self.tz).date()
        first = max(start.astimezone(self.tz).date(), today)
        last = min(
            (end - timedelta(microseconds=1)).astimezone(self.tz).date(),
            today + timedelta(days=AVAILABILITY_HORIZON_DAYS),
        )
        if first > last:
            return []

        calls = []
        for reason_id in self._visit_reason_ids or tuple(services):
            locations = [
                e.provider_location_id
                for e in requested
                if not e.visit_reason_ids or reason_id in e.visit_reason_ids
            ]
            for i in range(0, len(locations), MAX_IDS_PER_CALL):
                for window_first, window_last in _date_windows(first, last, MAX_AVAILABILITY_DATES):
                    chunk = locations[i : i + MAX_IDS_PER_CALL]
                    calls.append(
                        self._availability(chunk, reason_id, window_first, window_last, services)
                    )
        results = await self._api.gather(calls)
        return [
            slot for slots in results for slot in slots if slot.start < end and slot.end > start
        ]

    async def _availability(
        self,
        locations: list[str],
        reason_id: str,
        first: date,
        last: date,
        services: dict[str, Service],
    ) -> list[Slot]:
        path = "/v1/provider_locations/availability"
        body = await self._api.get(
            path,
            {
                "provider_location_ids": ",".join(locations),
                "visit_reason_id": reason_id,
                "patient_type": PATIENT_TYPE,
                "start_date_in_provider_local_time": first.isoformat(),
                "end_date_in_provider_local_time": last.isoformat(),
            },
        )
        directory = self._directory or {}
        return read_slots(
            Reader(self._label, f"GET {path}"),
            body,
            visit_reason_id=reason_id,
            directory=directory,
            services=services,
            tz=self.tz,
            source=self.name,
        )


def token_url_for(base_url: str) -> str:
    """Return the OAuth2 token endpoint that belongs to an API base URL."""
    host = httpx.URL(base_url).host
    return KNOWN_TOKEN_URLS.get(host, f"{base_url.rstrip('/')}/oauth/token")


def _credentials_from_env(cfg: ProviderConfig) -> tuple[ClientCredentials | None, str | None]:
    """Read the client id and secret; on a missing variable return the message to raise later."""
    client_id = os.environ.get(cfg.client_id_env, "")
    client_secret = os.environ.get(cfg.client_secret_env, "")
    for variable, value, description in (
        (cfg.client_id_env, client_id, "client id"),
        (cfg.client_secret_env, client_secret, "client secret"),
    ):
        if not value:
            return None, (
                f"environment variable {variable} is not set; set it to the {description} "
                f"Zocdoc issued for this practice, or remove base_url to use the demo sandbox"
            )
    credentials = ClientCredentials(
        client_id, client_secret, cfg.client_id_env, cfg.client_secret_env
    )
    return credentials, None


def _floor_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def _ceil_second(moment: datetime) -> datetime:
    floored = moment.replace(microsecond=0)
    return floored if floored == moment else floored + timedelta(seconds=1)


def _date_windows(first: date, last: date, dates_per_window: int) -> list[tuple[date, date]]:
    """Split first..last (inclusive) into windows of at most `dates_per_window` dates."""
    windows = []
    cursor = first
    while cursor <= last:
        window_last = min(last, cursor + timedelta(days=dates_per_window - 1))
        windows.append((cursor, window_last))
        cursor = window_last + timedelta(days=1)
    return windows
