"""Five-point face alignment onto the 112-px ArcFace template (insightface norm_crop)."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from stash_sense.faces.types import Image

CROP_SIZE = 112

# Left eye, right eye, nose, left mouth corner, right mouth corner, in 112-px crop coordinates.
ARCFACE_TEMPLATE: npt.NDArray[np.float32] = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float32,
)


def estimate_similarity(src: npt.ArrayLike, dst: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Fit the least-squares similarity (Umeyama, no reflection) mapping src points onto dst."""
    source = np.asarray(src, dtype=np.float64)
    target = np.asarray(dst, dtype=np.float64)
    if source.ndim != 2 or source.shape[1] != 2 or source.shape != target.shape:
        raise ValueError(f"expected two (K,2) point sets, got {source.shape} and {target.shape}")
    src_mean = source.mean(axis=0)
    dst_mean = target.mean(axis=0)
    src_c = source - src_mean
    dst_c = target - dst_mean
    cov = dst_c.T @ src_c / len(source)
    u, sigma, vt = np.linalg.svd(cov)
    rank = np.linalg.matrix_rank(cov)
    if rank == 0:
        raise ValueError("degenerate landmarks: all points coincide")
    signs = np.ones(2)
    if np.linalg.det(cov) < 0:
        signs[1] = -1.0
    rotation_signs = signs.copy()
    if rank == 1:
        # Collinear points: the sign of the null direction is free, so pick the proper rotation.
        rotation_signs[1] = 1.0 if np.linalg.det(u) * np.linalg.det(vt) > 0 else -1.0
    rotation = u @ np.diag(rotation_signs) @ vt
    scale = float(sigma @ signs) / float(src_c.var(axis=0).sum())
    matrix = np.empty((2, 3), dtype=np.float64)
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = dst_mean - scale * rotation @ src_mean
    return matrix


def norm_crop(image: Image, landmarks: npt.ArrayLike, size: int = CROP_SIZE) -> Image:
    """Warp the face so its 5 landmarks land on the ArcFace template (sizexsize RGB uint8)."""
    template = ARCFACE_TEMPLATE.astype(np.float64) * (size / CROP_SIZE)
    matrix = estimate_similarity(np.asarray(landmarks, dtype=np.float64).reshape(5, 2), template)
    warped = cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=0.0)
    return np.asarray(warped, dtype=np.uint8)
