"""The events domain's start-up contexts: build the intake; later, replay and listen."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator

from aiohttp import web

from stash_sense.events.feedback import FeedbackLog
from stash_sense.events.file_check import FileCheck
from stash_sense.events.first_run import FirstRun
from stash_sense.events.intake import EventIntake
from stash_sense.events.reconcile import Reconciler
from stash_sense.events.runtime import EventsRuntime
from stash_sense.events.subscriptions import SubscriptionListener
from stash_sense.keys import DAEMON, EVENTS, IDENTIFY, QUEUE, STASH, STORE
from stash_sense.lifecycle import background, every
from stash_sense.store.watermarks import Watermarks

_LOGGER = logging.getLogger(__name__)


async def events_ctx(app: web.Application) -> AsyncIterator[None]:
    """Build the intake and the reconciler and register their jobs; start nothing yet."""
    config = app[DAEMON].config
    db, queue, stash = app[STORE].database, app[QUEUE].jobs, app[STASH].client
    ledger = app[IDENTIFY].ledger
    first_run = FirstRun(
        stash, db, queue, backfill_on_first_run=config.events.backfill_on_first_run
    )
    reconciler = Reconciler(
        stash, ledger, queue, Watermarks(db), config.events, on_first_run=first_run.record
    )
    registry = app[DAEMON].registry
    registry.register(FileCheck(stash, ledger, queue).job_type())
    registry.register(reconciler.job_type())
    intake = EventIntake(db, queue, ledger, FeedbackLog(db))
    app[EVENTS] = EventsRuntime(intake, reconciler, first_run)
    yield


async def intake_ctx(app: web.Application) -> AsyncIterator[None]:
    """Map events stored before the last stop, reconcile, listen, prune old events."""
    config = app[DAEMON].config
    intake, reconciler = app[EVENTS].intake, app[EVENTS].reconciler
    replayed = await intake.replay_pending()
    if replayed:
        _LOGGER.info("Mapped %d events stored before the last stop", replayed)
    await reconciler.request("start-up")
    listener = SubscriptionListener(
        app[STASH].client, reconciler.request, max_backoff=config.events.reconnect_max_seconds
    )

    async def reconcile() -> None:
        await reconciler.request("interval")

    async def prune() -> None:
        await intake.prune(time.time() - config.events.keep_events_days * 86_400)

    async with contextlib.AsyncExitStack() as stack:
        if config.events.subscriptions:
            await stack.enter_async_context(background(listener.run(), "subscriptions"))
        await stack.enter_async_context(
            background(every(config.events.reconcile_interval_seconds, reconcile), "reconcile")
        )
        await stack.enter_async_context(
            background(every(config.queue.prune_interval_hours * 3600, prune), "prune-events")
        )
        yield
