"""Greedy face clustering and the merge of clusters that share a best match."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest

from stash_sense.faces.clustering import cluster_faces, cosine_distances, merge_by_best_match
from stash_sense.faces.types import Candidate, Detection, FaceMatch


def vectors(*rows: tuple[float, ...]) -> npt.NDArray[np.float32]:
    return np.array(rows, dtype=np.float32).reshape(len(rows), -1)


def angle(degrees: float, scale: float = 1.0) -> tuple[float, float]:
    radians = math.radians(degrees)
    return scale * math.cos(radians), scale * math.sin(radians)


def cluster_2d(*rows: tuple[float, float], threshold: float) -> list[list[int]]:
    """Cluster 2-d FaceNet vectors with all-zero ArcFace halves (zeros leave cosines unchanged)."""
    zeros = np.zeros((len(rows), 2), dtype=np.float32)
    return cluster_faces(vectors(*rows), zeros, threshold=threshold)


def face(position: int, *candidates: tuple[str, float]) -> FaceMatch:
    detection = Detection((0.0, 0.0, 100.0, 100.0), 0.9, np.zeros((5, 2), dtype=np.float32))
    found = [Candidate(uid, i, None, None, d) for i, (uid, d) in enumerate(candidates)]
    return FaceMatch(position, position, float(position), detection, found)


def test_identical_vectors_form_one_cluster() -> None:
    same = vectors(*[(0.3, -1.2, 0.7)] * 4)
    assert cluster_faces(same, same, threshold=0.6) == [[0, 1, 2, 3]]


def test_orthogonal_vectors_stay_apart() -> None:
    assert cluster_2d((1, 0), (0, 1), (-1, 0), threshold=0.6) == [[0], [1], [2]]


def test_distance_equal_to_threshold_does_not_join() -> None:
    # Concatenated (1,0,1,0) and (1,0,0,1): cosine exactly 0.5, distance exactly 0.5.
    facenet = vectors((1, 0), (1, 0))
    arcface = vectors((1, 0), (0, 1))
    assert cluster_faces(facenet, arcface, threshold=0.5) == [[0], [1]]
    assert cluster_faces(facenet, arcface, threshold=0.5000001) == [[0, 1]]


def test_both_models_count_in_the_distance() -> None:
    facenet = vectors((1, 0), (1, 0))
    arcface = vectors((1, 0), (-1, 0))
    # Same FaceNet, opposite ArcFace: the concatenated vectors are orthogonal.
    assert cluster_faces(facenet, arcface, threshold=0.9) == [[0], [1]]


def test_zero_vectors_are_at_distance_one() -> None:
    rows = [(0.0, 0.0), (0.0, 0.0), (1.0, 0.0)]
    assert cluster_2d(*rows, threshold=0.6) == [[0], [1], [2]]
    # Above 1.0 everything joins, the zero vectors included, as in the reference.
    assert cluster_2d(*rows, threshold=1.01) == [[0, 1, 2]]


def test_cosine_distances_match_the_reference_cases() -> None:
    centroids = np.array([[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0], [0.0, 0.0]])
    norms = np.linalg.norm(centroids, axis=1)
    distances = cosine_distances(centroids, norms, np.array([1.0, 0.0]))
    assert distances.tolist() == pytest.approx([0.0, 1.0, 2.0, 1.0])
    assert cosine_distances(centroids, norms, np.zeros(2)).tolist() == [1.0] * 4


def test_non_finite_vectors_start_their_own_cluster() -> None:
    assert cluster_2d((1, 0), (math.nan, 0), (1, 0), threshold=0.6) == [[0, 2], [1]]


def test_greedy_order_decides_the_partition() -> None:
    a, b, c = angle(-40), angle(0), angle(40)
    # a-b and b-c are 40 degrees apart (0.234), a-c 80 (0.826); a joined cluster's centroid
    # drifts half way, 60 degrees from the third vector (0.5 >= 0.3).
    assert cluster_2d(a, b, c, threshold=0.3) == [[0, 1], [2]]  # {a, b}, {c}
    assert cluster_2d(c, b, a, threshold=0.3) == [[0, 1], [2]]  # {c, b}, {a}
    # b is equally far from a's and c's clusters: the first cluster wins the tie.
    assert cluster_2d(a, c, b, threshold=0.3) == [[0, 2], [1]]


def test_centroid_is_the_mean_of_members() -> None:
    # d is 70 degrees from a (0.658) but 50 from the centroid of a and b (0.357).
    assert cluster_2d(angle(0), angle(40), angle(70), threshold=0.4) == [[0, 1, 2]]


def test_raw_magnitudes_pull_the_centroid() -> None:
    # The centroid of (1,0) and (10,10) points at 42 degrees, 64 from c (distance 0.56);
    # normalised first it would point at 22.5 degrees and c (at -21.8) would join.
    rows = [(1.0, 0.0), (10.0, 10.0), (1.0, -0.4)]
    assert cluster_2d(*rows, threshold=0.5) == [[0, 1], [2]]


def test_no_faces_give_no_clusters() -> None:
    empty = np.zeros((0, 512), dtype=np.float32)
    assert cluster_faces(empty, empty, threshold=0.6) == []


def test_mismatched_embeddings_are_rejected() -> None:
    with pytest.raises(ValueError, match="2 FaceNet embeddings but 3 ArcFace"):
        cluster_faces(np.ones((2, 4), np.float32), np.ones((3, 4), np.float32), threshold=0.6)
    with pytest.raises(ValueError, match="2-D"):
        cluster_faces(np.ones(4, np.float32), np.ones(4, np.float32), threshold=0.6)


def test_many_faces_cluster_quickly() -> None:
    rng = np.random.default_rng(7)
    people = rng.normal(size=(8, 1024)).astype(np.float32)
    noisy = people[np.arange(400) % 8] + 0.3 * rng.normal(size=(400, 1024)).astype(np.float32)
    clusters = cluster_faces(noisy[:, :512], noisy[:, 512:], threshold=0.6)
    assert sorted(sorted(c) for c in clusters) == [list(range(i, 400, 8)) for i in range(8)]


def test_merge_joins_clusters_that_share_a_best_match() -> None:
    matches = [face(0, ("s:A", 0.3)), face(1, ("s:B", 0.2)), face(2, ("s:A", 0.4)), face(3)]
    assert merge_by_best_match([[0], [1], [2], [3]], matches) == [[0, 2], [1], [3]]


def test_merge_orders_by_first_best_match_and_puts_unmatched_last() -> None:
    matches = [face(0), face(1, ("s:B", 0.2)), face(2, ("s:A", 0.1)), face(3, ("s:B", 0.4))]
    assert merge_by_best_match([[0], [1], [2], [3]], matches) == [[1, 3], [2], [0]]


def test_merge_uses_the_nearest_top1_of_the_cluster() -> None:
    matches = [
        face(0, ("s:A", 0.40), ("s:B", 0.45)),
        face(1, ("s:B", 0.30)),
        face(2, ("s:A", 0.35)),
        face(3, ("s:B", 0.30)),
    ]
    # Cluster [0, 1]: face 1's top-1 B (0.30) beats face 0's top-1 A (0.40).
    assert merge_by_best_match([[0, 1], [2], [3]], matches) == [[0, 1, 3], [2]]


def test_merge_keeps_the_first_face_on_equal_distances() -> None:
    matches = [face(0, ("s:A", 0.3)), face(1, ("s:B", 0.3)), face(2, ("s:B", 0.1))]
    assert merge_by_best_match([[0, 1], [2]], matches) == [[0, 1], [2]]
