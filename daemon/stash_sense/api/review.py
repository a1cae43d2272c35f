"""Review queue routes: list, inspect, accept and reject suggestions, one by one or in bulk."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from stash_sense.api.errors import ApiError
from stash_sense.api.params import enum_list_param, int_param, json_body, list_param, only_keys
from stash_sense.api.serialize import iso
from stash_sense.keys import DAEMON, REVIEW
from stash_sense.review import (
    BULK_MAX_ITEMS,
    AcceptTimeout,
    ActionRefused,
    BulkAction,
    BulkResult,
    ConfirmationRequired,
    InvalidOptions,
    InvalidPayload,
    ItemFilter,
    ItemNotFound,
    ItemSort,
    ReopenRefused,
    ReviewClosed,
    ReviewConflict,
    ReviewError,
    ReviewItem,
    ReviewQueue,
    ReviewState,
    UnknownKind,
)
from stash_sense.stash.errors import StashError, StashUnavailable

routes = web.RouteTableDef()
MAX_ID = 2**63 - 1  # SQLite's INTEGER range; larger numbers cannot name an item
MAX_FILTER_VALUES = 100
_STATUS: dict[type[ReviewError], int] = {
    ItemNotFound: 404,
    ReviewConflict: 409,
    ActionRefused: 409,
    UnknownKind: 409,
    ReopenRefused: 409,
    ConfirmationRequired: 422,
    InvalidOptions: 422,
    InvalidPayload: 422,
    AcceptTimeout: 504,
    ReviewClosed: 503,
}


@routes.get("/api/v1/review/items")
async def list_items(request: web.Request) -> web.Response:
    """List review items, filtered, sorted and paginated."""
    limit = int_param(request, "limit", 50, lo=1, hi=500)
    offset = int_param(request, "offset", 0, lo=0, hi=10**9)
    sort = _sort_param(request)
    filters = ItemFilter(
        kinds=tuple(list_param(request, "kind")),
        states=tuple(enum_list_param(request, "state", ReviewState)),
        scene_ids=tuple(_scene_param(request)),
        # Exact values, repeatable: subjects and sources may contain commas.
        subjects=tuple(_exact_param(request, "subject")),
        sources=tuple(_exact_param(request, "source")),
        min_confidence=_confidence_param(request, "min_confidence"),
        max_confidence=_confidence_param(request, "max_confidence"),
    )
    review = request.app[REVIEW].queue
    page = await review.list(filters, sort=sort, limit=limit, offset=offset)
    body = {
        "items": [item_json(review, i) for i in page.items],
        "total": page.total,
        "limit": limit,
        "offset": offset,
    }
    return web.json_response(body)


@routes.get("/api/v1/review/items/{id}")
async def get_item(request: web.Request) -> web.Response:
    """Return one item with its kind's extra details."""
    review = request.app[REVIEW].queue
    item = await review.get(_item_id(request))
    if item is None:
        raise ApiError(404, "not_found", "no such review item")
    with _domain_errors():
        details = await review.describe(item)
    if isinstance(details.get("crop_urls"), list):
        # An <img> cannot send the token: it loads the signed URLs instead.
        signer = request.app[DAEMON].signer
        details["crop_signed_urls"] = [signer.sign(str(u)) for u in details["crop_urls"]]
    return web.json_response({**item_json(review, item), "details": details})


@routes.post("/api/v1/review/items/{id}/accept")
async def accept_item(request: web.Request) -> web.Response:
    """Accept an item: perform its action once and record the outcome."""
    item_id = _item_id(request)
    data = await _optional_body(request)
    only_keys(data, ("confirm", "options"))
    confirm = _bool(data, "confirm")
    options = data.get("options", {})
    if not isinstance(options, dict):
        raise ApiError(422, "unprocessable", "options must be an object")
    review = request.app[REVIEW].queue
    with _domain_errors():
        item = await review.accept(item_id, confirm=confirm, options=options)
    return web.json_response(item_json(review, item))


@routes.post("/api/v1/review/items/{id}/reject")
async def reject_item(request: web.Request) -> web.Response:
    """Reject an item so its subject is not proposed again."""
    return await _change_state(request, ReviewQueue.reject)


@routes.post("/api/v1/review/items/{id}/reopen")
async def reopen_item(request: web.Request) -> web.Response:
    """Undo a rejection made in the queue: the item is pending again."""
    return await _change_state(request, ReviewQueue.reopen)


async def _change_state(
    request: web.Request, change: Callable[[ReviewQueue, int], Awaitable[ReviewItem]]
) -> web.Response:
    """Run a state change that takes no body (or `{}`) on the item in the path."""
    item_id = _item_id(request)
    only_keys(await _optional_body(request), ())
    review = request.app[REVIEW].queue
    with _domain_errors():
        item = await change(review, item_id)
    return web.json_response(item_json(review, item))


@routes.post("/api/v1/review/bulk")
async def bulk(request: web.Request) -> web.Response:
    """Accept or reject many items; each item gets its own result."""
    parsed = parse_bulk(await json_body(request))
    review = request.app[REVIEW].queue
    with _domain_errors():
        result = await review.bulk(
            parsed.action, ids=parsed.ids, filters=parsed.filters, confirm=parsed.confirm
        )
    return web.json_response(bulk_json(result))


@routes.get("/api/v1/review/counts")
async def counts(request: web.Request) -> web.Response:
    """Count items per kind and state."""
    review = request.app[REVIEW].queue
    found = await review.counts()
    by_kind = {k: {s.value: n for s, n in c.items()} for k, c in found.by_kind.items()}
    # The review page asks before a bulk accept that may touch one of these.
    destructive = sorted(k.name for k in review.kinds if k.destructive)
    return web.json_response(
        {"by_kind": by_kind, "pending": found.pending, "destructive": destructive}
    )


def item_json(review: ReviewQueue, item: ReviewItem) -> dict[str, Any]:
    """Describe an item for the API."""
    kind = review.kinds.find(item.kind)
    return {
        "id": item.id,
        "kind": item.kind,
        "scene_id": item.scene_id,
        "subject": item.subject,
        "state": item.state.value,
        "confidence": item.confidence,
        "payload": item.payload,
        "source": item.source,
        "created_at": iso(item.created_at),
        "updated_at": iso(item.updated_at),
        "decided_at": iso(item.decided_at),
        "decided_by": item.decided_by.value if item.decided_by else None,
        "outcome": item.outcome,
        "error": item.last_error,
        # The UI asks for confirmation first; null when the kind is not loaded.
        "destructive": kind.destructive if kind is not None else None,
    }


def bulk_json(result: BulkResult) -> dict[str, Any]:
    """Describe a bulk result for the API."""
    rows = [
        {
            "id": r.id,
            "ok": r.ok,
            "state": r.state.value if r.state else None,
            "error": None
            if r.error is None
            else {"code": r.error.code, "message": r.error.message},
        }
        for r in result.results
    ]
    ended = [r.state for r in result.results if r.ok]
    return {
        "action": result.action.value,
        "results": rows,
        "accepted": ended.count(ReviewState.ACCEPTED),
        "rejected": ended.count(ReviewState.REJECTED),
        "failed": result.failed,
        "remaining": result.remaining,
    }


@dataclass(frozen=True)
class BulkRequest:
    """A checked bulk body."""

    action: BulkAction
    ids: list[int] | None
    filters: ItemFilter | None
    confirm: bool


def parse_bulk(data: Any) -> BulkRequest:
    """Check a bulk body strictly; every problem is a 4xx ApiError."""
    if not isinstance(data, dict):
        raise ApiError(422, "unprocessable", "body must be a JSON object")
    only_keys(data, ("action", "ids", "filter", "confirm"))
    raw_action = data.get("action")
    if raw_action not in ("accept", "reject"):
        raise ApiError(422, "unprocessable", "action must be 'accept' or 'reject'")
    if ("ids" in data) == ("filter" in data):
        raise ApiError(422, "unprocessable", "give exactly one of ids and filter")
    ids = _ids(data["ids"]) if "ids" in data else None
    filters = _filter(data["filter"]) if "filter" in data else None
    return BulkRequest(BulkAction(raw_action), ids, filters, _bool(data, "confirm"))


def _ids(raw: Any) -> list[int]:
    """Check a list of item ids."""
    if not isinstance(raw, list) or not raw:
        raise ApiError(422, "unprocessable", "ids must be a non-empty list")
    if len(raw) > BULK_MAX_ITEMS:
        raise ApiError(
            422, "too_many_items", f"at most {BULK_MAX_ITEMS} ids per call; split the list"
        )
    if not all(_is_id(v) for v in raw):
        raise ApiError(422, "unprocessable", "ids must be positive integers")
    return list(raw)


def _filter(raw: Any) -> ItemFilter:
    """Check a bulk filter; an empty filter would act on every pending item."""
    if not isinstance(raw, dict) or not raw:
        raise ApiError(422, "unprocessable", "filter must be a non-empty object")
    only_keys(raw, ("kind", "scene", "subject", "min_confidence", "max_confidence"), "filter")
    kinds = _values(raw, "kind", str)
    scenes = _values(raw, "scene", int)
    subjects = _values(raw, "subject", str)
    low = _confidence(raw.get("min_confidence"), "filter.min_confidence")
    high = _confidence(raw.get("max_confidence"), "filter.max_confidence")
    if low is not None and high is not None and low > high:
        raise ApiError(422, "unprocessable", "min_confidence is above max_confidence")
    return ItemFilter(
        kinds=tuple(kinds),
        scene_ids=tuple(scenes),
        subjects=tuple(subjects),
        min_confidence=low,
        max_confidence=high,
    )


def _values(raw: dict[str, Any], key: str, tp: type[str] | type[int]) -> list[Any]:
    """Read a filter field given as one value or a list of values."""
    if key not in raw:
        return []
    value = raw[key]
    values = value if isinstance(value, list) else [value]
    if not values or len(values) > MAX_FILTER_VALUES:
        raise ApiError(422, "unprocessable", f"filter.{key} needs 1 to {MAX_FILTER_VALUES} values")
    ok = (
        all(_is_id(v) for v in values)
        if tp is int
        else all(isinstance(v, str) and v for v in values)
    )
    if not ok:
        what = "positive integers" if tp is int else "non-empty strings"
        raise ApiError(422, "unprocessable", f"filter.{key} must be {what}")
    return values


def _is_id(value: Any) -> bool:
    """Tell whether a JSON value is a usable positive integer id."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def _confidence(value: Any, name: str) -> float | None:
    """Check an optional confidence bound in [0, 1]."""
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value <= 1
    ):
        raise ApiError(422, "unprocessable", f"{name} must be a number in [0, 1]")
    return float(value)


def _bool(data: dict[str, Any], key: str) -> bool:
    """Read an optional boolean field (default false)."""
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise ApiError(422, "unprocessable", f"{key} must be true or false")
    return value


async def _optional_body(request: web.Request) -> dict[str, Any]:
    """Read an optional JSON object body; no body reads as {}."""
    if not request.body_exists:
        return {}
    data = await json_body(request)
    if not isinstance(data, dict):
        raise ApiError(422, "unprocessable", "body must be a JSON object")
    return data


def _sort_param(request: web.Request) -> ItemSort:
    """Read the sort order."""
    raw = request.query.get("sort") or ItemSort.DATE_DESC.value
    try:
        return ItemSort(raw)
    except ValueError:
        allowed = ", ".join(s.value for s in ItemSort)
        raise ApiError(400, "bad_parameter", f"sort must be among {allowed}") from None


def _scene_param(request: web.Request) -> list[int]:
    """Read scene ids (repeatable or comma-separated)."""
    values = []
    for raw in list_param(request, "scene"):
        value = _ascii_int(raw)
        if value is None or not 0 < value <= MAX_ID:
            raise ApiError(400, "bad_parameter", "scene must be positive integers")
        values.append(value)
    return values


def _item_id(request: web.Request) -> int:
    """Read the item id from the path; ids beyond SQLite's range name no item."""
    value = _ascii_int(request.match_info["id"])
    if value is None or value <= 0:
        raise ApiError(400, "bad_parameter", "id must be a positive integer")
    if value > MAX_ID:
        raise ApiError(404, "not_found", "no such review item")
    return value


def _ascii_int(raw: str) -> int | None:
    """Parse ASCII digits only (str.isdigit also accepts '²', which int() refuses)."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 30:
        return None
    return int(raw)


def _exact_param(request: web.Request, name: str) -> list[str]:
    """Read a repeatable query parameter whose values are taken as they are."""
    return [v for v in request.query.getall(name, []) if v]


def _confidence_param(request: web.Request, name: str) -> float | None:
    """Read an optional confidence bound from the query."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ApiError(400, "bad_parameter", f"{name} must be a number in [0, 1]") from None
    if not math.isfinite(value) or not 0 <= value <= 1:
        raise ApiError(400, "bad_parameter", f"{name} must be a number in [0, 1]")
    return value


@contextmanager
def _domain_errors() -> Iterator[None]:
    """Map review and Stash errors to JSON errors; anything else is a 500."""
    try:
        yield
    except ReviewError as err:
        status = next((s for t, s in _STATUS.items() if isinstance(err, t)), 500)
        raise ApiError(status, err.code, str(err)) from None
    except StashUnavailable as err:
        raise ApiError(502, "upstream_unavailable", str(err)) from None
    except StashError as err:
        raise ApiError(502, "upstream_error", str(err)) from None
