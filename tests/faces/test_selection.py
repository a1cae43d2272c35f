"""Which faces a scene keeps: the size filter, the largest per frame, the sharpest per scene."""

from __future__ import annotations

import numpy as np

from stash_sense.faces.align import ARCFACE_TEMPLATE
from stash_sense.faces.selection import CROP_EDGE, cap_scene, evidence_crop, frame_faces, sharpness
from stash_sense.faces.types import Detection, Face, Frame


def detection(x: float, y: float, side: float, score: float = 0.9) -> Detection:
    """A square detection whose landmarks sit on the ArcFace template."""
    marks = (ARCFACE_TEMPLATE / 112.0 * side + np.array([x, y])).astype(np.float32)
    return Detection((x, y, x + side, y + side), score, marks)


def frame(width: int = 640, height: int = 480) -> Frame:
    rng = np.random.default_rng(0)
    return Frame(3, 1.5, rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def test_small_faces_are_dropped_and_the_largest_kept_in_detector_order() -> None:
    found = [
        detection(0, 0, 50, 0.99),
        detection(100, 0, 30, 0.98),  # below the minimum size
        detection(200, 0, 120, 0.97),
        detection(0, 200, 80, 0.96),
        detection(300, 200, 60, 0.95),
    ]
    detected, kept = frame_faces(frame(), found, min_size=40, max_faces=2)
    assert detected == 5
    # the two largest (120 and 80 px), still best score first
    assert [f.detection.box[2] - f.detection.box[0] for f in kept] == [120, 80]
    assert all(f.aligned.shape == (112, 112, 3) for f in kept)
    assert all(f.frame_index == 3 and f.timestamp == 1.5 for f in kept)


def test_without_a_cap_every_large_face_is_kept() -> None:
    found = [detection(10 * i, 10 * i, 40 + i) for i in range(5)]
    _, kept = frame_faces(frame(), found, min_size=40, max_faces=10)
    assert len(kept) == 5


def face(image: np.ndarray, index: int) -> Face:
    return Face(index, float(index), detection(0, 0, 112), image)


def test_the_scene_keeps_its_sharpest_faces_in_frame_order() -> None:
    rng = np.random.default_rng(1)
    flat = np.full((112, 112, 3), 128, dtype=np.uint8)
    noisy = rng.integers(0, 256, (112, 112, 3), dtype=np.uint8)
    blurred = np.repeat(np.repeat(noisy[::8, ::8], 8, axis=0), 8, axis=1)
    faces = [face(flat, 0), face(noisy, 1), face(blurred, 2), face(noisy, 3), face(flat, 4)]
    assert sharpness(noisy) > sharpness(blurred) > sharpness(flat) == 0.0
    kept = cap_scene(faces, 3)
    assert [f.frame_index for f in kept] == [1, 2, 3]
    assert cap_scene(faces, 5) is faces


def test_an_evidence_crop_is_a_small_copy_with_a_margin() -> None:
    image = frame(1920, 1080).image
    crop = evidence_crop(image, (500.0, 300.0, 900.0, 700.0))
    assert crop is not None
    assert max(crop.shape[:2]) == CROP_EDGE
    small = evidence_crop(image, (10.0, 10.0, 50.0, 50.0))
    assert small is not None and small.shape[:2] == (56, 56)  # 8 px (20 %) on each side
    assert not np.shares_memory(small, image)
    assert evidence_crop(image, (5000.0, 5000.0, 5100.0, 5100.0)) is None
