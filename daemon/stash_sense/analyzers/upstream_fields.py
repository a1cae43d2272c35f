"""Upstream field mapping: normalise stash-box and Stash entities alike, diff, write back."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from stash_sense.analyzers.upstream_links import (
    LinkField,
    Ref,
    diff_link,
    diff_links,
    links_equal,
    local_ref,
    local_refs,
    upstream_appearances,
    upstream_ref,
    upstream_refs,
)

# "link" is one linked entity (a scene's studio), "links" a set of them (its performers).
MergeType = Literal["name", "simple", "text", "alias_list", "link", "links"]

__all__ = [
    "PERFORMER_FIELDS",
    "SCENE_FIELDS",
    "SCENE_LINKS",
    "STUDIO_FIELDS",
    "STUDIO_LINKS",
    "TAG_FIELDS",
    "Change",
    "FieldSpec",
    "diff_fields",
    "local_performer",
    "local_scene",
    "local_studio",
    "local_tag",
    "normalize_date",
    "parse_career_length",
    "parse_measurements",
    "performer_update_input",
    "scene_update_input",
    "studio_update_input",
    "tag_update_input",
    "upstream_performer",
    "upstream_scene",
    "upstream_studio",
    "upstream_tag",
    "values_equal",
]


@dataclass(frozen=True)
class FieldSpec:
    """One comparable field: its normalised name, label and how values compare and merge."""

    name: str
    label: str
    merge: MergeType


def _specs(*rows: tuple[str, str, MergeType]) -> dict[str, FieldSpec]:
    return {name: FieldSpec(name, label, merge) for name, label, merge in rows}


# Normalised names follow the reference's upstream field mapper (stash-box side names,
# with `birth_date` read as `birthdate`).
PERFORMER_FIELDS: dict[str, FieldSpec] = _specs(
    ("name", "Name", "name"),
    ("disambiguation", "Disambiguation", "simple"),
    ("aliases", "Aliases", "alias_list"),
    ("urls", "URLs", "alias_list"),
    ("gender", "Gender", "simple"),
    ("birthdate", "Birthdate", "simple"),
    ("death_date", "Death date", "simple"),
    ("ethnicity", "Ethnicity", "simple"),
    ("country", "Country", "simple"),
    ("eye_color", "Eye color", "simple"),
    ("hair_color", "Hair color", "simple"),
    ("height", "Height (cm)", "simple"),
    ("cup_size", "Cup size", "simple"),
    ("band_size", "Band size", "simple"),
    ("waist_size", "Waist size", "simple"),
    ("hip_size", "Hip size", "simple"),
    ("breast_type", "Breast type", "simple"),
    ("career_start_year", "Career start", "simple"),
    ("career_end_year", "Career end", "simple"),
    ("tattoos", "Tattoos", "text"),
    ("piercings", "Piercings", "text"),
)
_DATE_FIELDS = frozenset({"birthdate", "death_date", "date"})


@dataclass(frozen=True)
class Change:
    """One field where upstream moved away from what local has (and from what was last seen).

    Link fields also say which entities accepting would link (`added`) and unlink
    (`removed`).
    """

    field: str
    label: str
    merge: MergeType
    local: Any
    upstream: Any
    previous: Any
    added: list[Ref] = dataclasses.field(default_factory=list)
    removed: list[Ref] = dataclasses.field(default_factory=list)


# ---------------------------------------------------------------- parsing helpers


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _int(value: Any) -> int | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = int(float(value))
    except (TypeError, ValueError):
        return None
    return number or None


_MEASUREMENTS = re.compile(r"^\s*(\d+)?\s*([A-Za-z]+)?\s*(?:-\s*(\d+)?)?\s*(?:-\s*(\d+)?)?\s*$")


def parse_measurements(text: str | None) -> dict[str, Any]:
    """Split Stash's "38F-24-35" into band 38, cup "F", waist 24, hip 35 (missing parts None)."""
    out: dict[str, Any] = {
        "band_size": None,
        "cup_size": None,
        "waist_size": None,
        "hip_size": None,
    }
    match = _MEASUREMENTS.match(text or "")
    if not text or match is None:
        return out
    band, cup, waist, hip = match.groups()
    out["band_size"] = _int(band)
    out["cup_size"] = cup.upper() if cup else None
    out["waist_size"] = _int(waist)
    out["hip_size"] = _int(hip)
    return out


def format_measurements(parts: Mapping[str, Any]) -> str | None:
    """Join components back into "38F-24-35", dropping trailing empty parts."""
    head = f"{parts.get('band_size') or ''}{parts.get('cup_size') or ''}"
    pieces = [head, str(parts.get("waist_size") or ""), str(parts.get("hip_size") or "")]
    while pieces and not pieces[-1]:
        pieces.pop()
    return "-".join(pieces) or None


_YEAR = re.compile(r"\d{4}")


def parse_career_length(text: str | None) -> tuple[int | None, int | None]:
    """Read "2010-2023", "2010-", "-2023", "2010 - present" or "2010" into (start, end)."""
    if not text:
        return None, None
    if "-" not in text:
        years = _YEAR.findall(text)
        return (int(years[0]) if years else None), None
    start_text, _, end_text = text.partition("-")
    start = _YEAR.search(start_text)
    end = _YEAR.search(end_text)
    return (int(start.group()) if start else None), (int(end.group()) if end else None)


def format_career_length(start: int | None, end: int | None) -> str | None:
    """Write (start, end) as Stash's career_length: "s-e", "s-" or "-e"."""
    if start is None and end is None:
        return None
    return f"{start or ''}-{end or ''}"


def normalize_date(value: Any) -> str | None:
    """Normalise a date: drop any time, "YYYY" to "YYYY-01-01", "YYYY-MM" to "YYYY-MM-01"."""
    text = _text(value)
    if text is None:
        return None
    text = text.split("T", 1)[0].split(" ", 1)[0]
    if re.fullmatch(r"\d{4}", text):
        return f"{text}-01-01"
    if re.fullmatch(r"\d{4}-\d{2}", text):
        return f"{text}-01"
    return text


def _body_mods(items: Any) -> str | None:
    # Stash keeps tattoos/piercings as free text; this is the form its scraper writes.
    if not isinstance(items, list):
        return _text(items)
    parts = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        location = _text(item.get("location"))
        description = _text(item.get("description"))
        if location and description:
            parts.append(f"{location}: {description}")
        elif location or description:
            parts.append(location or description or "")
    return "; ".join(parts) or None


def _strings(values: Any) -> list[str]:
    if not isinstance(values, list):
        return []
    out: list[str] = []
    for value in values:
        text = _text(value.get("url") if isinstance(value, Mapping) else value)
        if text is not None:
            out.append(text)
    return out


# ---------------------------------------------------------------- normalisation


def upstream_performer(data: Mapping[str, Any]) -> dict[str, Any]:
    """Normalise a stash-box `Performer` (UpstreamPerformer fields) to the comparable names."""
    return {
        "name": _text(data.get("name")),
        "disambiguation": _text(data.get("disambiguation")),
        "aliases": _strings(data.get("aliases")),
        "urls": _strings(data.get("urls")),
        "gender": _text(data.get("gender")),
        "birthdate": normalize_date(data.get("birth_date")),
        "death_date": normalize_date(data.get("death_date")),
        "ethnicity": _text(data.get("ethnicity")),
        "country": _text(data.get("country")),
        "eye_color": _text(data.get("eye_color")),
        "hair_color": _text(data.get("hair_color")),
        "height": _int(data.get("height")),
        "cup_size": (_text(data.get("cup_size")) or "").upper() or None,
        "band_size": _int(data.get("band_size")),
        "waist_size": _int(data.get("waist_size")),
        "hip_size": _int(data.get("hip_size")),
        "breast_type": _text(data.get("breast_type")),
        "career_start_year": _int(data.get("career_start_year")),
        "career_end_year": _int(data.get("career_end_year")),
        "tattoos": _body_mods(data.get("tattoos")),
        "piercings": _body_mods(data.get("piercings")),
    }


def local_performer(data: Mapping[str, Any], endpoint: str = "") -> dict[str, Any]:
    """Normalise a Stash `Performer` (UpstreamLocalPerformer fields) to the comparable names."""
    start, end = parse_career_length(data.get("career_length"))
    return {
        "name": _text(data.get("name")),
        "disambiguation": _text(data.get("disambiguation")),
        "aliases": _strings(data.get("alias_list")),
        "urls": _strings(data.get("urls")),
        "gender": _text(data.get("gender")),
        "birthdate": normalize_date(data.get("birthdate")),
        "death_date": normalize_date(data.get("death_date")),
        "ethnicity": _text(data.get("ethnicity")),
        "country": _text(data.get("country")),
        "eye_color": _text(data.get("eye_color")),
        "hair_color": _text(data.get("hair_color")),
        "height": _int(data.get("height_cm")),
        **parse_measurements(data.get("measurements")),
        "breast_type": _text(data.get("fake_tits")),
        "career_start_year": start,
        "career_end_year": end,
        "tattoos": _text(data.get("tattoos")),
        "piercings": _text(data.get("piercings")),
    }


# ---------------------------------------------------------------- comparison


def _empty(value: Any) -> bool:
    # Not `in (...)`: False == 0 would make a boolean empty.
    return value is None or (not isinstance(value, bool) and value in ("", 0, [], {}))


def _word(value: str) -> str:
    # Stash's scraper writes enums title-cased with spaces ("Middle Eastern").
    return re.sub(r"[\s_]+", " ", value.strip()).casefold()


def _alias_set(values: Any, own_name: str | None) -> set[str]:
    own = _word(own_name) if own_name else None
    out = set()
    for value in values if isinstance(values, list) else []:
        text = _word(str(value)).rstrip("/")
        if text and text != own:
            out.add(text)
    return out


def values_equal(
    field: str, merge: MergeType, a: Any, b: Any, *, own_name: str | None = None
) -> bool:
    """Tell whether two normalised values mean the same (empty, case, order, dates)."""
    if _empty(a) and _empty(b):
        return True
    if merge in ("link", "links"):
        return links_equal(a, b)
    if merge == "alias_list":
        return _alias_set(a, own_name) == _alias_set(b, own_name)
    if field in _DATE_FIELDS:
        return normalize_date(a) == normalize_date(b)
    if isinstance(a, str) and isinstance(b, str):
        return _word(a) == _word(b)
    return bool(a == b)


def diff_fields(
    specs: Mapping[str, FieldSpec],
    local: Mapping[str, Any],
    upstream: Mapping[str, Any],
    snapshot: Mapping[str, Any],
    enabled: Iterable[str],
) -> list[Change]:
    """Return the 3-way changes: local differs from upstream, and upstream moved since last seen.

    A field where upstream still equals the snapshot is one the user diverged from on
    purpose (or already decided on): it is not reported.
    """
    changes = []
    for name in sorted(set(enabled) & set(specs)):
        spec = specs[name]
        own = upstream.get("name") or local.get("name")
        here, there, before = local.get(name), upstream.get(name), snapshot.get(name)
        if values_equal(name, spec.merge, here, there, own_name=own):
            continue
        if name in snapshot and values_equal(name, spec.merge, there, before, own_name=own):
            continue
        added: list[Ref] = []
        removed: list[Ref] = []
        if spec.merge == "links":
            added, removed = diff_links(here, there, before if name in snapshot else there)
            if not added and not removed:
                continue  # upstream's moves are ones local already made
        elif spec.merge == "link":
            added, removed = diff_link(here, there)
        changes.append(Change(name, spec.label, spec.merge, here, there, before, added, removed))
    return changes


# ---------------------------------------------------------------- writing back


def _title(value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    # Short codes ("NA") stay as they are; enum words get Stash's scraper casing.
    return text if len(text) <= 2 else text.replace("_", " ").title()


def _merged_list(
    current: Sequence[str], incoming: Sequence[str], *, drop: Iterable[str] = ()
) -> list[str]:
    """Union two lists keeping order, case-insensitively, without the dropped entries."""
    seen = {_word(d) for d in drop if d}
    out = []
    for value in [*current, *incoming]:
        key = _word(value).rstrip("/")
        if value and key not in seen:
            seen.add(key)
            out.append(value)
    return out


def performer_update_input(
    current: Mapping[str, Any],
    upstream: Mapping[str, Any],
    fields: Iterable[str],
) -> dict[str, Any]:
    """Build a PerformerUpdateInput (less `id`) that applies the chosen upstream fields.

    `current` is the raw Stash performer. Alias and URL lists are merged with what local
    has (nothing a person added is lost); measurements and career length are rebuilt
    from their components, keeping the components that were not chosen.
    """
    chosen = set(fields)
    out: dict[str, Any] = {}
    name = upstream["name"] if "name" in chosen and upstream.get("name") else current.get("name")
    if "name" in chosen and upstream.get("name"):
        out["name"] = upstream["name"]
    simple = {
        "disambiguation": "disambiguation",
        "gender": "gender",
        "birthdate": "birthdate",
        "death_date": "death_date",
        "country": "country",
        "tattoos": "tattoos",
        "piercings": "piercings",
    }
    for field, target in simple.items():
        if field in chosen:
            out[target] = upstream.get(field)
    for field in ("ethnicity", "eye_color", "hair_color"):
        if field in chosen:
            out[field] = _title(upstream.get(field))
    if "breast_type" in chosen:
        out["fake_tits"] = _title(upstream.get("breast_type"))
    if "height" in chosen:
        out["height_cm"] = upstream.get("height")
    if "aliases" in chosen or ("name" in chosen and "name" in out):
        old_name = current.get("name")
        aliases = list(current.get("alias_list") or [])
        if "aliases" in chosen:
            aliases = _merged_list(aliases, upstream.get("aliases") or [])
        if "name" in out and old_name and _word(old_name) != _word(out["name"]):
            # The former primary name stays findable as an alias.
            aliases = _merged_list(aliases, [old_name])
        out["alias_list"] = _merged_list([], aliases, drop=[name or ""])
    if "urls" in chosen:
        out["urls"] = _merged_list(current.get("urls") or [], upstream.get("urls") or [])
    parts = ("band_size", "cup_size", "waist_size", "hip_size")
    if chosen & set(parts):
        merged = parse_measurements(current.get("measurements"))
        merged.update({p: upstream.get(p) for p in parts if p in chosen})
        out["measurements"] = format_measurements(merged)
    if chosen & {"career_start_year", "career_end_year"}:
        start, end = parse_career_length(current.get("career_length"))
        if "career_start_year" in chosen:
            start = upstream.get("career_start_year")
        if "career_end_year" in chosen:
            end = upstream.get("career_end_year")
        out["career_length"] = format_career_length(start, end)
    return out


# ---------------------------------------------------------------- studios and tags

STUDIO_FIELDS: dict[str, FieldSpec] = _specs(
    ("name", "Name", "name"),
    ("aliases", "Aliases", "alias_list"),
    ("urls", "URLs", "alias_list"),
    ("parent", "Parent studio", "link"),
)
STUDIO_LINKS: dict[str, LinkField] = {
    "parent": LinkField("parent_id", "parent_studio", many=False, entity="studio", not_self=True),
}

TAG_FIELDS: dict[str, FieldSpec] = _specs(
    ("name", "Name", "name"),
    ("description", "Description", "text"),
    ("aliases", "Aliases", "alias_list"),
)


def _studio_names(data: Mapping[str, Any]) -> dict[str, Any]:
    """Read the fields a studio spells the same on both sides."""
    return {
        "name": _text(data.get("name")),
        "aliases": _strings(data.get("aliases")),
        "urls": _strings(data.get("urls")),
    }


def upstream_studio(data: Mapping[str, Any]) -> dict[str, Any]:
    """Normalise a stash-box `Studio` (UpstreamStudio fields) to the comparable names."""
    return {**_studio_names(data), "parent": upstream_ref(data.get("parent"))}


def local_studio(data: Mapping[str, Any], endpoint: str = "") -> dict[str, Any]:
    """Normalise a Stash `Studio` (UpstreamLocalStudio fields) to the comparable names."""
    return {**_studio_names(data), "parent": local_ref(data.get("parent_studio"), endpoint)}


def upstream_tag(data: Mapping[str, Any]) -> dict[str, Any]:
    """Normalise a stash-box `Tag` (UpstreamTag fields) to the comparable names."""
    return {
        "name": _text(data.get("name")),
        "description": _text(data.get("description")),
        "aliases": _strings(data.get("aliases")),
    }


def local_tag(data: Mapping[str, Any], endpoint: str = "") -> dict[str, Any]:
    """Normalise a Stash `Tag` (UpstreamLocalTag fields): a tag reads the same on both sides."""
    return upstream_tag(data)


def _named_update(
    current: Mapping[str, Any], upstream: Mapping[str, Any], chosen: set[str]
) -> dict[str, Any]:
    """Name and alias part of a studio or tag update: the former name stays an alias."""
    out: dict[str, Any] = {}
    if "name" in chosen and upstream.get("name"):
        out["name"] = upstream["name"]
    name = out.get("name") or current.get("name") or ""
    if "aliases" in chosen or "name" in out:
        aliases = list(current.get("aliases") or [])
        if "aliases" in chosen:
            aliases = _merged_list(aliases, upstream.get("aliases") or [])
        old_name = current.get("name")
        if "name" in out and old_name and _word(old_name) != _word(out["name"]):
            aliases = _merged_list(aliases, [old_name])
        out["aliases"] = _merged_list([], aliases, drop=[name])
    return out


def studio_update_input(
    current: Mapping[str, Any], upstream: Mapping[str, Any], fields: Iterable[str]
) -> dict[str, Any]:
    """Build a StudioUpdateInput (less `id`); alias and URL lists merge with local ones."""
    chosen = set(fields)
    out = _named_update(current, upstream, chosen)
    if "urls" in chosen:
        out["urls"] = _merged_list(current.get("urls") or [], upstream.get("urls") or [])
    return out


def tag_update_input(
    current: Mapping[str, Any], upstream: Mapping[str, Any], fields: Iterable[str]
) -> dict[str, Any]:
    """Build a TagUpdateInput (less `id`); aliases merge with local ones."""
    chosen = set(fields)
    out = _named_update(current, upstream, chosen)
    if "description" in chosen:
        out["description"] = upstream.get("description")
    return out


# ---------------------------------------------------------------- scenes

SCENE_FIELDS: dict[str, FieldSpec] = _specs(
    ("title", "Title", "text"),
    ("date", "Date", "simple"),
    ("details", "Details", "text"),
    ("urls", "URLs", "alias_list"),
    ("code", "Studio code", "simple"),
    ("director", "Director", "simple"),
    ("studio", "Studio", "link"),
    ("performers", "Performers", "links"),
    ("tags", "Tags", "links"),
)
SCENE_LINKS: dict[str, LinkField] = {
    "studio": LinkField("studio_id", "studio", many=False, entity="studio"),
    "performers": LinkField("performer_ids", "performers", many=True, entity="performer"),
    "tags": LinkField("tag_ids", "tags", many=True, entity="tag"),
}


def _scene_text(data: Mapping[str, Any], date: Any) -> dict[str, Any]:
    """Read a scene's simple fields, spelt the same on both sides but for the date."""
    return {
        "title": _text(data.get("title")),
        "date": normalize_date(date),
        "details": _text(data.get("details")),
        "urls": _strings(data.get("urls")),
        "code": _text(data.get("code")),
        "director": _text(data.get("director")),
    }


def upstream_scene(data: Mapping[str, Any]) -> dict[str, Any]:
    """Normalise a stash-box `Scene` (UpstreamScene fields); `release_date` reads as `date`."""
    return {
        **_scene_text(data, data.get("release_date")),
        "studio": upstream_ref(data.get("studio")),
        "performers": upstream_appearances(data.get("performers")),
        "tags": upstream_refs(data.get("tags")),
    }


def local_scene(data: Mapping[str, Any], endpoint: str = "") -> dict[str, Any]:
    """Normalise a Stash `Scene` (UpstreamLocalScene fields); links as refs on `endpoint`."""
    return {
        **_scene_text(data, data.get("date")),
        "studio": local_ref(data.get("studio"), endpoint),
        "performers": local_refs(data.get("performers"), endpoint),
        "tags": local_refs(data.get("tags"), endpoint),
    }


def scene_update_input(
    current: Mapping[str, Any], upstream: Mapping[str, Any], fields: Iterable[str]
) -> dict[str, Any]:
    """Build a SceneUpdateInput (less `id`); URLs merge with the local ones."""
    chosen = set(fields)
    out: dict[str, Any] = {}
    for field in ("title", "date", "details", "code", "director"):
        if field in chosen:
            out[field] = upstream.get(field)
    if "urls" in chosen:
        out["urls"] = _merged_list(current.get("urls") or [], upstream.get("urls") or [])
    return out
