"""The Prometheus scrape route on the API (the bearer token is required, as everywhere)."""

from __future__ import annotations

from aiohttp import web

from stash_sense.metrics.context import METRICS_PATH, respond

routes = web.RouteTableDef()


@routes.get(METRICS_PATH)
async def metrics(request: web.Request) -> web.Response:
    """Return every metric in the Prometheus text format."""
    return await respond(request.app)
