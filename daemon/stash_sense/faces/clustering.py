"""Group a scene's faces into persons.

Both steps follow the reference pipeline's clustering so that a scene splits into the
same persons:

* `cluster_faces` is a greedy pass in input (frame) order over the concatenated raw
  [FaceNet, ArcFace] vectors. A face joins the cluster whose centroid (the mean of its members) is
  nearest in cosine distance when that distance is strictly below the threshold, otherwise it
  starts a new cluster. Nothing is normalised first, so the two models' magnitudes weight the
  distance and a large vector pulls a centroid further than a small one, as in the reference.
* `merge_by_best_match` joins clusters whose nearest database face belongs to the same performer.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from stash_sense.faces.types import FaceMatch, Vectors

__all__ = ["cluster_faces", "cosine_distances", "merge_by_best_match"]

Float64s = npt.NDArray[np.float64]


def cluster_faces(facenet: Vectors, arcface: Vectors, *, threshold: float) -> list[list[int]]:
    """Cluster faces greedily in input order; return lists of face positions."""
    vectors = _concatenate(facenet, arcface)
    count, width = vectors.shape
    # Cosine distance ignores scale, so each cluster's sum stands in for its mean and one
    # update per face keeps the whole pass O(faces x clusters x width).
    sums = np.zeros((count, width), dtype=np.float64)
    sum_norms = np.zeros(count, dtype=np.float64)
    clusters: list[list[int]] = []
    for position, vector in enumerate(vectors):
        target = _nearest_cluster(sums[: len(clusters)], sum_norms[: len(clusters)], vector)
        if target is None or target[1] >= threshold:
            clusters.append([])
            index = len(clusters) - 1
        else:
            index = target[0]
        clusters[index].append(position)
        sums[index] += vector
        sum_norms[index] = np.linalg.norm(sums[index])
    return clusters


def cosine_distances(centroids: Float64s, norms: Float64s, vector: Float64s) -> Float64s:
    """Return 1 - cos between each centroid and the vector; 1.0 where either norm is zero."""
    denominators = norms * float(np.linalg.norm(vector))
    cosines = np.divide(
        centroids @ vector, denominators, out=np.zeros_like(norms), where=denominators > 0
    )
    distances = 1.0 - cosines
    distances[denominators <= 0] = 1.0
    # A NaN or infinite embedding must not win the argmin and swallow the face.
    distances[~np.isfinite(distances)] = 1.0
    return distances


def merge_by_best_match(
    clusters: Sequence[Sequence[int]], matches: Sequence[FaceMatch]
) -> list[list[int]]:
    """Concatenate clusters that share a best match; clusters without a match come last."""
    merged: dict[str, list[int]] = {}
    unmatched: list[list[int]] = []
    for cluster in clusters:
        best = best_match(cluster, matches)
        if best is None:
            unmatched.append(list(cluster))
        else:
            merged.setdefault(best, []).extend(cluster)
    return [*merged.values(), *unmatched]


def best_match(cluster: Sequence[int], matches: Sequence[FaceMatch]) -> str | None:
    """Return the performer of the nearest top-1 candidate among the cluster's faces."""
    best_id: str | None = None
    best_distance = float("inf")
    for position in cluster:
        candidates = matches[position].candidates
        # Strict < keeps the first face on ties, as the reference does.
        if candidates and candidates[0].distance < best_distance:
            best_id, best_distance = candidates[0].universal_id, candidates[0].distance
    return best_id


def _concatenate(facenet: Vectors, arcface: Vectors) -> Float64s:
    """Join each face's two embeddings into one float64 row, checking the shapes."""
    if facenet.ndim != 2 or arcface.ndim != 2:
        raise ValueError("embeddings must be 2-D arrays (faces x dimensions)")
    if facenet.shape[0] != arcface.shape[0]:
        raise ValueError(
            f"{facenet.shape[0]} FaceNet embeddings but {arcface.shape[0]} ArcFace embeddings"
        )
    return np.concatenate([facenet, arcface], axis=1).astype(np.float64)


def _nearest_cluster(sums: Float64s, norms: Float64s, vector: Float64s) -> tuple[int, float] | None:
    """Return the index and distance of the nearest cluster, the first one on ties."""
    if len(sums) == 0:
        return None
    distances = cosine_distances(sums, norms, vector)
    index = int(np.argmin(distances))
    return index, float(distances[index])
