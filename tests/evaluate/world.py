"""A tagged library whose performers appear (or not) in the videos by construction.

The face database holds Alice (red), Bob (blue), Alicia (a lookalike of Alice: the red vector
turned by about 30 degrees, so within max_distance of Alice's faces but never the nearest) and
random performers. Each scene of `SCENES` names the colours its video shows and the performers
it is tagged with; the planted truth of any threshold that keeps every shown performer follows:
hits = tagged & shown, false alarms = shown - tagged, misses = tagged - shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tests.faces.kit import ALICE, BOB, DURATION, FPS, SIZE, frame_at
from tests.faces.models import palette_vectors
from tests.faces.release import FacePair, random_performers, write_release
from tests.faces.videos import canvas, encode_video
from tests.fakes.stash.library import Library, Scene

ALICIA = "stashdb.org:cccccccc-0000-4000-8000-000000000003"
ENDPOINT = "https://stashdb.org/graphql"
NAMES = {ALICE: "Alice", BOB: "Bob", ALICIA: "Alicia"}


@dataclass(frozen=True)
class Planted:
    """One constructed scene: what its video shows and how it is tagged."""

    title: str
    video: str  # key of `Videos`
    shows: frozenset[str]
    tagged: frozenset[str]

    @property
    def near(self) -> frozenset[str]:
        """The database performers some face of the video comes within max_distance of."""
        return self.shows | {LOOKALIKES[uid] for uid in self.shows if uid in LOOKALIKES}


SCENES = (
    Planted("alice alone, tagged", "alice", frozenset({ALICE}), frozenset({ALICE})),
    Planted("both, both tagged", "two", frozenset({ALICE, BOB}), frozenset({ALICE, BOB})),
    Planted("both, only alice tagged", "two", frozenset({ALICE, BOB}), frozenset({ALICE})),
    Planted("nobody shows, bob tagged", "empty", frozenset(), frozenset({BOB})),
    Planted("bob shows, alice tagged", "bob", frozenset({BOB}), frozenset({ALICE})),
    # With the tagged boost (1.0 for clustered_frequency) Alicia would win Alice's person here.
    Planted("both show, lookalike tagged", "two", frozenset({ALICE, BOB}), frozenset({ALICIA})),
)
LOOKALIKES = {ALICE: ALICIA}  # shown performer -> a database performer within max_distance


@dataclass(frozen=True)
class Videos:
    """The folder with the release and the clips."""

    database_dir: Path
    clips: dict[str, Path]


def _unit(vector: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    return (vector / np.linalg.norm(vector)).astype(np.float32)


def _faces(model_colour: str, rng: np.random.Generator, turn: float = 0.0) -> list[FacePair]:
    """Three database faces near a colour's vector; `turn` mixes in a random direction."""
    pairs = []
    for _ in range(3):
        vectors = []
        for model in ("facenet", "arcface"):
            base = palette_vectors(model)[model_colour]
            noise = _unit(rng.standard_normal(base.shape).astype(np.float32)) * 10
            mixed = np.cos(turn) * base + np.sin(turn) * noise
            vectors.append((mixed + rng.normal(0, 0.05, base.shape)).astype(np.float32))
        pairs.append((vectors[0], vectors[1]))
    return pairs


def _clip(path: Path, draw: Callable[[float], npt.NDArray[np.uint8]]) -> Path:
    return encode_video(path, draw, fps=FPS, size=SIZE, duration=DURATION, gop=FPS * 2)


def build_videos(directory: Path) -> Videos:
    """Write the release and the four clips."""
    rng = np.random.default_rng(11)
    performers = {
        ALICE: _faces("red", rng),
        BOB: _faces("blue", rng),
        ALICIA: _faces("red", rng, turn=0.55),
    }
    performers.update(random_performers(20, 2, seed=3))
    release = directory / "face-db"
    write_release(release, performers, names=NAMES)
    clips = {
        "alice": _clip(directory / "alice.mp4", lambda t: frame_at(t, switch=DURATION + 1)),
        "bob": _clip(directory / "bob.mp4", lambda t: frame_at(t, switch=-1.0)),
        "two": _clip(directory / "two.mp4", frame_at),
        "empty": _clip(directory / "empty.mp4", lambda t: canvas(SIZE)),
    }
    return Videos(release, clips)


def add_library(library: Library, videos: Videos) -> dict[str, list[Scene]]:
    """Add the planted scenes and the scenes without usable truth; return them by kind."""
    performers = {
        uid: library.add_performer(name, stash_ids=[(ENDPOINT, uid.partition(":")[2])])
        for uid, name in NAMES.items()
    }
    planted = [
        library.add_scene(
            title=p.title,
            path=str(videos.clips[p.video]),
            performers=[performers[uid] for uid in sorted(p.tagged)],
        )
        for p in SCENES
    ]
    unlinked = library.add_performer("Nobody Linked")
    elsewhere = library.add_performer("Fan", stash_ids=[("https://fansdb.cc/graphql", "f-1")])
    clip = str(videos.clips["alice"])
    return {
        "planted": planted,
        "no tagged performers": [library.add_scene(title="untagged", path=clip)],
        "a tagged performer has no stash-box link": [
            library.add_scene(title="unlinked", path=clip, performers=[performers[ALICE], unlinked])
        ],
        "a tagged performer's stash-box is not in the face database": [
            library.add_scene(title="fansdb", path=clip, performers=[elsewhere])
        ],
        "no video file": [
            library.add_scene(title="fileless", with_file=False, performers=[performers[BOB]])
        ],
    }
