"""The auto-apply threshold in force: a configured number, or the latest applied calibration."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from stash_sense.config import TaggingConfig
from stash_sense.config.model import CALIBRATED

if TYPE_CHECKING:
    from stash_sense.evaluate.store import EvaluationStore


@dataclass(frozen=True)
class Threshold:
    """The effective [tagging] auto_min_confidence and where it came from."""

    value: float
    mode: str  # "fixed" (a number in the config) or "calibrated"
    source: str  # "config", "calibration" or "fallback"
    calibration_id: int | None = None
    note: str = ""


class AutoThreshold:
    """Tell the tagging engine which confidence auto-applies a match, read fresh each time.

    Reading the store each time (one small query) means a calibration recorded by the CLI in
    another process takes effect at once.
    """

    def __init__(
        self, config: TaggingConfig, matcher: str, store: EvaluationStore | None = None
    ) -> None:
        self._config = config
        self._matcher = matcher
        self._store = store

    async def current(self) -> Threshold:
        """Return the threshold in force now."""
        configured = self._config.auto_min_confidence
        if configured != CALIBRATED:
            return Threshold(float(configured), "fixed", "config")
        fallback = self._config.fallback_min_confidence
        latest = await self._store.latest_calibration() if self._store else None
        if latest is None:
            note = f"no calibration yet: using fallback_min_confidence {fallback:.2f}"
            return Threshold(fallback, CALIBRATED, "fallback", note=note)
        if latest.matcher != self._matcher:
            note = (
                f"the latest calibration is for matcher {latest.matcher}, not {self._matcher}: "
                f"using fallback_min_confidence {fallback:.2f}"
            )
            return Threshold(fallback, CALIBRATED, "fallback", latest.id, note)
        note = (
            f"calibration {latest.id}: precision {latest.precision:.1%} at recall "
            f"{latest.recall:.1%} (target {latest.target_precision:.0%})"
        )
        return Threshold(latest.threshold, CALIBRATED, "calibration", latest.id, note)
