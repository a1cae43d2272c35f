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
    faces,
    health,
    jobs,
    library,
    live,
    metrics,
    plugin_source,
    review,
    scenes,
)
from stash_sense.api.cors import cors_middleware
from stash_sense.api.errors import error_middleware
from stash_sense.api.signing import UrlSigner
from stash_sense.config import ServerConfig
from stash_sense.keys import DAEMON


def middlewares(config: ServerConfig, token: str, signer: UrlSigner) -> list[Middleware]:
    """Return the middlewares, outermost first.

    Health, the WebSocket (its token comes in the first message) and the plugin source
    (Stash's plugin manager fetches it) need no bearer token; crops and evaluation charts
    accept a signed URL on GET.
    """
    return [
        cors_middleware(config.cors_origins),
        error_middleware,
        auth.auth_middleware(
            token,
            frozenset({health.HEALTH_PATH, live.WS_PATH}),
            public_prefixes=(plugin_source.PREFIX,),
            signer=signer,
            signed_prefixes=(scenes.CROPS_PREFIX, evaluate.CHARTS_PREFIX),
        ),
    ]


def add_routes(app: web.Application) -> None:
    """Add every route under /api/v1, and /metrics unless metrics are off."""
    for module in (
        health,
        jobs,
        events,
        scenes,
        faces,
        review,
        audit,
        analyzers,
        facedb,
        library,
        evaluate,
        plugin_source,
        live,
    ):
        app.add_routes(module.routes)
    if app[DAEMON].config.metrics.enabled:
        app.add_routes(metrics.routes)
