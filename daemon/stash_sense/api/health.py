"""The unauthenticated health route."""

from __future__ import annotations

import time
from dataclasses import asdict

from aiohttp import web

from stash_sense import __version__
from stash_sense.api.serialize import iso
from stash_sense.keys import DATABASE, FACES, JOB_QUEUE, LIBRARY, STARTED_AT, STASH_STATUS

routes = web.RouteTableDef()
HEALTH_PATH = "/api/v1/health"


@routes.get(HEALTH_PATH)
async def health(request: web.Request) -> web.Response:
    """Report version, uptime, Stash, database and queue state; never needs a token."""
    app = request.app
    db = app[DATABASE]
    db_ok = await db.ping()
    counts = await app[JOB_QUEUE].store.counts() if db_ok else {}
    stash = app[STASH_STATUS]
    body = {
        "status": "ok" if db_ok and stash.ready else "degraded",
        "version": __version__,
        "uptime_seconds": round(time.time() - app[STARTED_AT], 3),
        "stash": {**asdict(stash), "checked_at": iso(stash.checked_at)},
        "database": {"ok": db_ok, "schema_version": await db.schema_version() if db_ok else None},
        "queue": {state.value: n for state, n in counts.items()},
        "faces": asdict(app[FACES].status),
        "library": await app[LIBRARY].summary() if db_ok else None,
    }
    return web.json_response(body)
