"""One scene on its way through the engine: the request, and what each stage added."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np

from stash_sense.engine.blocks import AttachedFrames, FrameBlock
from stash_sense.engine.decode import DecodeRequest
from stash_sense.faces.embedder import EMBEDDING_DIM
from stash_sense.faces.pipeline import CollectedFaces, FacePipeline
from stash_sense.faces.result import SceneResult
from stash_sense.faces.types import Face, FaceMatch, Vectors


@dataclass
class SceneRequest:
    """What the caller asks: one video, the pipeline snapshot to use, and how to report."""

    pipeline: FacePipeline
    source: str
    description: str
    http_headers: Mapping[str, str] | None = None
    tagged: Collection[str] = ()
    cancelled: Callable[[], bool] = lambda: False
    # Called from engine threads with a short message after each stage (must not block).
    on_stage: Callable[[str], None] = lambda message: None
    abandoned: threading.Event = field(default_factory=threading.Event)

    def stop_requested(self) -> bool:
        """Tell whether the caller cancelled the scene or stopped waiting for it."""
        return self.abandoned.is_set() or self.cancelled()

    def decode_request(self, block: FrameBlock) -> DecodeRequest:
        """Describe the frame sampling for a decoding process, writing into `block`."""
        config = self.pipeline.config
        return DecodeRequest(
            source=self.source,
            count=config.num_frames,
            start_fraction=config.start_fraction,
            end_fraction=config.end_fraction,
            http_headers=dict(self.http_headers) if self.http_headers else None,
            label=self.description,
            hwaccel=self.pipeline.models.decoder.hwaccel,
            detection_size=self.pipeline.models.detector.input_size,
            block=block.name,
            block_size=block.size,
        )


@dataclass(eq=False)
class Scene:
    """A request's state inside the engine (touched by one stage thread at a time)."""

    request: SceneRequest
    done: Future[SceneResult] = field(default_factory=Future)
    began: float = field(default_factory=time.perf_counter)
    timings: dict[str, float] = field(default_factory=dict)
    crashed: bool = False  # a decoding process died while holding this scene
    block: FrameBlock | None = None  # its frame slot, from decoding until its faces are cut
    frames: AttachedFrames | None = None
    frames_left: int = 0
    duration: float = 0.0
    frames_sampled: int = 0
    detected: int = 0
    faces: list[Face] = field(default_factory=list)
    facenet: Vectors = field(default_factory=lambda: _vectors(0))
    arcface: Vectors = field(default_factory=lambda: _vectors(0))
    embedded: int = 0
    matches: list[FaceMatch] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        """Tell whether the scene has its result or its error."""
        return self.done.done()

    def add_time(self, stage: str, seconds: float) -> None:
        """Charge this scene with its share of a stage's time."""
        self.timings[stage] = self.timings.get(stage, 0.0) + seconds * 1000

    def faces_found(self, faces: list[Face]) -> None:
        """Keep the scene's capped faces and make room for their embeddings."""
        self.faces = faces
        self.facenet = _vectors(len(faces))
        self.arcface = _vectors(len(faces))

    def collected(self) -> CollectedFaces:
        """Bundle the stages' output for matching."""
        timings = {stage: round(ms, 1) for stage, ms in self.timings.items()}
        return CollectedFaces(
            self.duration,
            self.frames_sampled,
            self.detected,
            self.faces,
            self.facenet,
            self.arcface,
            self.matches,
            timings,
            self.began,
        )

    def release_frames(self) -> None:
        """Drop the scene's frames (after detection, or when it stops early)."""
        if self.frames is not None:
            self.frames.release()
            self.frames = None


def _vectors(count: int) -> Vectors:
    """An empty (count, 512) block of embeddings."""
    return np.zeros((count, EMBEDDING_DIM), dtype=np.float32)
