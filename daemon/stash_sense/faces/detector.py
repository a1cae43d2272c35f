"""SCRFD face detector (insightface buffalo_sc det_500m.onnx): letterbox, decode, NMS."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from stash_sense.faces.runtime import ModelSession
from stash_sense.faces.types import Detection, Image

STRIDES = (8, 16, 32)
NUM_ANCHORS = 2
_WIDTHS = {1: "scores", 4: "bbox", 10: "kps"}

Floats = npt.NDArray[np.float32]


def letterbox(image: Image, size: int) -> tuple[Floats, float]:
    """Resize keeping the aspect into a sizexsize top-left black canvas; return blob and scale."""
    canvas, det_scale = letterbox_canvas(image, size)
    return canvas_blob(canvas[np.newaxis]), det_scale


def letterbox_canvas(image: Image, size: int) -> tuple[npt.NDArray[np.uint8], float]:
    """The detector's input before normalisation: (3, size, size) uint8, and the scale.

    Kept in bytes so a decoding process can prepare it and hand it over in a quarter of the
    memory of the float blob.
    """
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an H x W x 3 image, got shape {image.shape}")
    height, width = image.shape[:2]
    ratio = height / width
    if ratio > 1:
        new_h = size
        new_w = int(new_h / ratio)
    else:
        new_w = size
        new_h = int(new_w * ratio)
    det_scale = new_h / height
    canvas = np.zeros((size, size, 3), dtype=np.uint8)
    canvas[:new_h, :new_w] = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    # insightface swaps R and B here expecting BGR; the reference feeds RGB, so the network sees
    # BGR. We do the same, because the shipped face database was built that way.
    return np.ascontiguousarray(canvas[:, :, ::-1].transpose(2, 0, 1)), det_scale


def canvas_blob(canvases: npt.NDArray[np.uint8]) -> Floats:
    """Normalise (N, 3, S, S) uint8 canvases into the detector's float input."""
    blob = canvases.astype(np.float32)
    blob -= np.float32(127.5)
    blob /= np.float32(128.0)
    return blob


@functools.lru_cache(maxsize=32)
def anchor_centers(height: int, width: int, stride: int, num_anchors: int = NUM_ANCHORS) -> Floats:
    """List (x, y) anchor centres row by row, each repeated once per anchor (read-only)."""
    # The same few grids serve every frame: built once, not per frame and stride.
    ys, xs = np.mgrid[:height, :width]
    centers = np.stack([xs, ys], axis=-1).reshape(-1, 2).astype(np.float32) * np.float32(stride)
    grid = np.repeat(centers, num_anchors, axis=0)
    grid.flags.writeable = False
    return grid


def decode(
    scores: npt.ArrayLike,
    bbox: npt.ArrayLike,
    kps: npt.ArrayLike,
    stride: int,
    *,
    threshold: float,
    input_size: int | tuple[int, int],
) -> tuple[Floats, Floats, Floats]:
    """Turn one stride's raw outputs into boxes (K,4), scores (K,) and landmarks (K,5,2)."""
    in_h, in_w = (input_size, input_size) if isinstance(input_size, int) else input_size
    score = np.asarray(scores, dtype=np.float32).reshape(-1)
    distances = np.asarray(bbox, dtype=np.float32).reshape(-1, 4)
    offsets = np.asarray(kps, dtype=np.float32).reshape(-1, 5, 2)
    centers = anchor_centers(in_h // stride, in_w // stride, stride)
    if len(centers) != len(score):
        raise ValueError(f"stride {stride}: {len(score)} rows, expected {len(centers)}")
    keep = np.flatnonzero(score >= threshold)
    points = centers[keep]
    dist = distances[keep] * np.float32(stride)
    boxes = np.concatenate([points - dist[:, :2], points + dist[:, 2:]], axis=1)
    landmarks = points[:, np.newaxis, :] + offsets[keep] * np.float32(stride)
    return boxes.astype(np.float32), score[keep], landmarks.astype(np.float32)


def nms(boxes: npt.ArrayLike, scores: npt.ArrayLike, iou: float) -> npt.NDArray[np.intp]:
    """Greedy NMS with the "+1 pixel" area convention; keep boxes whose overlap is ≤ iou."""
    b = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    s = np.asarray(scores, dtype=np.float32).reshape(-1)
    x1, y1, x2, y2 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = np.argsort(-s, kind="stable")
    kept: list[int] = []
    while order.size > 0:
        i = int(order[0])
        kept.append(i)
        rest = order[1:]
        inter_w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + 1)
        inter_h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + 1)
        inter = inter_w * inter_h
        overlap = inter / (areas[i] + areas[rest] - inter)
        order = rest[overlap <= iou]
    return np.array(kept, dtype=np.intp)


class FaceDetector:
    """Find faces and their 5 landmarks with an SCRFD model."""

    def __init__(
        self,
        session: ModelSession,
        *,
        input_size: int = 640,
        score_threshold: float = 0.5,
        nms_threshold: float = 0.4,
    ) -> None:
        if input_size % max(STRIDES) != 0:
            raise ValueError(f"detection size must be a multiple of 32, got {input_size}")
        self.session = session
        self.input_size = input_size
        self.score_threshold = score_threshold
        self.nms_threshold = nms_threshold
        self._rows = {(input_size // s) * (input_size // s) * NUM_ANCHORS: s for s in STRIDES}
        self._validate()
        batch = session.inputs[0].shape[0]
        self.batched = not isinstance(batch, int) and len(session.outputs[0].shape) == 3

    def _validate(self) -> None:
        """Check the model has one NCHW 3-channel input and 9 SCRFD outputs."""
        s = self.session
        if len(s.inputs) != 1:
            raise s.error(f"expected 1 input (N,3,H,W) NCHW, got {len(s.inputs)}")
        size = self.input_size
        s.check_input(("N", 3, size, size), layout="NCHW")
        if len(s.outputs) != 3 * len(STRIDES):
            raise s.error(f"expected 9 outputs (3 strides x scores/bbox/kps), got {len(s.outputs)}")
        widths: list[int] = []
        seen: dict[tuple[int, int], str] = {}
        for info in s.outputs:
            if len(info.shape) not in (2, 3):
                raise s.error(f"output {info.name!r} has rank {len(info.shape)}, expected 2 or 3")
            width, rows = info.shape[-1], info.shape[-2]
            if not isinstance(width, int) or width not in _WIDTHS:
                raise s.error(f"output {info.name!r} ends in {width}, expected 1, 4 or 10")
            widths.append(width)
            if isinstance(rows, int) and rows >= 0:
                # Real exports often leave the rows symbolic; when fixed they name the stride.
                stride = self._rows.get(rows)
                if stride is None:
                    raise s.error(
                        f"output {info.name!r} has {rows} rows, matching none of the strides "
                        f"8/16/32 at input size {size}"
                    )
                if (width, stride) in seen:
                    raise s.error(
                        f"outputs {seen[width, stride]!r} and {info.name!r} are both "
                        f"{_WIDTHS[width]} of stride {stride}"
                    )
                seen[width, stride] = info.name
        counts = {_WIDTHS[w]: widths.count(w) for w in _WIDTHS}
        if any(n != len(STRIDES) for n in counts.values()):
            raise s.error(f"expected 3 outputs each of scores/bbox/kps, got {counts}")

    def _split(self, outputs: Sequence[npt.NDArray[Any]]) -> dict[int, list[Floats]]:
        """Sort one image's outputs into stride → [scores, bbox, kps] by width and row count."""
        found: dict[int, dict[int, Floats]] = {s: {} for s in STRIDES}
        for out in outputs:
            array = np.asarray(out, dtype=np.float32)
            width, rows = array.shape[-1], array.shape[-2]
            stride = self._rows.get(rows)
            if stride is None or width not in _WIDTHS:
                raise self.session.error(f"unexpected output shape {array.shape}")
            found[stride][width] = array.reshape(rows, width)
        try:
            return {s: [found[s][1], found[s][4], found[s][10]] for s in STRIDES}
        except KeyError as err:
            raise self.session.error("outputs do not cover every stride") from err

    def _postprocess(
        self, outputs: Sequence[npt.NDArray[Any]], det_scale: float
    ) -> list[Detection]:
        """Decode all strides, map back to frame pixels, sort by score and suppress overlaps."""
        boxes, scores, marks = [], [], []
        for stride, (score, bbox, kps) in self._split(outputs).items():
            b, sc, k = decode(
                score, bbox, kps, stride, threshold=self.score_threshold, input_size=self.input_size
            )
            boxes.append(b)
            scores.append(sc)
            marks.append(k)
        all_scores = np.concatenate(scores)
        if all_scores.size == 0:
            return []
        scale = np.float32(det_scale)
        all_boxes = np.concatenate(boxes) / scale
        all_marks = np.concatenate(marks) / scale
        order = np.argsort(-all_scores, kind="stable")
        all_boxes, all_scores, all_marks = all_boxes[order], all_scores[order], all_marks[order]
        kept = nms(all_boxes, all_scores, self.nms_threshold)
        return [
            Detection(
                box=(
                    float(all_boxes[i, 0]),
                    float(all_boxes[i, 1]),
                    float(all_boxes[i, 2]),
                    float(all_boxes[i, 3]),
                ),
                score=float(all_scores[i]),
                landmarks=all_marks[i].astype(np.float32),
            )
            for i in kept
        ]

    def detect(self, image: Image) -> list[Detection]:
        """Find the faces in one RGB frame, best score first, in frame pixel coordinates."""
        return self.detect_prepared([letterbox_canvas(image, self.input_size)])[0]

    def detect_batch(self, images: Sequence[Image]) -> list[list[Detection]]:
        """Detect faces in several frames, in one call when the model takes a batch."""
        return self.detect_prepared([letterbox_canvas(image, self.input_size) for image in images])

    def detect_prepared(
        self, prepared: Sequence[tuple[npt.NDArray[np.uint8], float]]
    ) -> list[list[Detection]]:
        """Detect faces in letterboxed canvases (see `letterbox_canvas`), batched if possible."""
        if not self.batched or len(prepared) <= 1:
            found = []
            for canvas, det_scale in prepared:
                outputs = self.session.run(canvas_blob(canvas[np.newaxis]))
                if self.batched:
                    outputs = [out[0] for out in outputs]
                found.append(self._postprocess(outputs, det_scale))
            return found
        outputs = self.session.run(canvas_blob(np.stack([canvas for canvas, _ in prepared])))
        return [
            self._postprocess([out[i] for out in outputs], det_scale)
            for i, (_, det_scale) in enumerate(prepared)
        ]
