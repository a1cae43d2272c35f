"""Plain data passed between the stages of the face pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]  # H x W x 3, RGB
Vectors = npt.NDArray[np.float32]  # N x 512


class FaceError(Exception):
    """Base of the pipeline's errors; the message is one clear line for the job and the log."""


class VideoError(FaceError):
    """The video cannot be read: missing, corrupt, truncated, no video stream."""


class ModelError(FaceError):
    """A model file is missing, unreadable or has the wrong inputs/outputs (names the file)."""


class DatabaseError(FaceError):
    """The face database release is missing, inconsistent or fails its checksums."""


@dataclass(frozen=True)
class Frame:
    """One sampled video frame."""

    index: int  # position in the sampling plan, 0..N-1
    timestamp: float  # seconds from the start of the video
    image: Image  # rotation metadata already applied


@dataclass(frozen=True)
class SampledFrames:
    """The frames taken from one video and what it cost."""

    frames: list[Frame]
    duration: float
    width: int
    height: int
    codec: str
    decoded: int  # frames decoded in total (cost), not only those returned
    seeks: int
    decoder: str = "software"  # or the hardware device type that decoded ("cuda")


@dataclass(frozen=True)
class Detection:
    """One face found by the detector, in frame pixel coordinates."""

    box: tuple[float, float, float, float]  # x1, y1, x2, y2
    score: float
    # 5 x 2: left eye, right eye, nose, left mouth corner, right mouth corner (image left/right)
    landmarks: npt.NDArray[np.float32]

    @property
    def width(self) -> float:
        """Box width in pixels."""
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        """Box height in pixels."""
        return self.box[3] - self.box[1]


@dataclass(frozen=True)
class Face:
    """A detected face, aligned and ready to embed."""

    frame_index: int
    timestamp: float
    detection: Detection
    aligned: Image  # 112 x 112 x 3 RGB (ArcFace template)
    evidence: Image | None = None  # the face with a margin, at most 160 px, shown for review


@dataclass(frozen=True)
class Candidate:
    """One database face close to a query face."""

    universal_id: str  # "<domain>:<stash-box id>"
    face_index: int  # row in the indices and faces.json
    facenet_distance: float | None  # cosine distance, None when that model did not return it
    arcface_distance: float | None
    distance: float  # fused distance

    @property
    def confidence(self) -> float:
        """Turn the fused distance into a 0..1 confidence."""
        return min(1.0, max(0.0, 1.0 - self.distance))


@dataclass(frozen=True)
class FaceMatch:
    """A face with its database candidates, nearest first."""

    face_id: int  # position of the face in the scene's face list
    frame_index: int
    timestamp: float
    detection: Detection
    candidates: list[Candidate] = field(default_factory=list)


@dataclass(frozen=True)
class PerformerScore:
    """A performer proposed for a person, with the evidence behind it."""

    universal_id: str
    confidence: float  # 0..1
    distance: float  # the distance the confidence derives from
    frames: int  # distinct frames in which this performer matched
    score: float  # the matcher's ranking score (not comparable across matchers)


@dataclass(frozen=True)
class Person:
    """A cluster of faces believed to be one person, and who it is."""

    face_ids: list[int]  # indices into the scene's FaceMatch list
    frame_count: int  # distinct frames of the person
    best: PerformerScore | None  # None: unknown person (or abstained)
    alternatives: list[PerformerScore] = field(default_factory=list)
    reason: str = ""  # why best is None, or how it was decided
