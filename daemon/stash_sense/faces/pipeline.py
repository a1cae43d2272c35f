"""Run the stages: frames -> faces -> embeddings -> candidates -> persons.

Everything here is synchronous and CPU/GPU bound: callers run `identify` in an
executor, never on the event loop. The models and the database are loaded once
(`FaceModels`, `FaceDatabase`) and shared by every identification.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from stash_sense.config import FacesConfig
from stash_sense.faces.clustering import cluster_faces, merge_by_best_match
from stash_sense.faces.database import FaceDatabase, split_universal_id
from stash_sense.faces.detector import FaceDetector
from stash_sense.faces.embedder import ARCFACE_SIZE, FACENET_SIZE, FaceEmbedder
from stash_sense.faces.frames import sample_frames
from stash_sense.faces.hwdecode import DecodeChoice, choose_decoder
from stash_sense.faces.matchers import get_matcher
from stash_sense.faces.result import FaceEvidence, MatchInfo, PersonResult, SceneResult
from stash_sense.faces.runtime import TENSORRT, GpuOptions, InferenceRuntime
from stash_sense.faces.search import search_faces
from stash_sense.faces.selection import cap_scene, encode_jpeg, frame_faces
from stash_sense.faces.types import (
    Candidate,
    Detection,
    Face,
    FaceError,
    FaceMatch,
    Frame,
    PerformerScore,
    Person,
    Vectors,
)

DETECTOR_FILE = "det_500m.onnx"
FACENET_FILE = "facenet512.onnx"
ARCFACE_FILE = "arcface.onnx"
MODEL_FILES = (DETECTOR_FILE, FACENET_FILE, ARCFACE_FILE)
EVIDENCE_PER_PERSON = 3

_LOGGER = logging.getLogger(__name__)


class Cancelled(FaceError):
    """The caller asked the identification to stop."""


@dataclass(frozen=True)
class CollectedFaces:
    """A video's faces with their embeddings and database candidates, before matching."""

    duration: float  # seconds
    frames_sampled: int
    detected: int  # faces the detector found, before the size filter and the caps
    faces: list[Face]
    facenet: Vectors
    arcface: Vectors
    matches: list[FaceMatch]
    timings_ms: dict[str, float]
    began: float  # perf_counter reading at the start


@dataclass
class FaceModels:
    """The three ONNX models, loaded once on one inference runtime, and how video is decoded."""

    runtime: InferenceRuntime
    detector: FaceDetector
    embedder: FaceEmbedder
    version: str  # changes when any model file changes
    warm_up_ms: dict[str, float] = field(default_factory=dict)
    decoder: DecodeChoice = field(
        default_factory=lambda: DecodeChoice("off", "software", "hardware_decode is off")
    )

    @classmethod
    def load(cls, models_dir: Path, config: FacesConfig, *, shared: bool = False) -> FaceModels:
        """Load, validate and warm up the models (raises ModelError naming the file).

        `shared`: other stages run beside inference (the engine), so idle threads yield.
        """
        runtime = InferenceRuntime(
            config.execution_provider,
            gpu=GpuOptions.from_config(config),
            io_binding=config.io_binding,
            allow_spinning=not shared,
        )
        detector = FaceDetector(
            runtime.load(models_dir / DETECTOR_FILE, name="detector"),
            input_size=config.detection_size,
            score_threshold=config.detection_threshold,
            nms_threshold=config.nms_threshold,
        )
        embedder = FaceEmbedder(
            runtime.load(models_dir / FACENET_FILE, name="facenet"),
            runtime.load(models_dir / ARCFACE_FILE, name="arcface"),
            batch_size=config.embedding_batch_size,
        )
        models = cls(runtime, detector, embedder, models_version(models_dir))
        if config.warm_up:
            models.warm_up()
        # Probed once per load; the choice is plain data that worker processes can take along.
        models.decoder = choose_decoder(config.hardware_decode, config.cuda_device)
        return models

    def warm_up(self) -> None:
        """Run every model once on zeros of its real input shape and record the time."""
        size = self.detector.input_size
        shapes: dict[str, list[tuple[int, ...]]] = {"detector": [(1, 3, size, size)]}
        for name, session, edge in (
            ("facenet", self.embedder.facenet, FACENET_SIZE),
            ("arcface", self.embedder.arcface, ARCFACE_SIZE),
        ):
            # One face is two images (the crop and its mirror image).
            batches = [2]
            if TENSORRT in session.providers[:1]:
                # TensorRT builds for the range of batch sizes it has seen; show it the largest
                # now, so no scene triggers a rebuild (minutes) part-way.
                batches.append(2 * self.embedder.batch_size)
            shapes[name] = [(n, edge, edge, 3) for n in batches]
        sessions = {
            "detector": self.detector.session,
            "facenet": self.embedder.facenet,
            "arcface": self.embedder.arcface,
        }
        self.warm_up_ms = {name: sessions[name].warm_up(shapes[name]) for name in sessions}
        _LOGGER.info(
            "Models warmed up in %s",
            ", ".join(f"{name} {ms:g} ms" for name, ms in self.warm_up_ms.items()),
        )


def models_version(models_dir: Path) -> str:
    """Fingerprint the model files by name, size and modification time."""
    digest = hashlib.sha256()
    for name in MODEL_FILES:
        stat = (models_dir / name).stat()
        digest.update(f"{name}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()[:12]


class FacePipeline:
    """Identify the performers in one video."""

    def __init__(self, models: FaceModels, database: FaceDatabase, config: FacesConfig) -> None:
        self.models = models
        self.database = database
        self.config = config

    @property
    def version(self) -> str:
        """Identify what a result depends on: models, database, matcher and its settings."""
        c = self.config
        settings = (
            f"{c.num_frames}|{c.start_fraction}|{c.end_fraction}|{c.detection_size}|"
            f"{c.detection_threshold}|{c.nms_threshold}|{c.min_face_size}|{c.query_k}|"
            f"{c.facenet_weight}|{c.max_distance}|{c.cluster_threshold}|{c.matcher}|{c.top_k}|"
            f"{c.min_confidence}|{c.tagged_boost}|{c.min_frames}|{c.min_margin}|"
            f"{c.max_faces_per_frame}|{c.max_faces_per_scene}"
        )
        digest = hashlib.sha256(settings.encode()).hexdigest()[:8]
        return f"{self.database.version}/{self.models.version}/{digest}"

    def collect(
        self,
        source: str,
        *,
        http_headers: Mapping[str, str] | None = None,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> CollectedFaces:
        """Run the stages up to the database search: frames, faces, embeddings, candidates."""
        config = self.config
        timings: dict[str, float] = {}
        began = time.perf_counter()

        sampled = sample_frames(
            source,
            count=config.num_frames,
            start_fraction=config.start_fraction,
            end_fraction=config.end_fraction,
            http_headers=http_headers,
            hwaccel=self.models.decoder.hwaccel,
        )
        timings["frames"] = _ms(began)
        _check(cancelled)

        stage = time.perf_counter()
        detected, faces = self._faces(sampled.frames, cancelled)
        timings["detect"] = _ms(stage)

        stage = time.perf_counter()
        facenet, arcface = self.models.embedder.embed([f.aligned for f in faces])
        timings["embed"] = _ms(stage)
        _check(cancelled)

        stage = time.perf_counter()
        matches = self.search(faces, facenet, arcface)
        timings["search"] = _ms(stage)
        return CollectedFaces(
            sampled.duration,
            len(sampled.frames),
            detected,
            faces,
            facenet,
            arcface,
            matches,
            timings,
            began,
        )

    def search(self, faces: list[Face], facenet: Vectors, arcface: Vectors) -> list[FaceMatch]:
        """Look every face up in the face database, nearest candidates first."""
        return face_matches(faces, self.candidates(facenet, arcface))

    def candidates(self, facenet: Vectors, arcface: Vectors) -> list[list[Candidate]]:
        """Find each embedded face's nearest database faces (one batched query per index)."""
        config = self.config
        return search_faces(
            self.database,
            facenet,
            arcface,
            k=config.query_k,
            facenet_weight=config.facenet_weight,
            max_distance=config.max_distance,
            max_results=self.max_results,
        )

    @property
    def max_results(self) -> int:
        """Candidates kept per face: a face may list one performer several times."""
        return max(2 * self.config.top_k, 10)

    def identify(
        self,
        source: str,
        *,
        description: str | None = None,
        http_headers: Mapping[str, str] | None = None,
        tagged: Collection[str] = (),
        cancelled: Callable[[], bool] = lambda: False,
    ) -> SceneResult:
        """Run every stage on a local file or stream URL and return the result."""
        found = self.collect(source, http_headers=http_headers, cancelled=cancelled)
        return self.conclude(found, description=description or source, tagged=tagged)

    def conclude(
        self, found: CollectedFaces, *, description: str, tagged: Collection[str] = ()
    ) -> SceneResult:
        """Cluster the faces into persons, match them, and describe the result."""
        config = self.config
        timings = found.timings_ms
        stage = time.perf_counter()
        clusters = merge_by_best_match(
            cluster_faces(found.facenet, found.arcface, threshold=config.cluster_threshold),
            found.matches,
        )
        persons = get_matcher(config.matcher)(
            found.matches,
            clusters,
            top_k=config.top_k,
            max_distance=config.max_distance,
            min_confidence=config.min_confidence,
            tagged_boost=config.tagged_boost,
            tagged=tagged,
            min_frames=config.min_frames,
            min_margin=config.min_margin,
        )
        timings["match"] = _ms(stage)

        stage = time.perf_counter()
        results = [
            self._person_result(i, person, found.matches, found.faces)
            for i, person in enumerate(persons)
        ]
        timings["evidence"] = _ms(stage)
        timings["total"] = _ms(found.began)
        return SceneResult(
            source=description,
            duration=found.duration,
            frames_requested=config.num_frames,
            frames_sampled=found.frames_sampled,
            faces_detected=found.detected,
            faces_kept=len(found.faces),
            persons=results,
            timings_ms=timings,
            database_version=self.database.version,
            models_version=self.models.version,
            matcher=config.matcher,
            providers=self.models.runtime.providers_report(),
        )

    def keep_faces(self, frame: Frame, detections: list[Detection]) -> tuple[int, list[Face]]:
        """Size-filter, cap and align one frame's detections; return (detected, kept)."""
        return frame_faces(
            frame,
            detections,
            min_size=self.config.min_face_size,
            max_faces=self.config.max_faces_per_frame,
        )

    def cap_faces(self, faces: list[Face]) -> list[Face]:
        """Keep at most the configured number of faces per scene, the sharpest."""
        return cap_scene(faces, self.config.max_faces_per_scene)

    def _faces(self, frames: list[Frame], cancelled: Callable[[], bool]) -> tuple[int, list[Face]]:
        """Detect, size-filter, cap and align the faces of every frame."""
        detected = 0
        faces: list[Face] = []
        for frame in frames:
            _check(cancelled)
            found, kept = self.keep_faces(frame, self.models.detector.detect(frame.image))
            detected += found
            faces.extend(kept)
        return detected, self.cap_faces(faces)

    def _person_result(
        self,
        index: int,
        person: Person,
        matches: list[FaceMatch],
        faces: list[Face],
    ) -> PersonResult:
        """Describe a person with its matches and a few evidence crops."""
        # Show the clearest faces: highest detector score first.
        shown = sorted(person.face_ids, key=lambda i: matches[i].detection.score, reverse=True)
        evidence = [
            FaceEvidence(
                timestamp=matches[i].timestamp,
                box=matches[i].detection.box,
                score=matches[i].detection.score,
                crop_jpeg=encode_jpeg(faces[i].evidence),
            )
            for i in shown[:EVIDENCE_PER_PERSON]
        ]
        return PersonResult(
            index=index,
            frame_count=person.frame_count,
            face_count=len(person.face_ids),
            best=self._match_info(person.best) if person.best else None,
            alternatives=[self._match_info(a) for a in person.alternatives],
            reason=person.reason,
            evidence=evidence,
        )

    def _match_info(self, score: PerformerScore) -> MatchInfo:
        """Attach the performer's name and endpoint to a matcher score."""
        endpoint, stash_id = split_universal_id(score.universal_id)
        info = self.database.performers.get(score.universal_id)
        return MatchInfo(
            universal_id=score.universal_id,
            endpoint=endpoint,
            stash_id=stash_id,
            name=info.name if info else "Unknown",
            confidence=round(score.confidence, 4),
            distance=round(score.distance, 4),
            frames=score.frames,
        )


def face_matches(faces: list[Face], candidates: list[list[Candidate]]) -> list[FaceMatch]:
    """Pair each face with its candidates; a face's id is its position in the scene."""
    return [
        FaceMatch(i, face.frame_index, face.timestamp, face.detection, found)
        for i, (face, found) in enumerate(zip(faces, candidates, strict=True))
    ]


def _check(cancelled: Callable[[], bool]) -> None:
    """Stop between stages when asked."""
    if cancelled():
        raise Cancelled("identification cancelled")


def _ms(since: float) -> float:
    """Milliseconds since a perf_counter reading."""
    return round((time.perf_counter() - since) * 1000, 1)
