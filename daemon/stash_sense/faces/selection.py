"""Choose which detected faces a scene keeps, and cut the crops shown as evidence.

Both identification paths (one scene at a time, and the pipelined engine) call these, so
they keep the same faces and show the same crops.

Caps. A detector with bad weights, or a crowd scene, can return hundreds of faces per frame;
embedding them all would make one scene cost minutes. So each frame keeps its
`max_faces_per_frame` largest faces (a bigger face is a closer, more useful one), and the
scene then keeps its `max_faces_per_scene` sharpest (variance of the Laplacian of the
aligned crop: blur and compression smear lower it). Faces stay in frame order.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from stash_sense.faces.align import norm_crop
from stash_sense.faces.types import Detection, Face, Frame, Image

CROP_EDGE = 160  # pixels of the longest side of an evidence crop
_EVIDENCE_MARGIN = 0.2  # of the box's longer side, on each side


def frame_faces(
    frame: Frame,
    detections: Sequence[Detection],
    *,
    min_size: float,
    max_faces: int,
) -> tuple[int, list[Face]]:
    """Size-filter, cap (largest first) and align one frame's faces; return (detected, kept)."""
    large = [d for d in detections if d.width >= min_size and d.height >= min_size]
    if len(large) > max_faces:
        # Keep the detector's order among the kept faces (best score first).
        ranked = sorted(range(len(large)), key=lambda i: -large[i].width * large[i].height)
        large = [large[i] for i in sorted(ranked[:max_faces])]
    faces = [
        Face(
            frame.index,
            frame.timestamp,
            detection,
            norm_crop(frame.image, detection.landmarks),
            evidence_crop(frame.image, detection.box),
        )
        for detection in large
    ]
    return len(detections), faces


def sharpness(crop: Image) -> float:
    """Variance of the Laplacian of a crop's grey image (higher is sharper)."""
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def cap_scene(faces: list[Face], max_faces: int) -> list[Face]:
    """Keep a scene's `max_faces` sharpest faces, in their original order."""
    if len(faces) <= max_faces:
        return faces
    scores = [sharpness(face.aligned) for face in faces]
    ranked = sorted(range(len(faces)), key=lambda i: -scores[i])
    return [faces[i] for i in sorted(ranked[:max_faces])]


def evidence_crop(image: Image, box: tuple[float, float, float, float]) -> Image | None:
    """Cut the face with a margin and shrink it to at most CROP_EDGE pixels (a copy)."""
    height, width = image.shape[:2]
    x1, y1, x2, y2 = box
    margin = _EVIDENCE_MARGIN * max(x2 - x1, y2 - y1)
    left, top = max(int(x1 - margin), 0), max(int(y1 - margin), 0)
    right, bottom = min(int(x2 + margin), width), min(int(y2 + margin), height)
    if right <= left or bottom <= top:
        return None
    crop = image[top:bottom, left:right]
    scale = CROP_EDGE / max(crop.shape[:2])
    if scale < 1:
        size = (max(int(crop.shape[1] * scale), 1), max(int(crop.shape[0] * scale), 1))
        return np.asarray(cv2.resize(crop, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
    # A copy: the frame may live in shared memory that is released after detection.
    return np.array(crop, dtype=np.uint8)


def encode_jpeg(crop: Image | None) -> bytes | None:
    """Encode an RGB crop as JPEG (quality 85)."""
    if crop is None:
        return None
    ok, data = cv2.imencode(
        ".jpg", cv2.cvtColor(crop, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85]
    )
    return bytes(data) if ok else None
