"""Index search, health check and fusion."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import voyager

from stash_sense.faces.database import FaceDatabase
from stash_sense.faces.search import (
    Health,
    Strategy,
    check_health,
    check_health_rows,
    choose_strategy,
    fuse,
    search_faces,
)
from tests.faces.release import random_performers, random_vectors, write_release

FACES = ["a.org:1", "a.org:2", None, "b.org:3", "b.org:4"]


def fused(
    fn: tuple[list[int], list[float]],
    af: tuple[list[int], list[float]],
    *,
    strategy: Strategy = Strategy.WEIGHTED,
    weights: tuple[float, float] = (0.5, 0.5),
    max_distance: float = 2.0,
    max_results: int = 10,
) -> list[tuple[int, float | None, float | None, float]]:
    candidates = fuse(
        FACES,
        np.array(fn[0], np.uint64),
        np.array(fn[1], np.float32),
        np.array(af[0], np.uint64),
        np.array(af[1], np.float32),
        strategy=strategy,
        facenet_weight=weights[0],
        arcface_weight=weights[1],
        max_distance=max_distance,
        max_results=max_results,
    )
    for candidate in candidates:
        assert candidate.universal_id == FACES[candidate.face_index]
    return [
        (
            c.face_index,
            None if c.facenet_distance is None else round(c.facenet_distance, 6),
            None if c.arcface_distance is None else round(c.arcface_distance, 6),
            round(c.distance, 6),
        )
        for c in candidates
    ]


# --- health check -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("distances", "health"),
    [
        ([], Health.NO_RESULTS),
        ([np.nan, np.inf], Health.NO_RESULTS),
        ([0.2, 0.2, 0.2], Health.HEALTHY),  # min >= 0.20 wins even when flat
        ([0.05] * 20, Health.DEGENERATE),  # suspiciously close and flat
        ([0.05, *[0.06] * 18, 0.2], Health.DEGENERATE),  # variance < 0.002, range 0.15
        ([0.05, 0.06, 0.07, 0.08], Health.DEGENERATE),  # range < 0.05
        ([0.05, 0.3, 0.5, 0.7, 0.9], Health.HEALTHY),  # a true match above a spread tail
        ([0.15, 0.16, 0.17], Health.DEGENERATE),  # range < 0.03 and variance < 0.001
        ([0.15, 0.17, 0.19], Health.HEALTHY),  # range 0.04: only the min < 0.10 rule allows it
        ([0.05] * 20 + [0.9] * 80, Health.DEGENERATE),  # only the first 20 count
        ([-0.003, 0.4, 0.6, 0.8], Health.HEALTHY),
    ],
)
def test_health_check(distances: list[float], health: Health) -> None:
    assert check_health(np.array(distances, np.float32)) is health


def test_health_rows_match_single_checks() -> None:
    rng = np.random.default_rng(3)
    rows = np.sort(rng.uniform(0, 0.3, (200, 30)), axis=1)
    rows[::7] = 0.05 + rng.uniform(0, 0.01, (len(rows[::7]), 30))
    rows[5, 10:] = np.inf  # padding from a short result
    batch = check_health_rows(rows)
    assert batch == [check_health(row) for row in rows]
    assert Health.DEGENERATE in batch
    assert Health.HEALTHY in batch


def test_strategy_selection() -> None:
    healthy, bad, empty = Health.HEALTHY, Health.DEGENERATE, Health.NO_RESULTS
    strategy, w_fn, w_af = choose_strategy(healthy, healthy, 0.7)
    assert strategy is Strategy.WEIGHTED
    assert (w_fn, w_af) == pytest.approx((0.7, 0.3))
    assert choose_strategy(healthy, bad, 0.7) == (Strategy.FACENET_ONLY, 1.0, 0.0)
    assert choose_strategy(empty, healthy, 0.7) == (Strategy.ARCFACE_ONLY, 0.0, 1.0)
    assert choose_strategy(bad, empty, 0.7) == (Strategy.FACENET_FALLBACK, 1.0, 0.0)


# --- fusion -------------------------------------------------------------------------------


def test_fusion_reference_example() -> None:
    assert fused(([0], [0.2]), ([0], [0.25])) == [(0, 0.2, 0.25, 0.225)]


def test_weighted_penalises_a_missing_model() -> None:
    result = fused(([0, 1], [0.2, 0.3]), ([0, 3], [0.25, 0.1]))
    assert result == [
        (0, 0.2, 0.25, 0.225),
        (3, None, 0.1, 0.3),  # 0.5 * 0.5 + 0.1 * 0.5
        (1, 0.3, None, 0.4),  # 0.3 * 0.5 + 0.5 * 0.5
    ]


def test_weighted_with_uneven_weights() -> None:
    result = fused(([0, 1], [0.2, 0.3]), ([0, 3], [0.4, 0.1]), weights=(0.8, 0.2))
    assert result == [(0, 0.2, 0.4, 0.24), (1, 0.3, None, 0.34), (3, None, 0.1, 0.42)]


def test_single_model_strategies() -> None:
    fn, af = ([0, 1], [0.2, 0.3]), ([0, 3], [0.25, 0.1])
    # ArcFace carries no weight: its neighbours are not even recorded
    expected_fn = [(0, 0.2, None, 0.2), (1, 0.3, None, 0.3)]
    assert fused(fn, af, strategy=Strategy.FACENET_ONLY, weights=(1.0, 0.0)) == expected_fn
    assert fused(fn, af, strategy=Strategy.FACENET_FALLBACK, weights=(1.0, 0.0)) == expected_fn
    # FaceNet neighbours are always added; a FaceNet-only one keeps its own distance
    assert fused(fn, af, strategy=Strategy.ARCFACE_ONLY, weights=(0.0, 1.0)) == [
        (3, None, 0.1, 0.1),
        (0, 0.2, 0.25, 0.25),
        (1, 0.3, None, 0.3),
    ]


def test_null_and_out_of_range_ids_are_skipped() -> None:
    result = fused(([2, 99, 0, 5], [0.01, 0.02, 0.2, 0.03]), ([2, 77, 0], [0.01, 0.02, 0.25]))
    assert result == [(0, 0.2, 0.25, 0.225)]


def test_max_distance_and_max_results() -> None:
    fn = ([0, 1, 3, 4], [0.1, 0.2, 0.3, 0.4])
    af = ([0, 1, 3, 4], [0.1, 0.2, 0.3, 0.4])
    assert [r[0] for r in fused(fn, af, max_distance=0.31)] == [0, 1, 3]
    assert [r[0] for r in fused(fn, af, max_results=2)] == [0, 1]
    assert fused(fn, af, max_results=0) == []


def test_negative_distances_are_clamped() -> None:
    assert fused(([0], [-0.003]), ([0], [-0.001])) == [(0, 0.0, 0.0, 0.0)]


def test_ties_keep_facenet_rank_then_arcface_rank() -> None:
    result = fused(([1, 0], [0.3, 0.3]), ([4, 3], [0.3, 0.3]), weights=(0.5, 0.5))
    assert [r[0] for r in result] == [1, 0, 4, 3]


# --- search against real indices ------------------------------------------------------------


@pytest.fixture(scope="module")
def big_release(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, FaceDatabase]:
    directory = tmp_path_factory.mktemp("search") / "face-db"
    info = write_release(directory, random_performers(500, 3, seed=7), gaps=20, seed=7)
    return info, FaceDatabase.load(directory, verify="never", ef=200)


def noisy(vectors: np.ndarray, scale: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (vectors + scale * rng.standard_normal(vectors.shape)).astype(np.float32)


def test_finds_planted_faces(big_release: tuple[Any, FaceDatabase]) -> None:
    info, db = big_release
    rng = np.random.default_rng(11)
    targets = [p for p in rng.choice(db.face_count, 80, replace=False) if db.faces[p] is not None]
    facenet = noisy(info.facenet[targets], 0.4, 1)
    arcface = noisy(info.arcface[targets], 0.4, 2)

    results = search_faces(
        db, facenet, arcface, k=100, facenet_weight=0.5, max_distance=0.5, max_results=10
    )
    assert len(results) == len(targets)
    found = 0
    for target, candidates in zip(targets, results, strict=True):
        assert all(c.distance <= 0.5 for c in candidates)
        assert [c.distance for c in candidates] == sorted(c.distance for c in candidates)
        if candidates and candidates[0].face_index == target:
            found += 1
            best = candidates[0]
            assert best.universal_id == db.faces[target]
            assert best.facenet_distance is not None and best.arcface_distance is not None
            assert best.distance == pytest.approx(
                0.5 * best.facenet_distance + 0.5 * best.arcface_distance, abs=1e-6
            )
    assert found >= len(targets) - 1


def test_recall_follows_configured_ef(big_release: tuple[Any, FaceDatabase]) -> None:
    info, db = big_release
    queries = random_vectors(60, 5)
    unit = info.facenet / np.linalg.norm(info.facenet, axis=1, keepdims=True)
    exact_order = np.argsort(1 - (queries / np.linalg.norm(queries, axis=1)[:, None]) @ unit.T)

    def recall(ef: int) -> float:
        db.facenet_index.ef = ef
        results = search_faces(
            db, queries, queries, k=10, facenet_weight=0.5, max_distance=2.0, max_results=50
        )
        hits = total = 0
        for row, candidates in enumerate(results):
            exact = [i for i in exact_order[row] if db.faces[i] is not None][:8]
            got = {c.face_index for c in candidates if c.facenet_distance is not None}
            hits += len(got.intersection(exact))
            total += len(exact)
        return hits / total

    try:
        assert recall(200) >= 0.9
        assert recall(10) < 0.7  # the setting really reaches the index
    finally:
        db.facenet_index.ef = db.ef


class CountingIndex:
    """Wrap a Voyager index and count query calls."""

    def __init__(self, index: Any) -> None:
        self.index = index
        self.num_elements = index.num_elements
        self.calls = 0

    def query(self, vectors: np.ndarray, k: int) -> Any:
        self.calls += 1
        return self.index.query(vectors, k=k)


def test_one_query_per_index_and_k_capped(tmp_path: Path) -> None:
    info = write_release(tmp_path / "db", random_performers(10, 2, seed=4))
    db = FaceDatabase.load(info.directory)
    db.facenet_index = CountingIndex(db.facenet_index)
    db.arcface_index = CountingIndex(db.arcface_index)
    results = search_faces(
        db,
        info.facenet[:7],
        info.arcface[:7],
        k=1000,
        facenet_weight=0.5,
        max_distance=2.0,
        max_results=100,
    )
    assert db.facenet_index.calls == db.arcface_index.calls == 1
    assert [r[0].face_index for r in results] == list(range(7))
    assert all(len(r) == 20 for r in results)


def test_degenerate_model_is_left_out(tmp_path: Path) -> None:
    base = random_vectors(1, 1)[0]
    rng = np.random.default_rng(2)
    facenet = base + 0.001 * rng.standard_normal((40, 512))  # FaceNet sees the same face 40 times
    arcface = random_vectors(40, 3)
    performers = {f"stashdb.org:p{i}": [(facenet[i], arcface[i])] for i in range(40)}
    info = write_release(tmp_path / "db", performers)
    db = FaceDatabase.load(info.directory)
    [candidates] = search_faces(
        db,
        base[None],
        info.arcface[7:8],
        k=40,
        facenet_weight=0.5,
        max_distance=0.5,
        max_results=5,
    )
    # arcface_only: each candidate's distance is its ArcFace distance alone
    assert candidates[0].face_index == 7
    assert candidates[0].distance == pytest.approx(0.0, abs=1e-5)
    assert all(c.distance == c.arcface_distance for c in candidates)

    # both models degenerate: FaceNet fallback, ArcFace ignored
    flat = {f"stashdb.org:p{i}": [(facenet[i], facenet[39 - i])] for i in range(40)}
    db = FaceDatabase.load(write_release(tmp_path / "flat", flat).directory)
    [fallback] = search_faces(
        db, base[None], base[None], k=40, facenet_weight=0.5, max_distance=0.5, max_results=5
    )
    assert len(fallback) == 5
    assert all(c.arcface_distance is None and c.distance == c.facenet_distance for c in fallback)


def test_e4m3_self_match_is_clamped(tmp_path: Path) -> None:
    info = write_release(
        tmp_path / "db", random_performers(50, 2, seed=9), storage=voyager.StorageDataType.E4M3
    )
    db = FaceDatabase.load(info.directory)
    results = search_faces(
        db, info.facenet, info.arcface, k=20, facenet_weight=0.5, max_distance=0.5, max_results=3
    )
    everything = [c for candidates in results for c in candidates]
    assert all(c.distance >= 0.0 for c in everything)
    assert all((c.facenet_distance or 0.0) >= 0.0 for c in everything)
    assert all((c.arcface_distance or 0.0) >= 0.0 for c in everything)
    # 8-bit storage reorders near-ties, so a self-match may rarely lose first place
    selves = sum(bool(c) and c[0].face_index == p for p, c in enumerate(results))
    assert selves >= 0.95 * len(results)


def test_null_faces_never_become_candidates(tmp_path: Path) -> None:
    hidden = random_vectors(2, 8)
    performers: dict[str | None, Any] = {
        uid: pairs for uid, pairs in random_performers(20, 1, seed=8).items()
    }
    performers[None] = [(hidden[0], hidden[1])]
    info = write_release(tmp_path / "db", performers, gaps=3)
    db = FaceDatabase.load(info.directory)
    [candidates] = search_faces(
        db, hidden[:1], hidden[1:], k=30, facenet_weight=0.5, max_distance=2.0, max_results=50
    )
    assert candidates
    assert all(db.faces[c.face_index] is not None for c in candidates)
    assert len(candidates) == 20


def test_short_graph_falls_back_to_single_queries(tmp_path: Path) -> None:
    info = write_release(tmp_path / "db", random_performers(15, 2, seed=6))
    db = FaceDatabase.load(info.directory)
    for deleted in (3, 4, 5):
        db.facenet_index.mark_deleted(deleted)
    results = search_faces(
        db,
        info.facenet,
        info.arcface,
        k=30,
        facenet_weight=0.5,
        max_distance=2.0,
        max_results=100,
    )
    for position, candidates in enumerate(results):
        assert candidates[0].face_index == position
        fn_ids = {c.face_index for c in candidates if c.facenet_distance is not None}
        assert not fn_ids & {3, 4, 5}


def test_empty_batch_and_bad_shapes(big_release: tuple[Any, FaceDatabase]) -> None:
    _, db = big_release
    empty = np.empty((0, 512), np.float32)
    options: dict[str, Any] = {
        "k": 10,
        "facenet_weight": 0.5,
        "max_distance": 0.5,
        "max_results": 10,
    }
    assert search_faces(db, empty, empty, **options) == []
    with pytest.raises(ValueError, match="facenet vectors"):
        search_faces(db, np.zeros((2, 512), np.float32), np.zeros((1, 512), np.float32), **options)
    with pytest.raises(ValueError, match="N x D"):
        search_faces(db, np.zeros(512, np.float32), np.zeros(512, np.float32), **options)
