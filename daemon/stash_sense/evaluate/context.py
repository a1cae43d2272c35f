"""Daemon start-up of evaluation: the threshold provider, the store and the job types."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from stash_sense.evaluate.calibration import AutoThreshold
from stash_sense.evaluate.jobs import EvaluationJobs
from stash_sense.evaluate.service import EvaluationService
from stash_sense.evaluate.store import EvaluationStore
from stash_sense.keys import (
    AUTO_THRESHOLD,
    CONFIG,
    DATABASE,
    EVALUATIONS,
    FACES,
    JOB_QUEUE,
    JOB_REGISTRY,
    STASH,
)


async def evaluate_ctx(app: web.Application) -> AsyncIterator[None]:
    """Provide the auto-apply threshold and register the evaluation jobs."""
    config = app[CONFIG]
    store = EvaluationStore(app[DATABASE])
    threshold = AutoThreshold(config.tagging, config.faces.matcher, store)
    service = EvaluationService(config, store, app[STASH], app[FACES], threshold)
    jobs = EvaluationJobs(service, app[JOB_QUEUE])
    app[JOB_REGISTRY].register(jobs.sample_type())
    app[JOB_REGISTRY].register(jobs.scene_type())
    app[AUTO_THRESHOLD] = threshold
    app[EVALUATIONS] = jobs
    yield
