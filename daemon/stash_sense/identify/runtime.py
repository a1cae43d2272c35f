"""The identification domain's runtime objects, published by its start-up context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stash_sense.identify.job import SceneIdentifier
    from stash_sense.identify.service import FaceService
    from stash_sense.identify.store import IdentificationStore
    from stash_sense.scenes import SceneLedger


@dataclass(frozen=True)
class IdentifyRuntime:
    """The face service, stored results, the scene ledger and the scene identifier."""

    faces: FaceService
    results: IdentificationStore
    ledger: SceneLedger
    identifier: SceneIdentifier
