"""Upstream links: a scene's studio, performers and tags, and a studio's parent.

A link is compared as a *ref*: the stash-box id on the endpoint being compared (None when
the local entity is not linked there) and a name. Upstream refs name stash-box entities;
local refs also carry the local id. Two refs are the same entity when both have ids and
the ids agree, or, when either lacks an id, when their names agree (case-insensitively).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Ref = dict[str, Any]

__all__ = [
    "LinkField",
    "Ref",
    "diff_link",
    "diff_links",
    "link_write",
    "links_equal",
    "local_ref",
    "local_refs",
    "same_entity",
    "upstream_appearances",
    "upstream_ref",
    "upstream_refs",
]


@dataclass(frozen=True)
class LinkField:
    """How one link field is written back to Stash."""

    input_key: str  # "studio_id", "performer_ids", "tag_ids", "parent_id"
    current_key: str  # where the raw Stash entity holds it: "studio", "performers", ...
    many: bool
    entity: str  # the linked entity type: "studio", "performer", "tag"
    not_self: bool = False  # the entity may not link to itself (a studio's parent)


def _name(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def upstream_ref(data: Any) -> Ref | None:
    """Read a stash-box `{id name}` object as a ref."""
    if not isinstance(data, Mapping) or not data.get("id"):
        return None
    return {"id": str(data["id"]), "name": _name(data.get("name"))}


def upstream_refs(items: Any) -> list[Ref]:
    """Read a list of stash-box `{id name}` objects as refs."""
    refs = (upstream_ref(item) for item in (items if isinstance(items, list) else ()))
    return [ref for ref in refs if ref is not None]


def upstream_appearances(items: Any) -> list[Ref]:
    """Read stash-box `PerformerAppearance`s as refs; `as` is kept for display."""
    out = []
    for item in items if isinstance(items, list) else ():
        ref = upstream_ref(item.get("performer")) if isinstance(item, Mapping) else None
        if ref is not None:
            out.append({**ref, "as": _name(item.get("as"))})
    return out


def _stash_id(data: Mapping[str, Any], endpoint: str) -> str | None:
    for link in data.get("stash_ids") or ():
        if link.get("endpoint") == endpoint and link.get("stash_id"):
            return str(link["stash_id"])
    return None


def local_ref(data: Any, endpoint: str) -> Ref | None:
    """Read a Stash `{id name stash_ids}` object as a ref on `endpoint`."""
    if not isinstance(data, Mapping) or data.get("id") is None:
        return None
    return {
        "id": _stash_id(data, endpoint),
        "name": _name(data.get("name")),
        "local_id": str(data["id"]),
    }


def local_refs(items: Any, endpoint: str) -> list[Ref]:
    """Read a list of Stash `{id name stash_ids}` objects as refs on `endpoint`."""
    refs = (local_ref(item, endpoint) for item in (items if isinstance(items, list) else ()))
    return [ref for ref in refs if ref is not None]


def same_entity(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Tell whether two refs name the same entity (ids when both have one, else names)."""
    if a.get("id") and b.get("id"):
        return bool(a["id"] == b["id"])
    name_a, name_b = a.get("name"), b.get("name")
    return bool(name_a and name_b and str(name_a).casefold() == str(name_b).casefold())


def _contains(refs: Sequence[Mapping[str, Any]], ref: Mapping[str, Any]) -> bool:
    return any(same_entity(ref, other) for other in refs)


def _as_list(value: Any) -> list[Ref]:
    if isinstance(value, list):
        return [dict(v) for v in value if isinstance(v, Mapping)]
    return [dict(value)] if isinstance(value, Mapping) else []


def links_equal(a: Any, b: Any) -> bool:
    """Tell whether two refs (or lists of refs) name the same entities."""
    left, right = _as_list(a), _as_list(b)
    return all(_contains(right, x) for x in left) and all(_contains(left, y) for y in right)


def diff_links(local: Any, upstream: Any, previous: Any) -> tuple[list[Ref], list[Ref]]:
    """Return the 3-way (added, removed) of a list of links.

    Added: linked upstream since last seen and not on the local entity yet. Removed:
    unlinked upstream since last seen and still on the local entity, linked to this
    endpoint (local links to entities stash-box does not know are the user's own).
    """
    here, there, before = _as_list(local), _as_list(upstream), _as_list(previous)
    added = [dict(ref) for ref in there if not _contains(before, ref) and not _contains(here, ref)]
    removed = [
        dict(ref)
        for ref in here
        if ref.get("id") and _contains(before, ref) and not _contains(there, ref)
    ]
    return added, removed


def diff_link(local: Any, upstream: Any) -> tuple[list[Ref], list[Ref]]:
    """Return (added, removed) of a single link that changed: the new one, the old one."""
    added = [dict(upstream)] if isinstance(upstream, Mapping) else []
    removed = [dict(local)] if isinstance(local, Mapping) else []
    return added, removed


def _current_ids(current: Mapping[str, Any], field: LinkField) -> list[str]:
    return [str(ref["id"]) for ref in _as_list(current.get(field.current_key))]


def link_write(
    field: LinkField,
    current: Mapping[str, Any],
    added: Sequence[Mapping[str, Any]],
    removed: Sequence[Mapping[str, Any]],
    *,
    remove: bool,
) -> tuple[dict[str, Any], list[Ref]]:
    """Build the update input for one accepted link field; return it and unmatched refs.

    Added refs without a local entity (`local_id`) cannot be linked and are returned as
    unmatched. Nothing is returned for the field when it would not change.
    """
    unmatched = [dict(ref) for ref in added if not ref.get("local_id")]
    new = [str(ref["local_id"]) for ref in added if ref.get("local_id")]
    gone = {str(ref["local_id"]) for ref in removed if ref.get("local_id")} if remove else set()
    have = _current_ids(current, field)
    if field.many:
        ids = [i for i in have if i not in gone]
        ids += [i for i in new if i not in ids]
        if sorted(ids) == sorted(have):
            return {}, unmatched
        return {field.input_key: ids}, unmatched
    target = new[0] if new else None
    if field.not_self and target is not None and target == str(current.get("id")):
        return {}, unmatched
    if target is None and (unmatched or not remove):
        return {}, unmatched
    old = have[0] if have else None
    if target == old:
        return {}, unmatched
    return {field.input_key: target}, unmatched
