"""The packaged stash-box operations load by name, apart from Stash's."""

from __future__ import annotations

from pathlib import Path

import pytest

from stash_sense import stashbox
from stash_sense.stash import operations as stash_operations
from stash_sense.stashbox.client import operation

FOLDER = Path(stashbox.__file__).parent / "operations"


def test_loader_sees_every_file() -> None:
    names = {op.name for op in stashbox.all_operations()}
    assert names == {p.stem for p in FOLDER.glob("*.graphql")}
    assert {"FindPerformer", "FindScene", "FindScenesBySceneFingerprints", "Version"} <= names


def test_lookup_is_separate_from_stash_operations() -> None:
    assert operation("FindScene").text != stash_operations.get("FindScene").text
    assert not operation("FindPerformer").is_subscription
    with pytest.raises(KeyError, match="unknown stash-box operation 'StashBoxes'"):
        operation("StashBoxes")
