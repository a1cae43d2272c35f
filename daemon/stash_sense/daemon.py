"""Assemble the daemon: each domain's start-up context, in order, on one aiohttp app."""

from __future__ import annotations

import asyncio
import logging
import signal
import time

from aiohttp import web

from stash_sense import __version__
from stash_sense.analyzers.context import analyzers_ctx
from stash_sense.api import app as api
from stash_sense.api.signing import UrlSigner
from stash_sense.changes import ChangeHub
from stash_sense.config import Config
from stash_sense.evaluate.context import evaluate_ctx
from stash_sense.events.context import events_ctx, intake_ctx
from stash_sense.facedb.context import facedb_ctx
from stash_sense.identify.context import identify_ctx
from stash_sense.keys import DAEMON, METRICS
from stash_sense.metrics.context import metrics_ctx
from stash_sense.metrics.runtime import MetricsRuntime
from stash_sense.metrics.stages import StageReaders
from stash_sense.queue import JobRegistry
from stash_sense.queue.context import maintenance_ctx, queue_ctx, workers_ctx
from stash_sense.review.context import review_ctx
from stash_sense.runtime import DaemonRuntime
from stash_sense.stash.context import stash_ctx
from stash_sense.store.context import store_ctx
from stash_sense.tagging.context import tagging_ctx

_LOGGER = logging.getLogger(__name__)


def build_app(config: Config, token: str) -> web.Application:
    """Create the application; its cleanup contexts start and stop every service."""
    signer = UrlSigner(token)
    app = web.Application(
        client_max_size=config.server.max_body_bytes,
        middlewares=api.middlewares(config.server, token, signer),
    )
    # Job types may be registered before start-up, so the registry comes with the app.
    app[DAEMON] = DaemonRuntime(
        config=config,
        started_at=time.time(),
        changes=ChangeHub(),
        signer=signer,
        token=token,
        registry=JobRegistry(),
    )
    # Before any context, so an engine may register its stage readers whenever it starts.
    app[METRICS] = MetricsRuntime(stages=StageReaders())
    app.on_shutdown.append(_close_changes)
    # Contexts start in this order and stop in reverse: workers stop before the Stash
    # client closes, and the database closes last. Every object is built and every
    # listener attached before `intake_ctx` replays events, and before workers run.
    app.cleanup_ctx.extend(
        [
            store_ctx,
            review_ctx,
            queue_ctx,
            stash_ctx,
            identify_ctx,
            facedb_ctx,
            events_ctx,
            evaluate_ctx,
            tagging_ctx,
            analyzers_ctx,
            intake_ctx,
            workers_ctx,
            maintenance_ctx,
            metrics_ctx,
        ]
    )
    api.add_routes(app)
    return app


async def _close_changes(app: web.Application) -> None:
    """End live subscriptions first, so open WebSockets never hold up shutdown."""
    app[DAEMON].changes.close()


async def serve(app: web.Application) -> None:
    """Run the daemon until SIGTERM or SIGINT, then shut down in order."""
    config = app[DAEMON].config
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
