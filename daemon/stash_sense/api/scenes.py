"""Scene routes: identify one scene, read its identification, backfill the library."""

from __future__ import annotations

from aiohttp import web

from stash_sense.api.errors import ApiError
from stash_sense.api.params import id_param
from stash_sense.api.serialize import iso, job_json
from stash_sense.identify import IDENTIFY_SCENE, IdentifySceneArgs, identify_key
from stash_sense.identify.backfill import BACKFILL, BackfillArgs
from stash_sense.keys import IDENTIFICATIONS, JOB_QUEUE, SIGNER
from stash_sense.queue import JobState, Priority

routes = web.RouteTableDef()
CROPS_PREFIX = "/api/v1/crops/"


@routes.post("/api/v1/scenes/backfill")
async def backfill(request: web.Request) -> web.Response:
    """Queue identification of every scene never identified, at low priority."""
    queue = request.app[JOB_QUEUE]
    result = await queue.enqueue(
        queue.registry.get(BACKFILL), BackfillArgs(), idempotency_key=BACKFILL
    )
    return web.json_response(job_json(result.job), status=202)


@routes.post("/api/v1/scenes/{id}/identify")
async def identify(request: web.Request) -> web.Response:
    """Queue identification of one scene at high priority (`?force=true` redoes it)."""
    scene_id = id_param(request)
    force = request.query.get("force", "").lower() in ("1", "true", "yes")
    queue = request.app[JOB_QUEUE]
    job_type = queue.registry.get(IDENTIFY_SCENE)
    key = identify_key(scene_id)
    if force:
        # A queued unforced job would skip an already identified file: replace it.
        for job in await queue.store.live_by_keys([key]):
            if job.state is JobState.QUEUED and not job.args.get("force"):
                await queue.cancel(job.id)
    result = await queue.enqueue(
        job_type,
        IdentifySceneArgs(scene_id, force=force, reason="requested"),
        priority=Priority.HIGH,
        idempotency_key=key,
    )
    return web.json_response(job_json(result.job), status=202)


@routes.get("/api/v1/scenes/{id}/identification")
async def identification(request: web.Request) -> web.Response:
    """Return the newest identification of a scene, with crop URLs."""
    scene_id = id_param(request)
    found = await request.app[IDENTIFICATIONS].latest(scene_id)
    if found is None:
        raise ApiError(404, "not_found", f"scene {scene_id} has not been identified")
    result = found.result
    signer = request.app[SIGNER]
    for person in result.get("persons", []):
        for face in person.get("evidence", []):
            crop_id = face.get("crop_id")
            path = f"{CROPS_PREFIX}{crop_id}"
            face["crop_url"] = path if crop_id else None
            # An <img> cannot send the token: it loads the signed URL instead.
            face["crop_signed_url"] = signer.sign(path) if crop_id else None
    body = {
        "id": found.id,
        "scene_id": found.scene_id,
        "file_key": found.file_key,
        "pipeline_version": found.pipeline_version,
        "forced": found.forced,
        "created_at": iso(found.created_at),
        **result,
    }
    return web.json_response(body)


@routes.get(CROPS_PREFIX + "{id}")
async def crop(request: web.Request) -> web.Response:
    """Serve one face crop (JPEG) by id."""
    data = await request.app[IDENTIFICATIONS].crop(id_param(request))
    if data is None:
        raise ApiError(404, "not_found", "no such crop")
    return web.Response(
        body=data, content_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"}
    )
