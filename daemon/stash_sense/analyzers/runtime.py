"""The analyzers' runtime objects, published by their start-up context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stash_sense.analyzers.service import AnalyzerService


@dataclass(frozen=True)
class AnalyzersRuntime:
    """The analyzer service."""

    service: AnalyzerService
