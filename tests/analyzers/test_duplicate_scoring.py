"""The duplicate-scene scoring tiers, pinned to the reference's numbers."""

from __future__ import annotations

from datetime import date

import pytest

from stash_sense.analyzers.scoring import (
    FaceSignature,
    SceneFacts,
    combine,
    confidence_label,
    face_similarity,
    metadata_score,
    parse_date,
    phash_label,
    phash_score,
)

D = date(2024, 5, 1)


@pytest.mark.parametrize(
    ("distance", "score"), [(None, 0.0), (0, 85.0), (1, 78.5), (4, 59.0), (10, 20.0), (11, 0.0)]
)
def test_phash_score(distance: int | None, score: float) -> None:
    assert phash_score(distance) == score


def test_phash_labels() -> None:
    assert [phash_label(d) for d in (0, 4, 7, 8)] == [
        "identical",
        "very similar",
        "moderately similar",
        "weakly similar",
    ]


def facts(
    day: date | None = D,
    studio: int | None = 1,
    performers: tuple[int, ...] = (1, 2),
    duration: float | None = 600.0,
) -> SceneFacts:
    return SceneFacts(day, studio, frozenset(performers), duration)


@pytest.mark.parametrize(
    ("a", "b", "score"),
    [
        (facts(), facts(), 55.0),  # same date, exact cast (45) + studio
        (facts(studio=None), facts(studio=None), 45.0),
        (facts(studio=None), facts(performers=(1, 2, 3), studio=None), 35.0),  # 2/3 shared
        (facts(studio=None), facts(date(2024, 5, 6), studio=None), 35.0),  # 5 days, exact
        (facts(studio=None), facts(date(2024, 7, 1), studio=None), 25.0),  # exact only
        (facts(None, None), facts(None, None), 25.0),
        (facts(performers=(1,), studio=None), facts(performers=(1, 2, 3), studio=None), 20.0),
        (facts(None, None), facts(None, None, (1, 2, 3)), 15.0),
        (facts(performers=()), facts(performers=(3,)), 10.0),  # studio only
        (facts(duration=100.0), facts(duration=1000.0), 35.0),  # ratio 0.10: -20
        (facts(duration=200.0), facts(duration=1000.0), 45.0),  # ratio 0.20: -10
        (facts(duration=400.0), facts(duration=1000.0), 55.0),
        (facts(None, 2, (), 100.0), facts(None, 3, (), 1000.0), 0.0),  # clamped at 0
        (facts(None, None, (1,)), facts(None, None, (2,)), 0.0),
    ],
)
def test_metadata_tiers(a: SceneFacts, b: SceneFacts, score: float) -> None:
    assert metadata_score(a, b).score == score


def test_metadata_reasons() -> None:
    signal = metadata_score(facts(duration=100.0), facts(duration=1000.0))
    assert (
        signal.reasoning
        == "Same date and exact performers + Same studio + Very different durations"
    )
    assert metadata_score(facts(None, None, (1,)), facts(None, None, (2,))).reasons == ()


def test_parse_date() -> None:
    assert parse_date("2024-05-01") == D
    assert parse_date("2024") is None
    assert parse_date(None) is None


def sig(**counts: int) -> FaceSignature:
    return FaceSignature.from_counts(counts)


@pytest.mark.parametrize(
    ("a", "b", "score"),
    [
        (sig(x=10), sig(x=4), 75.0),  # same solo performer: 60 + 15
        (sig(x=5, y=5), sig(x=5, z=5), 35.0),  # 1 of 3: 20 + 15
        (sig(x=8, y=2), sig(x=5, y=5), 60.0),  # proportions 0.3 apart: no bonus
        (sig(x=6, y=4), sig(x=5, y=5), 69.0),  # 0.1 apart: 60 + 15 * 0.6
        (sig(x=5, unknown=5), sig(x=3), 60.0),  # "unknown" is no performer; 0.5 apart
        (sig(x=5), sig(y=5), 0.0),
        (sig(x=5), sig(), 0.0),  # asymmetric detection
        (sig(x=5), None, 0.0),
    ],
)
def test_face_similarity(a: FaceSignature, b: FaceSignature | None, score: float) -> None:
    assert face_similarity(a, b).score == pytest.approx(score)


@pytest.mark.parametrize(
    ("kwargs", "score"),
    [
        ({"stashbox_match": True, "phash_distance": None, "metadata": 0, "face": 0}, 100.0),
        ({"stashbox_match": False, "phash_distance": 0, "metadata": 55, "face": 75}, 95.0),
        ({"stashbox_match": False, "phash_distance": 0, "metadata": 0, "face": 0}, 85.0),
        ({"stashbox_match": False, "phash_distance": 3, "metadata": 20, "face": 30}, 71.5),
        ({"stashbox_match": False, "phash_distance": 3, "metadata": 40, "face": 0}, 70.5),
        ({"stashbox_match": False, "phash_distance": 8, "metadata": 55, "face": 0}, 55.0),
        ({"stashbox_match": False, "phash_distance": 8, "metadata": 20, "face": 60}, 57.0),
        ({"stashbox_match": False, "phash_distance": 8, "metadata": 0, "face": 0}, 19.8),
        ({"stashbox_match": False, "phash_distance": 10, "metadata": 35, "face": 0}, 34.0),
        ({"stashbox_match": False, "phash_distance": 14, "metadata": 10, "face": 0}, 10.0),
        ({"stashbox_match": False, "phash_distance": None, "metadata": 55, "face": 0}, 55.0),
        ({"stashbox_match": False, "phash_distance": None, "metadata": 35, "face": 75}, 85.5),
        ({"stashbox_match": False, "phash_distance": None, "metadata": 0, "face": 0}, 0.0),
    ],
)
def test_combine(kwargs: dict[str, object], score: float) -> None:
    assert combine(**kwargs).score == score  # type: ignore[arg-type]


def test_combine_reasoning_and_labels() -> None:
    result = combine(stashbox_match=False, phash_distance=2, metadata=55, face=0)
    assert result.score == 77.0
    assert result.reasoning == (
        "Likely duplicate",
        "Phash distance 2 (very similar)",
        "Metadata 55",
    )
    assert combine(stashbox_match=True, phash_distance=0, metadata=0, face=0).reasoning == (
        "Identical stash-box ID",
    )
    assert combine(stashbox_match=False, phash_distance=8, metadata=0, face=0).reasoning[-1] == (
        "Phash not corroborated"
    )
    assert [confidence_label(s) for s in (80, 79.9, 50, 49.9)] == [
        "High confidence duplicate",
        "Likely duplicate",
        "Likely duplicate",
        "Possible duplicate",
    ]
