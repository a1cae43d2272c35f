"""The reference matcher, ``clustered_frequency``.

``clustered_frequency`` follows the reference default (face-pipeline.md §4.6): every candidate
entry counts in the average distance, one face's several database faces of a performer included;
score = (1 - min_d)(1 + 0.1(n_frames - 1)) plus the tagged boost; clusters are served largest
first and a performer already taken falls back to the person's next candidate. One departure:
n_frames counts the frames in which the performer is a face's *nearest* candidate (the reference
counts every frame in which it is listed at all). Listed-anywhere favours a lookalike with many
database faces, which lands within ``max_distance`` of more frames than a true performer with
one database face; nearest-only counts each frame for one performer.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from stash_sense.faces.matching import Clusters, clamp, count_frames, matched_first
from stash_sense.faces.types import FaceMatch, PerformerScore, Person

# Reference constants (face-pipeline.md §4.6).
FRAME_BONUS = 0.1


def clustered_frequency(
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
    """Match clusters to performers exactly as the reference's default scene mode does.

    `clusters` are face positions in `matches`, already merged by best match. `tagged` holds the
    scene's performers as universal ids or bare stash-box ids. `min_frames` and `min_margin` are
    accepted for the common signature and ignored, as the reference ignores min_unique_frames.
    """
    is_tagged = _tag_test(tagged)
    used: set[str] = set()
    persons = []
    # sorted(reverse=True) stays stable: equal-sized clusters keep their order.
    for cluster in sorted(clusters, key=len, reverse=True):
        ranked = _frequency_ranking(
            matches,
            cluster,
            max_distance=max_distance,
            min_confidence=min_confidence,
            tagged_boost=tagged_boost,
            is_tagged=is_tagged,
        )
        persons.append(_frequency_person(matches, cluster, ranked, used, top_k))
    return matched_first(persons)


def _frequency_ranking(
    matches: Sequence[FaceMatch],
    cluster: Sequence[int],
    *,
    max_distance: float,
    min_confidence: float,
    tagged_boost: float,
    is_tagged: Callable[[str], bool],
) -> list[PerformerScore] | None:
    """Score every performer of a cluster, best first; None when no candidate is close enough."""
    entries: dict[str, list[float]] = {}
    nearest_in: dict[str, set[int]] = {}
    for position in cluster:
        match = matches[position]
        near = [c for c in match.candidates if c.distance <= max_distance]
        for candidate in near:
            entries.setdefault(candidate.universal_id, []).append(candidate.distance)
        if near:
            nearest = min(near, key=lambda c: c.distance)
            nearest_in.setdefault(nearest.universal_id, set()).add(match.frame_index)
    if not entries:
        return None
    scores = []
    for universal_id, found in entries.items():
        min_distance = min(found)
        if 1.0 - min_distance < min_confidence:
            continue
        frames = len(nearest_in.get(universal_id, ()))
        score = (1.0 - min_distance) * (1.0 + FRAME_BONUS * max(frames - 1, 0))
        if is_tagged(universal_id):
            score += tagged_boost
        average = sum(found) / len(found)
        scores.append(PerformerScore(universal_id, clamp(1.0 - average), average, frames, score))
    # Stable: equal scores keep the order in which the performers were first seen.
    return sorted(scores, key=lambda entry: entry.score, reverse=True)


def _frequency_person(
    matches: Sequence[FaceMatch],
    cluster: Sequence[int],
    ranked: list[PerformerScore] | None,
    used: set[str],
    top_k: int,
) -> Person:
    """Take the first performer no earlier person holds; the rest become alternatives."""
    faces, frame_count = list(cluster), count_frames(matches, cluster)
    if ranked is None:
        return Person(faces, frame_count, None, reason="no candidate within max_distance")
    if not ranked:
        return Person(faces, frame_count, None, reason="no candidate reaches min_confidence")
    best = next((entry for entry in ranked if entry.universal_id not in used), None)
    if best is None:
        return Person(
            faces, frame_count, None, reason="every candidate is already another person's match"
        )
    used.add(best.universal_id)
    alternatives = [entry for entry in ranked if entry is not best][: max(0, top_k - 1)]
    return Person(faces, frame_count, best, alternatives, reason="highest frequency score")


def _tag_test(tagged: Collection[str]) -> Callable[[str], bool]:
    """Return a test for the scene's tagged performers, by universal or bare stash-box id."""
    known = frozenset(tagged)

    def is_tagged(universal_id: str) -> bool:
        bare = universal_id.split(":", 1)[-1]
        return universal_id in known or bare in known

    return is_tagged
