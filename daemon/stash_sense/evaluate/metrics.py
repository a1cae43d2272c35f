"""Precision and recall from stored per-person scores, swept over the confidence threshold.

Pure functions over plain data, so a sweep over thousands of scenes needs no pipeline run and
no database round trip per threshold: one sort, then one pass.

Counting rules. A prediction is a performer a scene's persons were matched to (a performer
proposed for two persons of one scene counts once, at its higher confidence). It is a hit when
the performer is in the scene's ground truth (its tagged performers), else a false alarm. A
truth performer never predicted is a miss. "Seen" figures restrict recall to the truth
performers some face of the scene matched within max_distance: a tagged performer whose face
never shows (or never comes near the database) cannot be found by any threshold. Precision has
no such correction: an untagged extra who really is in the scene still counts as a false alarm.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Prediction:
    """One performer proposed for a scene, with its confidence and voting frames."""

    scene_id: int
    universal_id: str
    confidence: float
    frames: int


@dataclass(frozen=True)
class Truth:
    """A scene's ground truth and the truth performers its faces came near."""

    performers: frozenset[str]
    seen: frozenset[str]


@dataclass(frozen=True)
class Figures:
    """Counts and rates at one threshold; a rate is None when it has no denominator."""

    threshold: float
    predicted: int
    hits: int
    false_alarms: int
    truth: int
    truth_seen: int
    precision: float | None
    recall: float | None
    recall_seen: float | None


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def best_per_performer(predictions: Iterable[Prediction]) -> list[Prediction]:
    """Keep one prediction per scene and performer: the most confident."""
    kept: dict[tuple[int, str], Prediction] = {}
    for prediction in predictions:
        key = (prediction.scene_id, prediction.universal_id)
        held = kept.get(key)
        if held is None or prediction.confidence > held.confidence:
            kept[key] = prediction
    return list(kept.values())


def _is_hit(prediction: Prediction, truths: Mapping[int, Truth]) -> bool:
    truth = truths.get(prediction.scene_id)
    return truth is not None and prediction.universal_id in truth.performers


def _totals(truths: Mapping[int, Truth]) -> tuple[int, int]:
    return (
        sum(len(t.performers) for t in truths.values()),
        sum(len(t.seen & t.performers) for t in truths.values()),
    )


def figures_at(
    predictions: Sequence[Prediction],
    truths: Mapping[int, Truth],
    threshold: float,
    *,
    min_frames: int = 1,
) -> Figures:
    """Return the figures for predictions at or above a confidence, with enough frames."""
    kept = [
        p
        for p in best_per_performer(predictions)
        if p.confidence >= threshold and p.frames >= min_frames and p.scene_id in truths
    ]
    hits = sum(1 for p in kept if _is_hit(p, truths))
    truth, seen = _totals(truths)
    return Figures(
        threshold=threshold,
        predicted=len(kept),
        hits=hits,
        false_alarms=len(kept) - hits,
        truth=truth,
        truth_seen=seen,
        precision=_rate(hits, len(kept)),
        recall=_rate(hits, truth),
        recall_seen=_rate(hits, seen),
    )


def sweep(
    predictions: Sequence[Prediction], truths: Mapping[int, Truth], *, min_frames: int = 1
) -> list[Figures]:
    """Return the precision-recall curve: one point per distinct confidence, highest first."""
    kept = sorted(
        (
            p
            for p in best_per_performer(predictions)
            if p.frames >= min_frames and p.scene_id in truths
        ),
        key=lambda p: p.confidence,
        reverse=True,
    )
    truth, seen = _totals(truths)
    points: list[Figures] = []
    hits = 0
    for index, prediction in enumerate(kept):
        hits += _is_hit(prediction, truths)
        last_at_this_value = (
            index + 1 == len(kept) or kept[index + 1].confidence < prediction.confidence
        )
        if not last_at_this_value:
            continue
        predicted = index + 1
        points.append(
            Figures(
                threshold=prediction.confidence,
                predicted=predicted,
                hits=hits,
                false_alarms=predicted - hits,
                truth=truth,
                truth_seen=seen,
                precision=_rate(hits, predicted),
                recall=_rate(hits, truth),
                recall_seen=_rate(hits, seen),
            )
        )
    return points


def recommend(curve: Sequence[Figures], target_precision: float) -> Figures | None:
    """Return the point that keeps the most recall at or above the target precision."""
    meeting = [p for p in curve if p.precision is not None and p.precision >= target_precision]
    if not meeting:
        return None
    # Most hits first; on equal hits the higher threshold (fewer false alarms behind it).
    return max(meeting, key=lambda p: (p.hits, p.threshold))


@dataclass(frozen=True)
class SceneOutcome:
    """One scene's hits, misses and false alarms at a threshold."""

    scene_id: int
    hits: list[str]
    misses: list[str]
    false_alarms: list[str]
    unseen: list[str]  # misses whose face never came near the database


def scene_outcomes(
    predictions: Sequence[Prediction],
    truths: Mapping[int, Truth],
    threshold: float,
    *,
    min_frames: int = 1,
) -> list[SceneOutcome]:
    """Return every evaluated scene's outcome at a threshold, by scene id."""
    chosen: dict[int, set[str]] = {scene_id: set() for scene_id in truths}
    for p in best_per_performer(predictions):
        if p.scene_id in chosen and p.confidence >= threshold and p.frames >= min_frames:
            chosen[p.scene_id].add(p.universal_id)
    outcomes = []
    for scene_id in sorted(truths):
        truth, found = truths[scene_id], chosen[scene_id]
        misses = sorted(truth.performers - found)
        outcomes.append(
            SceneOutcome(
                scene_id=scene_id,
                hits=sorted(truth.performers & found),
                misses=misses,
                false_alarms=sorted(found - truth.performers),
                unseen=[m for m in misses if m not in truth.seen],
            )
        )
    return outcomes
