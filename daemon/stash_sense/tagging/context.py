"""The tagging domain's start-up context: the engine, its job and its listeners."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from stash_sense.events.feedback import FeedbackLog
from stash_sense.keys import (
    AUDIT,
    AUTO_THRESHOLD,
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
    RESOLVER,
    REVIEW,
    STASH,
    TAGGING,
)
from stash_sense.stashbox import DisabledEndpoints
from stash_sense.tagging.corrections import Corrections
from stash_sense.tagging.engine import TaggingEngine
from stash_sense.tagging.job import IdentificationTagger
from stash_sense.tagging.resolver import PerformerResolver
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
        threshold=app[AUTO_THRESHOLD],
    )
    creator = PerformerCreator(stash, applier, resolver, config.stashbox)
    app[REVIEW].register(
        PerformerSuggestionKind(
            SuggestionActions(applier, creator, dry_run=config.tagging.mode == "dry-run"),
            reference_image=app[FACES].performer_image,
        )
    )
    app[AUDIT] = audit
    app[TAGGING] = engine
    app[RESOLVER] = resolver
    app[CORRECTIONS] = Corrections(engine, applier, audit, app[REVIEW], FeedbackLog(app[DATABASE]))
    tagger = IdentificationTagger(engine, app[IDENTIFICATIONS], stash, app[JOB_QUEUE])
    app[JOB_REGISTRY].register(tagger.job_type())
    app[IDENTIFIER].identified.append(tagger.enqueue)
    intake = app[EVENT_INTAKE]
    intake.performers_edited.append(engine.on_performers_edited)
    intake.scene_deleted.append(engine.on_scene_deleted)
    intake.performer_changed.append(engine.on_performer_changed)
    yield
    await creator.close()
