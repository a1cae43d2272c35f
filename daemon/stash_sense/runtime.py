"""The daemon-wide runtime objects, created with the app before any context starts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stash_sense.api.signing import UrlSigner
    from stash_sense.changes import ChangeHub
    from stash_sense.config import Config
    from stash_sense.queue import JobRegistry


@dataclass(frozen=True)
class DaemonRuntime:
    """Settings, start time, change hub, URL signer, API token and the job types."""

    config: Config
    started_at: float
    changes: ChangeHub
    signer: UrlSigner
    token: str
    registry: JobRegistry
