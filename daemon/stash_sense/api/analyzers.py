"""Routes over the analyzers: list them, run one now, change a schedule."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from aiohttp import web

from stash_sense.analyzers.schedule import ScheduleError
from stash_sense.analyzers.service import AnalyzerService
from stash_sense.analyzers.state import AnalyzerState
from stash_sense.api.errors import ApiError
from stash_sense.api.params import json_body
from stash_sense.api.serialize import iso, job_json
from stash_sense.keys import ANALYZERS, QUEUE
from stash_sense.queue import Job

routes = web.RouteTableDef()
_TRUE = {"1", "true", "yes"}
_FALSE = {"", "0", "false", "no"}


@routes.get("/api/v1/analyzers")
async def list_analyzers(request: web.Request) -> web.Response:
    """List every analyzer with its schedule, last outcome, next run and live job."""
    service = request.app[ANALYZERS].service
    states = await service.states.all()
    live = await service.runner.live_jobs(request.app[QUEUE].jobs)
    items = [
        _analyzer_json(service, name, states.get(name, AnalyzerState(name)), live.get(name))
        for name in service.registry.names()
    ]
    return web.json_response({"analyzers": items})


@routes.post("/api/v1/analyzers/{name}/run")
async def run_analyzer(request: web.Request) -> web.Response:
    """Queue a run now (`?full=true` ignores the watermark); a live run is returned instead."""
    service = request.app[ANALYZERS].service
    name = _name(service, request)
    raw = request.query.get("full", "").lower()
    if raw not in _TRUE | _FALSE:
        raise ApiError(400, "bad_parameter", "full must be true or false")
    result = await service.runner.enqueue(request.app[QUEUE].jobs, name, full=raw in _TRUE)
    return web.json_response({"created": result.created, "job": job_json(result.job)}, status=202)


@routes.put("/api/v1/analyzers/{name}/schedule")
async def set_schedule(request: web.Request) -> web.Response:
    """Persist an analyzer's schedule and enabled flag, and reschedule it at once."""
    service = request.app[ANALYZERS].service
    name = _name(service, request)
    body = await json_body(request)
    if not isinstance(body, dict) or set(body) - {"schedule", "enabled"}:
        raise ApiError(422, "invalid_body", 'send {"schedule": "...", "enabled": true|false}')
    schedule, enabled = body.get("schedule"), body.get("enabled", True)
    if not isinstance(schedule, str):
        raise ApiError(422, "invalid_schedule", "schedule must be a string")
    if not isinstance(enabled, bool):
        raise ApiError(422, "invalid_body", "enabled must be true or false")
    assert service.scheduler is not None  # the daemon always has one
    try:
        await service.scheduler.set_schedule(name, schedule.strip(), enabled)
    except ScheduleError as err:
        raise ApiError(422, "invalid_schedule", str(err)) from None
    state = await service.states.get(name)
    live = await service.runner.live_jobs(request.app[QUEUE].jobs)
    return web.json_response(_analyzer_json(service, name, state, live.get(name)))


def _name(service: AnalyzerService, request: web.Request) -> str:
    """Read the analyzer name from the path; 404 for an unknown one."""
    name = request.match_info["name"]
    if name not in service.registry:
        raise ApiError(404, "not_found", f"no analyzer named {name!r}")
    return name


def _analyzer_json(
    service: AnalyzerService, name: str, state: AnalyzerState, job: Job | None
) -> dict[str, Any]:
    """Describe one analyzer for the API."""
    analyzer = service.registry.get(name)
    scheduler = service.scheduler
    schedule = scheduler.effective(name) if scheduler is not None else None
    next_run = scheduler.next_run(name) if scheduler is not None else None
    return {
        "name": name,
        "title": analyzer.title,
        "logic_version": analyzer.logic_version,
        "kinds": [k.name for k in analyzer.kinds],
        "schedule": schedule.schedule if schedule else analyzer.default_schedule,
        "schedule_source": schedule.source if schedule else "default",
        "enabled": schedule.enabled if schedule else True,
        "next_run_at": next_run.astimezone(UTC).isoformat(timespec="milliseconds")
        if next_run is not None
        else None,
        "last_run_at": iso(state.last_run_at),
        "last_success_at": iso(state.last_success_at),
        "last_job_id": state.last_job_id,
        "last_error": state.last_error,
        "last_counts": state.last_counts or {},
        "watermark": state.watermark,
        "running_job_id": job.id if job is not None else None,
        "running_job_state": job.state.value if job is not None else None,
    }
