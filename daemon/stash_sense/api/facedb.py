"""Face-database routes: status, check for an update, install or roll back (as jobs)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from stash_sense.api.errors import ApiError
from stash_sense.api.params import json_body, only_keys
from stash_sense.api.serialize import iso, job_json
from stash_sense.facedb.layout import FaceDbError, check_version
from stash_sense.facedb.service import INSTALL, JOB_KEY, ROLLBACK, InstallArgs, RollbackArgs
from stash_sense.keys import FACEDB, QUEUE

routes = web.RouteTableDef()


@routes.get("/api/v1/facedb")
async def status(request: web.Request) -> web.Response:
    """Describe the installed, loaded and newest known release and any running install."""
    body = await request.app[FACEDB].service.status()
    body["update"]["checked_at"] = iso(body["update"]["checked_at"])
    live = await request.app[QUEUE].jobs.store.live_by_keys([JOB_KEY])
    body["job"] = job_json(live[0]) if live else None
    return web.json_response(body)


@routes.post("/api/v1/facedb/check")
async def check(request: web.Request) -> web.Response:
    """Ask the release source for its newest release now."""
    update = (await request.app[FACEDB].service.check()).json()
    update["checked_at"] = iso(update["checked_at"])
    return web.json_response(update)


@routes.post("/api/v1/facedb/install")
async def install(request: web.Request) -> web.Response:
    """Queue an install of the newest (or a given) release; 409 while another one runs."""
    data: Any = await json_body(request) if request.can_read_body else {}
    if not isinstance(data, dict):
        raise ApiError(422, "unprocessable", "body must be a JSON object")
    only_keys(data, ("version", "source"))
    version, source = data.get("version"), data.get("source")
    for name, value in (("version", version), ("source", source)):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ApiError(422, "unprocessable", f"{name} must be a non-empty string")
    if version is not None:
        try:
            check_version(version)
        except FaceDbError as err:
            raise ApiError(422, "unprocessable", str(err)) from None
    return await _enqueue(request, INSTALL, InstallArgs(version, source))


@routes.post("/api/v1/facedb/rollback")
async def rollback(request: web.Request) -> web.Response:
    """Queue a return to the previous release; 409 while another install runs."""
    return await _enqueue(request, ROLLBACK, RollbackArgs())


async def _enqueue(request: web.Request, name: str, args: Any) -> web.Response:
    """Queue one install-type job unless one is already live."""
    queue = request.app[QUEUE].jobs
    result = await queue.enqueue(queue.registry.get(name), args, idempotency_key=JOB_KEY)
    if not result.created:
        job = result.job
        raise ApiError(409, "conflict", f"job {job.id} ({job.type}) is already changing it")
    return web.json_response(job_json(result.job), status=202)
