"""Find the local performer, studio or tag behind an upstream ref: by stash id, else by name."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from stash_sense.analyzers.upstream_links import Ref
from stash_sense.stash import StashClient

_PAGE = 1000
_ALIAS_KEY = {"performer": "alias_list", "studio": "aliases", "tag": "aliases"}


@dataclass
class _Table:
    """One entity type's lookups."""

    by_stash_id: dict[tuple[str, str], str] = field(default_factory=dict)
    by_name: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    by_alias: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))


class LinkIndex:
    """Local entities by stash id and name, loaded once per analyzer run and only when needed."""

    def __init__(self, stash: StashClient) -> None:
        self._stash = stash
        self._tables: dict[str, _Table] = {}

    async def resolve(
        self, entity: str, endpoint: str, refs: Iterable[Mapping[str, Any]]
    ) -> list[Ref]:
        """Return copies of upstream refs with `local_id` and `matched_by` filled where found.

        A name match must be unambiguous: a primary name shared by two local entities,
        or an alias shared by two, matches nothing (the item then shows it unmatched).
        """
        out = []
        table: _Table | None = None
        for ref in refs:
            resolved = dict(ref)
            if not resolved.get("local_id"):
                table = table or await self._table(entity)
                local_id, how = _find(table, endpoint, resolved)
                resolved["local_id"], resolved["matched_by"] = local_id, how
            out.append(resolved)
        return out

    async def _table(self, entity: str) -> _Table:
        """Load (once) every local entity of a type."""
        if entity in self._tables:
            return self._tables[entity]
        table = _Table()
        title = entity.capitalize()
        page = 1
        while True:
            data = await self._stash.execute(
                f"LinkIndex{title}s",
                {"filter": {"page": page, "per_page": _PAGE, "sort": "id", "direction": "ASC"}},
            )
            result = data[f"find{title}s"]
            rows = result.get(f"{entity}s") or []
            for row in rows:
                _add(table, row, _ALIAS_KEY[entity])
            if len(rows) < _PAGE or page * _PAGE >= int(result["count"]):
                break
            page += 1
        self._tables[entity] = table
        return table


def _key(name: Any) -> str:
    return str(name or "").strip().casefold()


def _add(table: _Table, row: Mapping[str, Any], alias_key: str) -> None:
    local_id = str(row["id"])
    for link in row.get("stash_ids") or ():
        table.by_stash_id.setdefault((link["endpoint"], link["stash_id"]), local_id)
    if _key(row.get("name")):
        table.by_name[_key(row.get("name"))].add(local_id)
    for alias in row.get(alias_key) or ():
        if _key(alias):
            table.by_alias[_key(alias)].add(local_id)


def _find(table: _Table, endpoint: str, ref: Mapping[str, Any]) -> tuple[str | None, str | None]:
    if ref.get("id"):
        found = table.by_stash_id.get((endpoint, str(ref["id"])))
        if found is not None:
            return found, "stash_id"
    names = [ref.get("name"), ref.get("as")]
    for lookup in (table.by_name, table.by_alias):
        for name in names:
            ids = lookup.get(_key(name)) if _key(name) else None
            if ids and len(ids) == 1:
                return next(iter(ids)), "name"
    return None, None
