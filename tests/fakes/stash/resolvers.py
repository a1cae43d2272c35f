"""Build the fake's executable schema: scalars, query/mutation/subscription resolvers."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias, cast

from graphql import (
    ConstValueNode,
    GraphQLError,
    GraphQLInputType,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    build_schema,
    value_from_ast_untyped,
)

from . import filters
from .hooks import go_json
from .jobs import JOBS, LOGGING, SCAN_COMPLETE, Job, Subscription, job_to_graphql
from .library import (
    Library,
    Performer,
    Scene,
    StashIdRef,
    Studio,
    Tag,
    VideoFile,
    format_go_time,
)

if TYPE_CHECKING:
    from .server import FakeStash

__all__ = ["DEFAULT_SDL", "RequestContext", "build_fake_schema"]

DEFAULT_SDL = (Path(__file__).parent / "schema.graphql").read_text(encoding="utf-8")

Resolver = Callable[..., Any]


@dataclass
class RequestContext:
    """Per-request context handed to every resolver."""

    fake: FakeStash
    base_url: str
    # Streams opened by subscription resolvers, closed by the transport when done.
    subscriptions: list[Subscription] = field(default_factory=list)

    @property
    def lib(self) -> Library:
        """Return the fake's library."""
        return self.fake.library


Info: TypeAlias = GraphQLResolveInfo[RequestContext]


def _ctx(info: Info) -> RequestContext:
    return info.context


def _lib(info: Info) -> Library:
    return _ctx(info).lib


def _atoi(value: str) -> int:
    # Stash parses ids with strconv.Atoi and returns its error verbatim.
    try:
        return int(value)
    except ValueError:
        raise GraphQLError(f'strconv.Atoi: parsing "{value}": invalid syntax') from None


def _arg_type(info: Info, name: str = "input") -> GraphQLInputType:
    return cast("GraphQLInputType", info.parent_type.fields[info.field_name].args[name].type)


# ---------------------------------------------------------------- scalars


def _serialize_time(value: Any) -> str:
    if isinstance(value, datetime):
        return format_go_time(value)
    if isinstance(value, str):
        return value
    raise GraphQLError(f"Time cannot represent {value!r}")


def _parse_time(value: Any) -> str:
    if not isinstance(value, str):
        raise GraphQLError(f"Time cannot represent non-string {value!r}")
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise GraphQLError(f"{value!r} is not an RFC3339 time") from None
    return value


_RELATIVE_TIMESTAMP = re.compile(r"^[<>]\d+[smhd]$")


def _parse_timestamp(value: Any) -> str:
    # Stash's Timestamp also takes "<4h" (4 hours ago) or ">5m" (5 minutes ahead).
    if isinstance(value, str) and _RELATIVE_TIMESTAMP.match(value):
        return value
    return _parse_time(value)


def _parse_int64(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise GraphQLError(f"Int64 cannot represent {value!r}")
    return value


def _untyped(node: ConstValueNode) -> Any:
    return value_from_ast_untyped(node)


def _install_scalars(schema: GraphQLSchema) -> None:
    coercers: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
        "Time": (_serialize_time, _parse_time),
        "Timestamp": (_serialize_time, _parse_timestamp),
        "Int64": (_parse_int64, _parse_int64),
    }
    for name, scalar in schema.type_map.items():
        if not isinstance(scalar, GraphQLScalarType) or scalar.ast_node is None:
            continue  # built-in scalars keep graphql-core's coercion
        output, parse_input = coercers.get(name, (_identity, _identity))
        scalar.coerce_output_value = output
        scalar.coerce_input_value = parse_input
        scalar.coerce_input_literal = lambda node, parse_input=parse_input: parse_input(
            _untyped(node)
        )


def _identity(value: Any) -> Any:
    return value


# ---------------------------------------------------------------- query


def _find_scene(
    _root: Any, info: Info, id: str | None = None, checksum: str | None = None
) -> Scene | None:
    lib = _lib(info)
    if id is not None:
        return lib.scenes.get(_atoi(id))
    if checksum is not None:
        return lib.find_file(md5=checksum)
    return None


def _find_scene_by_hash(_root: Any, info: Info, input: dict[str, Any]) -> Scene | None:
    lib = _lib(info)
    if input.get("checksum"):
        found = lib.find_file(md5=input["checksum"])
        if found is not None:
            return found
    if input.get("oshash"):
        return lib.find_file(oshash=input["oshash"])
    return None


def _run_find(
    info: Info,
    *,
    items: Iterable[Any],
    matcher: Callable[[Library, Any, dict[str, Any]], bool],
    object_filter: dict[str, Any] | None,
    find_filter: dict[str, Any] | None,
    ids: list[str] | None,
    default_sort: str,
) -> tuple[list[Any], list[Any]]:
    try:
        return filters.find(
            _lib(info),
            list(items),
            matcher=matcher,
            object_filter=object_filter,
            find_filter=find_filter,
            ids=[str(_atoi(i)) for i in ids] if ids is not None else None,
            default_sort=default_sort,
        )
    except filters.FilterError as exc:
        raise GraphQLError(str(exc)) from None


def _find_scenes(
    _root: Any,
    info: Info,
    scene_filter: dict[str, Any] | None = None,
    ids: list[str] | None = None,
    filter: dict[str, Any] | None = None,
) -> dict[str, Any]:
    matched, page = _run_find(
        info,
        items=_lib(info).scenes.values(),
        matcher=filters.match_scene,
        object_filter=scene_filter,
        find_filter=filter,
        ids=ids,
        default_sort="id",
    )
    primaries = [s.primary_file for s in matched if s.primary_file is not None]
    return {
        "count": len(matched),
        "duration": float(sum(f.duration for f in primaries)),
        "filesize": float(sum(f.size for f in primaries)),
        "scenes": page,
    }


def _find_duplicate_scenes(
    _root: Any, info: Info, distance: int | None = None, duration_diff: float | None = None
) -> list[list[Scene]]:
    lib = _lib(info)
    hashed = [
        (s, int(s.primary_file.phash, 16), s.primary_file.duration)
        for s in lib.scenes.values()
        if s.primary_file is not None and s.primary_file.phash is not None
    ]
    parent = list(range(len(hashed)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    limit = distance or 0
    for i, (_, ha, da) in enumerate(hashed):
        for j in range(i + 1, len(hashed)):
            _, hb, db = hashed[j]
            # A negative or missing duration_diff disables the duration check.
            near = duration_diff is None or duration_diff < 0 or abs(da - db) <= duration_diff
            if (ha ^ hb).bit_count() <= limit and near:
                parent[root(j)] = root(i)
    groups: dict[int, list[Scene]] = {}
    for i, (scene, _, _) in enumerate(hashed):
        groups.setdefault(root(i), []).append(scene)
    return [g for g in groups.values() if len(g) > 1]


def _scene_streams_query(_root: Any, info: Info, id: str | None = None) -> list[dict[str, Any]]:
    scene = _lib(info).scenes.get(_atoi(id)) if id is not None else None
    return _scene_streams(scene, info) if scene is not None else []


def _find_by_id(collection: str) -> Resolver:
    def resolve(_root: Any, info: Info, id: str) -> Any:
        return getattr(_lib(info), collection).get(_atoi(id))

    return resolve


def _finder(
    collection: str,
    filter_arg: str,
    result_key: str,
    matcher: Callable[[Library, Any, dict[str, Any]], bool],
) -> Resolver:
    def resolve(_root: Any, info: Info, **args: Any) -> dict[str, Any]:
        matched, page = _run_find(
            info,
            items=getattr(_lib(info), collection).values(),
            matcher=matcher,
            object_filter=args.get(filter_arg),
            find_filter=args.get("filter"),
            ids=args.get("ids"),
            default_sort="name",
        )
        return {"count": len(matched), result_key: page}

    return resolve


def _configuration(_root: Any, _info: Info) -> dict[str, Any]:
    return {}  # ConfigResult's fields have their own resolvers


def _config_general(_root: Any, info: Info) -> dict[str, Any]:
    fake = _ctx(info).fake
    lib = fake.library
    return {
        "stashes": [
            {"path": p, "excludeVideo": False, "excludeImage": False} for p in lib.stash_paths
        ],
        "databasePath": f"{fake.config_dir}/stash-go.sqlite",
        "generatedPath": f"{fake.config_dir}/generated",
        "configFilePath": f"{fake.config_dir}/config.yml",
        "pluginsPath": f"{fake.config_dir}/plugins",
        "calculateMD5": False,
        "videoFileNamingAlgorithm": "OSHASH",
        "parallelTasks": 1,
        "apiKey": fake.api_key or "",
        "username": fake.username if fake.api_key else "",
        "stashBoxes": [
            {
                "endpoint": b.endpoint,
                "api_key": b.api_key,
                "name": b.name,
                "max_requests_per_minute": b.max_requests_per_minute,
            }
            for b in lib.stash_boxes
        ],
    }


def _config_plugins(_root: Any, info: Info, include: list[str] | None = None) -> dict[str, Any]:
    settings = _lib(info).plugin_settings
    if include is None:
        return {k: dict(v) for k, v in settings.items()}
    return {k: dict(settings[k]) for k in include if k in settings}


def _system_status(_root: Any, info: Info) -> dict[str, Any]:
    fake = _ctx(info).fake
    return {
        "databaseSchema": fake.app_schema,
        "databasePath": f"{fake.config_dir}/stash-go.sqlite",
        "configPath": f"{fake.config_dir}/config.yml",
        "appSchema": fake.app_schema,
        "status": "OK",
        "os": "linux",
        "workingDir": fake.config_dir,
        "homeDir": "/root",
        "ffmpegPath": "/usr/bin/ffmpeg",
        "ffprobePath": "/usr/bin/ffprobe",
    }


def _job_queue(_root: Any, info: Info) -> list[dict[str, Any]] | None:
    jobs = [job_to_graphql(j) for j in _ctx(info).fake.jobs.active.values()]
    # Stash builds the list with `var ret []*Job`, so an empty queue is JSON null.
    return jobs or None


def _find_job(_root: Any, info: Info, input: dict[str, Any]) -> dict[str, Any] | None:
    job = _ctx(info).fake.jobs.find(str(input["id"]))
    return job_to_graphql(job) if job is not None else None


def _version(_root: Any, info: Info) -> dict[str, Any]:
    fake = _ctx(info).fake
    return {"version": fake.version, "hash": fake.version_hash, "build_time": "2025-12-18 00:00:00"}


# ---------------------------------------------------------------- object fields


def _scene_paths(scene: Scene, info: Info) -> dict[str, str]:
    ctx = _ctx(info)
    base = f"{ctx.base_url}/scene/{scene.id}"
    key = ctx.fake.api_key
    primary = scene.primary_file
    checksum = primary.oshash if primary is not None else ""
    return {
        "screenshot": f"{base}/screenshot?t={int(scene.updated_at.timestamp())}",
        "preview": f"{base}/preview",
        # Stash embeds the API key in the stream URL (and only there).
        "stream": f"{base}/stream" + (f"?apikey={key}" if key else ""),
        "webp": f"{base}/webp",
        "vtt": f"{ctx.base_url}/scene/{checksum}_thumbs.vtt",
        "sprite": f"{ctx.base_url}/scene/{checksum}_sprite.jpg",
        "funscript": f"{base}/funscript",
        "interactive_heatmap": f"{base}/interactive_heatmap",
        "caption": f"{base}/caption",
    }


def _scene_streams(scene: Scene, info: Info) -> list[dict[str, Any]]:
    if scene.primary_file is None:
        return []
    return [
        {
            "url": _scene_paths(scene, info)["stream"],
            "mime_type": "video/mp4",
            "label": "Direct stream",
        }
    ]


def _image_path(kind: str) -> Resolver:
    def resolve(obj: Performer | Tag | Studio, info: Info) -> str:
        base = f"{_ctx(info).base_url}/{kind}/{obj.id}/image"
        if obj.image is None:
            return base + "?default=true"
        return f"{base}?t={int(obj.updated_at.timestamp())}"

    return resolve


def _related(collection: str, attr: str) -> Resolver:
    def resolve(obj: Any, info: Info) -> list[Any]:
        table = getattr(_lib(info), collection)
        return [table[i] for i in getattr(obj, attr) if i in table]

    return resolve


def _scene_count(kind: str) -> Resolver:
    def resolve(obj: Any, info: Info, depth: int | None = None) -> int:
        return _lib(info).scene_count(**{kind: obj.id})

    return resolve


def _attr(name: str) -> Resolver:
    return lambda obj, _info: getattr(obj, name)


# ---------------------------------------------------------------- mutation helpers


def _stash_ids(lib: Library, items: list[dict[str, Any]] | None) -> list[StashIdRef]:
    return [
        StashIdRef(
            i["endpoint"],
            i["stash_id"],
            lib.to_local(i["updated_at"]) if i.get("updated_at") else lib.now(),
        )
        for i in items or []
    ]


def _ids_that_exist(table: dict[int, Any], ids: Iterable[str]) -> list[int]:
    out = sorted({_atoi(i) for i in ids})
    if any(i not in table for i in out):
        # What SQLite reports when a join row points at a missing object.
        raise GraphQLError("FOREIGN KEY constraint failed")
    return out


def _apply_bulk_ids(current: list[int], update: dict[str, Any], table: dict[int, Any]) -> list[int]:
    ids = _ids_that_exist(table, update.get("ids") or [])
    mode = update["mode"]
    if mode == "SET":
        return ids
    if mode == "ADD":
        return sorted(set(current) | set(ids))
    return sorted(set(current) - set(ids))


def _apply_bulk_strings(current: list[str], update: dict[str, Any]) -> list[str]:
    values = list(update.get("values") or [])
    mode = update["mode"]
    if mode == "SET":
        return values
    if mode == "ADD":
        return current + [v for v in values if v not in current]
    return [v for v in current if v not in values]


_SCENE_SCALARS = ("title", "code", "details", "director", "date", "rating100")


def _apply_scene_update(lib: Library, scene: Scene, data: dict[str, Any]) -> None:
    for key in _SCENE_SCALARS:
        if key in data:
            setattr(scene, key, data[key])
    if data.get("organized") is not None:
        scene.organized = data["organized"]
    if "urls" in data:
        scene.urls = list(data["urls"] or [])
    if "studio_id" in data:
        sid = data["studio_id"]
        scene.studio_id = _ids_that_exist(lib.studios, [sid])[0] if sid else None
    # Plain sceneUpdate lists replace the whole relation.
    if "performer_ids" in data:
        scene.performer_ids = _ids_that_exist(lib.performers, data["performer_ids"] or [])
    if "tag_ids" in data:
        scene.tag_ids = _ids_that_exist(lib.tags, data["tag_ids"] or [])
    if "stash_ids" in data:
        scene.stash_ids = _stash_ids(lib, data["stash_ids"])
    if "cover_image" in data:
        scene.cover_image = data["cover_image"]
    if data.get("primary_file_id"):
        wanted = _atoi(data["primary_file_id"])
        match = [f for f in scene.files if f.id == wanted]
        if not match:
            raise GraphQLError(f"file with id {wanted} not associated with scene")
        scene.files = match + [f for f in scene.files if f.id != wanted]
    lib.touch(scene)


def _scene_for(lib: Library, scene_id: str) -> Scene:
    scene = lib.scenes.get(_atoi(scene_id))
    if scene is None:
        raise GraphQLError(f"scene with id {scene_id} not found")
    return scene


async def _scene_update(_root: Any, info: Info, input: dict[str, Any]) -> Scene:
    fake = _ctx(info).fake
    scene = _scene_for(fake.library, input["id"])
    _apply_scene_update(fake.library, scene, input)
    await fake.hooks.fire(
        "Scene.Update.Post", scene.id, go_json(input, _arg_type(info)), list(input)
    )
    return scene


async def _scenes_update(_root: Any, info: Info, input: list[dict[str, Any]]) -> list[Scene]:
    fake = _ctx(info).fake
    scenes = [_scene_for(fake.library, item["id"]) for item in input]
    for scene, item in zip(scenes, input, strict=True):
        _apply_scene_update(fake.library, scene, item)
    whole = go_json(input, _arg_type(info))
    # Each hook carries the whole input list, with that scene's own inputFields.
    for scene, item in zip(scenes, input, strict=True):
        await fake.hooks.fire("Scene.Update.Post", scene.id, whole, list(item))
    return scenes


async def _bulk_scene_update(_root: Any, info: Info, input: dict[str, Any]) -> list[Scene]:
    fake = _ctx(info).fake
    lib = fake.library
    scenes = [_scene_for(lib, i) for i in input.get("ids") or []]
    for scene in scenes:
        for key in _SCENE_SCALARS:
            if input.get(key) is not None:
                setattr(scene, key, input[key])
        if input.get("organized") is not None:
            scene.organized = input["organized"]
        if input.get("studio_id") is not None:
            scene.studio_id = _ids_that_exist(lib.studios, [input["studio_id"]])[0]
        if input.get("urls") is not None:
            scene.urls = _apply_bulk_strings(scene.urls, input["urls"])
        if input.get("performer_ids") is not None:
            scene.performer_ids = _apply_bulk_ids(
                scene.performer_ids, input["performer_ids"], lib.performers
            )
        if input.get("tag_ids") is not None:
            scene.tag_ids = _apply_bulk_ids(scene.tag_ids, input["tag_ids"], lib.tags)
        lib.touch(scene)
    payload = go_json(input, _arg_type(info))
    for scene in scenes:
        await fake.hooks.fire("Scene.Update.Post", scene.id, payload, list(input))
    return scenes


async def _destroy(info: Info, ids: list[str], input: dict[str, Any]) -> bool:
    fake = _ctx(info).fake
    lib = fake.library
    scenes = [_scene_for(lib, i) for i in ids]
    encoded = go_json(input, _arg_type(info))
    for scene in scenes:
        primary = scene.primary_file
        lib.delete_scene(scene.id)
        if input.get("delete_file"):
            fake.delete_files([f.path for f in scene.files])
        # plugin.SceneDestroyInput embeds the input and adds the primary file's hashes.
        await fake.hooks.fire(
            "Scene.Destroy.Post",
            scene.id,
            {
                **encoded,
                "checksum": (primary.md5 or "") if primary else "",
                "oshash": primary.oshash if primary else "",
                "path": primary.path if primary else "",
            },
        )
    return True


async def _scene_destroy(_root: Any, info: Info, input: dict[str, Any]) -> bool:
    return await _destroy(info, [input["id"]], input)


async def _scenes_destroy(_root: Any, info: Info, input: dict[str, Any]) -> bool:
    return await _destroy(info, list(input["ids"]), input)


async def _scene_merge(_root: Any, info: Info, input: dict[str, Any]) -> Scene:
    # Like Stash's sceneMerge: the sources' files move to the destination (first
    # source's primary becomes primary if it has none), values apply to it, histories
    # add up when asked, then the sources are deleted (no hooks in the fake).
    lib = _ctx(info).fake.library
    dest = _scene_for(lib, input["destination"])
    sources = [_scene_for(lib, i) for i in input["source"]]
    if any(s.id == dest.id for s in sources):
        raise GraphQLError("destination scene cannot be in source list")
    for source in sources:
        dest.files.extend(source.files)
        if input.get("play_history"):
            dest.play_count += source.play_count
        if input.get("o_history"):
            dest.o_counter += source.o_counter
        lib.delete_scene(source.id)
    if input.get("values"):
        _apply_scene_update(lib, dest, {**input["values"], "id": str(dest.id)})
    lib.touch(dest)
    return dest


def _check_performer(
    lib: Library, name: str, disambiguation: str | None, aliases: list[str], self_id: int | None
) -> None:
    if not name:
        raise GraphQLError("performer name must not be blank")
    disamb = disambiguation or ""
    for other in lib.performers.values():
        if other.id == self_id:
            continue
        same_name = filters.match_string(other.name, {"value": name, "modifier": "EQUALS"})
        other_disamb = other.disambiguation or ""
        same_disamb = (
            filters.match_string(other_disamb, {"value": disamb, "modifier": "EQUALS"})
            if disamb
            else other_disamb.strip() == ""
        )
        if same_name and same_disamb:
            if disamb:
                raise GraphQLError(
                    f"performer with name '{name}' and disambiguation '{disamb}' already exists"
                )
            raise GraphQLError(f"performer with name '{name}' already exists")
    seen = {name.lower()}
    for alias in aliases:
        if alias.lower() in seen:
            raise GraphQLError(f"performer contains duplicate alias '{alias}'")
        seen.add(alias.lower())


def _decode_image(value: str | None) -> bytes | None:
    if not value or not value.startswith("data:"):
        return None
    try:
        return base64.b64decode(value.split(",", 1)[1], validate=True)
    except (IndexError, binascii.Error):
        raise GraphQLError("invalid image data URL") from None


_PERFORMER_FIELDS = (
    "disambiguation",
    "gender",
    "birthdate",
    "country",
    "details",
    "death_date",
    "ethnicity",
    "eye_color",
    "hair_color",
    "height_cm",
    "measurements",
    "fake_tits",
    "career_length",
    "tattoos",
    "piercings",
)


def _apply_performer(lib: Library, p: Performer, data: dict[str, Any]) -> None:
    for key in _PERFORMER_FIELDS:
        if key in data:
            setattr(p, key, data[key])
    for key in ("favorite", "ignore_auto_tag"):
        if data.get(key) is not None:
            setattr(p, key, data[key])
    if "urls" in data:
        p.urls = list(data["urls"] or [])
    if "alias_list" in data:
        p.alias_list = list(data["alias_list"] or [])
    if "tag_ids" in data:
        p.tag_ids = _ids_that_exist(lib.tags, data["tag_ids"] or [])
    if "stash_ids" in data:
        p.stash_ids = _stash_ids(lib, data["stash_ids"])
    if "image" in data:
        _decode_image(data["image"])
        p.image = data["image"] or None
    if data.get("custom_fields") is not None:
        p.custom_fields = dict(data["custom_fields"])


async def _performer_create(_root: Any, info: Info, input: dict[str, Any]) -> Performer:
    fake = _ctx(info).fake
    lib = fake.library
    _check_performer(
        lib, input["name"], input.get("disambiguation"), list(input.get("alias_list") or []), None
    )
    performer = lib.add_performer(input["name"])
    _apply_performer(lib, performer, input)
    performer.updated_at = performer.created_at
    await fake.hooks.fire("Performer.Create.Post", performer.id, go_json(input, _arg_type(info)))
    return performer


async def _performer_update(_root: Any, info: Info, input: dict[str, Any]) -> Performer:
    fake = _ctx(info).fake
    lib = fake.library
    performer = lib.performers.get(_atoi(input["id"]))
    if performer is None:
        raise GraphQLError(f"performer with id {input['id']} not found")
    name = input["name"] if input.get("name") is not None else performer.name
    disamb = input.get("disambiguation", performer.disambiguation)
    aliases = list(input["alias_list"] or []) if "alias_list" in input else performer.alias_list
    _check_performer(lib, name, disamb, aliases, performer.id)
    performer.name = name
    _apply_performer(lib, performer, input)
    lib.touch(performer)
    await fake.hooks.fire(
        "Performer.Update.Post", performer.id, go_json(input, _arg_type(info)), list(input)
    )
    return performer


async def _performer_merge(_root: Any, info: Info, input: dict[str, Any]) -> Performer:
    # Like Stash's performerMerge: values apply to the destination, the sources'
    # scenes move to it, then the sources are destroyed (their stash ids and aliases
    # are not carried over unless `values` says so).
    fake = _ctx(info).fake
    lib = fake.library
    sources = [_atoi(i) for i in input["source"]]
    dest_id = _atoi(input["destination"])
    if dest_id in sources:
        raise GraphQLError("destination performer cannot be in source list")
    dest = lib.performers.get(dest_id)
    if dest is None:
        raise GraphQLError(f"performer with id {dest_id} not found")
    for source in sources:
        if source not in lib.performers:
            raise GraphQLError(f"performer with id {source} not found")
    values = input.get("values")
    if values:
        name = values["name"] if values.get("name") is not None else dest.name
        aliases = list(values["alias_list"] or []) if "alias_list" in values else dest.alias_list
        _check_performer(
            lib, name, values.get("disambiguation", dest.disambiguation), aliases, dest.id
        )
        dest.name = name
        _apply_performer(lib, dest, values)
    for scene in lib.scenes.values():
        if any(p in sources for p in scene.performer_ids):
            kept = [p for p in scene.performer_ids if p not in sources]
            scene.performer_ids = kept if dest_id in kept else [*kept, dest_id]
            lib.touch(scene)
    for source in sources:
        del lib.performers[source]
    lib.touch(dest)
    return dest


async def _delete_files(_root: Any, info: Info, ids: list[str]) -> bool:
    # Like Stash: unknown ids and primary files are refused before anything is deleted.
    fake = _ctx(info).fake
    lib = fake.library
    wanted = [_atoi(i) for i in ids]
    owners: dict[int, Scene] = {}
    for file_id in wanted:
        owner = next(
            (s for s in lib.scenes.values() if any(f.id == file_id for f in s.files)), None
        )
        if owner is None:
            raise GraphQLError(f"file with id {file_id} not found")
        if owner.files[0].id == file_id:
            raise GraphQLError(f"cannot delete primary file {owner.files[0].path}")
        owners[file_id] = owner
    for file_id, owner in owners.items():
        gone = [f for f in owner.files if f.id == file_id]
        owner.files = [f for f in owner.files if f.id != file_id]
        fake.delete_files([f.path for f in gone])
        lib.touch(owner)
    return True


async def _tag_update(_root: Any, info: Info, input: dict[str, Any]) -> Tag:
    fake = _ctx(info).fake
    lib = fake.library
    tag = lib.tags.get(_atoi(input["id"]))
    if tag is None:
        raise GraphQLError(f"tag with id {input['id']} not found")
    if input.get("name") is not None:
        tag.name = input["name"]
    if "description" in input:
        tag.description = input["description"]
    if "aliases" in input:
        tag.aliases = list(input["aliases"] or [])
    lib.touch(tag)
    await fake.hooks.fire("Tag.Update.Post", tag.id, go_json(input, _arg_type(info)), list(input))
    return tag


async def _studio_create(_root: Any, info: Info, input: dict[str, Any]) -> Studio:
    fake = _ctx(info).fake
    lib = fake.library
    name = input["name"]
    if not name.strip():
        raise GraphQLError("studio name must not be blank")
    if lib.studio_by_name(name) is not None:
        raise GraphQLError(f"studio with name '{name}' already exists")
    parent = input.get("parent_id")
    studio = lib.add_studio(
        name,
        urls=list(input.get("urls") or []),
        aliases=list(input.get("aliases") or []),
        details=input.get("details"),
        parent_id=_ids_that_exist(lib.studios, [parent])[0] if parent else None,
    )
    studio.stash_ids = _stash_ids(lib, input.get("stash_ids"))
    await fake.hooks.fire("Studio.Create.Post", studio.id, go_json(input, _arg_type(info)))
    return studio


async def _studio_update(_root: Any, info: Info, input: dict[str, Any]) -> Studio:
    fake = _ctx(info).fake
    lib = fake.library
    studio = lib.studios.get(_atoi(input["id"]))
    if studio is None:
        raise GraphQLError(f"studio with id {input['id']} not found")
    if input.get("name") is not None:
        studio.name = input["name"]
    for key in ("urls", "aliases"):
        if key in input:
            setattr(studio, key, list(input[key] or []))
    if "details" in input:
        studio.details = input["details"]
    if "parent_id" in input:
        parent = input["parent_id"]
        studio.parent_id = _ids_that_exist(lib.studios, [parent])[0] if parent else None
    lib.touch(studio)
    await fake.hooks.fire(
        "Studio.Update.Post", studio.id, go_json(input, _arg_type(info)), list(input)
    )
    return studio


async def _tag_create(_root: Any, info: Info, input: dict[str, Any]) -> Tag:
    fake = _ctx(info).fake
    lib = fake.library
    name = input["name"]
    if not name.strip():
        raise GraphQLError("tag name must not be blank")
    existing = lib.tag_by_name(name)
    if existing is not None:
        raise GraphQLError(f"tag with name '{name}' already exists")
    for other in lib.tags.values():
        if any(a.lower() == name.lower() for a in other.aliases):
            raise GraphQLError(f"name '{name}' is used as alias for '{other.name}'")
    tag = lib.add_tag(name, aliases=input.get("aliases") or [])
    for key in ("sort_name", "description"):
        if key in input:
            setattr(tag, key, input[key])
    for key in ("favorite", "ignore_auto_tag"):
        if input.get(key) is not None:
            setattr(tag, key, input[key])
    if "image" in input:
        _decode_image(input["image"])
        tag.image = input["image"] or None
    tag.stash_ids = _stash_ids(lib, input.get("stash_ids"))
    await fake.hooks.fire("Tag.Create.Post", tag.id, go_json(input, _arg_type(info)))
    return tag


def _configure_plugin(
    _root: Any, info: Info, plugin_id: str, input: dict[str, Any]
) -> dict[str, Any]:
    # Stash overwrites the plugin's whole settings map.
    _lib(info).plugin_settings[plugin_id] = dict(input)
    return dict(input)


def _metadata_scan(_root: Any, info: Info, input: dict[str, Any]) -> str:
    return _ctx(info).fake.start_scan(input).id


def _metadata_generate(_root: Any, info: Info, input: dict[str, Any]) -> str:
    return _ctx(info).fake.start_generate(input).id


def _stop_job(_root: Any, info: Info, job_id: str) -> bool:
    return _ctx(info).fake.jobs.stop(job_id)


# ---------------------------------------------------------------- subscriptions


def _subscriber(topic: str) -> Resolver:
    # A plain function (not an async generator) so the queue exists as soon as
    # graphql-core creates the stream: no event published afterwards is missed.
    def subscribe(_root: Any, info: Info) -> AsyncIterator[Any]:
        ctx = _ctx(info)
        stream = ctx.fake.pubsub.subscribe(topic)
        ctx.subscriptions.append(stream)
        return stream

    return subscribe


def _job_event(event: dict[str, Any], _info: Info) -> dict[str, Any]:
    job = event["job"]
    assert isinstance(job, Job)
    return {"type": event["type"], "job": job_to_graphql(job)}


# ---------------------------------------------------------------- wiring


def _video_file_fields() -> dict[str, Resolver]:
    def fingerprint(f: VideoFile, _info: Info, type: str) -> str | None:
        return f.fingerprint(type)

    return {
        "fingerprint": fingerprint,
        "fingerprints": lambda f, _info: f.fingerprints(),
        "basename": _attr("basename"),
    }


RESOLVERS: dict[str, dict[str, Resolver]] = {
    "Query": {
        "findScene": _find_scene,
        "findSceneByHash": _find_scene_by_hash,
        "findScenes": _find_scenes,
        "findDuplicateScenes": _find_duplicate_scenes,
        "sceneStreams": _scene_streams_query,
        "findPerformer": _find_by_id("performers"),
        "findPerformers": _finder(
            "performers", "performer_filter", "performers", filters.match_performer
        ),
        "findStudio": _find_by_id("studios"),
        "findStudios": _finder("studios", "studio_filter", "studios", filters.match_studio),
        "findTag": _find_by_id("tags"),
        "findTags": _finder("tags", "tag_filter", "tags", filters.match_tag),
        "configuration": _configuration,
        "systemStatus": _system_status,
        "jobQueue": _job_queue,
        "findJob": _find_job,
        "version": _version,
    },
    "Mutation": {
        "sceneUpdate": _scene_update,
        "bulkSceneUpdate": _bulk_scene_update,
        "sceneDestroy": _scene_destroy,
        "scenesDestroy": _scenes_destroy,
        "scenesUpdate": _scenes_update,
        "sceneMerge": _scene_merge,
        "performerCreate": _performer_create,
        "performerUpdate": _performer_update,
        "performerMerge": _performer_merge,
        "deleteFiles": _delete_files,
        "tagCreate": _tag_create,
        "tagUpdate": _tag_update,
        "studioCreate": _studio_create,
        "studioUpdate": _studio_update,
        "configurePlugin": _configure_plugin,
        "metadataScan": _metadata_scan,
        "metadataGenerate": _metadata_generate,
        "stopJob": _stop_job,
    },
    "ConfigResult": {"general": _config_general, "plugins": _config_plugins},
    "Scene": {
        "paths": _scene_paths,
        "sceneStreams": _scene_streams,
        "studio": lambda s, info: _lib(info).studios.get(s.studio_id) if s.studio_id else None,
        "tags": _related("tags", "tag_ids"),
        "performers": _related("performers", "performer_ids"),
    },
    "VideoFile": _video_file_fields(),
    "Performer": {
        "tags": _related("tags", "tag_ids"),
        "image_path": _image_path("performer"),
        "scene_count": _scene_count("performer_id"),
        # The fake holds no images or galleries.
        "image_count": lambda _p, _info: 0,
        "gallery_count": lambda _p, _info: 0,
    },
    "Tag": {"image_path": _image_path("tag"), "scene_count": _scene_count("tag_id")},
    "Studio": {
        "image_path": _image_path("studio"),
        "scene_count": _scene_count("studio_id"),
        "parent_studio": lambda s, info: (
            _lib(info).studios.get(s.parent_id) if s.parent_id else None
        ),
    },
}

SUBSCRIPTIONS: dict[str, tuple[str, Resolver]] = {
    "jobsSubscribe": (JOBS, _job_event),
    "scanCompleteSubscribe": (SCAN_COMPLETE, lambda _event, _info: True),
    "loggingSubscribe": (LOGGING, lambda event, _info: event),
}


def build_fake_schema(sdl: str = DEFAULT_SDL) -> GraphQLSchema:
    """Build an executable schema from ``sdl``; fields it lacks are simply not wired."""
    schema = build_schema(sdl)
    _install_scalars(schema)
    for type_name, fields in RESOLVERS.items():
        gql_type = schema.type_map.get(type_name)
        if not isinstance(gql_type, GraphQLObjectType):
            continue
        for field_name, resolver in fields.items():
            if field_name in gql_type.fields:
                gql_type.fields[field_name].resolve = resolver
    sub_type = schema.subscription_type
    if sub_type is not None:
        for field_name, (topic, resolver) in SUBSCRIPTIONS.items():
            if field_name in sub_type.fields:
                sub_type.fields[field_name].subscribe = _subscriber(topic)
                sub_type.fields[field_name].resolve = resolver
    return schema
