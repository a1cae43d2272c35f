"""Routes to list, inspect, cancel and retry jobs."""

from __future__ import annotations

from aiohttp import web

from stash_sense.api.errors import ApiError
from stash_sense.api.params import enum_list_param, id_param, int_param, list_param
from stash_sense.api.serialize import job_json
from stash_sense.keys import DAEMON, QUEUE
from stash_sense.queue import JobState, Resource

routes = web.RouteTableDef()
# Mean durations look at this many of the newest succeeded jobs of a type.
RECENT_JOBS = 50


@routes.get("/api/v1/jobs")
async def list_jobs(request: web.Request) -> web.Response:
    """List jobs, newest first, filtered by state and type."""
    queue = request.app[QUEUE].jobs
    limit = int_param(request, "limit", 50, lo=1, hi=500)
    offset = int_param(request, "offset", 0, lo=0, hi=10**9)
    page = await queue.store.list(
        states=enum_list_param(request, "state", JobState),
        types=list_param(request, "type"),
        limit=limit,
        offset=offset,
    )
    return web.json_response(
        {
            "jobs": [job_json(j) for j in page.jobs],
            "total": page.total,
            "limit": limit,
            "offset": offset,
        }
    )


# Registered before /jobs/{id}, which would otherwise read "stats" as an id.
@routes.get("/api/v1/jobs/stats")
async def job_stats(request: web.Request) -> web.Response:
    """Count jobs by state and by type, with each type's recent mean run time."""
    store = request.app[QUEUE].jobs.store
    by_type = await store.counts_by_type()
    concurrency = request.app[DAEMON].config.queue.concurrency
    return web.json_response(
        {
            "by_state": {s.value: n for s, n in (await store.counts()).items()},
            "by_type": {
                name: {s.value: n for s, n in counts.items()}
                for name, counts in sorted(by_type.items())
            },
            "mean_seconds": {
                name: await store.mean_duration(name, RECENT_JOBS) for name in sorted(by_type)
            },
            "recent": RECENT_JOBS,
            "workers": {r.value: getattr(concurrency, r.value) for r in Resource},
        }
    )


@routes.get("/api/v1/jobs/{id}")
async def get_job(request: web.Request) -> web.Response:
    """Return one job."""
    job = await request.app[QUEUE].jobs.store.get(id_param(request))
    if job is None:
        raise ApiError(404, "not_found", "no such job")
    return web.json_response(job_json(job))


@routes.post("/api/v1/jobs/{id}/cancel")
async def cancel_job(request: web.Request) -> web.Response:
    """Cancel a queued job, or ask a running one to stop."""
    job_id = id_param(request)
    job = await request.app[QUEUE].jobs.cancel(job_id)
    if job is None:
        raise ApiError(404, "not_found", "no such job")
    if job.state in (JobState.SUCCEEDED, JobState.FAILED) or (
        job.state is JobState.CANCELLED and not job.cancel_requested
    ):
        raise ApiError(409, "conflict", f"job {job_id} already {job.state.value}")
    return web.json_response(job_json(job), status=202 if job.state.live else 200)


@routes.post("/api/v1/jobs/{id}/retry")
async def retry_job(request: web.Request) -> web.Response:
    """Queue a failed or cancelled job again."""
    job_id = id_param(request)
    job = await request.app[QUEUE].jobs.retry(job_id)
    if job is None:
        raise ApiError(404, "not_found", "no such job")
    if job.id == job_id and job.state is not JobState.QUEUED:
        raise ApiError(
            409,
            "conflict",
            f"job {job_id} is {job.state.value}; only failed or cancelled jobs can be retried",
        )
    return web.json_response(job_json(job))
