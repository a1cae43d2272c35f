"""Similarity estimation and norm_crop."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from stash_sense.faces.align import ARCFACE_TEMPLATE, estimate_similarity, norm_crop


def similarity(angle_deg: float, scale: float, tx: float, ty: float) -> np.ndarray:
    a = math.radians(angle_deg)
    return np.array(
        [
            [scale * math.cos(a), -scale * math.sin(a), tx],
            [scale * math.sin(a), scale * math.cos(a), ty],
        ]
    )


def apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return np.asarray(points @ matrix[:, :2].T + matrix[:, 2])


def test_template_onto_itself_is_identity() -> None:
    matrix = estimate_similarity(ARCFACE_TEMPLATE, ARCFACE_TEMPLATE)
    assert matrix.shape == (2, 3) and matrix.dtype == np.float64
    np.testing.assert_allclose(matrix, [[1, 0, 0], [0, 1, 0]], atol=1e-9)


@pytest.mark.parametrize(
    ("angle", "scale", "tx", "ty"),
    [(0, 1, 0, 0), (30, 1.7, 12, -5), (-75, 0.4, 300.5, 80.25), (180, 2.5, -40, 10)],
)
def test_known_similarity_is_recovered(angle: float, scale: float, tx: float, ty: float) -> None:
    truth = similarity(angle, scale, tx, ty)
    src = ARCFACE_TEMPLATE.astype(np.float64) * 3 + 17
    np.testing.assert_allclose(estimate_similarity(src, apply(truth, src)), truth, atol=1e-9)


def test_least_squares_fit_of_noisy_points() -> None:
    src = ARCFACE_TEMPLATE.astype(np.float64)
    noise = np.random.default_rng(0).normal(0, 0.5, src.shape)
    dst = apply(similarity(10, 0.5, 5, 6), src) + noise
    fitted = estimate_similarity(src, dst)
    a, b, tx, ty = fitted[0, 0], fitted[1, 0], fitted[0, 2], fitted[1, 2]
    assert fitted[0, 1] == pytest.approx(-b) and fitted[1, 1] == pytest.approx(a)

    def residual(p: np.ndarray) -> float:
        m = np.array([[p[0], -p[1], p[2]], [p[1], p[0], p[3]]])
        return float(np.sum((apply(m, src) - dst) ** 2))

    # The least-squares optimum among similarities: any nudge makes the residual worse.
    best = residual(np.array([a, b, tx, ty]))
    for delta in np.concatenate([np.eye(4), -np.eye(4)]) * 1e-4:
        assert residual(np.array([a, b, tx, ty]) + delta) > best


def test_no_reflection() -> None:
    mirrored = ARCFACE_TEMPLATE.astype(np.float64) * [-1, 1]
    matrix = estimate_similarity(mirrored, ARCFACE_TEMPLATE)
    assert np.linalg.det(matrix[:, :2]) > 0


def test_collinear_points_still_give_a_rotation() -> None:
    src = np.array([[0, 0], [1, 1], [2, 2], [3, 3], [4, 4]], np.float64)
    truth = similarity(40, 2, 1, -1)
    matrix = estimate_similarity(src, apply(truth, src))
    np.testing.assert_allclose(apply(matrix, src), apply(truth, src), atol=1e-9)
    assert np.linalg.det(matrix[:, :2]) > 0


def test_degenerate_and_bad_shapes() -> None:
    with pytest.raises(ValueError, match="coincide"):
        estimate_similarity(np.ones((5, 2)), ARCFACE_TEMPLATE)
    with pytest.raises(ValueError, match="point sets"):
        estimate_similarity(np.ones((5, 3)), np.ones((5, 3)))


def test_norm_crop_matches_a_direct_warp_affine() -> None:
    image = np.random.default_rng(3).integers(0, 256, (300, 400, 3), dtype=np.uint8)
    landmarks = apply(similarity(-12, 1.6, 120, 70), ARCFACE_TEMPLATE).astype(np.float32)
    crop = norm_crop(image, landmarks)
    matrix = estimate_similarity(landmarks, ARCFACE_TEMPLATE)
    expected = cv2.warpAffine(image, matrix, (112, 112), borderValue=0.0)
    assert crop.shape == (112, 112, 3) and crop.dtype == np.uint8
    np.testing.assert_array_equal(crop, expected)


def test_norm_crop_maps_a_template_square_onto_the_crop_with_black_border() -> None:
    image = np.full((200, 200, 3), 90, np.uint8)
    image[40:152, 60:172] = (255, 0, 0)  # a 112-px square at (60, 40)
    landmarks = ARCFACE_TEMPLATE + np.array([60, 40], np.float32)
    crop = norm_crop(image, landmarks)
    assert np.all(crop == (255, 0, 0))
    # Half-size landmarks: the crop shows the square, then the frame, then black beyond it.
    small = norm_crop(image[:50, :50], ARCFACE_TEMPLATE / 2)
    assert np.all(small[:, -1] == 0) and np.all(small[-1] == 0)
    assert np.all(small[:80, :80] == 90)
