"""Routes over the audit log of writes to Stash, and undo."""

from __future__ import annotations

from aiohttp import web

from stash_sense.api.errors import ApiError
from stash_sense.api.params import id_param, int_param
from stash_sense.api.serialize import audit_json
from stash_sense.keys import TAGGING
from stash_sense.stash.errors import StashError
from stash_sense.writes import UndoError

routes = web.RouteTableDef()


@routes.get("/api/v1/audit")
async def list_entries(request: web.Request) -> web.Response:
    """List writes newest first (`?scene=` for one scene)."""
    scene = request.query.get("scene")
    if scene is not None and not (scene.isascii() and scene.isdigit() and len(scene) < 19):
        raise ApiError(400, "bad_parameter", "scene must be a positive integer")
    limit = int_param(request, "limit", 50, lo=1, hi=500)
    offset = int_param(request, "offset", 0, lo=0, hi=10**9)
    entries, total = await request.app[TAGGING].audit.list(
        scene_id=int(scene) if scene else None, limit=limit, offset=offset
    )
    return web.json_response(
        {
            "entries": [audit_json(e) for e in entries],
            "total": total,
            "limit": limit,
            "offset": offset,
        }
    )


@routes.post("/api/v1/audit/{id}/undo")
async def undo(request: web.Request) -> web.Response:
    """Undo one write: remove what it added; those performers are not suggested again."""
    try:
        entry = await request.app[TAGGING].engine.undo(id_param(request))
    except UndoError as err:
        raise ApiError(409, "conflict", str(err)) from None
    except StashError as err:
        raise ApiError(502, "stash_error", str(err)) from None
    return web.json_response(audit_json(entry))
