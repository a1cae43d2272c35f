"""Parse and check request parameters, failing with clear 400/422 errors."""

from __future__ import annotations

import json
from collections.abc import Iterable
from enum import Enum
from typing import Any, TypeVar

from aiohttp import web

from stash_sense.api.errors import ApiError

E = TypeVar("E", bound=Enum)


def int_param(request: web.Request, name: str, default: int, *, lo: int, hi: int) -> int:
    """Read an integer query parameter within [lo, hi]."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "bad_parameter", f"{name} must be an integer") from None
    if not lo <= value <= hi:
        raise ApiError(400, "bad_parameter", f"{name} must be between {lo} and {hi}")
    return value


def id_param(request: web.Request, name: str = "id") -> int:
    """Read a positive integer path parameter."""
    raw = request.match_info[name]
    # isdigit() accepts "²" and other Unicode digits that int() refuses: ASCII only.
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) <= MAX_ID:
        raise ApiError(400, "bad_parameter", f"{name} must be a positive integer")
    return int(raw)


MAX_ID = 2**63 - 1  # SQLite's INTEGER range


def list_param(request: web.Request, name: str) -> list[str]:
    """Read a repeated or comma-separated query parameter."""
    values: list[str] = []
    for raw in request.query.getall(name, []):
        values.extend(part.strip() for part in raw.split(",") if part.strip())
    return values


def enum_list_param(request: web.Request, name: str, enum: type[E]) -> list[E]:
    """Read a list of enum values by their value."""
    result = []
    for raw in list_param(request, name):
        try:
            result.append(enum(raw))
        except ValueError:
            allowed = ", ".join(str(m.value) for m in enum)
            raise ApiError(400, "bad_parameter", f"{name} must be among {allowed}") from None
    return result


async def json_body(request: web.Request) -> Any:
    """Read a JSON request body (its size is capped by the app's client_max_size)."""
    if request.content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "send Content-Type: application/json")
    raw = await request.read()
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise ApiError(400, "invalid_json", f"body is not valid JSON: {err}") from None
    except RecursionError:
        raise ApiError(400, "invalid_json", "body is nested too deeply") from None
    if _depth(data) > MAX_JSON_DEPTH:
        raise ApiError(400, "invalid_json", f"body is nested deeper than {MAX_JSON_DEPTH}")
    return data


MAX_JSON_DEPTH = 32


def _depth(value: Any) -> int:
    """Return the nesting depth of decoded JSON, without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if level > MAX_JSON_DEPTH:
                return level
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def only_keys(data: dict[str, Any], allowed: Iterable[str], where: str = "body") -> None:
    """Reject unknown keys in a JSON object."""
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ApiError(422, "unknown_field", f"{where} has unknown fields: {', '.join(unknown)}")
