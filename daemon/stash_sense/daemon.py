"""Assemble the daemon: store, job queue, Stash client and API on one aiohttp app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from aiohttp import web

from stash_sense import __version__
from stash_sense.analyzers import AnalyzerServices
from stash_sense.analyzers import registry as analyzer_registry
from stash_sense.analyzers.scheduler import AnalyzerScheduler
from stash_sense.analyzers.service import build_service
from stash_sense.api import analyzers as analyzer_routes
from stash_sense.api import audit as audit_routes
from stash_sense.api import auth, events, faces, health, jobs, live, plugin_source, review, scenes
from stash_sense.api import facedb as facedb_routes
from stash_sense.api import library as library_routes
from stash_sense.api.cors import cors_middleware
from stash_sense.api.errors import error_middleware
from stash_sense.api.signing import UrlSigner
from stash_sense.changes import ChangeHub
from stash_sense.config import Config
from stash_sense.events.feedback import FeedbackLog
from stash_sense.events.file_check import FileCheck
from stash_sense.events.first_run import FirstRun
from stash_sense.events.intake import EventIntake
from stash_sense.events.reconcile import Reconciler
from stash_sense.events.subscriptions import SubscriptionListener
from stash_sense.facedb.context import facedb_ctx
from stash_sense.identify import SceneIdentifier
from stash_sense.identify.backfill import Backfill
from stash_sense.identify.service import FaceService
from stash_sense.identify.store import IdentificationStore
from stash_sense.keys import (
    ANALYZERS,
    AUDIT,
    CHANGES,
    CONFIG,
    CORRECTIONS,
    DATABASE,
    EVENT_INTAKE,
    FACES,
    IDENTIFICATIONS,
    IDENTIFIER,
    INTERRUPTED_WRITES,
    JOB_QUEUE,
    JOB_REGISTRY,
    LIBRARY,
    RECONCILER,
    RESOLVER,
    REVIEW,
    SIGNER,
    STARTED_AT,
    STASH,
    STASH_STATUS,
    TAGGING,
    TOKEN,
)
from stash_sense.queue import Capability, JobQueue, JobRegistry, JobStore
from stash_sense.queue.maintenance import PRUNE_JOBS, JobPruner, PruneJobsArgs
from stash_sense.review import ReviewQueue
from stash_sense.scenes import SceneLedger
from stash_sense.stash.client import StashClient
from stash_sense.stash.monitor import StashMonitor, StashStatus
from stash_sense.stashbox import DisabledEndpoints
from stash_sense.store import Database
from stash_sense.store.watermarks import Watermarks
from stash_sense.tagging.corrections import Corrections
from stash_sense.tagging.engine import TaggingEngine
from stash_sense.tagging.resolver import PerformerResolver
from stash_sense.tagging.suggestion import (
    PerformerCreator,
    PerformerSuggestionKind,
    SuggestionActions,
)
from stash_sense.writes import AuditLog, InterruptedWrites, StashWriter

_LOGGER = logging.getLogger(__name__)
DB_FILE = "stash_sense.db"


def build_app(config: Config, token: str) -> web.Application:
    """Create the application; its cleanup contexts start and stop every service."""
    signer = UrlSigner(token)
    app = web.Application(
        client_max_size=config.server.max_body_bytes,
        middlewares=[
            cors_middleware(config.server.cors_origins),
            error_middleware,
            auth.auth_middleware(
                token,
                frozenset({health.HEALTH_PATH, live.WS_PATH}),
                public_prefixes=(plugin_source.PREFIX,),
                signer=signer,
                signed_prefixes=(scenes.CROPS_PREFIX,),
            ),
        ],
    )
    app[CONFIG] = config
    app[STARTED_AT] = time.time()
    app[SIGNER] = signer
    app[TOKEN] = token
    app[JOB_REGISTRY] = JobRegistry()
    app[CHANGES] = ChangeHub()
    app.on_shutdown.append(_close_changes)
    # Order matters: contexts start in this order and stop in reverse, so workers
    # stop before the Stash client closes and the database closes last.
    app.cleanup_ctx.extend(
        [
            _store_ctx,
            _review_ctx,
            _queue_ctx,
            _stash_ctx,
            _faces_ctx,
            facedb_ctx,
            _events_ctx,
            _tagging_ctx,
            _analyzers_ctx,
            _workers_ctx,
            _maintenance_ctx,
        ]
    )
    for module in (
        health,
        jobs,
        events,
        scenes,
        faces,
        review,
        audit_routes,
        analyzer_routes,
        plugin_source,
        live,
    ):
        app.add_routes(module.routes)
    app.add_routes(facedb_routes.routes)
    app.add_routes(library_routes.routes)
    return app


async def _close_changes(app: web.Application) -> None:
    """End live subscriptions first, so open WebSockets never hold up shutdown."""
    app[CHANGES].close()


def data_dir(config: Config) -> Path:
    """Return the absolute data dir."""
    return Path(config.paths.data_dir).expanduser().resolve()


async def _store_ctx(app: web.Application) -> AsyncIterator[None]:
    """Open the database for the app's lifetime."""
    config = app[CONFIG]
    db = Database(data_dir(config) / DB_FILE, busy_timeout_ms=config.store.busy_timeout_ms)
    await db.open()
    app[DATABASE] = db
    yield
    await db.close()


async def _review_ctx(app: web.Application) -> AsyncIterator[None]:
    """Create the review queue and unlock items a dead process left accepting."""
    review_queue = ReviewQueue(app[DATABASE], changes=app[CHANGES])
    await review_queue.start()
    app[REVIEW] = review_queue
    yield
    await review_queue.close()


async def _queue_ctx(app: web.Application) -> AsyncIterator[None]:
    """Create the job queue and recover jobs a dead process left running."""
    config = app[CONFIG]
    store = JobStore(app[DATABASE], app[CHANGES])
    registry = app[JOB_REGISTRY]
    registry.register(JobPruner(store, config.queue).job_type())
    # Recovery runs here, before the API binds, so no client sees a stale "running" job.
    recovered = await store.recover()
    if recovered.requeued or recovered.failed or recovered.cancelled:
        _LOGGER.info(
            "Recovered interrupted jobs: %d requeued, %d failed (too many attempts), %d cancelled",
            recovered.requeued,
            recovered.failed,
            recovered.cancelled,
        )
    app[JOB_QUEUE] = JobQueue(store, registry, config.queue)
    yield


async def _stash_ctx(app: web.Application) -> AsyncIterator[None]:
    """Connect to Stash and keep watching it; Stash being down never stops the daemon."""
    config = app[CONFIG]
    queue = app[JOB_QUEUE]
    client = StashClient(config.stash)
    status = StashStatus()
    app[STASH] = client
    app[STASH_STATUS] = status
    monitor = StashMonitor(
        client,
        status,
        interval=config.stash.check_interval_seconds,
        on_ready=lambda ready: queue.set_capability(Capability.STASH, ready),
    )
    async with _background(monitor.run(), "stash-monitor"):
        yield
    await client.close()


async def _faces_ctx(app: web.Application) -> AsyncIterator[None]:
    """Load the face models and database in the background; identify jobs wait for it."""
    config = app[CONFIG]
    folder = data_dir(config)
    faces = FaceService(
        config.faces,
        cache_file=folder / "face-db-verified.json",
        workers=config.queue.concurrency.gpu,
    )
    app[FACES] = faces
    app[IDENTIFICATIONS] = IdentificationStore(
        app[DATABASE],
        folder / "crops",
        max_crop_bytes=config.faces.crops_max_mb * 1_048_576,
        changes=app[CHANGES],
    )

    async def preload() -> None:
        await faces.load()

    # Loading a large release takes a while: never delay start-up or the API for it.
    async with _background(preload(), "faces-load"):
        yield
    # Waits for an identification still finishing its current stage, off the loop.
    await asyncio.to_thread(faces.close)


async def _events_ctx(app: web.Application) -> AsyncIterator[None]:
    """Register the scene jobs, replay unmapped events, listen and reconcile."""
    config = app[CONFIG]
    db, queue, stash = app[DATABASE], app[JOB_QUEUE], app[STASH]
    registry = app[JOB_REGISTRY]
    ledger = SceneLedger(db)
    first_run = FirstRun(
        stash, db, queue, backfill_on_first_run=config.events.backfill_on_first_run
    )
    app[LIBRARY] = first_run
    reconciler = Reconciler(
        stash, ledger, queue, Watermarks(db), config.events, on_first_run=first_run.record
    )
    identifier = SceneIdentifier(
        stash,
        ledger,
        app[FACES],
        app[IDENTIFICATIONS],
        path_mappings=config.faces.path_mappings,
        api_key=config.stash.api_key,
    )
    app[IDENTIFIER] = identifier
    for job_type in (
        identifier.job_type(),
        FileCheck(stash, ledger, queue).job_type(),
        reconciler.job_type(),
        Backfill(stash, ledger, queue, config.events.reconcile_page_size).job_type(),
    ):
        registry.register(job_type)
    intake = EventIntake(db, queue, ledger, FeedbackLog(db))
    app[EVENT_INTAKE] = intake
    app[RECONCILER] = reconciler
    replayed = await intake.replay_pending()
    if replayed:
        _LOGGER.info("Mapped %d events stored before the last stop", replayed)
    await reconciler.request("start-up")
    listener = SubscriptionListener(
        stash, reconciler.request, max_backoff=config.events.reconnect_max_seconds
    )

    async def reconcile() -> None:
        await reconciler.request("interval")

    async with contextlib.AsyncExitStack() as stack:
        if config.events.subscriptions:
            await stack.enter_async_context(_background(listener.run(), "subscriptions"))
        await stack.enter_async_context(
            _background(_every(config.events.reconcile_interval_seconds, reconcile), "reconcile")
        )
        yield


async def _tagging_ctx(app: web.Application) -> AsyncIterator[None]:
    """Apply or suggest identified performers; learn from people's edits."""
    config = app[CONFIG]
    stash = app[STASH]
    audit = AuditLog(app[DATABASE], app[CHANGES])
    interrupted = InterruptedWrites(stash, audit)
    app[JOB_REGISTRY].register(interrupted.job_type())
    app[INTERRUPTED_WRITES] = interrupted
    unknown = await interrupted.enqueue_if_needed(app[JOB_QUEUE])
    if unknown:
        _LOGGER.info("%d interrupted writes to Stash will be checked once it is reachable", unknown)
    resolver = PerformerResolver(
        stash,
        ttl=config.tagging.performer_cache_seconds,
        overrides=config.stashbox.endpoint_domains,
    )
    applier = StashWriter(stash, audit)
    engine = TaggingEngine(
        config.tagging,
        stash,
        resolver,
        applier=applier,
        audit=audit,
        review=app[REVIEW],
        disabled=DisabledEndpoints(config.stashbox.disabled_endpoints),
    )
    creator = PerformerCreator(stash, applier, resolver, config.stashbox)
    app[REVIEW].register(
        PerformerSuggestionKind(
            SuggestionActions(applier, creator, dry_run=config.tagging.mode == "dry-run")
        )
    )
    app[AUDIT] = audit
    app[TAGGING] = engine
    app[RESOLVER] = resolver
    app[CORRECTIONS] = Corrections(engine, applier, audit, app[REVIEW], FeedbackLog(app[DATABASE]))
    app[IDENTIFIER].identified.append(engine.on_identified)
    intake = app[EVENT_INTAKE]
    intake.performers_edited.append(engine.on_performers_edited)
    intake.scene_deleted.append(engine.on_scene_deleted)
    intake.performer_changed.append(engine.on_performer_changed)
    yield
    await creator.close()


async def _analyzers_ctx(app: web.Application) -> AsyncIterator[None]:
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


async def _workers_ctx(app: web.Application) -> AsyncIterator[None]:
    """Run the worker pools; on shutdown give running jobs their grace period."""
    queue = app[JOB_QUEUE]
    await queue.start()
    yield
    await queue.stop()


async def _maintenance_ctx(app: web.Application) -> AsyncIterator[None]:
    """Checkpoint the WAL and enqueue job pruning periodically."""
    config = app[CONFIG]
    db = app[DATABASE]
    queue = app[JOB_QUEUE]
    prune_type = app[JOB_REGISTRY].get(PRUNE_JOBS)

    intake = app[EVENT_INTAKE]

    async def prune() -> None:
        await queue.enqueue(prune_type, PruneJobsArgs(), idempotency_key=PRUNE_JOBS)
        await intake.prune(time.time() - config.events.keep_events_days * 86_400)

    async with (
        _background(_every(config.store.checkpoint_interval_seconds, db.checkpoint), "wal"),
        _background(_every(config.queue.prune_interval_hours * 3600, prune), "prune"),
    ):
        yield


async def _every(seconds: float, action: Callable[[], Awaitable[None]]) -> None:
    """Run `action` every `seconds`, logging (not raising) its failures."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await action()
        except Exception:
            _LOGGER.exception("Periodic task %s failed", getattr(action, "__name__", action))


@contextlib.asynccontextmanager
async def _background(coro: Awaitable[None], name: str) -> AsyncIterator[None]:
    """Run a coroutine as a task for the duration of the block, then cancel it."""
    task = asyncio.ensure_future(coro)
    task.set_name(name)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def serve(app: web.Application) -> None:
    """Run the daemon until SIGTERM or SIGINT, then shut down in order."""
    config = app[CONFIG]
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    # setup() runs the cleanup contexts' start-up halves: recovery happens before bind.
    await runner.setup()
    try:
        site = web.TCPSite(runner, config.server.host, config.server.port)
        await site.start()
        _LOGGER.info(
            "Stash Sense %s listening on http://%s:%d",
            __version__,
            config.server.host,
            config.server.port,
        )
        await stop.wait()
        _LOGGER.info("Shutting down")
    finally:
        await runner.cleanup()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    _LOGGER.info("Stopped cleanly")
