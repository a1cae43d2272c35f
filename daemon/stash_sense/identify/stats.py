"""What identifications did since the daemon started: time per stage, faces and persons.

Every finished identification is recorded once, whichever path produced its
`SceneResult` (the face service today, a pipelined engine as well), so the totals
mean the same thing whatever runs them.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass

from stash_sense.faces.result import SceneResult
from stash_sense.metrics.histogram import Histogram, HistogramSnapshot

FACE_BUCKETS = (0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
PERSON_BUCKETS = (0, 1, 2, 3, 4, 5, 6, 8, 10, 15, 20)


@dataclass(frozen=True)
class IdentifyTotals:
    """A consistent copy of the totals, for one scrape."""

    scenes: int
    frames: int
    stage_seconds: dict[str, float]
    persons: dict[str, int]  # "identified" and "unknown"
    faces_detected: HistogramSnapshot
    faces_kept: HistogramSnapshot
    persons_per_scene: HistogramSnapshot


class IdentifyStats:
    """Accumulate identifications; safe to call from any thread."""

    def __init__(self) -> None:
        # An engine may record from its own threads while a scrape reads.
        self._lock = threading.Lock()
        self._scenes = 0
        self._frames = 0
        self._stage_seconds: dict[str, float] = {}
        self._persons: Counter[str] = Counter(identified=0, unknown=0)
        self._detected = Histogram(FACE_BUCKETS)
        self._kept = Histogram(FACE_BUCKETS)
        self._per_scene = Histogram(PERSON_BUCKETS)

    def record(self, result: SceneResult) -> None:
        """Add one finished identification."""
        identified = len(result.identified)
        with self._lock:
            self._scenes += 1
            self._frames += result.frames_sampled
            for stage, ms in result.timings_ms.items():
                self._stage_seconds[stage] = self._stage_seconds.get(stage, 0.0) + ms / 1000
            self._persons["identified"] += identified
            self._persons["unknown"] += len(result.persons) - identified
            self._detected.observe(result.faces_detected)
            self._kept.observe(result.faces_kept)
            self._per_scene.observe(len(result.persons))

    def totals(self) -> IdentifyTotals:
        """Return a copy of everything recorded so far."""
        with self._lock:
            return IdentifyTotals(
                scenes=self._scenes,
                frames=self._frames,
                stage_seconds=dict(sorted(self._stage_seconds.items())),
                persons=dict(self._persons),
                faces_detected=self._detected.snapshot(),
                faces_kept=self._kept.snapshot(),
                persons_per_scene=self._per_scene.snapshot(),
            )
