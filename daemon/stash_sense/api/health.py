"""The unauthenticated health route."""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

from aiohttp import web

from stash_sense import __version__
from stash_sense.api.serialize import iso
from stash_sense.keys import DAEMON, EVALUATE, EVENTS, IDENTIFY, QUEUE, STASH, STORE

routes = web.RouteTableDef()
HEALTH_PATH = "/api/v1/health"


@routes.get(HEALTH_PATH)
async def health(request: web.Request) -> web.Response:
    """Report version, uptime, Stash, database and queue state; never needs a token."""
    app = request.app
    db = app[STORE].database
    readable = await db.ping()
    writable = db.health.ok
    counts = await app[QUEUE].jobs.store.counts() if readable else {}
    stash = app[STASH].status
    database: dict[str, Any] = {
        "ok": readable and writable,
        "schema_version": await db.schema_version() if readable else None,
    }
    if not writable:
        # Why writes fail (disk_full, read_only, locked, other) until one succeeds.
        database.update(
            problem=db.health.problem, error=db.health.error, since=iso(db.health.since)
        )
    body = {
        "status": "ok" if database["ok"] and stash.ready else "degraded",
        "version": __version__,
        "uptime_seconds": round(time.time() - app[DAEMON].started_at, 3),
        "stash": {**asdict(stash), "checked_at": iso(stash.checked_at)},
        "database": database,
        "queue": {state.value: n for state, n in counts.items()},
        "faces": asdict(app[IDENTIFY].faces.status),
        "library": await app[EVENTS].library.summary() if readable else None,
        "tagging": {"auto_threshold": asdict(await app[EVALUATE].threshold.current())},
    }
    return web.json_response(body)
