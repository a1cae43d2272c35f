"""The tagging domain's start-up context: the engine, its job and its listeners."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from stash_sense.events.feedback import FeedbackLog
from stash_sense.keys import (
    DAEMON,
    EVALUATE,
    EVENTS,
    IDENTIFY,
    QUEUE,
    REVIEW,
    STASH,
    STORE,
    TAGGING,
)
from stash_sense.stashbox import DisabledEndpoints
from stash_sense.tagging.corrections import Corrections
from stash_sense.tagging.engine import TaggingEngine
from stash_sense.tagging.job import IdentificationTagger
from stash_sense.tagging.resolver import PerformerResolver
from stash_sense.tagging.runtime import TaggingRuntime
from stash_sense.tagging.suggestion import (
    PerformerCreator,
    PerformerSuggestionKind,
    SuggestionActions,
)
from stash_sense.writes import AuditLog, InterruptedWrites, StashWriter

_LOGGER = logging.getLogger(__name__)


async def tagging_ctx(app: web.Application) -> AsyncIterator[None]:
    """Apply or suggest identified performers; learn from people's edits.

    Listeners are attached here, when the objects are built, and before the events
    context replays anything, so no identification or edit can pass them by.
    """
    daemon, identify, db = app[DAEMON], app[IDENTIFY], app[STORE].database
    config, registry = daemon.config, daemon.registry
    stash, queue, review = app[STASH].client, app[QUEUE].jobs, app[REVIEW].queue
    audit = AuditLog(db, daemon.changes)
    interrupted = InterruptedWrites(stash, audit)
    registry.register(interrupted.job_type())
    unknown = await interrupted.enqueue_if_needed(queue)
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
        review=review,
        disabled=DisabledEndpoints(config.stashbox.disabled_endpoints),
        threshold=app[EVALUATE].threshold,
    )
    creator = PerformerCreator(stash, applier, resolver, config.stashbox)
    review.register(
        PerformerSuggestionKind(
            SuggestionActions(applier, creator, dry_run=config.tagging.mode == "dry-run"),
            reference_image=identify.faces.reference_image,
        )
    )
    corrections = Corrections(engine, applier, audit, review, FeedbackLog(db))
    tagger = IdentificationTagger(engine, identify.results, stash, queue)
    registry.register(tagger.job_type())
    identify.identifier.identified.append(tagger.enqueue)
    intake = app[EVENTS].intake
    intake.performers_edited.append(engine.on_performers_edited)
    intake.scene_deleted.append(engine.on_scene_deleted)
    intake.performer_changed.append(engine.on_performer_changed)
    app[TAGGING] = TaggingRuntime(audit, engine, resolver, corrections, interrupted)
    yield
    await creator.close()
