"""The Stash connection's runtime objects, published by its start-up context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stash_sense.stash.client import StashClient
    from stash_sense.stash.monitor import StashStatus


@dataclass(frozen=True)
class StashRuntime:
    """The Stash client and what the monitor last saw of Stash."""

    client: StashClient
    status: StashStatus
