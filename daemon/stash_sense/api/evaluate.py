"""Routes to start, follow, cancel and apply evaluations, and to read calibrations."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aiohttp import web

from stash_sense.api.errors import ApiError
from stash_sense.api.params import id_param, int_param, json_body, only_keys
from stash_sense.api.serialize import job_json
from stash_sense.evaluate.chart import pr_chart
from stash_sense.evaluate.service import NoRecommendation
from stash_sense.evaluate.store import Evaluation
from stash_sense.faces.matchers import MATCHERS
from stash_sense.keys import DAEMON, EVALUATE

routes = web.RouteTableDef()
MAX_SCENES = 10_000
DEFAULT_SCENES = 50
# Charts are images for an `<img>`, so their GETs accept a signed URL (see api/app.py).
CHARTS_PREFIX = "/api/v1/evaluations/"


def _chart_urls(request: web.Request, evaluation_id: int) -> dict[str, str]:
    """Return the chart's path and the same path signed for an `<img>` without the token."""
    path = f"{CHARTS_PREFIX}{evaluation_id}/chart.svg"
    return {"chart_url": path, "chart_signed_url": request.app[DAEMON].signer.sign(path)}


def _summary(evaluation: Evaluation) -> dict[str, Any]:
    """Describe a run without its report."""
    report = evaluation.report or {}
    return {
        "id": evaluation.id,
        "state": evaluation.state,
        "error": evaluation.error,
        "created_at": evaluation.created_at,
        "finished_at": evaluation.finished_at,
        "settings": {k: v for k, v in evaluation.settings.items() if k != "variants"},
        "recommendation": report.get("recommendation"),
    }


def _parse_start(data: Any) -> tuple[int, int, list[str], bool]:
    """Validate the body of POST /evaluations."""
    if not isinstance(data, dict):
        raise ApiError(422, "unprocessable", "body must be a JSON object")
    only_keys(data, ("scenes", "seed", "matcher", "sweep"))
    scenes, seed = data.get("scenes", DEFAULT_SCENES), data.get("seed", 0)
    for name, value, lo, hi in (("scenes", scenes, 1, MAX_SCENES), ("seed", seed, 0, 2**31 - 1)):
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise ApiError(422, "unprocessable", f"{name} must be an integer from {lo} to {hi}")
    matcher = data.get("matcher")
    if matcher is not None and matcher not in MATCHERS:
        raise ApiError(422, "unprocessable", f"matcher must be one of {', '.join(MATCHERS)}")
    sweep = data.get("sweep", False)
    if not isinstance(sweep, bool):
        raise ApiError(422, "unprocessable", "sweep must be true or false")
    return scenes, seed, [matcher] if matcher else [], sweep


async def _evaluation(request: web.Request) -> Evaluation:
    evaluation = await request.app[EVALUATE].jobs.service.store.get(id_param(request))
    if evaluation is None:
        raise ApiError(404, "not_found", "no such evaluation")
    return evaluation


@routes.post("/api/v1/evaluations")
async def start_evaluation(request: web.Request) -> web.Response:
    """Start an evaluation as low-priority jobs."""
    data = await json_body(request) if request.body_exists else {}
    scenes, seed, matchers, sweep = _parse_start(data)
    evaluation_id, job = await request.app[EVALUATE].jobs.start(
        scenes=scenes, seed=seed, matchers=matchers, sweep=sweep
    )
    return web.json_response({"id": evaluation_id, "job": job_json(job)}, status=202)


@routes.get("/api/v1/evaluations")
async def list_evaluations(request: web.Request) -> web.Response:
    """List evaluations, newest first."""
    limit = int_param(request, "limit", 20, lo=1, hi=200)
    found = await request.app[EVALUATE].jobs.service.store.runs(limit)
    return web.json_response({"evaluations": [_summary(e) for e in found]})


@routes.get("/api/v1/evaluations/latest")
async def latest_evaluation(request: web.Request) -> web.Response:
    """Return the newest evaluation's stored report, with the threshold in force."""
    evaluation = await request.app[EVALUATE].jobs.service.store.latest()
    if evaluation is None:
        raise ApiError(404, "not_found", "no evaluation has a report yet")
    threshold = await request.app[EVALUATE].threshold.current()
    return web.json_response(
        {
            **_summary(evaluation),
            "report": evaluation.report,
            **_chart_urls(request, evaluation.id),
            "auto_threshold": asdict(threshold),
        }
    )


@routes.get("/api/v1/evaluations/{id}")
async def get_evaluation(request: web.Request) -> web.Response:
    """Return one evaluation; a live one gets a report over the scenes done so far."""
    evaluation = await _evaluation(request)
    report = evaluation.report
    if report is None:
        report = await request.app[EVALUATE].jobs.service.report(evaluation.id)
    return web.json_response(
        {
            **_summary(evaluation),
            "report": report,
            **_chart_urls(request, evaluation.id),
        }
    )


@routes.get("/api/v1/evaluations/{id}/chart.svg")
async def evaluation_chart(request: web.Request) -> web.Response:
    """Draw the evaluation's precision-recall curves as SVG."""
    evaluation = await _evaluation(request)
    report = evaluation.report or await request.app[EVALUATE].jobs.service.report(evaluation.id)
    return web.Response(text=pr_chart(report), content_type="image/svg+xml")


@routes.post("/api/v1/evaluations/{id}/cancel")
async def cancel_evaluation(request: web.Request) -> web.Response:
    """Cancel a live evaluation; the report keeps the scenes already evaluated."""
    evaluation = await _evaluation(request)
    report = await request.app[EVALUATE].jobs.cancel(evaluation.id)
    if report is None:
        raise ApiError(409, "conflict", f"evaluation {evaluation.id} is already {evaluation.state}")
    return web.json_response({"id": evaluation.id, "state": "cancelled", "report": report})


@routes.post("/api/v1/evaluations/{id}/apply")
async def apply_evaluation(request: web.Request) -> web.Response:
    """Record the evaluation's recommended threshold as the calibrated one."""
    evaluation = await _evaluation(request)
    try:
        calibration = await request.app[EVALUATE].jobs.service.apply(evaluation.id)
    except NoRecommendation as err:
        raise ApiError(409, "conflict", str(err)) from None
    return web.json_response(calibration.summary(), status=201)


@routes.get("/api/v1/calibrations")
async def list_calibrations(request: web.Request) -> web.Response:
    """Return the calibration history, newest first, and the threshold in force."""
    limit = int_param(request, "limit", 50, lo=1, hi=500)
    found = await request.app[EVALUATE].jobs.service.store.calibrations(limit)
    threshold = await request.app[EVALUATE].threshold.current()
    return web.json_response(
        {
            "auto_threshold": asdict(threshold),
            "calibrations": [{**c.summary(), "report": c.report} for c in found],
        }
    )
