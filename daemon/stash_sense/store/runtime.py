"""The store's runtime objects, published by its start-up context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stash_sense.store.database import Database


@dataclass(frozen=True)
class StoreRuntime:
    """The open database."""

    database: Database
