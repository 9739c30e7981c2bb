"""The sandbox's Starlette application: routes, parameter checks and authentication."""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sched_tui.config import SandboxFaults
from sched_tui.sandbox import appointments, payloads
from sched_tui.sandbox.faults import apply_latency, choose_fault, fault_response
from sched_tui.sandbox.params import date_param, int_param, json_body, list_param, next_url
from sched_tui.sandbox.practice import (
    build_practice,
)
from sched_tui.sandbox.state import ApiError, RequestRecord, SandboxState

# Fixed credentials of the demo sandbox. They protect nothing: the sandbox
# serves invented data on a loopback address.
DEMO_CLIENT_ID = "sched-tui-sandbox"
DEMO_CLIENT_SECRET = "sandbox-demo-secret"

# Limits stated in Zocdoc's OpenAPI v1.176.
MAX_IDS_PER_CALL = 50
MAX_AVAILABILITY_DAYS = 31

Handler = Callable[[Request, SandboxState], Awaitable[Response]]

log = logging.getLogger(__name__)


def create_app(
    *,
    today: date | None = None,
    faults: SandboxFaults | None = None,
    token_ttl_s: float = 3600.0,
    seed: int = 7,
    tz: ZoneInfo | str = "America/New_York",
    therapist_count: int = 10,
    client_id: str = DEMO_CLIENT_ID,
    client_secret: str = DEMO_CLIENT_SECRET,
    hang_s: float = 60.0,
    now: Callable[[], datetime] | None = None,
) -> Starlette:
    """Build a sandbox app serving the demo practice around `today`.

    Without `today` the practice is built around the current date and the
    sandbox follows the real clock. With `today` and no `now`, the sandbox's
    clock is frozen at 07:00 on that day, so availability is reproducible.
    `hang_s` is how long a "timeout" fault holds a request.
    """
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    if today is None:
        today = datetime.now(zone).date()
    elif now is None:
        frozen = datetime.combine(today, time(7, 0), zone)
        now = lambda: frozen  # noqa: E731
    faults = faults or SandboxFaults()
    state = SandboxState(
        practice=build_practice(today, seed, zone, therapist_count),
        faults=faults,
        client_id=client_id,
        client_secret=client_secret,
        token_ttl_s=token_ttl_s,
        hang_s=hang_s,
    )
    state.set_faults(faults)
    if now is not None:
        state.now = now

    def route(path: str, handler: Handler, method: str = "GET", auth: bool = True) -> Route:
        return Route(path, _endpoint(state, handler, auth=auth), methods=[method])

    routes = [
        route("/oauth/token", _token, "POST", auth=False),
        route("/v1/reference/npi", _npis),
        route("/v1/providers", _providers),
        route("/v1/provider_locations/availability", _availability),
        route("/v1/provider_locations", _provider_locations),
        route("/v1/visit_reasons", _visit_reasons),
        route("/v1/appointments/cancel", appointments.cancel_appointment, "POST"),
        route("/v1/appointments/reschedule", appointments.reschedule_appointment, "POST"),
        route("/v1/appointments/{appointment_id}", appointments.get_appointment),
        route("/v1/appointments", appointments.list_appointments),
        route("/v1/appointments", appointments.create_appointment, "POST"),
        Route("/_sandbox/health", _admin(state, _health)),
        Route("/_sandbox/state", _admin(state, _summary)),
        Route("/_sandbox/faults", _admin(state, _set_faults), methods=["POST"]),
        Route("/_sandbox/inject", _admin(state, _inject), methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.sandbox = state
    return app


def sandbox_state(app: Starlette) -> SandboxState:
    """Return the state object of an app built by `create_app`."""
    state: SandboxState = app.state.sandbox
    return state


# Request plumbing


def _endpoint(
    state: SandboxState, handler: Handler, *, auth: bool
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        state.record(
            RequestRecord(
                request.method,
                request.url.path,
                dict(request.query_params),
                request.headers.get("idempotency-key"),
            )
        )
        try:
            await apply_latency(request, state)
            fault = choose_fault(request, state)
            if fault is not None:
                return await fault_response(fault, state)
            if auth:
                _authenticate(request, state)
            return await handler(request, state)
        except ApiError as error:
            return JSONResponse(
                payloads.error_result(error.message, error.field), error.status_code
            )
        except ClientDisconnect:
            return _client_left(request)

    return endpoint


def _client_left(request: Request) -> Response:
    # A client that closes its connection mid-body is routine (a killed worker, a
    # timeout); the response is never read, and a traceback would only alarm.
    log.info(
        "%s %s: the client closed the connection before sending its whole body",
        request.method,
        request.url.path,
    )
    return Response(status_code=400)


def _admin(state: SandboxState, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request, state)
        except (ApiError, ValueError, TypeError) as error:
            return JSONResponse(payloads.error_result(str(error)), 400)
        except ClientDisconnect:
            return _client_left(request)

    return endpoint


def _authenticate(request: Request, state: SandboxState) -> None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not state.token_valid(token.strip()):
        raise ApiError(401, "The access token is missing, invalid or expired.")


# OAuth2


async def _token(request: Request, state: SandboxState) -> Response:
    # Parsed with the standard library: Starlette's request.form() needs python-multipart.
    raw = (await request.body()).decode("utf-8", errors="replace")
    form = {key: values[0] for key, values in urllib.parse.parse_qs(raw).items()}
    grant_type = form.get("grant_type")
    if grant_type != "client_credentials":
        return JSONResponse(
            {
                "error": "unsupported_grant_type",
                "error_description": "Only client_credentials is supported.",
            },
            400,
        )
    try:
        token = state.issue_token(
            str(form.get("client_id", "")), str(form.get("client_secret", ""))
        )
    except ApiError:
        return JSONResponse(
            {
                "error": "invalid_client",
                "error_description": "Unknown client id or wrong client secret.",
            },
            401,
        )
    return JSONResponse(
        {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": int(state.token_ttl_s),
            "scope": "external.appointment.read external.appointment.write",
        },
        headers={"Cache-Control": "no-store"},
    )


# Directory and reference data


async def _npis(request: Request, state: SandboxState) -> Response:
    page = int_param(request, "page", 0, 0, 1_000_000)
    page_size = int_param(request, "page_size", 1000, 1, 60_000)
    npis = [provider.npi for provider in state.practice.providers]
    chunk = npis[page * page_size : (page + 1) * page_size]
    has_more = (page + 1) * page_size < len(npis)
    body = payloads.paginated([], page, page_size, len(npis), next_url(request, page, has_more))
    body["data"] = {"npis": chunk}
    return JSONResponse(body)


async def _providers(request: Request, state: SandboxState) -> Response:
    npis = list_param(request, "npis", required=True, limit=MAX_IDS_PER_CALL)
    practice = state.practice
    data = [
        {
            "npi": npi,
            "providers": [
                payloads.provider_details(practice, provider)
                for provider in practice.providers
                if provider.npi == npi
            ],
        }
        for npi in npis
    ]
    return JSONResponse({"request_id": payloads.request_id(), "data": data})


async def _provider_locations(request: Request, state: SandboxState) -> Response:
    zip_code = request.query_params.get("zip_code", "")
    if len(zip_code) != 5 or not zip_code.isdigit():
        raise ApiError(400, "zip_code must be a 5 digit zip code.", "zip_code")
    specialty_id = request.query_params.get("specialty_id")
    visit_reason_id = request.query_params.get("visit_reason_id")
    if specialty_id is None and visit_reason_id is None:
        raise ApiError(400, "One of specialty_id or visit_reason_id is required.", "specialty_id")
    if visit_reason_id is not None:
        reason = state.visit_reason_for(visit_reason_id)
        specialty_id = specialty_id or reason.specialty_id
    else:
        default = next(
            (r for r in state.practice.visit_reasons if r.specialty_id == specialty_id), None
        )
        if default is None:
            raise ApiError(400, f"Unknown specialty {specialty_id}.", "specialty_id")
        reason = default
    page = int_param(request, "page", 0, 0, 1_000_000)
    page_size = int_param(request, "page_size", 10, 1, 100)

    matches = [p for p in state.practice.providers if reason.id in p.visit_reason_ids]
    chunk = matches[page * page_size : (page + 1) * page_size]
    has_more = (page + 1) * page_size < len(matches)
    body = payloads.paginated([], page, page_size, len(matches), next_url(request, page, has_more))
    body["data"] = {
        "search_parameters": {"specialty_id": specialty_id, "visit_reason_id": reason.id},
        "provider_locations": [payloads.provider_location(state.practice, p) for p in chunk],
    }
    return JSONResponse(body)


async def _visit_reasons(request: Request, state: SandboxState) -> Response:
    page = int_param(request, "page", 0, 0, 200)
    page_size = int_param(request, "page_size", 100, 1, 500)
    specialty_id = request.query_params.get("specialty_id")
    reasons = [r for r in state.practice.visit_reasons if specialty_id in (None, r.specialty_id)]
    chunk = reasons[page * page_size : (page + 1) * page_size]
    has_more = (page + 1) * page_size < len(reasons)
    items = [payloads.visit_reason(reason) for reason in chunk]
    return JSONResponse(
        payloads.paginated(items, page, page_size, len(reasons), next_url(request, page, has_more))
    )


async def _availability(request: Request, state: SandboxState) -> Response:
    ids = list_param(request, "provider_location_ids", required=True, limit=MAX_IDS_PER_CALL)
    reason_id = request.query_params.get("visit_reason_id")
    if not reason_id:
        raise ApiError(400, "visit_reason_id is required.", "visit_reason_id")
    reason = state.visit_reason_for(reason_id)
    patient_type = request.query_params.get("patient_type")
    if patient_type not in ("new", "existing"):
        raise ApiError(400, "patient_type must be new or existing.", "patient_type")
    today = state.today()
    first = date_param(request, "start_date_in_provider_local_time", today)
    last = date_param(request, "end_date_in_provider_local_time", first + timedelta(days=7))
    if last < first:
        raise ApiError(
            400,
            "end_date_in_provider_local_time is before the start date.",
            "end_date_in_provider_local_time",
        )
    if (last - first).days > MAX_AVAILABILITY_DAYS:
        raise ApiError(
            400,
            f"end_date_in_provider_local_time must be at most {MAX_AVAILABILITY_DAYS} days "
            "after the start date.",
            "end_date_in_provider_local_time",
        )

    busy = state.busy_times(first, last)
    data = []
    for provider_location_id in ids:
        provider = state.provider_for(provider_location_id)
        offered = reason.id in provider.visit_reason_ids
        starts = state.timeslots(provider, reason, first, last, busy=busy) if offered else []
        slots = [payloads.timeslot(start, reason.id) for start in starts]
        data.append(
            {
                "provider_location_id": provider_location_id,
                "first_availability": slots[0] if slots else None,
                "timeslots": slots,
            }
        )
    return JSONResponse({"request_id": payloads.request_id(), "data": data})


# Admin endpoints (no authentication: the sandbox listens on loopback only by default)


async def _health(request: Request, state: SandboxState) -> Response:
    return JSONResponse({"status": "ok"})


async def _summary(request: Request, state: SandboxState) -> Response:
    return JSONResponse(
        {
            "therapists": len(state.practice.providers),
            "appointments": len(state.practice.appointments),
            "requests": len(state.requests),
            "token_requests": state.token_requests,
            "booking_requests": state.booking_requests,
            "bookings_created": state.bookings_created,
        }
    )


async def _set_faults(request: Request, state: SandboxState) -> Response:
    body = await json_body(request)
    form = body.pop("retry_after_form", state.retry_after_form)
    if form not in ("seconds", "http-date"):
        raise ApiError(400, "retry_after_form must be seconds or http-date.", "retry_after_form")
    state.set_faults(SandboxFaults(**body))
    state.retry_after_form = form
    return JSONResponse({"faults": body, "retry_after_form": form})


async def _inject(request: Request, state: SandboxState) -> Response:
    body = await json_body(request)
    state.inject(
        str(body.get("kind")),
        count=int(body.get("count", 1)),
        path=body.get("path"),
        retry_after=body.get("retry_after"),
    )
    return JSONResponse({"scripted": len(state.scripted)})
