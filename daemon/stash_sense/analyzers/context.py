"""The analyzers' start-up context: their job, review kinds and schedules."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from stash_sense.analyzers import registry as analyzer_registry
from stash_sense.analyzers.base import AnalyzerServices
from stash_sense.analyzers.scheduler import AnalyzerScheduler
from stash_sense.analyzers.service import build_service
from stash_sense.keys import (
    ANALYZERS,
    AUDIT,
    CONFIG,
    DATABASE,
    IDENTIFICATIONS,
    INTERRUPTED_WRITES,
    JOB_QUEUE,
    JOB_REGISTRY,
    REVIEW,
    STASH,
)


async def analyzers_ctx(app: web.Application) -> AsyncIterator[None]:
    """Register the analyzers, their review kinds and job; fire them on schedule."""
    config = app[CONFIG]
    queue = app[JOB_QUEUE]
    services = AnalyzerServices(
        app[STASH], config, app[DATABASE], app[REVIEW], app[AUDIT], app[IDENTIFICATIONS]
    )
    service = build_service(services, analyzer_registry.analyzer_classes())
    app[JOB_REGISTRY].register(service.runner.job_type())
    for analyzer in service.registry:
        app[INTERRUPTED_WRITES].checks.update(analyzer.write_checks())

    async def fire(name: str) -> None:
        await service.runner.enqueue(queue, name)

    scheduler = AnalyzerScheduler(service.registry, service.states, config.analyzers, fire)
    service.scheduler = scheduler
    app[ANALYZERS] = service
    await scheduler.start()
    yield
    scheduler.shutdown()
