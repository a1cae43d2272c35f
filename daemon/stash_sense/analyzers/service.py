"""The analyzers of one process: registry, runner and (in the daemon) the scheduler."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from stash_sense.analyzers.base import Analyzer, AnalyzerServices
from stash_sense.analyzers.registry import AnalyzerRegistry
from stash_sense.analyzers.runner import AnalyzerRunner
from stash_sense.analyzers.scheduler import AnalyzerScheduler
from stash_sense.analyzers.state import AnalyzerStateStore


@dataclass
class AnalyzerService:
    """What the API and the daemon need about analyzers."""

    registry: AnalyzerRegistry
    runner: AnalyzerRunner
    states: AnalyzerStateStore
    scheduler: AnalyzerScheduler | None = None


def build_service(
    services: AnalyzerServices, classes: Iterable[type[Analyzer]] | None = None
) -> AnalyzerService:
    """Instantiate the analyzers and register their review kinds on the review queue."""
    registry = AnalyzerRegistry.build(services, classes)
    for kind in registry.review_kinds():
        # A kind may already be registered by its own feature; one instance serves.
        if services.reviews.kinds.find(kind.name) is None:
            services.reviews.register(kind)
    states = AnalyzerStateStore(services.db)
    runner = AnalyzerRunner(registry, states, services.reviews, services.stash, services.config)
    return AnalyzerService(registry, runner, states)
