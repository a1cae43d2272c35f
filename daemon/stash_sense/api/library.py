"""The library route: what the first start found and whether a backfill is offered."""

from __future__ import annotations

from aiohttp import web

from stash_sense.keys import EVENTS

routes = web.RouteTableDef()


@routes.get("/api/v1/library")
async def library(request: web.Request) -> web.Response:
    """Report the never-identified count from the first start and the backfill offer."""
    return web.json_response(await request.app[EVENTS].library.summary())
