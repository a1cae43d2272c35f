"""The analyzers' start-up context: their job, review kinds and schedules."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from stash_sense.analyzers import registry as analyzer_registry
from stash_sense.analyzers.base import AnalyzerServices
from stash_sense.analyzers.runtime import AnalyzersRuntime
from stash_sense.analyzers.scheduler import AnalyzerScheduler
from stash_sense.analyzers.service import build_service
from stash_sense.keys import ANALYZERS, DAEMON, IDENTIFY, QUEUE, REVIEW, STASH, STORE, TAGGING


async def analyzers_ctx(app: web.Application) -> AsyncIterator[None]:
    """Register the analyzers, their review kinds and job; fire them on schedule."""
    config = app[DAEMON].config
    queue = app[QUEUE].jobs
    tagging = app[TAGGING]
    services = AnalyzerServices(
        app[STASH].client,
        config,
        app[STORE].database,
        app[REVIEW].queue,
        tagging.audit,
        app[IDENTIFY].results,
    )
    service = build_service(services, analyzer_registry.analyzer_classes())
    app[DAEMON].registry.register(service.runner.job_type())
    for analyzer in service.registry:
        tagging.interrupted_writes.checks.update(analyzer.write_checks())

    async def fire(name: str) -> None:
        await service.runner.enqueue(queue, name)

    scheduler = AnalyzerScheduler(service.registry, service.states, config.analyzers, fire)
    service.scheduler = scheduler
    app[ANALYZERS] = AnalyzersRuntime(service)
    await scheduler.start()
    yield
    scheduler.shutdown()
