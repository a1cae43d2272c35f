"""Duplicate-scene scoring: phash, metadata and face signals combined into a 0-100 confidence.

The tiers and weights follow the original Stash Sense scoring so confidences stay
comparable with it; every function is pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

T = TypeVar("T")

PHASH_MAX_DISTANCE = 10
# A phash this close dominates the other signals (the "very similar" tier).
PHASH_STRONG_DISTANCE = 4
STASHBOX_SCORE = 100.0
# Only a shared stash-box id may claim certainty.
MAX_SCORE = 95.0
MAX_METADATA_SCORE = 60.0
MAX_FACE_SCORE = 75.0
UNKNOWN_PERFORMER = "unknown"


def phash_score(distance: int | None) -> float:
    """Return the phash signal (85 at distance 0, minus 6.5 per bit, 0 beyond 10)."""
    if distance is None or distance < 0 or distance > PHASH_MAX_DISTANCE:
        return 0.0
    return 85.0 - 6.5 * distance


def phash_label(distance: int) -> str:
    """Describe a phash distance in words."""
    if distance == 0:
        return "identical"
    if distance <= PHASH_STRONG_DISTANCE:
        return "very similar"
    if distance <= 7:
        return "moderately similar"
    return "weakly similar"


def jaccard(a: Set[T], b: Set[T]) -> float:
    """Return the Jaccard index (shared / all), or 0 for two empty sets."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def parse_date(text: str | None) -> date | None:
    """Return a Stash date ("YYYY-MM-DD"), or None when it is absent or partial."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class SceneFacts:
    """What the metadata score compares about one scene."""

    date: date | None = None
    studio_id: int | None = None
    performer_ids: frozenset[int] = frozenset()
    duration: float | None = None


@dataclass(frozen=True)
class Signal:
    """A score and the reasons behind it."""

    score: float
    reasons: tuple[str, ...] = ()

    @property
    def reasoning(self) -> str:
        """Return the reasons joined for display."""
        return " + ".join(self.reasons)


def metadata_score(a: SceneFacts, b: SceneFacts) -> Signal:
    """Score shared date, performers, studio and duration (0-60)."""
    reasons: list[str] = []
    score = 0.0
    days = abs((a.date - b.date).days) if a.date is not None and b.date is not None else None
    same_date = days == 0
    shared = jaccard(a.performer_ids, b.performer_ids)
    exact = bool(a.performer_ids) and shared == 1.0
    if same_date and exact:
        score, why = 45.0, "Same date and exact performers"
    elif same_date and shared >= 0.5:
        score, why = 35.0, "Same date and most performers"
    elif days is not None and days <= 7 and exact:
        score, why = 35.0, f"Dates {days} days apart and exact performers"
    elif exact:
        score, why = 25.0, "Exact performers"
    elif same_date and shared > 0:
        score, why = 20.0, "Same date and some performers"
    elif shared >= 0.5:
        score, why = 15.0, "Most performers"
    else:
        why = ""
    if why:
        reasons.append(why)
    if a.studio_id is not None and a.studio_id == b.studio_id:
        score += 10.0
        reasons.append("Same studio")
    if a.duration and b.duration and a.duration > 0 and b.duration > 0:
        ratio = min(a.duration, b.duration) / max(a.duration, b.duration)
        if ratio < 0.15:
            score -= 20.0
            reasons.append("Very different durations")
        elif ratio < 0.30:
            score -= 10.0
            reasons.append("Different durations")
    if not reasons:
        return Signal(0.0)
    return Signal(min(max(score, 0.0), MAX_METADATA_SCORE), tuple(reasons))


@dataclass(frozen=True)
class FaceSignature:
    """Who the face identification saw in a scene, and their share of the faces."""

    total_faces: int
    # Performer key (universal id) -> share of the identified faces (0-1).
    proportions: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def from_counts(cls, counts: Mapping[str, int]) -> FaceSignature:
        """Build from faces (or frames) per performer."""
        total = sum(c for c in counts.values() if c > 0)
        if total == 0:
            return cls(0, {})
        return cls(total, {k: c / total for k, c in counts.items() if c > 0})


def face_similarity(a: FaceSignature | None, b: FaceSignature | None) -> Signal:
    """Score how alike two scenes' identified performers are (0-75)."""
    if a is None or b is None:
        return Signal(0.0, ("No face data",))
    if a.total_faces == 0 and b.total_faces == 0:
        return Signal(0.0, ("No faces",))
    if a.total_faces == 0 or b.total_faces == 0:
        return Signal(0.0, ("Asymmetric face detection",))
    mine = frozenset(k for k in a.proportions if k != UNKNOWN_PERFORMER)
    theirs = frozenset(k for k in b.proportions if k != UNKNOWN_PERFORMER)
    if not mine and not theirs:
        return Signal(0.0, ("No identified performers",))
    shared = mine & theirs
    if not shared:
        return Signal(0.0, ("No shared performers",))
    base = 60.0 * jaccard(mine, theirs)
    diff = sum(abs(a.proportions[k] - b.proportions[k]) for k in shared) / len(shared)
    bonus = max(0.0, 15.0 * (1.0 - 4.0 * diff))
    score = min(base + bonus, MAX_FACE_SCORE)
    return Signal(score, (f"{len(shared)} of {len(mine | theirs)} performers seen in both",))


def confidence_label(score: float) -> str:
    """Name a confidence band."""
    if score >= 80:
        return "High confidence duplicate"
    if score >= 50:
        return "Likely duplicate"
    return "Possible duplicate"


@dataclass(frozen=True)
class Confidence:
    """A pair's combined score (0-100) and the reasoning shown to a reviewer."""

    score: float
    reasoning: tuple[str, ...]


def combine(
    *,
    stashbox_match: bool,
    phash_distance: int | None,
    metadata: float,
    face: float,
) -> Confidence:
    """Combine the signals into one confidence, capped at 95 without a stash-box match."""
    if stashbox_match:
        return Confidence(STASHBOX_SCORE, ("Identical stash-box ID",))
    phash = phash_score(phash_distance)
    if phash == 0 and metadata <= 0 and face <= 0:
        return Confidence(0.0, ("No matching signals",))
    reasons: list[str] = []
    if phash_distance is not None and phash > 0:
        reasons.append(f"Phash distance {phash_distance} ({phash_label(phash_distance)})")
    if phash_distance is not None and phash_distance <= PHASH_STRONG_DISTANCE:
        score = phash + min(0.15 * metadata, 5.0) + min(0.1 * face, 5.0)
    elif phash > 0:
        corroboration = max(metadata, face)
        if corroboration > 0:
            score = phash + 0.4 * corroboration
        else:
            score = 0.6 * phash
            reasons.append("Phash not corroborated")
    else:
        score = max(metadata, face) + 0.3 * min(metadata, face)
    if metadata > 0:
        reasons.append(f"Metadata {metadata:g}")
    if face > 0:
        reasons.append(f"Faces {face:g}")
    score = round(min(score, MAX_SCORE), 1)
    return Confidence(score, (confidence_label(score), *reasons))
