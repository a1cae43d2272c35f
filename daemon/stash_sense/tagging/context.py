"""The tagging domain's start-up context: the engine, its job and its listeners."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from stash_sense.keys import (
    AUDIT,
    CONFIG,
    DATABASE,
    EVENT_INTAKE,
    IDENTIFICATIONS,
    IDENTIFIER,
    JOB_QUEUE,
    JOB_REGISTRY,
    REVIEW,
    STASH,
    TAGGING,
)
from stash_sense.tagging.applier import Applier
from stash_sense.tagging.audit import AuditLog
from stash_sense.tagging.engine import TaggingEngine
from stash_sense.tagging.job import IdentificationTagger
from stash_sense.tagging.resolver import PerformerResolver, domain_of
from stash_sense.tagging.suggestion import (
    PerformerCreator,
    PerformerSuggestionKind,
    SuggestionActions,
)

_LOGGER = logging.getLogger(__name__)


async def tagging_ctx(app: web.Application) -> AsyncIterator[None]:
    """Apply or suggest identified performers; learn from people's edits.

    Listeners are attached here, when the objects are built, and before the events
    context replays anything, so no identification or edit can pass them by.
    """
    config = app[CONFIG]
    stash = app[STASH]
    audit = AuditLog(app[DATABASE])
    unknown = await audit.recover()
    if unknown:
        _LOGGER.warning("%d writes to Stash were interrupted; their outcome is unknown", unknown)
    resolver = PerformerResolver(
        stash,
        ttl=config.tagging.performer_cache_seconds,
        overrides=config.stashbox.endpoint_domains,
    )
    applier = Applier(stash, audit)
    engine = TaggingEngine(
        config.tagging,
        stash,
        resolver,
        applier=applier,
        audit=audit,
        review=app[REVIEW],
        disabled_domains=[domain_of(e) for e in config.stashbox.disabled_endpoints],
    )
    creator = PerformerCreator(stash, resolver, config.stashbox)
    app[REVIEW].register(
        PerformerSuggestionKind(
            SuggestionActions(applier, creator, dry_run=config.tagging.mode == "dry-run")
        )
    )
    app[AUDIT] = audit
    app[TAGGING] = engine
    tagger = IdentificationTagger(engine, app[IDENTIFICATIONS], stash, app[JOB_QUEUE])
    app[JOB_REGISTRY].register(tagger.job_type())
    app[IDENTIFIER].identified.append(tagger.enqueue)
    intake = app[EVENT_INTAKE]
    intake.performers_edited.append(engine.on_performers_edited)
    intake.scene_deleted.append(engine.on_scene_deleted)
    intake.performer_changed.append(engine.on_performer_changed)
    yield
    await creator.close()
