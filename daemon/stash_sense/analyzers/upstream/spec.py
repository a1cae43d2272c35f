"""What differs per upstream entity type: fields, normalisers, operations."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from stash_sense.analyzers.upstream_fields import (
    PERFORMER_FIELDS,
    SCENE_FIELDS,
    SCENE_LINKS,
    STUDIO_FIELDS,
    STUDIO_LINKS,
    TAG_FIELDS,
    FieldSpec,
    local_performer,
    local_scene,
    local_studio,
    local_tag,
    performer_update_input,
    scene_update_input,
    studio_update_input,
    tag_update_input,
    upstream_performer,
    upstream_scene,
    upstream_studio,
    upstream_tag,
)
from stash_sense.analyzers.upstream_links import LinkField

_LOGGER = logging.getLogger(__name__)
KIND = "upstream_performer_changes"
ENTITY = "performer"


Normaliser = Callable[[Mapping[str, Any]], dict[str, Any]]
LocalNormaliser = Callable[[Mapping[str, Any], str], dict[str, Any]]
UpdateBuilder = Callable[[Mapping[str, Any], Mapping[str, Any], Iterable[str]], dict[str, Any]]


@dataclass(frozen=True)
class EntitySpec:
    """What differs per entity type: fields, normalisers, write-back and the operations."""

    entity: str
    kind: str
    fields: Mapping[str, FieldSpec]
    local: LocalNormaliser  # (raw Stash entity, endpoint compared)
    upstream: Normaliser
    update_input: UpdateBuilder
    links: Mapping[str, LinkField] = dataclasses.field(default_factory=dict)

    # Operation files follow one naming pattern per entity (UpstreamLocalTag, ...).
    @property
    def local_one(self) -> str:
        """Return the Stash operation reading one local entity."""
        return f"UpstreamLocal{self.title}"

    @property
    def local_many(self) -> str:
        """Return the Stash operation listing linked local entities."""
        return f"UpstreamLocal{self.title}s"

    @property
    def update_op(self) -> str:
        """Return the Stash operation writing accepted fields."""
        return f"Upstream{self.title}Update"

    @property
    def upstream_one(self) -> str:
        """Return the stash-box operation reading one upstream entity."""
        return f"Upstream{self.title}"

    @property
    def upstream_updated(self) -> str:
        """Return the stash-box operation listing recently updated entities."""
        return f"Upstream{self.title}sUpdated"

    @property
    def plural(self) -> str:
        """Return the plural used in GraphQL names ("performers")."""
        return f"{self.entity}s"

    @property
    def title(self) -> str:
        """Return the entity name capitalised ("Performer")."""
        return self.entity.capitalize()


PERFORMER = EntitySpec(
    entity="performer",
    kind=KIND,
    fields=PERFORMER_FIELDS,
    local=local_performer,
    upstream=upstream_performer,
    update_input=performer_update_input,
)
STUDIO = EntitySpec(
    entity="studio",
    kind="upstream_studio_changes",
    fields=STUDIO_FIELDS,
    local=local_studio,
    upstream=upstream_studio,
    update_input=studio_update_input,
    links=STUDIO_LINKS,
)
TAG = EntitySpec(
    entity="tag",
    kind="upstream_tag_changes",
    fields=TAG_FIELDS,
    local=local_tag,
    upstream=upstream_tag,
    update_input=tag_update_input,
)
SCENE = EntitySpec(
    entity="scene",
    kind="upstream_scene_changes",
    fields=SCENE_FIELDS,
    local=local_scene,
    upstream=upstream_scene,
    update_input=scene_update_input,
    links=SCENE_LINKS,
)
