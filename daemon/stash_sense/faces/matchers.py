"""Choose each person's performer from the per-face database candidates.

Two matchers share one calling convention (`Matcher`) and are picked by name with `get_matcher`:

``clustered_frequency`` reproduces the reference pipeline's default matcher exactly, quirks
included: every candidate entry counts, one face's several database faces of a performer included;
score = (1 - min_d)(1 + 0.1(n_frames - 1)) plus the tagged boost; clusters are served largest
first and a performer already taken falls back to the person's next candidate.

``precision_first`` is this project's matcher. A wrong performer written into a library costs more
than a missed one, and the reference measured exactly that failure: precision 32.8 % with 41 false
positives for 20 true ones. Its sweeps show what buys precision: requiring a third distinct
frame raised it to 55.6 %, dropping faces under 80 px to 36.7 %, and a tighter distance bound to
43 % at 0.4 and 100 % at 0.3 (by difference, the 0.4-0.5 band held 4 true and 20 false
matches). Frigate settles on one name per track by a size- and score-weighted vote that needs
several hits and rejects ties, because "a single very high confidence match will not by itself
assign a sub label". The rules:

1. One vote per frame. In each distinct frame of the person, the face with the heaviest weight that
   has a candidate within ``max_distance`` votes for its nearest performer. The database's several
   faces of one performer therefore count once (the reference counts each), and a cluster
   that caught the same person twice in a frame does not double its evidence.
2. Votes are weighted. weight = detection_score^2 x min(1, face side / 112 px) (112 px is the
   ArcFace input: smaller faces are upsampled and their details invented), and a vote's strength is
   weight x closeness(d), where closeness falls linearly from 1 at d <= 0.25 to 0 at d >= 0.6. Many
   small, doubtful faces thus lose to a few large, clear ones.
3. The winner has the greatest total strength (then more votes, then the smaller distance). The
   person abstains, with a reason, when no frame votes; when the runner-up's share of the strength
   is within ``min_margin`` of the winner's ("near tie between A and B"); when the winner has fewer
   than ``min_frames`` distinct voting frames (a single lucky frame); when it holds less than half
   of the strength (no majority); or when its confidence is below ``min_confidence`` (read on
   the scale below, not as 1 - distance).
4. One person per performer in the scene: when several persons win the same performer, the one
   with the higher confidence keeps it and the others abstain. A loser never falls back to its
   runner-up: that fallback is how the reference turns a lookalike into a false positive.
5. Nothing beyond ``max_distance`` is ever proposed, and tags already on the scene give no boost:
   a boost would make the matcher confirm the library's own mistakes, and proposing a performer
   who is already tagged writes nothing anyway.

Confidence of a performer P for a person, in [0, 1]:

    confidence = sqrt(share x support x closeness2)

* share = strength(P) / strength of all the person's votes: agreement between frames.
* support = 1 - exp(-strength(P) / 3): saturating in quality-weighted agreeing frames; two large,
  sharp, close faces give 0.49, five give 0.81, ten give 0.96.
* closeness2 = the mean closeness of P's two nearest voting frames (a missing second counts 0), so a
  single lucky frame cannot carry it.

Each factor only grows when an agreeing frame is added or an agreeing distance shrinks, so the
confidence is monotone in the evidence. Against the reference's figures it reads roughly as a
probability: two sharp frames agreeing at 0.45 score 0.33, three at 0.40 0.50, five at 0.35 0.71,
ten at 0.30 0.90. The daemon's auto-apply threshold is meant to be read on this scale, together
with `PerformerScore.frames` (the distinct frames that voted for the performer).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Protocol

from stash_sense.faces.types import Candidate, Detection, FaceMatch, PerformerScore, Person

__all__ = [
    "FULL_CLOSENESS_DISTANCE",
    "FULL_FACE_SIZE",
    "MATCHERS",
    "MIN_SHARE",
    "SUPPORT_SCALE",
    "ZERO_CLOSENESS_DISTANCE",
    "Evidence",
    "Matcher",
    "PrecisionPerson",
    "Tally",
    "closeness",
    "clustered_frequency",
    "confidence",
    "face_weight",
    "get_matcher",
    "precision_first",
    "tally_person",
]

Clusters = Sequence[Sequence[int]]

# Constants of the reference pipeline's default matcher.
FRAME_BONUS = 0.1

# Precision matcher constants (see the module docstring for why).
FULL_FACE_SIZE = 112.0  # px: the ArcFace input side; smaller faces are upsampled
FULL_CLOSENESS_DISTANCE = 0.25  # a vote at or under this distance counts fully
ZERO_CLOSENESS_DISTANCE = 0.6  # a vote at or over this distance counts nothing
SUPPORT_SCALE = 3.0  # quality-weighted agreeing frames that give support 1 - 1/e
MIN_SHARE = 0.5  # the winner must hold a weighted majority of the votes


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


# --------------------------------------------------------------------------------------------
# Reference: clustered frequency matching
# --------------------------------------------------------------------------------------------


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
    return _matched_first(persons)


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
    entries: dict[str, list[tuple[float, int]]] = {}
    for position in cluster:
        match = matches[position]
        for candidate in match.candidates:
            if candidate.distance <= max_distance:
                entries.setdefault(candidate.universal_id, []).append(
                    (candidate.distance, match.frame_index)
                )
    if not entries:
        return None
    scores = []
    for universal_id, found in entries.items():
        min_distance = min(distance for distance, _ in found)
        if 1.0 - min_distance < min_confidence:
            continue
        frames = len({frame for _, frame in found})
        score = (1.0 - min_distance) * (1.0 + FRAME_BONUS * (frames - 1))
        if is_tagged(universal_id):
            score += tagged_boost
        average = sum(distance for distance, _ in found) / len(found)
        scores.append(PerformerScore(universal_id, _clamp(1.0 - average), average, frames, score))
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
    faces, frame_count = list(cluster), _frame_count(matches, cluster)
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


# --------------------------------------------------------------------------------------------
# Precision first
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    """How a person's frames voted for one performer."""

    universal_id: str
    votes: int  # distinct frames whose nearest performer this is
    strength: float  # sum of those votes' weight x closeness
    share: float  # strength over the strength of all the person's votes
    distances: tuple[float, ...]  # the voting frames' distances, nearest first


@dataclass(frozen=True)
class Evidence:
    """What the precision matcher saw for one person, for the review UI."""

    frames: int  # distinct frames of the person
    voting_frames: int  # frames that voted for some performer
    tallies: tuple[Tally, ...] = ()  # strongest first


@dataclass(frozen=True)
class PrecisionPerson(Person):
    """A person chosen by `precision_first`, with the votes behind the decision."""

    evidence: Evidence = Evidence(frames=0, voting_frames=0)


@dataclass(frozen=True)
class _Vote:
    """One frame's vote: its chosen face's nearest performer."""

    frame_index: int
    universal_id: str
    distance: float
    strength: float


@dataclass(frozen=True)
class _Decision:
    """A person's provisional outcome before performers are shared out across the scene."""

    faces: list[int]
    evidence: Evidence
    winner: Tally | None
    reason: str


def precision_first(
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
    """Match clusters to performers by weighted per-frame votes, abstaining when unsure.

    Returns `PrecisionPerson` objects. `tagged` and `tagged_boost` are accepted for the common
    signature and ignored (see the module docstring).
    """
    decisions = [
        _decide(
            list(cluster),
            tally_person(matches, cluster, max_distance=max_distance),
            min_frames=min_frames,
            min_margin=min_margin,
            min_confidence=min_confidence,
        )
        for cluster in clusters
    ]
    holders = _performer_holders(decisions)
    persons = [
        _precision_person(index, decision, holders, top_k)
        for index, decision in enumerate(decisions)
    ]
    return _matched_first(persons)


def face_weight(detection: Detection) -> float:
    """Return how much a face's vote counts: detection score squared times relative size."""
    score = _clamp(detection.score)
    size = _clamp(min(detection.width, detection.height) / FULL_FACE_SIZE)
    return score * score * size


def closeness(distance: float) -> float:
    """Map a fused distance to 0..1, linearly from 1 at 0.25 to 0 at 0.6."""
    span = ZERO_CLOSENESS_DISTANCE - FULL_CLOSENESS_DISTANCE
    return _clamp((ZERO_CLOSENESS_DISTANCE - distance) / span)


def tally_person(
    matches: Sequence[FaceMatch], cluster: Sequence[int], *, max_distance: float = 0.5
) -> Evidence:
    """Collect one vote per frame of the person and total them per performer."""
    votes = _frame_votes(matches, cluster, max_distance)
    total = sum(vote.strength for vote in votes)
    grouped: dict[str, list[_Vote]] = {}
    for vote in votes:
        grouped.setdefault(vote.universal_id, []).append(vote)
    tallies = [_tally(universal_id, group, total) for universal_id, group in grouped.items()]
    tallies.sort(key=lambda tally: (-tally.strength, -tally.votes, tally.distances[0]))
    return Evidence(_frame_count(matches, cluster), len(votes), tuple(tallies))


def confidence(tally: Tally) -> float:
    """Return sqrt(share x support x closeness of the two nearest votes), in 0..1."""
    support = 1.0 - math.exp(-tally.strength / SUPPORT_SCALE)
    nearest = [closeness(distance) for distance in tally.distances[:2]]
    close_pair = sum(nearest) / 2.0
    return _clamp(math.sqrt(max(0.0, tally.share * support * close_pair)))


def _frame_votes(
    matches: Sequence[FaceMatch], cluster: Sequence[int], max_distance: float
) -> list[_Vote]:
    """Let the heaviest matched face of each frame vote for its nearest performer."""
    chosen: dict[int, tuple[float, int]] = {}
    for position in cluster:
        match = matches[position]
        if not _near_candidates(match, max_distance):
            continue
        weight = face_weight(match.detection)
        held = chosen.get(match.frame_index)
        # Strict > keeps the first face of a frame on equal weights.
        if held is None or weight > held[0]:
            chosen[match.frame_index] = (weight, position)
    votes = []
    for frame_index, (weight, position) in chosen.items():
        nearest = min(_near_candidates(matches[position], max_distance), key=lambda c: c.distance)
        strength = weight * closeness(nearest.distance)
        if strength > 0.0:
            votes.append(_Vote(frame_index, nearest.universal_id, nearest.distance, strength))
    return votes


def _near_candidates(match: FaceMatch, max_distance: float) -> list[Candidate]:
    """Return the face's candidates within max_distance."""
    return [c for c in match.candidates if c.distance <= max_distance]


def _tally(universal_id: str, votes: list[_Vote], total: float) -> Tally:
    """Sum one performer's votes."""
    strength = sum(vote.strength for vote in votes)
    share = strength / total if total > 0.0 else 0.0
    distances = tuple(sorted(vote.distance for vote in votes))
    return Tally(universal_id, len(votes), strength, _clamp(share), distances)


def _decide(
    faces: list[int],
    evidence: Evidence,
    *,
    min_frames: int,
    min_margin: float,
    min_confidence: float,
) -> _Decision:
    """Apply the abstention rules to one person's tallies."""
    reason = _abstention(evidence, min_frames, min_margin, min_confidence)
    if reason:
        return _Decision(faces, evidence, None, reason)
    winner = evidence.tallies[0]
    reason = (
        f"{winner.universal_id}: {winner.votes} of {evidence.voting_frames} voting frames "
        f"({winner.share:.0%} of the votes), confidence {confidence(winner):.2f}"
    )
    return _Decision(faces, evidence, winner, reason)


def _abstention(
    evidence: Evidence, min_frames: int, min_margin: float, min_confidence: float
) -> str:
    """Return why the person gets no performer, or an empty string."""
    if not evidence.tallies:
        return "no frame matched a performer within max_distance"
    winner = evidence.tallies[0]
    if len(evidence.tallies) > 1:
        runner_up = evidence.tallies[1]
        if winner.share - runner_up.share < min_margin:
            return (
                f"near tie between {winner.universal_id} and {runner_up.universal_id} "
                f"({winner.share:.0%} vs {runner_up.share:.0%} of the votes)"
            )
    if winner.votes < min_frames:
        return (
            f"only {winner.votes} frame(s) vote for {winner.universal_id} (min_frames {min_frames})"
        )
    if winner.share < MIN_SHARE:
        return f"no majority: {winner.universal_id} has {winner.share:.0%} of the votes"
    value = confidence(winner)
    if value < min_confidence:
        return (
            f"confidence {value:.2f} for {winner.universal_id} is below "
            f"min_confidence {min_confidence:.2f}"
        )
    return ""


def _performer_holders(decisions: Sequence[_Decision]) -> dict[str, int]:
    """Give each performer to the person with the strongest claim on it."""
    holders: dict[str, int] = {}
    for index, decision in enumerate(decisions):
        if decision.winner is None:
            continue
        held = holders.get(decision.winner.universal_id)
        rival = None if held is None else decisions[held].winner
        # Strict > keeps the earlier person on equal claims.
        if rival is None or _claim(decision.winner) > _claim(rival):
            holders[decision.winner.universal_id] = index
    return holders


def _claim(winner: Tally) -> tuple[float, int, float]:
    """Order two claims on a performer: confidence, then votes, then strength."""
    return confidence(winner), winner.votes, winner.strength


def _precision_person(
    index: int, decision: _Decision, holders: Mapping[str, int], top_k: int
) -> PrecisionPerson:
    """Turn a decision into a person, abstaining when another person holds its performer."""
    evidence = decision.evidence
    scores = [_score(tally) for tally in evidence.tallies]
    person = PrecisionPerson(
        face_ids=decision.faces,
        frame_count=evidence.frames,
        best=None,
        alternatives=scores[: max(0, top_k - 1)],
        reason=decision.reason,
        evidence=evidence,
    )
    winner = decision.winner
    if winner is None:
        return person
    if holders.get(winner.universal_id) != index:
        return replace(
            person, reason=f"{winner.universal_id} went to a person with stronger evidence"
        )
    return replace(person, best=scores[0], alternatives=scores[1:top_k])


def _score(tally: Tally) -> PerformerScore:
    """Report a tally as a performer score; distance is the mean of its two nearest votes."""
    nearest = tally.distances[:2]
    return PerformerScore(
        universal_id=tally.universal_id,
        confidence=confidence(tally),
        distance=sum(nearest) / len(nearest),
        frames=tally.votes,
        score=tally.strength,
    )


# --------------------------------------------------------------------------------------------
# Shared helpers and the registry
# --------------------------------------------------------------------------------------------


MATCHERS: Mapping[str, Matcher] = MappingProxyType(
    {"clustered_frequency": clustered_frequency, "precision": precision_first}
)


def get_matcher(name: str) -> Matcher:
    """Return the matcher registered under a name."""
    try:
        return MATCHERS[name]
    except KeyError:
        choices = ", ".join(sorted(MATCHERS))
        raise ValueError(f"unknown matcher {name!r}; choose one of: {choices}") from None


def _matched_first(persons: Iterable[Person]) -> list[Person]:
    """Sort persons with a performer first, then by distinct frames, descending (stable)."""
    return sorted(persons, key=lambda person: (person.best is None, -person.frame_count))


def _frame_count(matches: Sequence[FaceMatch], cluster: Iterable[int]) -> int:
    """Count the distinct frames of a cluster's faces (the screenshot's -1 is one frame)."""
    return len({matches[position].frame_index for position in cluster})


def _tag_test(tagged: Collection[str]) -> Callable[[str], bool]:
    """Return a test for the scene's tagged performers, by universal or bare stash-box id."""
    known = frozenset(tagged)

    def is_tagged(universal_id: str) -> bool:
        bare = universal_id.split(":", 1)[-1]
        return universal_id in known or bare in known

    return is_tagged


def _clamp(value: float) -> float:
    """Clamp to 0..1."""
    return min(1.0, max(0.0, value))
