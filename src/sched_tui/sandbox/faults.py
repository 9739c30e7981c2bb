"""Fault injection: latency, 429 with Retry-After, 5xx, hangs and unreadable bodies.

A request gets at most one fault. The first source that applies wins: the
``fault=`` query flag, then a scripted fault (`SandboxState.inject`), then a
random draw from the `SandboxFaults` rates (timeout, then 503, then 429).
"""

from __future__ import annotations

import asyncio
import email.utils
from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sched_tui.sandbox.payloads import error_result, request_id
from sched_tui.sandbox.state import FAULT_KINDS, ApiError, SandboxState, ScriptedFault


async def apply_latency(request: Request, state: SandboxState) -> None:
    """Sleep for the configured latency plus the ``fault_latency_ms`` query flag."""
    extra = request.query_params.get("fault_latency_ms", "0")
    try:
        extra_ms = max(0, int(extra))
    except ValueError:
        raise ApiError(
            400, f"fault_latency_ms must be an integer, got {extra!r}.", "fault_latency_ms"
        ) from None
    delay_ms = state.faults.latency_ms + extra_ms
    if delay_ms:
        await asyncio.sleep(delay_ms / 1000)


def choose_fault(request: Request, state: SandboxState) -> ScriptedFault | None:
    """Pick the fault for this request, if any."""
    flag = request.query_params.get("fault")
    if flag is not None:
        if flag not in FAULT_KINDS:
            raise ApiError(
                400, f"Unknown fault {flag!r}; expected one of {', '.join(FAULT_KINDS)}.", "fault"
            )
        return ScriptedFault(flag, retry_after=_retry_after_from_query(request, state))

    scripted = state.take_scripted(request.url.path)
    if scripted is not None:
        return scripted

    faults = state.faults
    draw = state.rng.random()
    if draw < faults.timeout_rate:
        return ScriptedFault("timeout")
    draw -= faults.timeout_rate
    if draw < faults.error_rate:
        return ScriptedFault("503")
    draw -= faults.error_rate
    if draw < faults.rate_limit_rate:
        return ScriptedFault("429", retry_after=_format_retry_after(state, faults.retry_after_s))
    return None


def _retry_after_from_query(request: Request, state: SandboxState) -> str:
    raw = request.query_params.get("retry_after", str(state.faults.retry_after_s))
    try:
        seconds = int(raw)
    except ValueError:
        raise ApiError(
            400, f"retry_after must be an integer of seconds, got {raw!r}.", "retry_after"
        ) from None
    form = request.query_params.get("retry_after_form", state.retry_after_form)
    return _format_retry_after(state, seconds, form)


def _format_retry_after(state: SandboxState, seconds: int, form: str | None = None) -> str:
    """Format Retry-After as delay-seconds or as an HTTP-date (RFC 9110, section 10.2.3)."""
    if (form or state.retry_after_form) == "http-date":
        # The real clock, not state.now: clients compare the date with their own clock.
        moment = datetime.now(UTC) + timedelta(seconds=seconds)
        return email.utils.format_datetime(moment, usegmt=True)
    return str(seconds)


async def fault_response(fault: ScriptedFault, state: SandboxState) -> Response:
    """Build the response that a fault produces."""
    if fault.kind == "timeout":
        await asyncio.sleep(state.hang_s)
        return JSONResponse(error_result("The request timed out.", error_type="api_error"), 503)
    if fault.kind == "429":
        headers = {
            "Retry-After": fault.retry_after
            or _format_retry_after(state, state.faults.retry_after_s)
        }
        return JSONResponse(
            error_result("Too Many Requests", error_type="api_error"), 429, headers=headers
        )
    if fault.kind in ("500", "503"):
        return JSONResponse(
            error_result("Service unavailable.", error_type="api_error"), int(fault.kind)
        )
    if fault.kind == "401":
        return JSONResponse(error_result("The access token is invalid or expired."), 401)
    if fault.kind == "malformed":
        return Response(
            '{"request_id": "req_truncated", "data": [', 200, media_type="application/json"
        )
    return JSONResponse({"request_id": request_id(), "data": "unexpected"}, 200)
