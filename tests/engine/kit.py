"""A small backlog of scenes for the engine tests, built from the synthetic face kit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from stash_sense.config import EngineConfig, FacesConfig
from stash_sense.faces.result import SceneResult
from stash_sense.identify.service import FaceService
from tests.faces.kit import DURATION, Kit, two_performer_video
from tests.faces.videos import canvas, encode_video


def backlog_videos(directory: Path, face_kit: Kit) -> dict[str, Path]:
    """Scenes with Alice and Bob, Alice only, Bob only, and nobody."""
    directory.mkdir(parents=True, exist_ok=True)
    return {
        "both": face_kit.video,
        "mostly-alice": face_kit.alice_long,
        "alice": two_performer_video(directory / "alice.mp4", switch=DURATION + 1),
        "bob": two_performer_video(directory / "bob.mp4", switch=0.0),
        "nobody": encode_video(directory / "nobody.mp4", lambda t: canvas(), fps=10, duration=4),
    }


def faces_config(face_kit: Kit, **overrides: object) -> FacesConfig:
    """The kit's models and release, with a light sampling."""
    settings: dict[str, object] = {
        "models_dir": str(face_kit.models_dir),
        "database_dir": str(face_kit.database_dir),
        "num_frames": 12,
        "detection_size": 320,
        "warm_up": False,
    }
    settings.update(overrides)
    return FacesConfig(**settings)  # type: ignore[arg-type]


@contextmanager
def face_service(
    face_kit: Kit, cache: Path, *, mode: str, faces: FacesConfig | None = None, **engine: int
) -> Iterator[FaceService]:
    """A face service identifying through the engine (`pipelined`) or one scene at a time."""
    service = FaceService(
        faces or faces_config(face_kit),
        cache_file=cache,
        engine=EngineConfig(mode=mode, **engine),
    )
    try:
        yield service
    finally:
        service.close()


def named(result: SceneResult) -> list[str]:
    """The performers a result names, sorted."""
    return sorted(p.best.universal_id for p in result.persons if p.best is not None)
