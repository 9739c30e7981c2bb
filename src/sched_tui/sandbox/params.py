"""Parsing of query parameters and JSON bodies; every failure is an ApiError 400."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from starlette.requests import Request

from sched_tui.sandbox.state import ApiError


def int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be an integer, got {raw!r}.", name) from None
    if not low <= value <= high:
        raise ApiError(400, f"{name} must be between {low} and {high}, got {value}.", name)
    return value


def list_param(
    request: Request, name: str, *, required: bool = False, limit: int | None = None
) -> list[str]:
    raw = request.query_params.get(name, "")
    items = [item.strip() for item in raw.split(",") if item.strip()]
    if required and not items:
        raise ApiError(400, f"{name} is required.", name)
    if limit is not None and len(items) > limit:
        raise ApiError(400, f"{name} accepts at most {limit} items, got {len(items)}.", name)
    return items


def date_param(request: Request, name: str, default: date) -> date:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be a date as YYYY-MM-DD, got {raw!r}.", name) from None


def instant_param(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(
            400, f"{name} must be a UTC instant such as 2024-01-01 00:00:00+00:00.", name
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def next_url(request: Request, page: int, has_more: bool) -> str | None:
    return str(request.url.include_query_params(page=page + 1)) if has_more else None


async def json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    return body
