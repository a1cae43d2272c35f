"""Score one scene for every matcher variant: one pipeline run, many matchings, no side effects.

Evaluation mode: no tagged-performer boost (tags are the answer being checked), the matchers run
with min_confidence 0 so the stored scores cover every threshold, and nothing is saved as the
scene's identification, tagged or queued for review.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace

from stash_sense.config import FacesConfig
from stash_sense.faces.clustering import cluster_faces, merge_by_best_match
from stash_sense.faces.matchers import MATCHERS, get_matcher
from stash_sense.faces.pipeline import CollectedFaces, FacePipeline

# Values tried per knob by a --sweep, one knob at a time, the others at their configured value.
SWEEP_VALUES: dict[str, tuple[float, ...]] = {
    "min_frames": (1, 2, 3, 4, 5),
    "min_margin": (0.0, 0.05, 0.1, 0.2),
    "cluster_threshold": (0.4, 0.5, 0.6, 0.7),
}


@dataclass(frozen=True)
class Variant:
    """A matcher and the knob values it runs with."""

    name: str
    matcher: str
    min_frames: int
    min_margin: float
    cluster_threshold: float

    def to_json(self) -> dict[str, object]:
        """Describe the variant for the stored settings and the report."""
        return asdict(self)


def variants(config: FacesConfig, matchers: Sequence[str], *, sweep: bool) -> list[Variant]:
    """Return each matcher at the configured knobs, plus one-knob changes when sweeping."""
    found: list[Variant] = []
    for matcher in matchers:
        get_matcher(matcher)  # unknown names fail here, before any work
        base = Variant(
            matcher, matcher, config.min_frames, config.min_margin, config.cluster_threshold
        )
        found.append(base)
        if not sweep:
            continue
        for knob, values in SWEEP_VALUES.items():
            current = getattr(base, knob)
            for value in values:
                if value == current:
                    continue
                found.append(_with_knob(base, knob, value))
    return found


def _with_knob(base: Variant, knob: str, value: float) -> Variant:
    """Return the variant with one knob changed, named after the change."""
    name = f"{base.matcher} {knob}={value:g}"
    if knob == "min_frames":
        return replace(base, name=name, min_frames=int(value))
    if knob == "min_margin":
        return replace(base, name=name, min_margin=value)
    return replace(base, name=name, cluster_threshold=value)


def all_matchers() -> list[str]:
    """Return every registered matcher name."""
    return sorted(MATCHERS)


@dataclass(frozen=True)
class Score:
    """One person's best performer under one variant."""

    variant: str
    person: int
    universal_id: str
    confidence: float
    frames: int


@dataclass(frozen=True)
class SceneScores:
    """Everything an evaluation keeps of one scene."""

    scores: list[Score]
    seen: frozenset[str]  # truth performers some face matched within max_distance
    cost_ms: float


def score_scene(
    pipeline: FacePipeline,
    source: str,
    truth: frozenset[str],
    chosen: Sequence[Variant],
    *,
    http_headers: dict[str, str] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> SceneScores:
    """Run the pipeline once and every variant's matcher on its faces (blocking)."""
    began = time.perf_counter()
    collected = pipeline.collect(source, http_headers=http_headers, cancelled=cancelled)
    scores = [score for variant in chosen for score in _match(pipeline, collected, variant)]
    seen = frozenset(
        c.universal_id
        for m in collected.matches
        for c in m.candidates
        if c.universal_id in truth and c.distance <= pipeline.config.max_distance
    )
    return SceneScores(scores, seen, round((time.perf_counter() - began) * 1000, 1))


def _match(pipeline: FacePipeline, collected: CollectedFaces, variant: Variant) -> list[Score]:
    """Match one variant, without the tagged boost and without a confidence floor."""
    config = pipeline.config
    clusters = merge_by_best_match(
        cluster_faces(collected.facenet, collected.arcface, threshold=variant.cluster_threshold),
        collected.matches,
    )
    persons = get_matcher(variant.matcher)(
        collected.matches,
        clusters,
        top_k=config.top_k,
        max_distance=config.max_distance,
        min_confidence=0.0,
        tagged_boost=0.0,
        tagged=(),
        min_frames=variant.min_frames,
        min_margin=variant.min_margin,
    )
    return [
        Score(variant.name, index, p.best.universal_id, p.best.confidence, p.best.frames)
        for index, p in enumerate(persons)
        if p.best is not None
    ]
