"""Build the fake stash-box's executable schema: the FingerprintHash scalar and resolvers."""

from __future__ import annotations

import string
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from graphql import (
    ConstValueNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    StringValueNode,
    build_schema,
)

from .catalogue import Appearance, Catalogue, Link, Performer, Scene, Studio, Tag

if TYPE_CHECKING:
    from .server import FakeStashBox

__all__ = ["DEFAULT_SDL", "MAX_FINGERPRINT_GROUPS", "RequestContext", "build_fake_schema"]

DEFAULT_SDL = (Path(__file__).parent / "schema.graphql").read_text(encoding="utf-8")
# stash-box's resolver refuses more groups than this with "too many scenes".
MAX_FINGERPRINT_GROUPS = 40
_UINT64 = (1 << 64) - 1


@dataclass
class RequestContext:
    """Per-request context handed to every resolver."""

    fake: FakeStashBox

    @property
    def catalogue(self) -> Catalogue:
        """Return the fake's catalogue."""
        return self.fake.catalogue


Info: TypeAlias = GraphQLResolveInfo[RequestContext]


# ---------------------------------------------------------------- FingerprintHash


def _hash_out(value: Any) -> str:
    # stash-box writes every hash as 16 zero-padded lowercase hex digits.
    if isinstance(value, bool) or not isinstance(value, int):
        raise GraphQLError(f"FingerprintHash cannot represent {value!r}")
    return format(value & _UINT64, "016x")


def _hash_in(value: Any) -> int:
    if not isinstance(value, str):
        raise GraphQLError("fingerprint hash must be a string")
    text = value.replace('"', "")
    # Hashes wider than 64 bits (MD5) become 0, as in stash-box's unmarshaller.
    if len(text) > 16:
        return 0
    # Go's ParseUint takes bare hex digits only: no sign, "0x", spaces or underscores.
    if not text or any(c not in string.hexdigits for c in text):
        raise GraphQLError(
            f'invalid fingerprint hash: strconv.ParseUint: parsing "{text}": invalid syntax'
        )
    return int(text, 16)


def _hash_literal(node: ConstValueNode) -> int:
    if not isinstance(node, StringValueNode):
        raise GraphQLError("fingerprint hash must be a string")
    return _hash_in(node.value)


def _install_scalars(schema: GraphQLSchema) -> None:
    scalar = schema.type_map.get("FingerprintHash")
    if isinstance(scalar, GraphQLScalarType):
        scalar.coerce_output_value = _hash_out
        scalar.coerce_input_value = _hash_in
        scalar.coerce_input_literal = _hash_literal


# ---------------------------------------------------------------- query


def _uuid(value: str) -> str:
    # stash-box parses ids with gofrs/uuid and answers its error for anything else.
    try:
        return str(uuid.UUID(value.replace('"', "")))
    except ValueError:
        raise GraphQLError(
            f"uuid: incorrect UUID length {len(value)} in string {value!r}"
        ) from None


def _find_performer(_root: Any, info: Info, id: str) -> Performer | None:
    return info.context.catalogue.performers.get(_uuid(id))


def _query_performers(_root: Any, info: Info, input: Mapping[str, Any]) -> dict[str, Any]:
    performers = list(info.context.catalogue.performers.values())
    sort = input.get("sort", "CREATED_AT")
    keys: dict[str, Callable[[Performer], Any]] = {
        "NAME": lambda p: p.name.lower(),
        "CREATED_AT": lambda p: p.created,
        "UPDATED_AT": lambda p: p.updated,
    }
    if sort not in keys:
        raise GraphQLError(f"the fake stash-box cannot sort performers by {sort}")
    performers.sort(key=keys[sort], reverse=input.get("direction", "DESC") == "DESC")
    page, per_page = int(input.get("page", 1)), int(input.get("per_page", 25))
    start = (page - 1) * per_page
    return {"count": len(performers), "performers": performers[start : start + per_page]}


def _find_named(kind: str) -> Resolver:
    def find(_root: Any, info: Info, id: str | None = None, name: str | None = None) -> Any:
        entities: dict[str, Any] = getattr(info.context.catalogue, kind)
        if id is not None:
            return entities.get(_uuid(id))
        wanted = (name or "").casefold()
        return next((e for e in entities.values() if e.name.casefold() == wanted), None)

    return find


def _query_sorted(kind: str) -> Resolver:
    def query(_root: Any, info: Info, input: Mapping[str, Any]) -> dict[str, Any]:
        entities: list[Studio | Tag] = list(getattr(info.context.catalogue, kind).values())
        sort = input.get("sort", "NAME")
        keys: dict[str, Callable[[Studio | Tag], Any]] = {
            "NAME": lambda e: e.name.lower(),
            "CREATED_AT": lambda e: e.created,
            "UPDATED_AT": lambda e: e.updated,
        }
        entities.sort(key=keys[sort], reverse=input.get("direction", "ASC") == "DESC")
        page, per_page = int(input.get("page", 1)), int(input.get("per_page", 25))
        start = (page - 1) * per_page
        return {"count": len(entities), kind: entities[start : start + per_page]}

    return query


def _find_scene(_root: Any, info: Info, id: str) -> Scene | None:
    return info.context.catalogue.scenes.get(_uuid(id))


def _query_scenes(_root: Any, info: Info, input: Mapping[str, Any]) -> dict[str, Any]:
    scenes: list[Scene] = list(info.context.catalogue.scenes.values())
    keys: dict[str, Callable[[Scene], Any]] = {
        "TITLE": lambda s: (s.title or "").lower(),
        "DATE": lambda s: s.release_date or "",
        "CREATED_AT": lambda s: s.created,
        "UPDATED_AT": lambda s: s.updated,
    }
    sort = input.get("sort", "DATE")
    if sort not in keys:
        raise GraphQLError(f"the fake stash-box cannot sort scenes by {sort}")
    scenes.sort(key=keys[sort], reverse=input.get("direction", "DESC") == "DESC")
    page, per_page = int(input.get("page", 1)), int(input.get("per_page", 25))
    start = (page - 1) * per_page
    return {"count": len(scenes), "scenes": scenes[start : start + per_page]}


def _find_scenes_by_fingerprints(
    _root: Any, info: Info, fingerprints: Sequence[Sequence[Mapping[str, Any]]]
) -> list[list[Scene]]:
    if len(fingerprints) > MAX_FINGERPRINT_GROUPS:
        raise GraphQLError("too many scenes")
    catalogue = info.context.catalogue
    # stash-box drops MD5 entries before matching (internal/api/fingerprint_filter.go).
    groups = [
        [(f["algorithm"], f["hash"]) for f in group if f["algorithm"] != "MD5"]
        for group in fingerprints
    ]
    info.context.fake.received_groups.append(groups)
    return [catalogue.scenes_matching(group) if group else [] for group in groups]


def _version(_root: Any, info: Info) -> dict[str, str]:
    fake = info.context.fake
    return {
        "hash": fake.version_hash,
        "build_time": "2026-01-01T00:00:00Z",
        "build_type": "OFFICIAL",
        "version": fake.version,
    }


# ---------------------------------------------------------------- objects


def _site(link: Link, _info: Info) -> dict[str, Any]:
    site_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"site:{link.site}"))
    return {"id": site_id, "name": link.site, "url": None}


def _appearance_as(appearance: Appearance, _info: Info) -> str | None:
    return appearance.as_name


def _scene_fingerprints(scene: Scene, _info: Info, is_submitted: bool | None = None) -> list[Any]:
    # The fake has no users: nothing is "submitted by the current user".
    return [] if is_submitted else list(scene.fingerprints)


Resolver = Callable[..., Any]

RESOLVERS: dict[str, dict[str, Resolver]] = {
    "Query": {
        "findPerformer": _find_performer,
        "queryPerformers": _query_performers,
        "findStudio": _find_named("studios"),
        "queryStudios": _query_sorted("studios"),
        "findTag": _find_named("tags"),
        "queryTags": _query_sorted("tags"),
        "findScene": _find_scene,
        "queryScenes": _query_scenes,
        "findScenesBySceneFingerprints": _find_scenes_by_fingerprints,
        "version": _version,
    },
    "URL": {"site": _site},
    "PerformerAppearance": {"as": _appearance_as},
    "Scene": {"fingerprints": _scene_fingerprints},
}


def build_fake_schema(sdl: str = DEFAULT_SDL) -> GraphQLSchema:
    """Build an executable schema from `sdl`; fields it lacks are simply not wired."""
    schema = build_schema(sdl)
    _install_scalars(schema)
    for type_name, fields in RESOLVERS.items():
        gql_type = schema.type_map.get(type_name)
        if not isinstance(gql_type, GraphQLObjectType):
            continue
        for field_name, resolver in fields.items():
            if field_name in gql_type.fields:
                gql_type.fields[field_name].resolve = resolver
    return schema
