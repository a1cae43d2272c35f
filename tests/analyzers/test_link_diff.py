"""The 3-way diff and write-back of link fields, on hand-made refs."""

from __future__ import annotations

from typing import Any

from stash_sense.analyzers.upstream_links import (
    LinkField,
    diff_links,
    link_write,
    links_equal,
    same_entity,
)

PERFORMERS = LinkField("performer_ids", "performers", many=True, entity="performer")
STUDIO = LinkField("studio_id", "studio", many=False, entity="studio")
PARENT = LinkField("parent_id", "parent_studio", many=False, entity="studio", not_self=True)


def ref(sbid: str | None, name: str, local_id: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": sbid, "name": name}
    if local_id is not None:
        out["local_id"] = local_id
    return out


def test_same_entity_prefers_ids_and_falls_back_to_names() -> None:
    assert same_entity(ref("a", "Anna"), ref("a", "Renamed"))
    assert not same_entity(ref("a", "Anna"), ref("b", "Anna"))  # namesakes stay apart
    assert same_entity(ref(None, "anna"), ref("b", "Anna"))
    assert not same_entity(ref(None, None), ref(None, None))  # type: ignore[arg-type]


def test_links_equal_is_order_free() -> None:
    assert links_equal([ref("a", "A"), ref("b", "B")], [ref("b", "B"), ref("a", "A")])
    assert not links_equal([ref("a", "A")], [ref("a", "A"), ref("b", "B")])
    assert links_equal(None, [])
    assert links_equal(ref("a", "A"), ref("a", "A"))


def test_three_way_diff() -> None:
    local = [ref("a", "A", "1"), ref("b", "B", "2"), ref(None, "Mine", "9")]
    previous = [ref("a", "A"), ref("b", "B")]
    upstream = [ref("b", "B"), ref("c", "C"), ref("d", "D")]
    added, removed = diff_links(local, upstream, previous)
    assert [r["id"] for r in added] == ["c", "d"]
    assert [r["local_id"] for r in removed] == ["1"]  # "Mine" is the user's own: kept


def test_upstream_additions_local_already_has_are_not_added() -> None:
    added, removed = diff_links([ref(None, "C", "5")], [ref("c", "C")], [])
    assert added == [] and removed == []


def test_link_write_many() -> None:
    current = {"performers": [{"id": "1"}, {"id": "2"}]}
    added = [ref("c", "C", "3"), ref("d", "D")]
    removed = [ref("a", "A", "1")]
    written, unmatched = link_write(PERFORMERS, current, added, removed, remove=True)
    assert written == {"performer_ids": ["2", "3"]}
    assert [r["name"] for r in unmatched] == ["D"]
    written, _ = link_write(PERFORMERS, current, added, removed, remove=False)
    assert written == {"performer_ids": ["1", "2", "3"]}
    # Already applied: nothing to send.
    done = {"performers": [{"id": "2"}, {"id": "3"}]}
    assert link_write(PERFORMERS, done, added, removed, remove=True)[0] == {}


def test_link_write_single() -> None:
    current = {"id": "7", "studio": {"id": "1"}}
    assert link_write(STUDIO, current, [ref("b", "B", "2")], [ref("a", "A", "1")], remove=True)[
        0
    ] == {"studio_id": "2"}
    # Upstream cleared it: cleared only when removals are wanted.
    assert link_write(STUDIO, current, [], [ref("a", "A", "1")], remove=True)[0] == {
        "studio_id": None
    }
    assert link_write(STUDIO, current, [], [ref("a", "A", "1")], remove=False)[0] == {}
    # An unknown target leaves the current link alone.
    written, unmatched = link_write(STUDIO, current, [ref("z", "Z")], [], remove=True)
    assert written == {} and [r["name"] for r in unmatched] == ["Z"]


def test_studio_is_never_its_own_parent() -> None:
    current = {"id": "7", "parent_studio": None}
    assert link_write(PARENT, current, [ref("s", "Self", "7")], [], remove=True)[0] == {}
    assert link_write(PARENT, current, [ref("p", "P", "8")], [], remove=True)[0] == {
        "parent_id": "8"
    }
