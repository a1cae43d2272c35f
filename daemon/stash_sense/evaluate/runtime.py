"""Evaluation's runtime objects, published by its start-up context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stash_sense.evaluate.calibration import AutoThreshold
    from stash_sense.evaluate.jobs import EvaluationJobs


@dataclass(frozen=True)
class EvaluateRuntime:
    """The auto-apply threshold and the evaluation jobs."""

    threshold: AutoThreshold
    jobs: EvaluationJobs
