"""Scene routes: identify one scene, read its identification, library coverage, backfill."""

from __future__ import annotations

from aiohttp import web

from stash_sense.api.errors import ApiError
from stash_sense.api.jobs import RECENT_JOBS
from stash_sense.api.params import id_param
from stash_sense.api.serialize import iso, job_json
from stash_sense.identify import IDENTIFY_SCENE, IdentifySceneArgs, identify_key
from stash_sense.identify.backfill import BACKFILL, BackfillArgs
from stash_sense.keys import DAEMON, IDENTIFY, QUEUE, STASH, STORE
from stash_sense.queue import JobState, Priority
from stash_sense.scenes import SceneLedger
from stash_sense.stash.errors import StashError, StashUnavailable

routes = web.RouteTableDef()
CROPS_PREFIX = "/api/v1/crops/"


@routes.post("/api/v1/scenes/backfill")
async def backfill(request: web.Request) -> web.Response:
    """Queue identification of every scene never identified, at low priority."""
    queue = request.app[QUEUE].jobs
    result = await queue.enqueue(
        queue.registry.get(BACKFILL), BackfillArgs(), idempotency_key=BACKFILL
    )
    return web.json_response(job_json(result.job), status=202)


@routes.get("/api/v1/scenes/coverage")
async def coverage(request: web.Request) -> web.Response:
    """Count scenes in Stash, identified and never identified, and estimate a backfill."""
    app = request.app
    try:
        total = await app[STASH].client.count_scenes()
    except StashUnavailable as err:
        raise ApiError(502, "upstream_unavailable", str(err)) from None
    except StashError as err:
        raise ApiError(502, "upstream_error", str(err)) from None
    # The ledger may still count a scene deleted behind the daemon's back: clamp to Stash.
    identified = min(await SceneLedger(app[STORE].database).identified_count(), total)
    never = total - identified
    queue = app[QUEUE].jobs
    mean = await queue.store.mean_duration(IDENTIFY_SCENE, RECENT_JOBS)
    workers = app[DAEMON].config.queue.concurrency.gpu
    live = await queue.store.live_by_keys([BACKFILL])
    return web.json_response(
        {
            "scenes": total,
            "identified": identified,
            "never_identified": never,
            "identify_mean_seconds": mean,
            "gpu_workers": workers,
            "estimate_seconds": never * mean / workers if mean is not None and workers else None,
            "backfill_job": job_json(live[0]) if live else None,
        }
    )


@routes.post("/api/v1/scenes/{id}/identify")
async def identify(request: web.Request) -> web.Response:
    """Queue identification of one scene at high priority (`?force=true` redoes it)."""
    scene_id = id_param(request)
    force = request.query.get("force", "").lower() in ("1", "true", "yes")
    queue = request.app[QUEUE].jobs
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
    found = await request.app[IDENTIFY].results.latest(scene_id)
    if found is None:
        raise ApiError(404, "not_found", f"scene {scene_id} has not been identified")
    result = found.result
    signer = request.app[DAEMON].signer
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
        "tagged_at": iso(found.tagged_at),
        **result,
    }
    return web.json_response(body)


@routes.get(CROPS_PREFIX + "{id}")
async def crop(request: web.Request) -> web.Response:
    """Serve one face crop (JPEG) by id."""
    data = await request.app[IDENTIFY].results.crop(id_param(request))
    if data is None:
        raise ApiError(404, "not_found", "no such crop")
    return web.Response(
        body=data, content_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"}
    )
