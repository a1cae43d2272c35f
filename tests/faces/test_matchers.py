"""Choosing each person's performer: the reference matcher and the precision-first matcher."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stash_sense.faces.matchers import (
    MATCHERS,
    PrecisionPerson,
    closeness,
    clustered_frequency,
    confidence,
    face_weight,
    get_matcher,
    precision_first,
)
from stash_sense.faces.types import Candidate, Detection, FaceMatch, PerformerScore, Person

A, B, C, D = "stashdb.org:aaa", "stashdb.org:bbb", "stashdb.org:ccc", "stashdb.org:ddd"
X, Y, Z = "stashdb.org:xxx", "stashdb.org:yyy", "stashdb.org:zzz"

Hit = tuple[str, float]


class Scene:
    """Builds a scene's FaceMatch list; a face's position is its face_id."""

    def __init__(self) -> None:
        self.matches: list[FaceMatch] = []

    def face(self, frame: int, *hits: Hit, score: float = 0.9, size: float = 120.0) -> int:
        landmarks = np.zeros((5, 2), dtype=np.float32)
        detection = Detection((10.0, 10.0, 10.0 + size, 10.0 + size), score, landmarks)
        candidates = [Candidate(uid, 7 * i, None, None, d) for i, (uid, d) in enumerate(hits)]
        position = len(self.matches)
        self.matches.append(FaceMatch(position, frame, frame * 10.0, detection, candidates))
        return position

    def person(
        self, *frames: Sequence[Hit], first: int = 0, score: float = 0.9, size: float = 120.0
    ) -> list[int]:
        """Add one face per frame, frames first, first + 1, ..."""
        return [
            self.face(first + offset, *hits, score=score, size=size)
            for offset, hits in enumerate(frames)
        ]


def same(actual: PerformerScore | None, expected: PerformerScore) -> bool:
    assert actual is not None
    assert actual.universal_id == expected.universal_id
    assert actual.frames == expected.frames
    assert actual.confidence == pytest.approx(expected.confidence)
    assert actual.distance == pytest.approx(expected.distance)
    assert actual.score == pytest.approx(expected.score)
    return True


def evidence_of(person: Person) -> PrecisionPerson:
    assert isinstance(person, PrecisionPerson)
    return person


# --------------------------------------------------------------------------------------------
# Reference: clustered frequency
# --------------------------------------------------------------------------------------------


def reference_scene() -> tuple[list[FaceMatch], list[list[int]]]:
    scene = Scene()
    first = [
        scene.face(0, (A, 0.30), (A, 0.35), (B, 0.40)),  # A twice: two DB faces of A
        scene.face(1, (A, 0.32), (C, 0.45)),
        scene.face(2, (B, 0.28), (A, 0.55)),  # A beyond max_distance 0.5
    ]
    second = [scene.face(1, (A, 0.25)), scene.face(3, (D, 0.42), (A, 0.44))]
    unknown = [scene.face(frame, (Z, 0.6)) for frame in (4, 5, 6, 7)]
    return scene.matches, [second, unknown, first]


def test_clustered_frequency_pins_the_reference_scores() -> None:
    matches, clusters = reference_scene()
    persons = clustered_frequency(matches, clusters, tagged=[A])

    # Clusters run largest first: the 3-face cluster takes A (boosted 0.77 + 0.03 = 0.80 beats
    # B's 0.72), so the 2-face cluster, whose A scores 0.78, falls back to D. The frame bonus
    # counts frames in which the performer is a face's nearest candidate: B is nearest only in
    # frame 2 (the reference also counted frame 0, where B is listed third), C nowhere.
    first, second, unknown = persons
    assert first.face_ids == [0, 1, 2] and first.frame_count == 3
    assert same(first.best, PerformerScore(A, 1 - 0.97 / 3, 0.97 / 3, 2, 0.7 * 1.1 + 0.03))
    assert len(first.alternatives) == 2
    assert same(first.alternatives[0], PerformerScore(B, 0.66, 0.34, 1, 0.72))
    assert same(first.alternatives[1], PerformerScore(C, 0.55, 0.45, 0, 0.55))

    assert second.face_ids == [3, 4] and second.frame_count == 2
    assert same(second.best, PerformerScore(D, 0.58, 0.42, 1, 0.58))
    # The used performer still appears among the alternatives.
    assert len(second.alternatives) == 1
    assert same(second.alternatives[0], PerformerScore(A, 0.655, 0.345, 1, 0.75 + 0.03))

    assert unknown.best is None and unknown.alternatives == []
    assert unknown.frame_count == 4 and unknown.face_ids == [5, 6, 7, 8]
    assert "max_distance" in unknown.reason


def test_clustered_frequency_frame_bonus_ignores_frames_where_a_performer_is_not_nearest() -> None:
    # Without tags the reference let B win here (0.72 x 1.1 = 0.792 > 0.77) on a frame in which
    # B was only listed behind A's two database faces.
    matches, clusters = reference_scene()
    first, second, _ = clustered_frequency(matches, clusters)
    assert first.best is not None and first.best.universal_id == A
    assert first.best.score == pytest.approx(0.77)
    assert second.best is not None and second.best.universal_id == D


def test_a_lookalike_with_many_database_faces_does_not_outscore_the_performer() -> None:
    # X (the performer, one database face) is nearest in every frame; Y (a lookalike with many
    # database faces) is listed in every frame and in two more frames of its own.
    scene = Scene()
    faces = [scene.face(f, (X, 0.20), (Y, 0.30), (Y, 0.31), (Y, 0.32)) for f in range(3)]
    faces += [scene.face(f, (Y, 0.19), (Y, 0.33)) for f in (3, 4)]
    faces += [scene.face(f, (X, 0.21), (Y, 0.35)) for f in (5, 6)]
    (person,) = clustered_frequency(scene.matches, [faces])
    assert person.best is not None and person.best.universal_id == X
    assert person.best.frames == 5


def test_clustered_frequency_matches_tags_by_bare_id() -> None:
    matches, clusters = reference_scene()
    first = clustered_frequency(matches, clusters, tagged=["aaa"])[0]
    assert first.best is not None and first.best.universal_id == A


def test_duplicates_count_in_the_average_but_frames_are_distinct() -> None:
    scene = Scene()
    faces = [scene.face(0, (X, 0.2), (X, 0.4), (X, 0.4)), scene.face(0, (X, 0.3))]
    (person,) = clustered_frequency(scene.matches, [faces])
    assert person.frame_count == 1
    assert same(person.best, PerformerScore(X, 1 - 1.3 / 4, 1.3 / 4, 1, 0.8))


def test_clustered_frequency_proposes_a_single_lucky_frame() -> None:
    scene = Scene()
    faces = scene.person([(X, 0.45)], [], [], [], first=-1)  # the screenshot is frame -1
    (person,) = clustered_frequency(scene.matches, [faces], min_frames=5)
    assert person.best is not None and person.best.universal_id == X
    assert person.frame_count == 4


def test_min_confidence_only_binds_beyond_distance_065() -> None:
    scene = Scene()
    faces = scene.person([(X, 0.7)], [(X, 0.66)])
    (person,) = clustered_frequency(scene.matches, [faces], max_distance=0.8)
    assert person.best is None and person.reason == "no candidate reaches min_confidence"
    (person,) = clustered_frequency(scene.matches, [faces], max_distance=0.8, min_confidence=0.3)
    assert person.best is not None and person.best.frames == 2


def test_clustered_frequency_gives_up_when_every_candidate_is_used() -> None:
    scene = Scene()
    big = scene.person([(X, 0.3)], [(X, 0.3)], [(X, 0.3)])
    small = scene.person([(X, 0.2)])
    persons = clustered_frequency(scene.matches, [small, big], top_k=1)
    assert [p.face_ids for p in persons] == [big, small]
    assert persons[0].alternatives == []
    assert persons[1].best is None and persons[1].alternatives == []
    assert "already" in persons[1].reason


def test_clustered_frequency_sorts_matched_first_then_by_frames() -> None:
    scene = Scene()
    none = scene.person([], [], [], [], [])
    one = scene.person([(X, 0.3)], first=10)
    two = scene.person([(Y, 0.3)], [(Y, 0.3)], first=20)
    persons = clustered_frequency(scene.matches, [one, none, two])
    assert [p.face_ids for p in persons] == [two, one, none]


# --------------------------------------------------------------------------------------------
# Precision first
# --------------------------------------------------------------------------------------------


def test_clear_two_performer_scene_picks_both() -> None:
    scene = Scene()
    first = scene.person(*[[(X, 0.30), (Z, 0.42), (X, 0.33)]] * 6)
    second = scene.person(*[[(Y, 0.33), (Z, 0.45)]] * 4)
    persons = precision_first(scene.matches, [second, first])
    assert [p.face_ids for p in persons] == [first, second]
    assert [p.best.universal_id if p.best else None for p in persons] == [X, Y]
    assert all(p.best and p.best.frames == p.frame_count for p in persons)
    best = persons[0].best
    assert best is not None and 0.6 < best.confidence < 1.0
    assert best.distance == pytest.approx(0.30)
    assert "6 of 6 voting frames" in persons[0].reason


def test_a_single_lucky_frame_abstains() -> None:
    scene = Scene()
    faces = scene.person([(X, 0.25)], [], [], [], [])
    (person,) = precision_first(scene.matches, [faces])
    assert person.best is None
    assert person.reason == f"only 1 frame(s) vote for {X} (min_frames 2)"
    assert [a.universal_id for a in person.alternatives] == [X]
    # min_frames alone decides the count: allowed one frame, a close, clear frame passes the
    # default min_confidence (it used to fail it: a missing second vote counted as closeness 0).
    (person,) = precision_first(scene.matches, [faces], min_frames=1, min_confidence=0.4)
    assert person.best is not None and person.best.universal_id == X
    (person,) = precision_first(scene.matches, [faces], min_frames=2, min_confidence=0.4)
    assert person.best is None and "min_frames 2" in person.reason


def test_weightless_matches_are_not_reported_as_no_match() -> None:
    scene = Scene()
    faces = scene.person(*[[(X, 0.3)]] * 4, score=0.0)
    (person,) = precision_first(scene.matches, [faces])
    assert person.best is None
    assert person.reason.startswith("4 frame(s) matched a performer within max_distance")
    assert "weigh nothing" in person.reason


def test_near_tie_abstains_with_a_reason() -> None:
    scene = Scene()
    faces = scene.person([(X, 0.3)], [(Y, 0.3)], [(X, 0.3)], [(Y, 0.3)])
    (person,) = precision_first(scene.matches, [faces])
    assert person.best is None
    assert person.reason == f"near tie between {X} and {Y} (50% vs 50% of the votes)"
    assert [a.universal_id for a in person.alternatives] == [X, Y]


def test_no_majority_abstains() -> None:
    scene = Scene()
    votes = [X] * 4 + [Y] * 3 + [Z] * 3
    faces = scene.person(*[[(uid, 0.3)] for uid in votes])
    (person,) = precision_first(scene.matches, [faces])
    assert person.best is None
    assert person.reason == f"no majority: {X} has 40% of the votes"


def test_weak_evidence_abstains_below_min_confidence() -> None:
    scene = Scene()
    faces = scene.person([(X, 0.48)], [(X, 0.48)], score=0.6, size=60)
    (person,) = precision_first(scene.matches, [faces])
    assert person.best is None and "below min_confidence 0.35" in person.reason
    (person,) = precision_first(scene.matches, [faces], min_confidence=0.0)
    assert person.best is not None and person.best.confidence < 0.35


def test_many_small_doubtful_faces_lose_to_fewer_clear_ones() -> None:
    scene = Scene()
    faces = scene.person(*[[(X, 0.30)]] * 5, score=0.55, size=40)
    faces += scene.person(*[[(Y, 0.32)]] * 3, first=5, score=0.95, size=150)
    (person,) = precision_first(scene.matches, [faces])
    assert person.best is not None and person.best.universal_id == Y
    assert person.best.frames == 3
    tallies = evidence_of(person).evidence.tallies
    assert [(t.universal_id, t.votes) for t in tallies] == [(Y, 3), (X, 5)]
    # The reference counts frames alone and picks X.
    (reference,) = clustered_frequency(scene.matches, [faces])
    assert reference.best is not None and reference.best.universal_id == X


def test_several_db_faces_of_one_performer_vote_once() -> None:
    scene = Scene()
    faces = [scene.face(0, *[(X, 0.30 + i / 100) for i in range(5)])]
    faces += scene.person([(Y, 0.33)], [(Y, 0.33)], first=1)
    (person,) = precision_first(scene.matches, [faces])
    assert person.best is not None and person.best.universal_id == Y
    x_score = person.alternatives[0]
    assert x_score.universal_id == X and x_score.frames == 1
    assert x_score.score == pytest.approx(face_weight(scene.matches[0].detection) * closeness(0.3))


def test_one_vote_per_frame_from_the_clearest_face() -> None:
    scene = Scene()
    faces = [
        scene.face(0, (Y, 0.25), score=0.6, size=50),
        scene.face(0, (X, 0.35), score=0.9, size=120),
        scene.face(0, score=1.0, size=300),  # no candidate: cannot represent the frame
        scene.face(1, (X, 0.35)),
    ]
    (person,) = precision_first(scene.matches, [faces])
    evidence = evidence_of(person).evidence
    assert evidence.frames == 2 and evidence.voting_frames == 2
    assert [(t.universal_id, t.votes) for t in evidence.tallies] == [(X, 2)]


def test_the_same_performer_is_never_assigned_twice() -> None:
    scene = Scene()
    strong = scene.person(*[[(X, 0.30)]] * 8)
    weak = scene.person([(X, 0.30)], [(X, 0.30)], [(X, 0.30)], [(Y, 0.31)], first=20)
    for clusters in ([weak, strong], [strong, weak]):
        persons = precision_first(scene.matches, clusters)
        assert [p.face_ids for p in persons] == [strong, weak]
        assert persons[0].best is not None and persons[0].best.universal_id == X
        loser = persons[1]
        # No fallback to the runner-up Y: the loser abstains.
        assert loser.best is None
        assert loser.reason == f"{X} went to a person with stronger evidence"
        assert [a.universal_id for a in loser.alternatives] == [X, Y]


def test_nothing_beyond_max_distance_is_proposed() -> None:
    scene = Scene()
    faces = scene.person(*[[(X, 0.55)]] * 10)
    (person,) = precision_first(scene.matches, [faces])
    assert person.best is None and person.alternatives == []
    assert person.reason == "no frame matched a performer within max_distance"
    (person,) = precision_first(scene.matches, [faces], max_distance=0.6, min_confidence=0.0)
    assert person.best is not None and person.best.distance == pytest.approx(0.55)


def test_top_k_limits_alternatives() -> None:
    scene = Scene()
    faces = scene.person(*[[(X, 0.3)]] * 8, [(Y, 0.3)], [(Z, 0.3)])
    (person,) = precision_first(scene.matches, [faces], top_k=2)
    assert person.best is not None and [a.universal_id for a in person.alternatives] == [Y]
    (person,) = precision_first(scene.matches, [faces], top_k=1)
    assert person.alternatives == []


def test_confidence_reads_as_documented() -> None:
    def unanimous(frames: int, distance: float) -> float:
        scene = Scene()
        faces = scene.person(*[[(X, distance)]] * frames, score=1.0, size=112)
        best = precision_first(scene.matches, [faces], min_confidence=0.0)[0].best
        assert best is not None
        return best.confidence

    assert unanimous(2, 0.45) == pytest.approx(0.33, abs=0.01)
    assert unanimous(3, 0.40) == pytest.approx(0.50, abs=0.01)
    assert unanimous(5, 0.35) == pytest.approx(0.71, abs=0.01)
    assert unanimous(10, 0.30) == pytest.approx(0.90, abs=0.01)


def test_weight_and_closeness_shapes() -> None:
    scene = Scene()
    small = scene.matches[scene.face(0, score=0.5, size=56)].detection
    large = scene.matches[scene.face(0, score=1.0, size=500)].detection
    assert face_weight(small) == pytest.approx(0.125)
    assert face_weight(large) == 1.0
    assert closeness(0.1) == 1.0 and closeness(0.7) == 0.0
    assert closeness(0.425) == pytest.approx(0.5)


# Hypothesis: the evidence a person already has, as (performer, distance, score, size) per frame.
frame_votes = st.tuples(
    st.sampled_from([X, X, X, Y, Z]),
    st.floats(0.0, 0.5),
    st.floats(0.3, 1.0),
    st.floats(20.0, 200.0),
)
agreeing = st.tuples(st.floats(0.0, 0.5), st.floats(0.3, 1.0), st.floats(20.0, 200.0))


def build(votes: Sequence[tuple[str, float, float, float]]) -> tuple[Scene, list[int]]:
    scene = Scene()
    faces = [
        scene.face(frame, (uid, distance), (C, 0.5), score=score, size=size)
        for frame, (uid, distance, score, size) in enumerate(votes)
    ]
    return scene, faces


def value_for(person: Person, uid: str) -> float:
    return person.best.confidence if person.best and person.best.universal_id == uid else 0.0


@settings(max_examples=150, deadline=None)
@given(st.lists(frame_votes, min_size=1, max_size=8), agreeing)
def test_an_agreeing_frame_never_lowers_confidence(
    votes: list[tuple[str, float, float, float]], extra: tuple[float, float, float]
) -> None:
    scene, faces = build(votes)
    (before,) = precision_first(scene.matches, [faces])
    leader = evidence_of(before).evidence.tallies[0].universal_id
    faces.append(scene.face(len(votes), (leader, extra[0]), score=extra[1], size=extra[2]))
    (after,) = precision_first(scene.matches, [faces])
    assert value_for(after, leader) >= value_for(before, leader) - 1e-12
    if before.best is not None:
        assert after.best is not None and after.best.universal_id == leader


@settings(max_examples=150, deadline=None)
@given(st.lists(frame_votes, min_size=1, max_size=8), st.floats(0.0, 1.0))
def test_a_closer_agreeing_frame_never_lowers_confidence(
    votes: list[tuple[str, float, float, float]], factor: float
) -> None:
    scene, faces = build(votes)
    (before,) = precision_first(scene.matches, [faces])
    leader = evidence_of(before).evidence.tallies[0].universal_id
    index = next(i for i, vote in enumerate(votes) if vote[0] == leader)
    uid, distance, score, size = votes[index]
    closer = [*votes[:index], (uid, distance * factor, score, size), *votes[index + 1 :]]
    scene, faces = build(closer)
    (after,) = precision_first(scene.matches, [faces])
    assert value_for(after, leader) >= value_for(before, leader) - 1e-12


@settings(max_examples=100, deadline=None)
@given(st.lists(frame_votes, min_size=1, max_size=10))
def test_confidence_stays_in_range(votes: list[tuple[str, float, float, float]]) -> None:
    scene, faces = build(votes)
    (person,) = precision_first(scene.matches, [faces], min_confidence=0.0, min_frames=1)
    for score in [*([person.best] if person.best else []), *person.alternatives]:
        assert 0.0 <= score.confidence <= 1.0
        assert score.distance <= 0.5
    for tally in evidence_of(person).evidence.tallies:
        assert 0.0 <= confidence(tally) <= 1.0


# --------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------


def test_matchers_are_chosen_by_config_name() -> None:
    assert get_matcher("precision") is precision_first
    assert get_matcher("clustered_frequency") is clustered_frequency
    assert set(MATCHERS) == {"precision", "clustered_frequency"}
    with pytest.raises(ValueError, match="unknown matcher 'frequency'"):
        get_matcher("frequency")
