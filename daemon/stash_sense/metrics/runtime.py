"""The metrics domain's runtime objects, created with the app before any context starts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stash_sense.metrics.stages import StageReaders


@dataclass(frozen=True)
class MetricsRuntime:
    """Where engines register their stage readers (any context may, at any time)."""

    stages: StageReaders
