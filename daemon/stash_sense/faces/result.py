"""What an identification produces: persons, matches, evidence and timings."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class MatchInfo:
    """A performer proposed for a person."""

    universal_id: str
    endpoint: str  # stash-box domain, e.g. "stashdb.org"
    stash_id: str  # the id at that stash-box
    name: str
    confidence: float
    distance: float
    frames: int


@dataclass
class FaceEvidence:
    """One face of a person: where it was and a small crop to show a reviewer."""

    timestamp: float
    box: tuple[float, float, float, float]
    score: float
    crop_jpeg: bytes | None = field(default=None, repr=False)
    crop_id: int | None = None  # set once the crop is stored


@dataclass
class PersonResult:
    """One person seen in the scene."""

    index: int
    frame_count: int
    face_count: int
    best: MatchInfo | None
    alternatives: list[MatchInfo]
    reason: str
    evidence: list[FaceEvidence]


@dataclass
class SceneResult:
    """The identification of one video."""

    source: str  # safe to show: a local path or a redacted URL
    duration: float
    frames_requested: int
    frames_sampled: int
    faces_detected: int
    faces_kept: int
    persons: list[PersonResult]
    timings_ms: dict[str, float]
    database_version: str
    models_version: str
    matcher: str
    providers: dict[str, list[str]]

    @property
    def identified(self) -> list[PersonResult]:
        """Persons with a proposed performer."""
        return [p for p in self.persons if p.best is not None]

    @property
    def unknown(self) -> list[PersonResult]:
        """Persons without a performer."""
        return [p for p in self.persons if p.best is None]

    def to_json(self) -> dict[str, Any]:
        """Describe the result for the API and the store (crops by id, never bytes)."""
        data = asdict(self)
        for person in data["persons"]:
            for face in person["evidence"]:
                face.pop("crop_jpeg", None)
        data["unknown_persons"] = len(self.unknown)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SceneResult:
        """Rebuild a stored result (as `to_json` wrote it; crops are referenced by id)."""
        persons = [
            PersonResult(
                index=p["index"],
                frame_count=p["frame_count"],
                face_count=p["face_count"],
                best=MatchInfo(**p["best"]) if p["best"] is not None else None,
                alternatives=[MatchInfo(**a) for a in p["alternatives"]],
                reason=p["reason"],
                evidence=[
                    FaceEvidence(
                        timestamp=e["timestamp"],
                        box=tuple(e["box"]),
                        score=e["score"],
                        crop_id=e.get("crop_id"),
                    )
                    for e in p["evidence"]
                ],
            )
            for p in data["persons"]
        ]
        fields = {k: v for k, v in data.items() if k not in ("persons", "unknown_persons")}
        return cls(persons=persons, **fields)
