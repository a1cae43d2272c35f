"""The tagging domain's runtime objects, published by its start-up context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stash_sense.tagging.corrections import Corrections
    from stash_sense.tagging.engine import TaggingEngine
    from stash_sense.tagging.resolver import PerformerResolver
    from stash_sense.writes import AuditLog, InterruptedWrites


@dataclass(frozen=True)
class TaggingRuntime:
    """The audit log, the engine, the performer resolver, corrections and interrupted writes."""

    audit: AuditLog
    engine: TaggingEngine
    resolver: PerformerResolver
    corrections: Corrections
    interrupted_writes: InterruptedWrites
