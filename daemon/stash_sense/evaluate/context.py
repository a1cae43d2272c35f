"""Daemon start-up of evaluation: the threshold provider, the store and the job types."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from stash_sense.evaluate.calibration import AutoThreshold
from stash_sense.evaluate.jobs import EvaluationJobs
from stash_sense.evaluate.runtime import EvaluateRuntime
from stash_sense.evaluate.service import EvaluationService
from stash_sense.evaluate.store import EvaluationStore
from stash_sense.keys import DAEMON, EVALUATE, IDENTIFY, QUEUE, STASH, STORE


async def evaluate_ctx(app: web.Application) -> AsyncIterator[None]:
    """Provide the auto-apply threshold and register the evaluation jobs."""
    config = app[DAEMON].config
    store = EvaluationStore(app[STORE].database)
    threshold = AutoThreshold(config.tagging, config.faces.matcher, store)
    service = EvaluationService(config, store, app[STASH].client, app[IDENTIFY].faces, threshold)
    jobs = EvaluationJobs(service, app[QUEUE].jobs)
    app[DAEMON].registry.register(jobs.sample_type())
    app[DAEMON].registry.register(jobs.scene_type())
    app[EVALUATE] = EvaluateRuntime(threshold, jobs)
    yield
