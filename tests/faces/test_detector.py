"""SCRFD letterbox, anchors, decode, NMS, and the detector on the synthetic model."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from stash_sense.faces.align import ARCFACE_TEMPLATE
from stash_sense.faces.detector import FaceDetector, anchor_centers, decode, letterbox, nms
from stash_sense.faces.runtime import InferenceRuntime, ModelSession
from stash_sense.faces.types import ModelError
from tests.faces.models import PALETTE, Signature, build_detector, build_signature

Square = tuple[int, int, int, tuple[int, int, int]]  # x, y, side, colour


def frame_with(squares: list[Square], size: tuple[int, int] = (1280, 720)) -> np.ndarray:
    width, height = size
    frame = np.full((height, width, 3), 70, np.uint8)
    for x, y, side, colour in squares:
        frame[y : y + side, x : x + side] = colour
    return frame


@pytest.fixture(scope="module")
def runtime() -> InferenceRuntime:
    return InferenceRuntime("cpu")


@pytest.fixture(scope="module")
def detector_session(
    runtime: InferenceRuntime, tmp_path_factory: pytest.TempPathFactory
) -> ModelSession:
    path = build_detector(tmp_path_factory.mktemp("det") / "det_500m.onnx")
    return runtime.load(path, name="detector")


@pytest.fixture(scope="module")
def detector(detector_session: ModelSession) -> FaceDetector:
    return FaceDetector(detector_session)


# ---------------------------------------------------------------------------------------------
# Pure functions


def test_anchor_centers_row_major_repeated_per_anchor() -> None:
    centers = anchor_centers(2, 3, 8)
    expected = [
        [0, 0], [0, 0], [8, 0], [8, 0], [16, 0], [16, 0],
        [0, 8], [0, 8], [8, 8], [8, 8], [16, 8], [16, 8],
    ]  # fmt: skip
    assert centers.dtype == np.float32
    assert centers.tolist() == expected
    assert anchor_centers(1, 2, 32, num_anchors=1).tolist() == [[0, 0], [32, 0]]
    assert anchor_centers(80, 80, 8).shape == (12800, 2)


def test_decode_pins_distances_threshold_and_landmarks() -> None:
    # input 32, stride 16: a 2x2 grid, 2 anchors → 8 rows with centres
    # (0,0) (0,0) (16,0) (16,0) (0,16) (0,16) (16,16) (16,16)
    scores = np.array([0.1, 0.5, 0.49, 0.9, 0, 0, 0.7, 0], np.float32).reshape(-1, 1)
    bbox = np.zeros((8, 4), np.float32)
    bbox[1] = [0.5, 0.25, 1.0, 2.0]
    bbox[3] = [1.0, 0.0, 0.5, 0.5]
    bbox[6] = [0.0, 1.0, 0.25, 0.0]
    kps = np.zeros((8, 10), np.float32)
    kps[1] = [1, 2, -1, 0.5, 0, 0, 0.25, 0.5, 3, -2]
    boxes, kept, marks = decode(scores, bbox, kps, 16, threshold=0.5, input_size=32)
    # 0.5 is kept (score ≥ threshold), 0.49 is not
    np.testing.assert_array_equal(kept, np.array([0.5, 0.9, 0.7], np.float32))
    assert boxes.tolist() == [
        [-8.0, -4.0, 16.0, 32.0],  # centre (0,0)
        [0.0, 0.0, 24.0, 8.0],  # centre (16,0)
        [16.0, 0.0, 20.0, 16.0],  # centre (16,16)
    ]
    assert marks.shape == (3, 5, 2)
    assert marks[0].tolist() == [[16, 32], [-16, 8], [0, 0], [4, 8], [48, -32]]
    assert marks[1].tolist() == [[16, 0]] * 5
    assert marks[2].tolist() == [[16, 16]] * 5


def test_decode_rejects_wrong_row_count() -> None:
    with pytest.raises(ValueError, match="stride 8"):
        decode(np.zeros(10), np.zeros((10, 4)), np.zeros((10, 10)), 8, threshold=0.5, input_size=32)


def test_nms_uses_plus_one_areas_and_keeps_equal_overlap() -> None:
    # With "+1" areas: A and B are 10x10 (100), overlap 4x10 = 40, IoU 40/160 = 0.25 exactly.
    # Without it, IoU would be 27/135 = 0.2.
    boxes = np.array([[0, 0, 9, 9], [6, 0, 15, 9], [100, 100, 120, 120]], np.float32)
    scores = np.array([0.9, 0.8, 0.7], np.float32)
    assert nms(boxes, scores, 0.25).tolist() == [0, 1, 2]  # kept when overlap ≤ threshold
    assert nms(boxes, scores, 0.22).tolist() == [0, 2]
    assert nms(boxes[::-1], scores[::-1], 0.22).tolist() == [2, 0]  # indices into the input
    assert nms(np.zeros((0, 4)), np.zeros(0), 0.4).tolist() == []


def test_nms_is_greedy_by_score() -> None:
    # B overlaps both; A and C do not overlap each other. B is best → A and C both go.
    boxes = np.array([[0, 0, 10, 10], [3, 0, 13, 10], [6, 0, 16, 10]], np.float32)
    assert nms(boxes, np.array([0.5, 0.9, 0.6]), 0.3).tolist() == [1]
    assert nms(boxes, np.array([0.9, 0.5, 0.8]), 0.3).tolist() == [0, 2]


@pytest.mark.parametrize(
    ("height", "width", "new_h", "new_w"),
    [(720, 1280, 360, 640), (1280, 720, 640, 360), (333, 1000, 213, 640), (640, 640, 640, 640)],
)
def test_letterbox_shapes_scale_and_values(height: int, width: int, new_h: int, new_w: int) -> None:
    rng = np.random.default_rng(height + width)
    image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    blob, det_scale = letterbox(image, 640)
    assert blob.shape == (1, 3, 640, 640) and blob.dtype == np.float32
    assert det_scale == new_h / height
    # The same as insightface: cv2 resize, top-left paste on black, blobFromImage with swapRB.
    canvas = np.zeros((640, 640, 3), np.uint8)
    canvas[:new_h, :new_w] = cv2.resize(image, (new_w, new_h))
    expected = cv2.dnn.blobFromImage(
        canvas, 1.0 / 128, (640, 640), (127.5, 127.5, 127.5), swapRB=True
    )
    np.testing.assert_array_equal(blob, expected)
    assert np.all(blob[:, :, new_h:, :] == -0.99609375)
    assert np.all(blob[:, :, :, new_w:] == -0.99609375)


def test_letterbox_feeds_rgb_through_swap_rb() -> None:
    red = np.zeros((64, 64, 3), np.uint8)
    red[:, :, 0] = 255  # RGB red
    blob, det_scale = letterbox(red, 64)
    assert det_scale == 1.0
    # Channel 0 gets the image's last channel (blue here): the reference's channel-order quirk.
    assert float(blob[0, 0, 0, 0]) == -0.99609375
    assert float(blob[0, 2, 0, 0]) == 0.99609375


# ---------------------------------------------------------------------------------------------
# The detector on the synthetic model


def assert_template_landmarks(landmarks: np.ndarray, x: float, y: float, side: float) -> None:
    expected = np.array([x, y]) + ARCFACE_TEMPLATE / 112.0 * side
    np.testing.assert_allclose(landmarks, expected, atol=1e-3)


def test_detects_coloured_squares_in_a_1280x720_frame(detector: FaceDetector) -> None:
    squares: list[Square] = [
        (100, 150, 128, PALETTE["red"]),
        (600, 300, 100, (200, 60, 60)),  # less saturated: lower score
        (1000, 80, 64, PALETTE["blue"]),
        (1200, 640, 100, PALETTE["green"]),  # runs off the bottom-right corner
    ]
    found = detector.detect(frame_with(squares))
    assert len(found) == 4
    assert [d.score for d in found] == sorted((d.score for d in found), reverse=True)
    assert found[-1].box == (600.0, 300.0, 700.0, 400.0)
    assert found[-1].score == pytest.approx(0.8670, abs=1e-4)
    by_box = {d.box: d for d in found}
    for x, y, side, colour in squares:
        right, bottom = min(x + side, 1280), min(y + side, 720)
        detection = by_box[(float(x), float(y), float(right), float(bottom))]
        assert detection.landmarks.shape == (5, 2) and detection.landmarks.dtype == np.float32
        if colour in PALETTE.values():
            assert detection.score == pytest.approx(0.9958, abs=1e-4)
        if (right, bottom) == (x + side, y + side):
            assert_template_landmarks(detection.landmarks, x, y, side)


def test_squares_anywhere_give_one_exact_box(detector: FaceDetector) -> None:
    rng = random.Random(5)
    for _ in range(6):
        side = rng.randrange(40, 260, 2)
        x, y = rng.randrange(0, 1280 - side, 2), rng.randrange(0, 720 - side, 2)
        found = detector.detect(frame_with([(x, y, side, PALETTE["cyan"])]))
        assert len(found) == 1
        assert found[0].box == (x, y, x + side, y + side)


def test_close_squares_stay_apart(detector: FaceDetector) -> None:
    found = detector.detect(
        frame_with([(200, 200, 120, PALETTE["red"]), (330, 200, 120, PALETTE["yellow"])])
    )
    assert sorted(d.box for d in found) == [(200, 200, 320, 320), (330, 200, 450, 320)]


def test_small_frame_at_320(detector_session: ModelSession) -> None:
    detector = FaceDetector(detector_session, input_size=320)
    found = detector.detect(frame_with([(101, 51, 64, PALETTE["red"])], size=(320, 240)))
    assert len(found) == 1
    assert found[0].box == (101.0, 51.0, 165.0, 115.0)
    assert_template_landmarks(found[0].landmarks, 101, 51, 64)


def test_odd_coordinates_are_within_one_frame_pixel_of_the_square(detector: FaceDetector) -> None:
    found = detector.detect(frame_with([(101, 77, 131, PALETTE["magenta"])]))
    assert len(found) == 1
    np.testing.assert_allclose(found[0].box, (101, 77, 232, 208), atol=2.0)


def test_empty_and_unsaturated_frames(detector: FaceDetector) -> None:
    assert detector.detect(np.zeros((720, 1280, 3), np.uint8)) == []
    noisy = np.random.default_rng(1).integers(60, 90, (720, 1280, 1), dtype=np.uint8)
    assert detector.detect(np.repeat(noisy, 3, axis=2)) == []


def test_threshold_and_batch(detector_session: ModelSession) -> None:
    frame = frame_with([(100, 100, 100, (200, 60, 60)), (500, 100, 100, PALETTE["red"])])
    strict = FaceDetector(detector_session, score_threshold=0.9)
    assert [d.box for d in strict.detect(frame)] == [(500, 100, 600, 200)]
    loose = FaceDetector(detector_session)
    assert not loose.batched  # batch-1 model: detect_batch loops
    frames = [frame, np.zeros((720, 1280, 3), np.uint8), frame]
    batch = loose.detect_batch(frames)
    assert [len(r) for r in batch] == [2, 0, 2]
    assert [d.box for d in batch[2]] == [d.box for d in loose.detect(frame)]


def test_outputs_are_matched_by_shape_not_order(detector: FaceDetector) -> None:
    frame = frame_with([(300, 200, 128, PALETTE["orange"])])
    blob, det_scale = letterbox(frame, 640)
    outputs = detector.session.run(blob)
    shuffled = outputs[::-1]
    expected = detector._postprocess(outputs, det_scale)
    again = detector._postprocess(shuffled, det_scale)
    assert [d.box for d in again] == [d.box for d in expected] == [(300, 200, 428, 328)]


# ---------------------------------------------------------------------------------------------
# Validation of the model's signature

SCRFD_OUTPUTS_640 = {
    f"{kind}_{stride}": [(640 // stride) ** 2 * 2, width]
    for kind, width in (("score", 1), ("bbox", 4), ("kps", 10))
    for stride in (8, 16, 32)
}


def load_signature(tmp_path: Path, inputs: Signature, outputs: Signature) -> ModelSession:
    path = build_signature(tmp_path / "det_500m.onnx", inputs, outputs)
    return InferenceRuntime("cpu").load(path, name="detector")


def test_fixed_size_model_accepted_at_its_size(tmp_path: Path) -> None:
    session = load_signature(tmp_path, {"input.1": [1, 3, 640, 640]}, SCRFD_OUTPUTS_640)
    FaceDetector(session, input_size=640)
    with pytest.raises(ModelError, match=r"det_500m\.onnx: expected input \(N,3,320,320\) NCHW"):
        FaceDetector(session, input_size=320)


def test_fixed_size_synthetic_model(tmp_path: Path) -> None:
    path = build_detector(tmp_path / "det_500m.onnx", input_size=320)
    session = InferenceRuntime("cpu").load(path, name="detector")
    assert session.outputs[0].shape == (3200, 1)
    found = FaceDetector(session, input_size=320).detect(frame_with([(12, 20, 80, PALETTE["red"])]))
    assert [d.box for d in found] == [(12, 20, 92, 100)]  # det_scale 0.25: multiples of 4


@pytest.mark.parametrize(
    ("inputs", "outputs", "message"),
    [
        ({"input.1": [1, 640, 640, 3]}, SCRFD_OUTPUTS_640, r"expected input \(N,3,640,640\) NCHW"),
        ({"input.1": [1, 1, None, None]}, SCRFD_OUTPUTS_640, r"got \(1,1,\?,\?\)"),
        (
            {"input.1": [1, 3, None, None]},
            dict(list(SCRFD_OUTPUTS_640.items())[:8]),
            "expected 9 outputs",
        ),
        (
            {"input.1": [1, 3, None, None]},
            {**SCRFD_OUTPUTS_640, "kps_32": [200, 12]},
            "ends in 12",
        ),
        (
            {"input.1": [1, 3, None, None]},
            {**SCRFD_OUTPUTS_640, "kps_32": [3200, 10]},
            "both kps of stride 16",
        ),
        (
            {"input.1": [1, 3, None, None]},
            {**SCRFD_OUTPUTS_640, "kps_32": [999, 10]},
            "999 rows",
        ),
        (
            {"input.1": [1, 3, None, None]},
            {**SCRFD_OUTPUTS_640, "kps_32": [800, 4]},
            "both bbox of stride 32",
        ),
        (
            {"input.1": [1, 3, None, None]},
            {**SCRFD_OUTPUTS_640, "kps_32": [None, 4]},
            "3 outputs each",
        ),
    ],
)
def test_wrong_signatures_name_the_file(
    tmp_path: Path, inputs: Signature, outputs: Signature, message: str
) -> None:
    session = load_signature(tmp_path, inputs, outputs)
    with pytest.raises(ModelError, match=message) as caught:
        FaceDetector(session)
    assert str(caught.value).startswith("det_500m.onnx: ")


def test_two_inputs_rejected(tmp_path: Path) -> None:
    session = load_signature(
        tmp_path, {"input.1": [1, 3, None, None], "extra": [1]}, SCRFD_OUTPUTS_640
    )
    with pytest.raises(ModelError, match="expected 1 input"):
        FaceDetector(session)


def test_input_size_must_be_a_multiple_of_32(detector_session: ModelSession) -> None:
    with pytest.raises(ValueError, match="multiple of 32"):
        FaceDetector(detector_session, input_size=600)


class BatchedDetectorSession(ModelSession):
    """The synthetic detector presented as a dynamic-batch model with (N, rows, width) outputs."""

    def __init__(self, inner: ModelSession) -> None:
        super().__init__(inner.session, path=inner.path, name=inner.name)
        self.inputs = [replace(self.inputs[0], shape=("N", 3, None, None))]
        self.outputs = [replace(o, shape=("N", *o.shape)) for o in self.outputs]
        self.batches: list[int] = []

    def run(
        self,
        inputs: Mapping[str, npt.NDArray[Any]] | npt.NDArray[Any],
        output_names: Sequence[str] | None = None,
    ) -> list[npt.NDArray[Any]]:
        assert isinstance(inputs, np.ndarray)
        self.batches.append(len(inputs))
        per_image = [super(BatchedDetectorSession, self).run(blob[None]) for blob in inputs]
        return [np.stack(outs) for outs in zip(*per_image, strict=True)]


def test_detect_batch_uses_one_call_on_a_batched_model(detector_session: ModelSession) -> None:
    session = BatchedDetectorSession(detector_session)
    detector = FaceDetector(session)
    assert detector.batched
    frames = [
        frame_with([(100, 100, 128, PALETTE["red"])]),
        frame_with([(64, 32, 96, PALETTE["blue"])], size=(640, 480)),
        np.zeros((720, 1280, 3), np.uint8),
    ]
    found = detector.detect_batch(frames)
    assert session.batches == [3]
    assert [[d.box for d in r] for r in found] == [[(100, 100, 228, 228)], [(64, 32, 160, 128)], []]
    assert [d.box for d in detector.detect(frames[0])] == [(100, 100, 228, 228)]
    assert session.batches == [3, 1]
