"""Hook payload validation and loop-protection markers."""

from __future__ import annotations

from typing import Any

import pytest

from stash_sense.events.feedback import performer_edit
from stash_sense.events.payload import InvalidEvent, parse_hook
from stash_sense.writes.ids import is_own_write, new_mutation_id


def test_scan_created_scene() -> None:
    event = parse_hook({"id": 123, "type": "Scene.Create.Post", "input": None})
    assert (event.object, event.operation, event.id, event.input) == ("Scene", "Create", 123, None)
    assert event.input_fields == ()


def test_update_with_fields_and_string_id() -> None:
    event = parse_hook(
        {
            "id": "45",
            "type": "Scene.Update.Post",
            "input": {"id": "45", "tag_ids": ["21"]},
            "inputFields": ["tag_ids", "id"],
        }
    )
    assert event.id == 45
    assert event.scene_input() == {"id": "45", "tag_ids": ["21"]}


def test_scenes_update_list_input_picks_this_scene() -> None:
    event = parse_hook(
        {
            "id": 7,
            "type": "Scene.Update.Post",
            "input": [{"id": "6", "title": "a"}, {"id": "7", "performer_ids": ["1"]}],
        }
    )
    assert event.scene_input() == {"id": "7", "performer_ids": ["1"]}


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([], "JSON object"),
        ({"id": 1}, "type must be a string"),
        ({"id": 1, "type": "Scene.Explode.Post"}, "not a Stash hook trigger"),
        ({"id": 1, "type": "Scene.Create.Pre"}, "not a Stash hook trigger"),
        ({"type": "Scene.Create.Post"}, "need an id"),
        ({"id": 0, "type": "Scene.Create.Post"}, "positive integer"),
        ({"id": -3, "type": "Scene.Create.Post"}, "positive integer"),
        ({"id": True, "type": "Scene.Create.Post"}, "positive integer"),
        ({"id": 1.5, "type": "Scene.Create.Post"}, "positive integer"),
        ({"id": "12a", "type": "Scene.Create.Post"}, "positive integer"),
        ({"id": 2**64, "type": "Scene.Create.Post"}, "positive integer"),
        ({"id": 1, "type": "Scene.Create.Post", "input": "x"}, "input must be"),
        ({"id": 1, "type": "Scene.Update.Post", "inputFields": "title"}, "inputFields"),
        ({"id": 1, "type": "Scene.Update.Post", "inputFields": [1]}, "inputFields"),
    ],
)
def test_invalid_payloads(payload: Any, message: str) -> None:
    with pytest.raises(InvalidEvent, match=message):
        parse_hook(payload)


def test_other_objects_may_omit_id() -> None:
    assert parse_hook({"type": "Tag.Merge.Post"}).id is None


def test_own_write_marker() -> None:
    marker = new_mutation_id()
    assert is_own_write({"clientMutationId": marker, "ids": ["1"]})
    assert new_mutation_id() != marker
    assert not is_own_write({"clientMutationId": None})
    assert not is_own_write({"clientMutationId": "ui-123"})
    assert not is_own_write(None)


@pytest.mark.parametrize(
    ("scene_input", "expected"),
    [
        ({"id": "1", "performer_ids": ["3", 4]}, ("set", ["3", "4"])),
        ({"ids": ["1"], "performer_ids": {"ids": ["3"], "mode": "REMOVE"}}, ("remove", ["3"])),
        ({"ids": ["1"], "performer_ids": {"ids": ["3"], "mode": "ADD"}}, ("add", ["3"])),
        ({"ids": ["1"], "performer_ids": {"ids": ["3"], "mode": "WEIRD"}}, None),
        ({"id": "1", "title": "x"}, None),
    ],
)
def test_performer_edit(scene_input: dict[str, Any], expected: Any) -> None:
    assert performer_edit(scene_input) == expected
