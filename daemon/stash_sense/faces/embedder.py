"""FaceNet512 and ArcFace embeddings of aligned crops, with flip averaging."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from stash_sense.faces.runtime import ModelSession
from stash_sense.faces.types import Image, Vectors

EMBEDDING_DIM = 512
FACENET_SIZE = 160
ARCFACE_SIZE = 112

Floats = npt.NDArray[np.float32]


def fit_square(crop: Image, target: int) -> Floats:
    """Resize with INTER_AREA keeping the aspect and centre it on a black targetxtarget canvas."""
    height, width = crop.shape[:2]
    factor = min(target / height, target / width)
    new_h, new_w = int(height * factor), int(width * factor)
    resized = cv2.resize(crop, (new_w, new_h), interpolation=cv2.INTER_AREA)
    canvas = np.zeros((target, target, 3), dtype=np.float32)
    top, left = (target - new_h) // 2, (target - new_w) // 2
    canvas[top : top + new_h, left : left + new_w] = resized
    return canvas


def facenet_input(crops: Sequence[Image]) -> Floats:
    """Stack [orig₀, flip₀, orig₁, flip₁, …] at 160 px, normalised as (x - 127.5) / 127.5."""
    batch = _with_flips(crops, FACENET_SIZE)
    return (batch - np.float32(127.5)) / np.float32(127.5)


def arcface_input(crops: Sequence[Image]) -> Floats:
    """Stack [orig₀, flip₀, orig₁, flip₁, …] at 112 px, normalised as (x - 127.5) / 128."""
    batch = _with_flips(crops, ARCFACE_SIZE)
    return (batch - np.float32(127.5)) / np.float32(128.0)


def _with_flips(crops: Sequence[Image], target: int) -> Floats:
    """Resize each crop and its mirror image (flipped before resizing, as the reference does)."""
    images = []
    for crop in crops:
        images.append(fit_square(crop, target))
        images.append(fit_square(np.ascontiguousarray(crop[:, ::-1]), target))
    return np.stack(images)


def average_flips(outputs: npt.ArrayLike) -> Vectors:
    """Average each (original, flipped) pair of raw model outputs; no L2 normalisation."""
    raw = np.asarray(outputs, dtype=np.float32)
    return np.asarray((raw[0::2] + raw[1::2]) / np.float32(2.0), dtype=np.float32)


class FaceEmbedder:
    """Embed aligned 112x112 RGB crops with FaceNet512 and ArcFace, one call per model per batch."""

    def __init__(
        self, facenet: ModelSession, arcface: ModelSession, *, batch_size: int = 32
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.facenet = facenet
        self.arcface = arcface
        self.batch_size = batch_size
        for session, size in ((facenet, FACENET_SIZE), (arcface, ARCFACE_SIZE)):
            _validate(session, size)

    def embed(
        self, crops: Sequence[Image], *, batch_size: int | None = None
    ) -> tuple[Vectors, Vectors]:
        """Return (facenet (N,512), arcface (N,512)) raw flip-averaged embeddings."""
        size = batch_size or self.batch_size
        if len(crops) == 0:
            empty = np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
            return empty, empty.copy()
        for crop in crops:
            if crop.ndim != 3 or crop.shape[2] != 3:
                raise ValueError(f"expected H x W x 3 crops, got shape {crop.shape}")
        facenet_parts, arcface_parts = [], []
        for start in range(0, len(crops), size):
            chunk = crops[start : start + size]
            facenet_parts.append(self._run(self.facenet, facenet_input(chunk), len(chunk)))
            arcface_parts.append(self._run(self.arcface, arcface_input(chunk), len(chunk)))
        return np.concatenate(facenet_parts), np.concatenate(arcface_parts)

    @staticmethod
    def _run(session: ModelSession, batch: Floats, count: int) -> Vectors:
        """Run one model on 2·count images and average the flip pairs."""
        output = session.run(batch)[0]
        if output.shape != (2 * count, EMBEDDING_DIM):
            raise session.error(
                f"returned shape {output.shape}, expected ({2 * count}, {EMBEDDING_DIM})"
            )
        return average_flips(output)


def _validate(session: ModelSession, size: int) -> None:
    """Check an embedder takes NHWC (N,size,size,3) with a dynamic N and returns (N,512)."""
    info = session.check_input(("N", size, size, 3), layout="NHWC")
    if isinstance(info.shape[0], int) and info.shape[0] >= 0:
        raise session.error(
            f"expected input (N,{size},{size},3) with a dynamic batch N, "
            f"got a fixed {info.shape[0]}"
        )
    session.check_output(("N", EMBEDDING_DIM))
