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


class ScoreSet:
    """One variant's predictions over a run's truths, deduplicated and judged once."""

    def __init__(self, predictions: Iterable[Prediction], truths: Mapping[int, Truth]) -> None:
        self.truths = truths
        kept = [p for p in best_per_performer(predictions) if p.scene_id in truths]
        # Most confident first, each with whether it is a hit.
        kept.sort(key=lambda p: p.confidence, reverse=True)
        self._judged = [(p, p.universal_id in truths[p.scene_id].performers) for p in kept]
        self._truth = sum(len(t.performers) for t in truths.values())
        self._seen = sum(len(t.seen & t.performers) for t in truths.values())

    def _figures(self, threshold: float, predicted: int, hits: int) -> Figures:
        return Figures(
            threshold=threshold,
            predicted=predicted,
            hits=hits,
            false_alarms=predicted - hits,
            truth=self._truth,
            truth_seen=self._seen,
            precision=_rate(hits, predicted),
            recall=_rate(hits, self._truth),
            recall_seen=_rate(hits, self._seen),
        )

    def at(self, threshold: float, *, min_frames: int = 1) -> Figures:
        """Return the figures for predictions at or above a confidence, with enough frames."""
        chosen = [
            hit for p, hit in self._judged if p.confidence >= threshold and p.frames >= min_frames
        ]
        return self._figures(threshold, len(chosen), sum(chosen))

    def sweep(self, *, min_frames: int = 1) -> list[Figures]:
        """Return the precision-recall curve: one point per distinct confidence, highest first."""
        kept = [(p.confidence, hit) for p, hit in self._judged if p.frames >= min_frames]
        points: list[Figures] = []
        hits = 0
        for index, (value, hit) in enumerate(kept):
            hits += hit
            if index + 1 < len(kept) and kept[index + 1][0] == value:
                continue  # the threshold keeps every prediction at this confidence
            points.append(self._figures(value, index + 1, hits))
        return points

    def outcomes(self, threshold: float, *, min_frames: int = 1) -> list[SceneOutcome]:
        """Return every evaluated scene's outcome at a threshold, by scene id."""
        chosen: dict[int, set[str]] = {scene_id: set() for scene_id in self.truths}
        for p, _ in self._judged:
            if p.confidence >= threshold and p.frames >= min_frames:
                chosen[p.scene_id].add(p.universal_id)
        outcomes = []
        for scene_id in sorted(self.truths):
            truth, found = self.truths[scene_id], chosen[scene_id]
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


def figures_at(
    predictions: Sequence[Prediction],
    truths: Mapping[int, Truth],
    threshold: float,
    *,
    min_frames: int = 1,
) -> Figures:
    """Return the figures for predictions at or above a confidence, with enough frames."""
    return ScoreSet(predictions, truths).at(threshold, min_frames=min_frames)


def sweep(
    predictions: Sequence[Prediction], truths: Mapping[int, Truth], *, min_frames: int = 1
) -> list[Figures]:
    """Return the precision-recall curve: one point per distinct confidence, highest first."""
    return ScoreSet(predictions, truths).sweep(min_frames=min_frames)


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
    return ScoreSet(predictions, truths).outcomes(threshold, min_frames=min_frames)


def thin(curve: Sequence[Figures], most: int) -> list[Figures]:
    """Keep at most `most` points of a curve, evenly by rank, always the first and last."""
    if len(curve) <= most:
        return list(curve)
    step = (len(curve) - 1) / (most - 1)
    return [curve[round(i * step)] for i in range(most)]
