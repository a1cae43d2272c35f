"""Validate the hook context that the plugin forwards from Stash."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_TRIGGER = re.compile(
    r"^(Scene|SceneMarker|Image|Gallery|GalleryChapter|Group|Movie|Performer|Studio|Tag)"
    r"\.(Create|Update|Destroy|Merge)\.Post$"
)
_MAX_ID = 2**63 - 1
_MAX_FIELDS = 500
_MAX_FIELD_LENGTH = 200


class InvalidEvent(ValueError):
    """The payload is not a Stash hook context; the message says why."""


@dataclass(frozen=True)
class HookEvent:
    """One Stash hook event, as `args.hookContext` carries it."""

    type: str
    object: str
    operation: str
    id: int | None
    input: dict[str, Any] | list[Any] | None
    input_fields: tuple[str, ...]

    def scene_input(self) -> dict[str, Any] | None:
        """Return the input of this event's object (scenesUpdate sends a list of inputs)."""
        if isinstance(self.input, dict):
            return self.input
        if isinstance(self.input, list):
            for item in self.input:
                if isinstance(item, dict) and str(item.get("id")) == str(self.id):
                    return item
        return None


def parse_hook(data: Any) -> HookEvent:
    """Check a decoded JSON body and return the event it describes."""
    if not isinstance(data, dict):
        raise InvalidEvent("body must be a JSON object (the hook context)")
    kind = data.get("type")
    if not isinstance(kind, str):
        raise InvalidEvent("type must be a string such as 'Scene.Create.Post'")
    match = _TRIGGER.match(kind)
    if match is None:
        raise InvalidEvent(f"type {kind[:80]!r} is not a Stash hook trigger")
    raw_id = data.get("id")
    # Stash omits id when it is zero (Go omitempty); scene and performer events carry one.
    if raw_id is None:
        object_id = None
    elif isinstance(raw_id, int) and not isinstance(raw_id, bool):
        object_id = raw_id
    elif isinstance(raw_id, str) and raw_id.isdigit() and len(raw_id) <= 19:
        object_id = int(raw_id)
    else:
        raise InvalidEvent("id must be a positive integer")
    if object_id is not None and not 0 < object_id <= _MAX_ID:
        raise InvalidEvent("id must be a positive integer")
    if object_id is None and match[1] in ("Scene", "Performer"):
        raise InvalidEvent(f"{kind} events need an id")
    payload = data.get("input")
    if payload is not None and not isinstance(payload, dict | list):
        raise InvalidEvent("input must be an object, a list or null")
    fields = data.get("inputFields", [])
    if fields is None:
        fields = []
    if (
        not isinstance(fields, list)
        or len(fields) > _MAX_FIELDS
        or not all(isinstance(f, str) and len(f) <= _MAX_FIELD_LENGTH for f in fields)
    ):
        raise InvalidEvent("inputFields must be a list of field names")
    return HookEvent(kind, match[1], match[2], object_id, payload, tuple(fields))
