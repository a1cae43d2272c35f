"""The demo's synthetic face kit, generated once into a cache folder and reused.

The kit is the tests' (`tests.faces.kit.build_kit`): stand-in models, a face-database
release where Alice is a red square and Bob a blue one, and clips. The demo adds two
clips of its own: Bob mostly (Alice briefly), and a green face nobody in the database has.
A stamp holding a digest of the code that draws the kit tells when the cache is stale.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.faces import kit as face_kit
from tests.faces import models, release, videos

STAMP = "kit.stamp"
# The code whose output is cached: any change to it regenerates the kit.
_SOURCES = (face_kit, models, release, videos)
BOB_LONG_SWITCH = 2.0  # seconds of Alice before Bob takes over


@dataclass(frozen=True)
class DemoKit:
    """Where the cached kit's parts are."""

    models_dir: Path
    database_dir: Path
    clips: dict[str, Path]  # clip name -> video file


CLIP_NAMES = ("alice-and-bob", "alice-long", "bob-long", "stranger")


def _digest() -> str:
    """Return a digest of the kit's drawing code and this module."""
    sha = hashlib.sha256()
    for path in [*(Path(str(m.__file__)) for m in _SOURCES), Path(__file__)]:
        sha.update(path.read_bytes())
    return sha.hexdigest()


def _layout(directory: Path) -> DemoKit:
    """Return the kit's paths inside `directory`."""
    return DemoKit(
        models_dir=directory / "models",
        database_dir=directory / "face-db",
        clips={name: directory / f"{name}.mp4" for name in CLIP_NAMES},
    )


def _stranger_frame(t: float) -> videos.Image:
    """Draw a green face (no one in the database) moving like the kit's faces."""
    x = 60 + int(40 * (t % 1.0))
    return videos.square_frame(x, 80, side=64, colour=models.PALETTE["green"], size=face_kit.SIZE)


def _build(directory: Path) -> None:
    """Write the whole kit into an empty `directory`."""
    kit = face_kit.build_kit(directory)
    kit.video.rename(directory / "alice-and-bob.mp4")
    # build_kit already wrote alice-long.mp4 under that name.
    face_kit.two_performer_video(directory / "bob-long.mp4", switch=BOB_LONG_SWITCH)
    videos.encode_video(
        directory / "stranger.mp4",
        _stranger_frame,
        fps=face_kit.FPS,
        size=face_kit.SIZE,
        duration=face_kit.DURATION,
        gop=face_kit.FPS * 2,
    )


def ensure_kit(cache: Path) -> tuple[DemoKit, bool]:
    """Return the cached kit, building it first when missing or stale; say if it was built."""
    digest = _digest()
    stamp = cache / STAMP
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == digest:
        return _layout(cache), False
    cache.parent.mkdir(parents=True, exist_ok=True)
    # Built beside the cache and swapped in whole: an interrupted build leaves no half kit.
    staging = Path(tempfile.mkdtemp(prefix=".kit-", dir=cache.parent))
    try:
        _build(staging)
        (staging / STAMP).write_text(digest, encoding="utf-8")
        shutil.rmtree(cache, ignore_errors=True)
        staging.rename(cache)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return _layout(cache), True
