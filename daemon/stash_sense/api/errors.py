"""JSON errors: every failure leaves the API as `{"error": {"code", "message"}}`."""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from stash_sense.store import refusal

_LOGGER = logging.getLogger(__name__)

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "too_many_requests",
    503: "unavailable",
}


class ApiError(web.HTTPException):
    """An error answered as JSON with a stable machine-readable code."""

    def __init__(self, status: int, code: str, message: str, **details: Any) -> None:
        self.status_code = status
        body: dict[str, Any] = {"code": code, "message": message}
        if details:
            body["details"] = details
        super().__init__(text=_dumps({"error": body}), content_type="application/json")


def _dumps(data: Any) -> str:
    """Serialise JSON compactly."""
    return json.dumps(data, separators=(",", ":"))


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every exception into a JSON error response."""
    try:
        return await handler(request)
    except ApiError:
        raise
    except web.HTTPException as err:
        if err.status < 400:
            raise
        code = _CODES.get(err.status, "error")
        # aiohttp's default bodies read "404: Not Found"; prefer a specific text.
        text = err.text or ""
        message = err.reason if not text or text.startswith(f"{err.status}:") else text
        raise ApiError(err.status, code, message) from None
    except Exception as err:
        problem = refusal(err)
        if problem is not None:
            # The store refuses writes (full disk, read-only, locked): nothing was
            # stored, and the client may send the same request again later.
            _LOGGER.warning(
                "%s %s refused: the database is %s", request.method, request.path, problem
            )
            raise ApiError(
                503,
                "store_unavailable",
                f"the daemon's database cannot store this now ({problem.value}): {err}",
                reason=problem.value,
            ) from None
        _LOGGER.exception("Unhandled error on %s %s", request.method, request.path)
        raise ApiError(500, "internal", "internal error; see the daemon log") from None
