"""The sweep over stored scores: counts, curve, recommendation, per-scene outcomes."""

from __future__ import annotations

import pytest

from stash_sense.evaluate.metrics import (
    Prediction,
    Truth,
    figures_at,
    recommend,
    scene_outcomes,
    sweep,
)

A, B, C = "stashdb.org:a", "stashdb.org:b", "stashdb.org:c"
TRUTHS = {
    1: Truth(frozenset({A, B}), frozenset({A, B})),
    2: Truth(frozenset({C}), frozenset()),  # C's face never came near the database
}
PREDICTIONS = [
    Prediction(1, A, 0.9, 6),
    Prediction(1, A, 0.5, 2),  # the same performer for a second person: counts once, at 0.9
    Prediction(1, C, 0.7, 4),  # an untagged extra
    Prediction(1, B, 0.4, 3),
    Prediction(2, B, 0.2, 5),
    Prediction(3, A, 0.99, 9),  # a scene that was not evaluated: ignored
]


def test_figures_count_each_performer_once_and_split_seen_recall() -> None:
    figures = figures_at(PREDICTIONS, TRUTHS, 0.3)
    assert (figures.predicted, figures.hits, figures.false_alarms) == (3, 2, 1)
    assert (figures.truth, figures.truth_seen) == (3, 2)
    assert figures.precision == pytest.approx(2 / 3)
    assert figures.recall == pytest.approx(2 / 3)
    assert figures.recall_seen == 1.0
    nothing = figures_at(PREDICTIONS, TRUTHS, 0.95)
    assert nothing.predicted == 0 and nothing.precision is None and nothing.recall == 0.0


def test_sweep_gives_one_point_per_confidence_and_honours_min_frames() -> None:
    curve = sweep(PREDICTIONS, TRUTHS)
    assert [p.threshold for p in curve] == [0.9, 0.7, 0.4, 0.2]
    assert [(p.hits, p.false_alarms) for p in curve] == [(1, 0), (1, 1), (2, 1), (2, 2)]
    for point in curve:  # the sweep agrees with computing each threshold on its own
        assert point == figures_at(PREDICTIONS, TRUTHS, point.threshold)
    assert [p.threshold for p in sweep(PREDICTIONS, TRUTHS, min_frames=4)] == [0.9, 0.7, 0.2]


def test_recommendation_keeps_the_most_recall_at_the_target() -> None:
    curve = sweep(PREDICTIONS, TRUTHS)
    best = recommend(curve, 0.6)
    assert best is not None and best.threshold == 0.4 and best.hits == 2
    strict = recommend(curve, 0.95)
    assert strict is not None and strict.threshold == 0.9
    assert recommend(sweep([Prediction(1, C, 0.8, 3)], TRUTHS), 0.5) is None


def test_scene_outcomes() -> None:
    first, second = scene_outcomes(PREDICTIONS, TRUTHS, 0.3)
    assert (first.hits, first.misses, first.false_alarms) == ([A, B], [], [C])
    assert (second.hits, second.misses, second.unseen, second.false_alarms) == ([], [C], [C], [])
