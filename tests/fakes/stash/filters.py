"""Evaluate Stash's find filters in memory with the semantics of its SQL builder.

Points that matter for clients (all from stash ``pkg/sqlite``):
- string EQUALS is SQL ``LIKE`` (case-insensitive, ``%``/``_`` are wildcards);
  INCLUDES/EXCLUDES split the value into words;
- a NULL column fails every comparison except IS_NULL / NOT_MATCHES_REGEX;
- timestamp criteria compare the raw input string with the stored RFC3339 text
  (written in the server's offset), so ``"...Z"`` against ``"...+02:00"`` is a
  plain string comparison, not a time comparison.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import Any, TypeVar

from .library import Library, Performer, Scene, StashIdRef, Studio, Tag, format_go_time

__all__ = ["FilterError", "find", "match_performer", "match_scene", "match_studio", "match_tag"]

T = TypeVar("T")
Criterion = dict[str, Any]


class FilterError(ValueError):
    """A filter Stash would reject; surfaces as a GraphQL resolver error."""


# ---------------------------------------------------------------- primitives


def _like(value: str, pattern: str) -> bool:
    regex = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE | re.DOTALL) is not None


def _words(query: str) -> list[str]:
    stripped = query.strip()
    unquoted = stripped.strip('"')
    if unquoted != stripped:
        return [unquoted]
    return re.sub(r"\s+", " ", stripped).split(" ")


def match_string(value: str | None, c: Criterion) -> bool:
    """Apply a StringCriterionInput to one nullable column value."""
    mod, arg = c["modifier"], c["value"]
    if mod == "IS_NULL":
        return value is None or value.strip() == ""
    if mod == "NOT_NULL":
        return value is not None and value.strip() != ""
    if mod == "NOT_MATCHES_REGEX":
        return value is None or re.search(arg, value) is None
    if value is None:
        return False
    if mod == "EQUALS":
        return _like(value, arg)
    if mod == "NOT_EQUALS":
        return not _like(value, arg)
    if mod == "INCLUDES":
        return any(_like(value, f"%{w}%") for w in _words(arg))
    if mod == "EXCLUDES":
        return all(not _like(value, f"%{w}%") for w in _words(arg))
    if mod == "MATCHES_REGEX":
        return re.search(arg, value) is not None
    raise FilterError(f"unsupported string filter modifier {mod}")


def _match_any_string(values: Sequence[str], c: Criterion) -> bool:
    # A LEFT JOIN yields one NULL row when there is nothing to join.
    candidates: Sequence[str | None] = values or [None]
    return any(match_string(v, c) for v in candidates)


def match_int(value: float | None, c: Criterion) -> bool:
    """Apply an IntCriterionInput to one nullable numeric value."""
    mod, low, high = c["modifier"], c["value"], c.get("value2")
    if mod == "IS_NULL":
        return value is None
    if mod == "NOT_NULL":
        return value is not None
    if value is None:
        return False
    upper = high if high is not None else 0
    checks: dict[str, Callable[[], bool]] = {
        "EQUALS": lambda: value == low,
        "NOT_EQUALS": lambda: value != low,
        "GREATER_THAN": lambda: value > low,
        "LESS_THAN": lambda: value < low,
        "BETWEEN": lambda: low <= value <= upper,
        "NOT_BETWEEN": lambda: not low <= value <= upper,
    }
    if mod not in checks:
        raise FilterError(f"unsupported numeric modifier type {mod}")
    return checks[mod]()


def match_timestamp(lib: Library, stored: str | None, c: Criterion) -> bool:
    """Compare the stored RFC3339 text with the criterion string, as SQLite does."""
    mod, low = c["modifier"], c["value"]
    high = c.get("value2")
    if high is None:
        # Stash defaults the upper bound to "tomorrow" in the server's offset.
        high = format_go_time(lib.now() + timedelta(days=1))
    if mod == "IS_NULL":
        return stored is None
    if mod == "NOT_NULL":
        return stored is not None
    if stored is None:
        return False
    checks: dict[str, Callable[[], bool]] = {
        "EQUALS": lambda: stored == low,
        "NOT_EQUALS": lambda: stored != low,
        "GREATER_THAN": lambda: stored > low,
        "LESS_THAN": lambda: stored < low,
        "BETWEEN": lambda: low <= stored <= high,
        "NOT_BETWEEN": lambda: not low <= stored <= high,
    }
    if mod not in checks:
        raise FilterError(f"unsupported date modifier type {mod}")
    return checks[mod]()


def match_multi(ids: Iterable[int], c: Criterion) -> bool:
    """Apply a (Hierarchical)MultiCriterionInput to a set of related ids."""
    have = set(ids)
    mod = c["modifier"]
    if mod == "IS_NULL":
        return not have
    if mod == "NOT_NULL":
        return bool(have)
    values = {int(v) for v in c.get("value") or []}
    excludes = {int(v) for v in c.get("excludes") or []}
    if mod == "EXCLUDES":
        excludes |= values
        values = set()
        mod = "INCLUDES_ALL"
    if mod == "NOT_EQUALS":
        raise FilterError("not equals modifier is not supported for multi criterion input")
    ok = True
    if values:
        if mod == "INCLUDES":
            ok = bool(have & values)
        elif mod == "INCLUDES_ALL":
            ok = values <= have
        elif mod == "EQUALS":
            ok = have == values
        else:
            raise FilterError(f"unsupported multi criterion modifier {mod}")
    return ok and not (have & excludes)


def match_stash_id(refs: Sequence[StashIdRef], c: Criterion) -> bool:
    """Apply a StashIDCriterionInput (LEFT JOIN on endpoint, then a string criterion)."""
    endpoint = c.get("endpoint")
    values = [r.stash_id for r in refs if not endpoint or r.endpoint == endpoint]
    return _match_any_string(values, {"value": c.get("stash_id") or "", "modifier": c["modifier"]})


def _hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def match_phash_distance(phashes: Sequence[str | None], c: Criterion) -> bool:
    """Apply a PhashDistanceCriterionInput to the phashes of a scene's files."""
    mod = c["modifier"]
    present = [p for p in phashes if p is not None]
    if mod == "IS_NULL":
        return not present
    if mod == "NOT_NULL":
        return bool(present)
    distance = c.get("distance") or 0
    if mod == "EQUALS":
        return any(_hamming(p, c["value"]) <= distance for p in present)
    if mod == "NOT_EQUALS":
        return any(_hamming(p, c["value"]) > distance for p in present)
    raise FilterError(f"unsupported phash distance modifier {mod}")


# ---------------------------------------------------------------- compound filters


def _combine(
    lib: Library,
    obj: T,
    f: dict[str, Any],
    own: Callable[[], list[bool]],
    recurse: Callable[[Library, T, dict[str, Any]], bool],
) -> bool:
    subs = [k for k in ("AND", "OR", "NOT") if f.get(k) is not None]
    if len(subs) > 1:
        raise FilterError("cannot have more than one of AND, OR or NOT in a filter")
    results = own()
    mine = all(results)
    if not subs:
        return mine
    sub_ok = recurse(lib, obj, f[subs[0]])
    if subs[0] == "AND":
        return mine and sub_ok
    if subs[0] == "NOT":
        return mine and not sub_ok
    # OR: with no criteria of its own the level is just the sub-filter.
    return (mine and bool(results)) or sub_ok


def _scene_is_missing(s: Scene, what: str) -> bool:
    blank: dict[str, str | None] = {
        "title": s.title,
        "details": s.details,
        "date": s.date,
        "code": s.code,
        "director": s.director,
    }
    if what in blank:
        value = blank[what]
        return value is None or value.strip() == ""
    checks: dict[str, Callable[[], bool]] = {
        "url": lambda: not s.urls,
        "studio": lambda: s.studio_id is None,
        "performers": lambda: not s.performer_ids,
        "tags": lambda: not s.tag_ids,
        "stash_id": lambda: not s.stash_ids,
        # Stash LEFT JOINs every file: any file without a phash (or no file) matches.
        "phash": lambda: not s.files or any(f.phash is None for f in s.files),
        "cover": lambda: s.cover_image is None,
    }
    if what not in checks:
        raise FilterError(f"unsupported is_missing value for scenes: {what}")
    return checks[what]()


def match_scene(lib: Library, s: Scene, f: dict[str, Any]) -> bool:
    """Return whether a scene passes a SceneFilterType."""
    return _combine(
        lib, s, f, lambda: _own(f, lambda k, c: _scene_criterion(lib, s, k, c)), match_scene
    )


def _scene_criterion(lib: Library, s: Scene, key: str, c: Any) -> bool:
    files = s.files
    handlers: dict[str, Callable[[], bool]] = {
        "id": lambda: match_int(s.id, c),
        "title": lambda: match_string(s.title, c),
        "code": lambda: match_string(s.code, c),
        "details": lambda: match_string(s.details, c),
        "director": lambda: match_string(s.director, c),
        "oshash": lambda: _match_any_string([x.oshash for x in files], c),
        "checksum": lambda: _match_any_string([x.md5 for x in files if x.md5], c),
        "phash_distance": lambda: match_phash_distance([x.phash for x in files], c),
        "path": lambda: _match_path([x.path for x in files], c),
        "file_count": lambda: match_int(len(files), c),
        "organized": lambda: s.organized == c,
        "duration": lambda: (
            any(match_int(int(x.duration), c) for x in files) if files else match_int(None, c)
        ),
        "is_missing": lambda: _scene_is_missing(s, c),
        "studios": lambda: match_multi([s.studio_id] if s.studio_id else [], c),
        "tags": lambda: match_multi(s.tag_ids, c),
        "tag_count": lambda: match_int(len(s.tag_ids), c),
        "performers": lambda: match_multi(s.performer_ids, c),
        "performer_count": lambda: match_int(len(s.performer_ids), c),
        "stash_id_endpoint": lambda: match_stash_id(s.stash_ids, c),
        "created_at": lambda: match_timestamp(lib, lib.stored(s.created_at), c),
        "updated_at": lambda: match_timestamp(lib, lib.stored(s.updated_at), c),
    }
    if key not in handlers:
        raise FilterError(f"the fake does not implement scene filter {key!r}")
    return handlers[key]()


def _match_path(paths: Sequence[str], c: Criterion) -> bool:
    mod = c["modifier"]
    if mod in ("INCLUDES", "EXCLUDES", "EQUALS", "NOT_EQUALS"):
        # Path EQUALS is a LIKE without added wildcards; INCLUDES ORs words.
        if mod in ("EQUALS", "NOT_EQUALS"):
            hit = [_like(p, c["value"]) for p in paths]
            return any(hit) if mod == "EQUALS" else bool(paths) and not all(hit)
        words = _words(c["value"])
        if mod == "INCLUDES":
            return any(_like(p, f"%{w}%") for p in paths for w in words)
        return bool(paths) and any(all(not _like(p, f"%{w}%") for w in words) for p in paths)
    return _match_any_string(list(paths), c)


def match_performer(lib: Library, p: Performer, f: dict[str, Any]) -> bool:
    """Return whether a performer passes a PerformerFilterType."""

    def criterion(key: str, c: Any) -> bool:
        missing: dict[str, Callable[[], bool]] = {
            "stash_id": lambda: not p.stash_ids,
            "image": lambda: p.image is None,
            "disambiguation": lambda: not p.disambiguation,
            "aliases": lambda: not p.alias_list,
            "gender": lambda: p.gender is None,
            "tags": lambda: not p.tag_ids,
        }
        handlers: dict[str, Callable[[], bool]] = {
            "name": lambda: match_string(p.name, c),
            "disambiguation": lambda: match_string(p.disambiguation, c),
            "filter_favorites": lambda: p.favorite == c,
            "aliases": lambda: _match_any_string(p.alias_list, c),
            "gender": lambda: _match_gender(p.gender, c),
            "is_missing": lambda: _missing(missing, "performers", c),
            "scene_count": lambda: match_int(lib.scene_count(performer_id=p.id), c),
            "stash_id_endpoint": lambda: match_stash_id(p.stash_ids, c),
            "created_at": lambda: match_timestamp(lib, lib.stored(p.created_at), c),
            "updated_at": lambda: match_timestamp(lib, lib.stored(p.updated_at), c),
        }
        if key not in handlers:
            raise FilterError(f"the fake does not implement performer filter {key!r}")
        return handlers[key]()

    return _combine(lib, p, f, lambda: _own(f, criterion), match_performer)


def _match_gender(gender: str | None, c: Criterion) -> bool:
    wanted = set(c.get("value_list") or []) | ({c["value"]} if c.get("value") else set())
    mod = c["modifier"]
    if mod == "IS_NULL":
        return gender is None
    if mod == "NOT_NULL":
        return gender is not None
    if gender is None:
        return False
    if mod in ("EQUALS", "INCLUDES"):
        return gender in wanted
    if mod in ("NOT_EQUALS", "EXCLUDES"):
        return gender not in wanted
    raise FilterError(f"unsupported gender modifier {mod}")


def _missing(checks: dict[str, Callable[[], bool]], what: str, value: str) -> bool:
    if value not in checks:
        raise FilterError(f"unsupported is_missing value for {what}: {value}")
    return checks[value]()


def _own(f: dict[str, Any], criterion: Callable[[str, Any], bool]) -> list[bool]:
    return [
        criterion(k, c) for k, c in f.items() if c is not None and k not in ("AND", "OR", "NOT")
    ]


def match_tag(lib: Library, t: Tag, f: dict[str, Any]) -> bool:
    """Return whether a tag passes a TagFilterType."""

    def criterion(key: str, c: Any) -> bool:
        handlers: dict[str, Callable[[], bool]] = {
            "name": lambda: match_string(t.name, c),
            "aliases": lambda: _match_any_string(t.aliases, c),
            "favorite": lambda: t.favorite == c,
            "stash_id_endpoint": lambda: match_stash_id(t.stash_ids, c),
            "created_at": lambda: match_timestamp(lib, lib.stored(t.created_at), c),
            "updated_at": lambda: match_timestamp(lib, lib.stored(t.updated_at), c),
        }
        if key not in handlers:
            raise FilterError(f"the fake does not implement tag filter {key!r}")
        return handlers[key]()

    return _combine(lib, t, f, lambda: _own(f, criterion), match_tag)


def match_studio(lib: Library, s: Studio, f: dict[str, Any]) -> bool:
    """Return whether a studio passes a StudioFilterType."""

    def criterion(key: str, c: Any) -> bool:
        handlers: dict[str, Callable[[], bool]] = {
            "name": lambda: match_string(s.name, c),
            "aliases": lambda: _match_any_string(s.aliases, c),
            "stash_id_endpoint": lambda: match_stash_id(s.stash_ids, c),
            "created_at": lambda: match_timestamp(lib, lib.stored(s.created_at), c),
            "updated_at": lambda: match_timestamp(lib, lib.stored(s.updated_at), c),
        }
        if key not in handlers:
            raise FilterError(f"the fake does not implement studio filter {key!r}")
        return handlers[key]()

    return _combine(lib, s, f, lambda: _own(f, criterion), match_studio)


# ---------------------------------------------------------------- query text, sort, paging


def _q_matches(texts: Sequence[str | None], q: str) -> bool:
    # Every word must hit some searchable column; "-word" excludes.
    lowered = [t.lower() for t in texts if t]
    for word in q.lower().split():
        if word.startswith("-") and len(word) > 1:
            if any(word[1:] in t for t in lowered):
                return False
        elif not any(word in t for t in lowered):
            return False
    return True


def _search_texts(obj: Any) -> list[str | None]:
    if isinstance(obj, Scene):
        texts: list[str | None] = [obj.title, obj.details, obj.code]
        for f in obj.files:
            texts += [f.path, f.oshash, f.md5]
        return texts
    if isinstance(obj, Performer):
        return [obj.name, obj.disambiguation, *obj.alias_list]
    if isinstance(obj, Tag | Studio):
        return [obj.name, *obj.aliases]
    return []  # pragma: no cover - only the four kinds are searched


def _sort_key(lib: Library, obj: Any, sort: str) -> Any:
    """Return a sort key for the columns Stash lets clients sort by."""
    if sort == "id":
        return obj.id
    if sort in ("created_at", "updated_at"):
        # The database compares the stored RFC3339 strings.
        return lib.stored(getattr(obj, sort))
    if isinstance(obj, Scene):
        primary = obj.primary_file
        scene_keys: dict[str, Any] = {
            "title": (obj.title or (primary.basename if primary else "")).lower(),
            "path": primary.path if primary else "",
            "date": obj.date or "",
            "duration": primary.duration if primary else 0.0,
            "filesize": primary.size if primary else 0,
            "rating": obj.rating100 or 0,
            "organized": obj.organized,
            "performer_count": len(obj.performer_ids),
            "tag_count": len(obj.tag_ids),
        }
        if sort in scene_keys:
            return scene_keys[sort]
    elif sort == "name":
        return obj.name.lower()
    elif sort == "scenes_count":
        kind = {Performer: "performer_id", Tag: "tag_id", Studio: "studio_id"}[type(obj)]
        return lib.scene_count(**{kind: obj.id})
    raise FilterError(f"invalid sort: {sort}")


def find(
    lib: Library,
    items: Iterable[T],
    *,
    matcher: Callable[[Library, T, dict[str, Any]], bool],
    object_filter: dict[str, Any] | None,
    find_filter: dict[str, Any] | None,
    ids: Sequence[str] | None,
    default_sort: str,
) -> tuple[list[T], list[T]]:
    """Filter, search, sort and paginate; return ``(every match, requested page)``."""
    ff = find_filter or {}
    wanted_ids = {int(i) for i in ids} if ids is not None else None
    selected = [
        obj
        for obj in items
        if (wanted_ids is None or obj.id in wanted_ids)  # type: ignore[attr-defined]
        and (not object_filter or matcher(lib, obj, object_filter))
        and (not ff.get("q") or _q_matches(_search_texts(obj), ff["q"]))
    ]
    sort = ff.get("sort") or default_sort
    descending = ff.get("direction") == "DESC"
    # Ties break on id ascending whatever the direction, so pages are stable.
    selected.sort(key=lambda o: o.id)  # type: ignore[attr-defined]
    selected.sort(key=lambda o: _sort_key(lib, o, sort), reverse=descending)
    per_page = ff.get("per_page")
    if per_page is None:
        per_page = 25
    if per_page < 0:
        return selected, selected
    page = max(ff.get("page") or 1, 1)
    start = (page - 1) * per_page
    return selected, selected[start : start + per_page]
