"""The face database installer's runtime objects, published by its start-up context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stash_sense.facedb.service import FaceDbService


@dataclass(frozen=True)
class FaceDbRuntime:
    """The installer service."""

    service: FaceDbService
