"""The hook endpoint: the plugin forwards each Stash hook event here."""

from __future__ import annotations

from aiohttp import web

from stash_sense.api.errors import ApiError
from stash_sense.api.params import json_body
from stash_sense.events.payload import InvalidEvent
from stash_sense.keys import EVENTS

routes = web.RouteTableDef()


@routes.post("/api/v1/events/stash")
async def stash_event(request: web.Request) -> web.Response:
    """Store one hook event and map it to work; answer 202 at once."""
    data = await json_body(request)
    try:
        receipt = await request.app[EVENTS].intake.ingest(data)
    except InvalidEvent as err:
        raise ApiError(422, "invalid_event", str(err)) from None
    body = {
        "event_id": receipt.event_id,
        "status": receipt.outcome.value,
        "job_id": receipt.job_id,
        "detail": receipt.detail,
    }
    return web.json_response(body, status=202)
