"""Upstream changes: stash-box edits to linked performers, studios, tags and scenes.

`spec.py` says what differs per entity type, `payload.py` what an item carries,
`snapshots.py` what the user last saw, `kind.py` how an accept writes to Stash and
`analyzer.py` how linked entities are compared three ways.
"""

from stash_sense.analyzers.upstream.analyzer import (
    UpstreamChanges,
    UpstreamPerformerChanges,
    UpstreamSceneChanges,
    UpstreamStudioChanges,
    UpstreamTagChanges,
)
from stash_sense.analyzers.upstream.kind import (
    UpstreamChangesKind,
    UpstreamPerformerChangesKind,
    UpstreamSceneChangesKind,
    UpstreamStudioChangesKind,
    UpstreamTagChangesKind,
)
from stash_sense.analyzers.upstream.payload import FieldChange, UpstreamChangesPayload, subject
from stash_sense.analyzers.upstream.spec import KIND, PERFORMER, SCENE, STUDIO, TAG, EntitySpec

__all__ = [
    "KIND",
    "PERFORMER",
    "SCENE",
    "STUDIO",
    "TAG",
    "EntitySpec",
    "FieldChange",
    "UpstreamChanges",
    "UpstreamChangesKind",
    "UpstreamChangesPayload",
    "UpstreamPerformerChanges",
    "UpstreamPerformerChangesKind",
    "UpstreamSceneChanges",
    "UpstreamSceneChangesKind",
    "UpstreamStudioChanges",
    "UpstreamStudioChangesKind",
    "UpstreamTagChanges",
    "UpstreamTagChangesKind",
    "subject",
]
