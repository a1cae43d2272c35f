"""Scene-level routes: backfill identification of the whole library."""

from __future__ import annotations

from aiohttp import web

from stash_sense.api.serialize import job_json
from stash_sense.identify.backfill import BACKFILL, BackfillArgs
from stash_sense.keys import JOB_QUEUE

routes = web.RouteTableDef()


@routes.post("/api/v1/scenes/backfill")
async def backfill(request: web.Request) -> web.Response:
    """Queue identification of every scene never identified, at low priority."""
    queue = request.app[JOB_QUEUE]
    result = await queue.enqueue(
        queue.registry.get(BACKFILL), BackfillArgs(), idempotency_key=BACKFILL
    )
    return web.json_response(job_json(result.job), status=202)
