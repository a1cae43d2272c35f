"""The fake Stash's library: what the user already has, and the scenes a scan brings."""

from __future__ import annotations

import base64
import io
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from tests.demo.kit import DemoKit
from tests.faces.kit import ALICE, BOB, COLOURS, DURATION, FPS, NAMES, SIZE
from tests.faces.models import PALETTE
from tests.faces.videos import GREY
from tests.fakes.stash.library import Library

# The face database names stash-box performers "stashdb.org:<id>"; with no stash-box
# configured in Stash the daemon maps that domain to this endpoint and never calls it.
STASHDB = "https://stashdb.org/graphql"


@dataclass(frozen=True)
class SceneSpec:
    """A scene of the demo: its title and the clip its file shows."""

    title: str
    clip: str


# Already in the library, with the performers the user tagged by hand.
EXISTING = (
    (SceneSpec("Morning walk", "alice-and-bob"), (ALICE, BOB)),
    (SceneSpec("Studio session", "alice-long"), (ALICE,)),
)
# Brought by scans, in turn: each shows a different outcome.
NEW = (
    SceneSpec("Rooftop interview", "alice-long"),  # Alice applied, Bob for review
    SceneSpec("Kitchen talk", "bob-long"),  # Bob applied, Alice for review
    SceneSpec("Garden party", "alice-and-bob"),  # both applied
    SceneSpec("A stranger drops by", "stranger"),  # a face nobody knows
)


def _file_fields(kit: DemoKit, clip: str, media: Path, title: str) -> dict[str, Any]:
    """Copy a clip into the media folder under the scene's name; return its file fields."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    path = media / f"{slug}.mp4"
    media.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(kit.clips[clip], path)
    width, height = SIZE
    return {
        "path": str(path),
        "duration": DURATION,
        "width": width,
        "height": height,
        "frame_rate": float(FPS),
    }


def portrait(colour: str) -> str:
    """Return a performer image as Stash stores one: a data URL (their face on grey)."""
    image = Image.new("RGB", (96, 96), GREY)
    image.paste(PALETTE[colour], (16, 16, 80, 80))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def seed(library: Library, kit: DemoKit, media: Path) -> None:
    """Add the performers and the scenes the user already has."""
    performers = {
        uid: library.add_performer(
            NAMES[uid],
            stash_ids=[(STASHDB, uid.partition(":")[2])],
            image=portrait(COLOURS[uid]),
        )
        for uid in (ALICE, BOB)
    }
    for spec, tagged in EXISTING:
        library.add_scene(
            title=spec.title,
            performers=[performers[uid] for uid in tagged],
            **_file_fields(kit, spec.clip, media, spec.title),
        )


def new_scenes(kit: DemoKit, media: Path, first: int, count: int) -> list[dict[str, Any]]:
    """Return `count` scenes for a scan (`simulate_scan` specs), starting at the `first`th."""
    specs = []
    for number in range(first, first + count):
        spec = NEW[number % len(NEW)]
        lap = number // len(NEW)
        title = spec.title if lap == 0 else f"{spec.title} ({lap + 1})"
        specs.append({"title": title, **_file_fields(kit, spec.clip, media, title)})
    return specs
