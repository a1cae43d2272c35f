"""Payload validation per kind, the kind registry, and fuzzing of the strict parsers."""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stash_sense.api.errors import ApiError
from stash_sense.api.review import parse_bulk
from stash_sense.review import (
    InvalidPayload,
    KindRegistry,
    Resuggest,
    ResuggestPolicy,
    ReviewState,
)
from stash_sense.review.payload import dump_payload, load_payload

from .kinds import CurationKind, FilesPayload, TagKind, TagPayload, tag


class Color(Enum):
    RED = "red"
    BLUE = "blue"


@dataclass(frozen=True)
class Box:
    x: float
    y: float


@dataclass(frozen=True)
class Rich:
    boxes: list[Box]
    color: Color
    counts: dict[str, int] = field(default_factory=dict)
    note: str | None = None
    anything: Any = None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"tag": "x"}, "misses the field score"),
        ({"tag": "x", "score": 0.5, "extra_field": 1}, "unknown fields: extra_field"),
        ({"tag": 1, "score": 0.5}, "payload.tag must be a string"),
        ({"tag": "x", "score": "0.5"}, "payload.score must be a finite number"),
        ({"tag": "x", "score": True}, "payload.score must be a finite number"),
        ({"tag": "x", "score": math.nan}, "payload.score must be a finite number"),
        ({"tag": "x", "score": math.inf}, "payload.score must be a finite number"),
        ({"tag": "x", "score": 0.5, "frames": 1.5}, "payload.frames must be an integer"),
        ({"tag": "x", "score": 0.5, "frames": True}, "payload.frames must be an integer"),
        ({"tag": "x", "score": 0.5, "notes": "a"}, "payload.notes must be a list"),
        ({"tag": "x", "score": 0.5, "notes": ["a", 2]}, r"payload.notes\[1\] must be a string"),
        ({"tag": "x", "score": 0.5, "extra": {"a": "1"}}, "payload.extra.a must be an integer"),
        ({"tag": "x", "score": 0.5, "extra": []}, "payload.extra must be an object"),
        ({"tag": "x", "score": 0.5, "mode": "merge"}, "payload.mode must be one of"),
        ({"tag": "x", "score": 0.5, "parent": 3}, "payload.parent must be a string"),
        ({"tag": "x", "score": 1.5}, r"score must be in \[0, 1\]"),  # the kind's own check
        (["tag", "x"], "payload must be an object"),
        (None, "has no payload"),
    ],
)
def test_tag_kind_refuses_bad_payloads(data: Any, message: str) -> None:
    with pytest.raises(InvalidPayload, match=message):
        TagKind().normalize(data)


def test_tag_kind_normalizes_payloads() -> None:
    kind = TagKind()
    assert kind.normalize(tag(score=1, parent="p")) == {
        "tag": "blonde",
        "score": 1.0,
        "frames": 0,
        "notes": [],
        "extra": {},
        "mode": "add",
        "parent": "p",
    }
    assert kind.normalize(TagPayload("x", 0.5)) == kind.normalize({"tag": "x", "score": 0.5})
    # A dataclass built with wrong types in Python is caught too.
    with pytest.raises(InvalidPayload):
        kind.normalize(TagPayload("x", "high"))  # type: ignore[arg-type]
    with pytest.raises(InvalidPayload, match="not a TagPayload"):
        kind.normalize(FilesPayload([1]))
    # The fingerprint follows the content, not the key order.
    assert kind.fingerprint({"a": 1, "b": 2}) == kind.fingerprint({"b": 2, "a": 1})
    assert kind.fingerprint({"a": 1}) != kind.fingerprint({"a": 2})


def test_nested_dataclasses_enums_and_any() -> None:
    data = {"boxes": [{"x": 1, "y": 2.5}], "color": "red", "anything": {"free": [1, None]}}
    rich = load_payload(Rich, data)
    assert rich.boxes == [Box(1.0, 2.5)] and rich.color is Color.RED
    assert dump_payload(rich) == {
        "boxes": [{"x": 1.0, "y": 2.5}],
        "color": "red",
        "counts": {},
        "note": None,
        "anything": {"free": [1, None]},
    }
    with pytest.raises(InvalidPayload, match=r"payload.boxes\[0\] misses the field y"):
        load_payload(Rich, {"boxes": [{"x": 1}], "color": "red"})
    with pytest.raises(InvalidPayload, match=r"payload\.color must be one of"):
        load_payload(Rich, {"boxes": [], "color": "green"})


def test_registry_rules() -> None:
    registry = KindRegistry()
    registry.register(TagKind())
    with pytest.raises(ValueError, match="already registered"):
        registry.register(TagKind())
    bad = TagKind()
    bad.name = "Bad Name"
    with pytest.raises(ValueError, match="must match"):
        registry.register(bad)
    untyped = CurationKind()
    untyped.name = "untyped"
    untyped.payload_type = dict  # type: ignore[assignment]
    with pytest.raises(ValueError, match="dataclass"):
        registry.register(untyped)
    assert registry.names() == ["test_tag"]


@pytest.mark.parametrize(
    ("policy", "state", "same", "allowed"),
    [
        (ResuggestPolicy(), ReviewState.ACCEPTED, False, False),
        (ResuggestPolicy(), ReviewState.REJECTED, False, False),
        (ResuggestPolicy(after_accept=Resuggest.ALWAYS), ReviewState.ACCEPTED, True, True),
        (ResuggestPolicy(after_accept=Resuggest.ALWAYS), ReviewState.REJECTED, False, False),
        (ResuggestPolicy(after_reject=Resuggest.IF_CHANGED), ReviewState.REJECTED, True, False),
        (ResuggestPolicy(after_reject=Resuggest.IF_CHANGED), ReviewState.REJECTED, False, True),
    ],
)
def test_resuggest_policy(
    policy: ResuggestPolicy, state: ReviewState, same: bool, allowed: bool
) -> None:
    from stash_sense.review import ReviewItem

    decided = ReviewItem(
        1, "k", 1, "s", state, None, {}, None, 0.0, 0.0, 0.0, None, None, None, fingerprint="f"
    )
    assert policy.allows(decided, "f" if same else "g") is allowed


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)
bulk_like = st.fixed_dictionaries(
    {},
    optional={
        "action": st.sampled_from(["accept", "reject", "delete", 1, None]),
        "ids": st.lists(json_values, max_size=3) | json_values,
        "filter": st.dictionaries(
            st.sampled_from(["kind", "scene", "subject", "min_confidence", "max_confidence", "x"]),
            json_values,
            max_size=3,
        )
        | json_values,
        "confirm": json_values,
    },
)


@settings(max_examples=150, deadline=None)
@given(json_values | bulk_like)
def test_bulk_parser_answers_4xx_or_a_request(data: Any) -> None:
    try:
        parsed = parse_bulk(data)
    except ApiError as err:
        assert 400 <= err.status < 500
        return
    assert (parsed.ids is None) != (parsed.filters is None)
    assert all(isinstance(i, int) and 0 < i < 2**63 for i in parsed.ids or [])


@settings(max_examples=150, deadline=None)
@given(json_values | st.fixed_dictionaries({"tag": json_values, "score": json_values}))
def test_payload_loader_raises_only_invalid_payload(data: Any) -> None:
    with contextlib.suppress(InvalidPayload):
        TagKind().normalize(data)
