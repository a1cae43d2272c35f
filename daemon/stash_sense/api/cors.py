"""CORS for the browser origins named in config, and no others."""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler, Middleware

_ALLOW_HEADERS = "Authorization, Content-Type"
_ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"


def cors_middleware(origins: Iterable[str]) -> Middleware:
    """Answer preflights and add CORS headers for allowed origins."""
    allowed = frozenset(o.rstrip("/") for o in origins)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get(hdrs.ORIGIN)
        preflight = (
            request.method == "OPTIONS"
            and origin is not None
            and hdrs.ACCESS_CONTROL_REQUEST_METHOD in request.headers
        )
        if preflight:
            if origin not in allowed:
                raise web.HTTPForbidden(text="origin not allowed")
            response: web.StreamResponse = web.Response(status=204)
            response.headers[hdrs.ACCESS_CONTROL_ALLOW_METHODS] = _ALLOW_METHODS
            response.headers[hdrs.ACCESS_CONTROL_ALLOW_HEADERS] = _ALLOW_HEADERS
            response.headers[hdrs.ACCESS_CONTROL_MAX_AGE] = "600"
        else:
            try:
                response = await handler(request)
            except web.HTTPException as err:
                _decorate(err, origin, allowed)
                raise
        _decorate(response, origin, allowed)
        return response

    return middleware


def _decorate(response: web.StreamResponse, origin: str | None, allowed: frozenset[str]) -> None:
    """Add the allow-origin headers when the origin is allowed."""
    response.headers.add(hdrs.VARY, hdrs.ORIGIN)
    if origin is not None and origin in allowed:
        response.headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = origin
