"""The payload of an upstream change item: one entity's changed fields."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldChange:
    """One changed field: what local has, what upstream has now, what upstream had before.

    Link fields (a studio, performers, tags, a parent studio) hold refs
    `{id, name[, as][, local_id]}` whose `id` is the stash-box id; `added` lists what
    accepting links (with the local entity found for it, `local_id` None when there is
    none) and `removed` what it unlinks.
    """

    field: str
    label: str
    merge: str
    local: Any
    upstream: Any
    previous: Any
    added: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    removed: list[dict[str, Any]] = dataclasses.field(default_factory=list)


@dataclass(frozen=True)
class UpstreamChangesPayload:
    """The upstream changes of one linked entity not yet applied locally."""

    entity_type: str
    local_id: str
    local_name: str | None
    endpoint: str
    endpoint_name: str
    stash_box_id: str
    upstream_updated: str | None
    changes: list[FieldChange]


def subject(endpoint: str, stash_box_id: str) -> str:
    """Return the review subject of an entity's upstream changes."""
    return f"{endpoint}|{stash_box_id}"
