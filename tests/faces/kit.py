"""A complete synthetic face kit: models, a face-database release and videos.

Two "performers" live in the release: Alice (a red square) and Bob (a blue square),
with three database faces each (the palette vector plus a little noise), among 60
random performers. `two_performer_video` shows Alice in the first half of the clip and
Bob in the second half; with the daemon's 5-95 % sampling, `frames_with(colour)` tells
how many sampled frames show each.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.faces.models import PALETTE, build_models, palette_vectors
from tests.faces.release import FacePair, random_performers, write_release
from tests.faces.videos import encode_video, square_frame

ALICE = "stashdb.org:aaaaaaaa-0000-4000-8000-000000000001"
BOB = "stashdb.org:bbbbbbbb-0000-4000-8000-000000000002"
NAMES = {ALICE: "Alice", BOB: "Bob"}
COLOURS = {ALICE: "red", BOB: "blue"}
SIZE = (320, 240)
FPS = 10
DURATION = 10.0  # seconds; Alice until SWITCH, Bob after
SWITCH = 5.0
ALICE_LONG_SWITCH = 8.0


@dataclass(frozen=True)
class Kit:
    """Where the kit's parts are."""

    models_dir: Path
    database_dir: Path
    video: Path
    alice_long: Path  # Alice until ALICE_LONG_SWITCH, then Bob


def _faces(colour: str, rng: np.random.Generator) -> list[FacePair]:
    """Three database faces of one colour: the palette vector with slight noise."""
    facenet = palette_vectors("facenet")[colour]
    arcface = palette_vectors("arcface")[colour]
    return [
        (
            (facenet + rng.normal(0, 0.05, facenet.shape)).astype(np.float32),
            (arcface + rng.normal(0, 0.05, arcface.shape)).astype(np.float32),
        )
        for _ in range(3)
    ]


def build_kit(directory: Path) -> Kit:
    """Write models, a release and the two-performer video into `directory`."""
    rng = np.random.default_rng(5)
    models_dir = directory / "models"
    build_models(models_dir)
    performers = {ALICE: _faces("red", rng), BOB: _faces("blue", rng)}
    performers.update(random_performers(60, 3, seed=9))
    release = directory / "face-db"
    write_release(release, performers, names=NAMES)
    video = two_performer_video(directory / "two.mp4")
    alice_long = two_performer_video(directory / "alice-long.mp4", switch=ALICE_LONG_SWITCH)
    return Kit(models_dir, release, video, alice_long)


def frame_at(t: float, switch: float = SWITCH) -> np.ndarray:
    """Draw the clip at time t: Alice's square, then Bob's, moving a little."""
    colour = PALETTE["red" if t < switch else "blue"]
    x = 60 + int(40 * (t % 1.0))
    return square_frame(x, 80, side=64, colour=colour, size=SIZE)


def two_performer_video(path: Path, switch: float = SWITCH) -> Path:
    """Encode a clip showing Alice until `switch` seconds, then Bob."""
    return encode_video(
        path, lambda t: frame_at(t, switch), fps=FPS, size=SIZE, duration=DURATION, gop=FPS * 2
    )


def frames_with(
    colour: str, num_frames: int, start: float = 0.05, end: float = 0.95, switch: float = SWITCH
) -> int:
    """Count the planned sample times that show `colour`."""
    # The sampler aims at the centre of N equal cells of the 5-95 % window.
    first, last = DURATION * start, DURATION * end
    cell = (last - first) / num_frames
    times = [first + (i + 0.5) * cell for i in range(num_frames)]
    return sum(1 for t in times if (t < switch) == (colour == "red"))
