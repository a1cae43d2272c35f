"""Query both face indices and fuse their neighbours into per-face candidates."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
import voyager

from stash_sense.faces.database import FaceDatabase
from stash_sense.faces.types import Candidate, Vectors

_LOGGER = logging.getLogger(__name__)

HEALTH_CHECK_K = 20
HEALTHY_MIN_DISTANCE = 0.20
SUSPICIOUS_MIN_DISTANCE = 0.10
SUSPICIOUS_VARIANCE = 0.002
SUSPICIOUS_RANGE = 0.05
FLAT_RANGE = 0.03
FLAT_VARIANCE = 0.001
MISSING_DISTANCE = 0.5  # stands in for a model that did not return a candidate (weighted)

Ids = npt.NDArray[np.int64]
Distances = npt.NDArray[np.float64]

_NO_ID = np.iinfo(np.uint64).max  # padding for rows where the index returned fewer than k


class Health(StrEnum):
    """How trustworthy one model's neighbour list looks."""

    HEALTHY = "healthy"
    DEGENERATE = "degenerate"
    NO_RESULTS = "no_results"


class Strategy(StrEnum):
    """Which models the fused distance uses."""

    WEIGHTED = "weighted"
    FACENET_ONLY = "facenet_only"
    ARCFACE_ONLY = "arcface_only"
    FACENET_FALLBACK = "facenet_fallback"


def check_health_rows(distances: npt.ArrayLike) -> list[Health]:
    """Classify each row of a (faces x k) distance matrix by its first 20 finite distances."""
    matrix = np.asarray(distances, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError(f"expected a 2-D distance matrix, got shape {matrix.shape}")
    head = matrix[:, :HEALTH_CHECK_K]
    finite = np.isfinite(head)
    count = finite.sum(axis=1)
    safe_count = np.maximum(count, 1)
    low = np.where(finite, head, np.inf).min(axis=1, initial=np.inf)
    high = np.where(finite, head, -np.inf).max(axis=1, initial=-np.inf)
    mean = np.where(finite, head, 0.0).sum(axis=1) / safe_count
    variance = np.where(finite, (head - mean[:, None]) ** 2, 0.0).sum(axis=1) / safe_count
    spread = high - low

    # the reference's rules, in its order: a clear best match is trusted first; then a
    # suspiciously close and flat list, or a flat list anywhere, means the model collapsed
    suspicious = (low < SUSPICIOUS_MIN_DISTANCE) & (
        (variance < SUSPICIOUS_VARIANCE) | (spread < SUSPICIOUS_RANGE)
    )
    flat = (spread < FLAT_RANGE) & (variance < FLAT_VARIANCE)
    degenerate = (low < HEALTHY_MIN_DISTANCE) & (suspicious | flat)
    return [
        Health.NO_RESULTS if n == 0 else Health.DEGENERATE if bad else Health.HEALTHY
        for n, bad in zip(count, degenerate, strict=True)
    ]


def check_health(distances: npt.ArrayLike) -> Health:
    """Classify one model's ascending neighbour distances for one face."""
    row = np.asarray(distances, dtype=np.float64).reshape(1, -1)
    return check_health_rows(row)[0]


def choose_strategy(
    facenet: Health, arcface: Health, facenet_weight: float
) -> tuple[Strategy, float, float]:
    """Pick the fusion strategy and its (facenet, arcface) weights from both models' health."""
    fn_ok = facenet is Health.HEALTHY
    af_ok = arcface is Health.HEALTHY
    if fn_ok and af_ok:
        return Strategy.WEIGHTED, facenet_weight, 1.0 - facenet_weight
    if fn_ok:
        return Strategy.FACENET_ONLY, 1.0, 0.0
    if af_ok:
        return Strategy.ARCFACE_ONLY, 0.0, 1.0
    return Strategy.FACENET_FALLBACK, 1.0, 0.0


def fuse(
    faces: Sequence[str | None],
    facenet_ids: npt.ArrayLike,
    facenet_distances: npt.ArrayLike,
    arcface_ids: npt.ArrayLike,
    arcface_distances: npt.ArrayLike,
    *,
    strategy: Strategy,
    facenet_weight: float,
    arcface_weight: float,
    max_distance: float,
    max_results: int,
    mapped: npt.NDArray[np.bool_] | None = None,
) -> list[Candidate]:
    """Fuse one face's neighbours from both models into candidates, nearest first.

    Candidates are DB faces; ids outside faces or mapped to null are skipped. `mapped`
    (faces[i] is not None, as a bool array) only saves recomputing it per face.
    """
    if mapped is None:
        mapped = np.fromiter((uid is not None for uid in faces), dtype=np.bool_, count=len(faces))
    fn_ids, fn_d = _usable(facenet_ids, facenet_distances, mapped)
    if arcface_weight > 0:
        af_ids, af_d = _usable(arcface_ids, arcface_distances, mapped)
    else:
        # the reference only adds ArcFace neighbours when ArcFace carries weight
        af_ids, af_d = np.empty(0, np.int64), np.empty(0, np.float64)

    # candidate order: FaceNet neighbours in rank order, then ArcFace-only ones in rank order,
    # so the stable sort below breaks ties the way the reference's dict insertion order does
    # (a sorted lookup rather than np.isin, which costs several sorts per face)
    af_slot = np.empty(len(af_ids), np.int64)  # where each ArcFace neighbour lands in `ids`
    shared = np.zeros(len(af_ids), np.bool_)
    if len(fn_ids) and len(af_ids):
        fn_sorter = np.argsort(fn_ids)
        found = np.minimum(np.searchsorted(fn_ids, af_ids, sorter=fn_sorter), len(fn_ids) - 1)
        shared = fn_ids[fn_sorter[found]] == af_ids
        af_slot[shared] = fn_sorter[found[shared]]
    fresh = ~shared
    af_slot[fresh] = len(fn_ids) + np.arange(np.count_nonzero(fresh))
    ids = np.concatenate([fn_ids, af_ids[fresh]])
    fn_all = np.full(len(ids), np.nan)
    fn_all[: len(fn_ids)] = fn_d
    af_all = np.full(len(ids), np.nan)
    af_all[af_slot] = af_d

    has_fn = ~np.isnan(fn_all)
    has_af = ~np.isnan(af_all)
    fn_val = np.where(has_fn, fn_all, 0.0)
    af_val = np.where(has_af, af_all, 0.0)
    both = fn_val * facenet_weight + af_val * arcface_weight
    if strategy is Strategy.WEIGHTED:
        fn_only = fn_val * facenet_weight + MISSING_DISTANCE * arcface_weight
        af_only = MISSING_DISTANCE * facenet_weight + af_val * arcface_weight
    else:
        fn_only, af_only = fn_val, af_val
    fused = np.where(has_fn & has_af, both, np.where(has_fn, fn_only, af_only))

    order = np.argsort(fused, kind="stable")
    order = order[fused[order] <= max_distance][: max(max_results, 0)]
    return [
        Candidate(
            universal_id=str(faces[int(ids[i])]),
            face_index=int(ids[i]),
            facenet_distance=float(fn_all[i]) if has_fn[i] else None,
            arcface_distance=float(af_all[i]) if has_af[i] else None,
            distance=float(fused[i]),
        )
        for i in order
    ]


def search_faces(
    db: FaceDatabase,
    facenet: Vectors,
    arcface: Vectors,
    *,
    k: int,
    facenet_weight: float,
    max_distance: float,
    max_results: int,
) -> list[list[Candidate]]:
    """Find each face's nearest DB faces in both indices and fuse them, blocking."""
    facenet = _as_batch(facenet, "facenet")
    arcface = _as_batch(arcface, "arcface")
    if len(facenet) != len(arcface):
        raise ValueError(f"{len(facenet)} facenet vectors but {len(arcface)} arcface vectors")
    if not 0.0 <= facenet_weight <= 1.0:
        raise ValueError(f"facenet_weight must be within 0..1, not {facenet_weight}")
    count = len(facenet)
    k = min(k, db.face_count)
    if count == 0 or k < 1:
        return [[] for _ in range(count)]

    fn_ids, fn_d = _query(db.facenet_index, facenet, k)
    af_ids, af_d = _query(db.arcface_index, arcface, k)
    fn_health = check_health_rows(fn_d)
    af_health = check_health_rows(af_d)

    results: list[list[Candidate]] = []
    for row in range(count):
        strategy, w_fn, w_af = choose_strategy(fn_health[row], af_health[row], facenet_weight)
        results.append(
            fuse(
                db.faces,
                fn_ids[row],
                fn_d[row],
                af_ids[row],
                af_d[row],
                strategy=strategy,
                facenet_weight=w_fn,
                arcface_weight=w_af,
                max_distance=max_distance,
                max_results=max_results,
                mapped=db.mapped,
            )
        )
    return results


def _as_batch(vectors: Vectors, name: str) -> npt.NDArray[np.float32]:
    array = np.ascontiguousarray(vectors, dtype=np.float32)
    if array.ndim != 2:
        raise ValueError(f"{name} vectors must be N x D, got shape {array.shape}")
    return array


def _usable(
    ids: npt.ArrayLike, distances: npt.ArrayLike, mapped: npt.NDArray[np.bool_]
) -> tuple[Ids, Distances]:
    """Keep neighbours with a finite distance and an id that maps to a performer."""
    raw = np.asarray(ids, dtype=np.uint64)
    dist = np.asarray(distances, dtype=np.float64)
    in_range = raw < len(mapped)
    positions = np.where(in_range, raw, 0).astype(np.int64)
    keep = in_range & np.isfinite(dist)
    if len(mapped):
        keep &= mapped[positions]
    return positions[keep], np.maximum(dist[keep], 0.0)


def _query(
    index: Any, vectors: npt.NDArray[np.float32], k: int
) -> tuple[npt.NDArray[np.uint64], Distances]:
    """Query all vectors at once; pad rows the index cannot fill with no-id / inf."""
    try:
        ids, distances = index.query(vectors, k=k)
        return np.asarray(ids, np.uint64), _clamp(distances)
    except voyager.RecallError:
        # a sparse graph (tiny or deleted-heavy index) cannot always reach k neighbours;
        # retry face by face with a shrinking k rather than losing the whole batch
        _LOGGER.debug("Index could not return %d neighbours for every face; retrying singly", k)
    out_ids = np.full((len(vectors), k), _NO_ID, dtype=np.uint64)
    out_d = np.full((len(vectors), k), np.inf, dtype=np.float64)
    for row, vector in enumerate(vectors):
        want = k
        while want > 0:
            try:
                ids, distances = index.query(vector, k=want)
            except voyager.RecallError:
                want = want - max(1, want // 4)
                continue
            out_ids[row, :want] = ids
            out_d[row, :want] = distances
            break
    return out_ids, _clamp(out_d)


def _clamp(distances: npt.ArrayLike) -> Distances:
    # 8-bit storage (E4M3) can report a self-match slightly below zero; the order stays right
    return np.maximum(np.asarray(distances, dtype=np.float64), 0.0)
