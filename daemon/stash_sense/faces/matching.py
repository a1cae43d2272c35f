"""What every matcher shares: the calling convention and small helpers on persons."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Protocol

from stash_sense.faces.types import FaceMatch, Person

Clusters = Sequence[Sequence[int]]


class Matcher(Protocol):
    """Choose a performer for each cluster of a scene's faces."""

    def __call__(
        self,
        matches: Sequence[FaceMatch],
        clusters: Clusters,
        *,
        top_k: int = 3,
        max_distance: float = 0.5,
        min_confidence: float = 0.35,
        tagged_boost: float = 0.03,
        tagged: Collection[str] = (),
        min_frames: int = 2,
        min_margin: float = 0.05,
    ) -> list[Person]:
        """Return one person per cluster, matched persons first."""
        ...


def matched_first(persons: Iterable[Person]) -> list[Person]:
    """Sort persons with a performer first, then by distinct frames, descending (stable)."""
    return sorted(persons, key=lambda person: (person.best is None, -person.frame_count))


def count_frames(matches: Sequence[FaceMatch], cluster: Iterable[int]) -> int:
    """Count the distinct frames of a cluster's faces (the screenshot's -1 is one frame)."""
    return len({matches[position].frame_index for position in cluster})


def clamp(value: float) -> float:
    """Clamp to 0..1."""
    return min(1.0, max(0.0, value))
