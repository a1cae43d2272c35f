"""The API's part of the application: middlewares (CORS, JSON errors, auth) and routes."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Middleware

from stash_sense.api import (
    analyzers,
    audit,
    auth,
    evaluate,
    events,
    facedb,
    health,
    jobs,
    library,
    review,
    scenes,
)
from stash_sense.api.cors import cors_middleware
from stash_sense.api.errors import error_middleware
from stash_sense.config import ServerConfig


def middlewares(config: ServerConfig, token: str) -> list[Middleware]:
    """Return the middlewares, outermost first; /health needs no token."""
    return [
        cors_middleware(config.cors_origins),
        error_middleware,
        auth.auth_middleware(token, frozenset({health.HEALTH_PATH})),
    ]


def add_routes(app: web.Application) -> None:
    """Add every route under /api/v1."""
    for module in (
        health,
        jobs,
        events,
        scenes,
        review,
        audit,
        analyzers,
        facedb,
        library,
        evaluate,
    ):
        app.add_routes(module.routes)
