"""Loading and looking up the packaged operation documents."""

from __future__ import annotations

import pytest
from graphql import OperationType

from stash_sense.stash import operations


def test_all_expected_operations_are_packaged() -> None:
    names = {op.name for op in operations.all_operations()}
    assert {
        "Version",
        "FindScene",
        "FindScenes",
        "BulkSceneUpdate",
        "FindPerformersByStashId",
        "FindTagByName",
        "TagCreate",
        "StashBoxes",
        "JobsSubscribe",
        "ScanCompleteSubscribe",
    } <= names


def test_lookup_by_name() -> None:
    op = operations.get("JobsSubscribe")
    assert op.kind is OperationType.SUBSCRIPTION
    assert op.is_subscription
    assert not operations.get("FindScene").is_subscription
    with pytest.raises(KeyError, match="Nope"):
        operations.get("Nope")


def test_file_must_hold_one_operation_named_like_it() -> None:
    operations.parse_operation("Ok.graphql", "query Ok { version { hash } }")
    with pytest.raises(ValueError, match="expected one operation, found 2"):
        operations.parse_operation("Two.graphql", "query Two { a }\nquery Other { b }")
    with pytest.raises(ValueError, match="expected 'Named'"):
        operations.parse_operation("Named.graphql", "query Other { a }")
    with pytest.raises(ValueError, match="expected 'Anon'"):
        operations.parse_operation("Anon.graphql", "{ a }")
