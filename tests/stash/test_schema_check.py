"""The startup schema check against a compatible and an incompatible fake Stash."""

from __future__ import annotations

import pytest

from stash_sense.stash import StashIncompatible
from tests.fakes.stash import FakeStash, schema_without
from tests.fakes.stash.fixtures import FakeStashFactory

from .conftest import ClientFactory


async def test_schema_check_passes_against_the_fake(
    fake_stash: FakeStash, make_client: ClientFactory
) -> None:
    client = await make_client(fake_stash)
    assert await client.check_schema() == []
    await client.require_compatible()
    assert [c.operation_name for c in fake_stash.calls] == ["IntrospectionQuery"] * 2


async def test_schema_check_names_operation_and_field(
    fake_stash_factory: FakeStashFactory, make_client: ClientFactory
) -> None:
    fake = await fake_stash_factory(sdl=schema_without("Scene.files"))
    client = await make_client(fake)
    problems = await client.check_schema()
    assert any(
        p.startswith("FindScene: Cannot query field 'files' on type 'Scene'") for p in problems
    )
    assert any(p.startswith("FindScenes: ") and "'files'" in p for p in problems)
    assert not any(p.startswith("Version:") for p in problems)


async def test_incompatible_operation_is_refused_without_a_request(
    fake_stash_factory: FakeStashFactory, make_client: ClientFactory
) -> None:
    fake = await fake_stash_factory(sdl=schema_without("Mutation.bulkSceneUpdate"))
    client = await make_client(fake)
    with pytest.raises(StashIncompatible) as caught:
        await client.require_compatible()
    assert all(p.startswith("BulkSceneUpdate: ") for p in caught.value.problems)
    sent = len(fake.calls)
    with pytest.raises(StashIncompatible):
        await client.bulk_add_performers(["1"], ["2"])
    assert len(fake.calls) == sent
    # Operations the check found valid still run.
    assert await client.version() == "v0.30.1"


async def test_missing_subscription_field_is_reported(
    fake_stash_factory: FakeStashFactory, make_client: ClientFactory
) -> None:
    fake = await fake_stash_factory(sdl=schema_without("Subscription.scanCompleteSubscribe"))
    client = await make_client(fake)
    problems = await client.check_schema()
    assert len(problems) == 1
    assert problems[0].startswith("ScanCompleteSubscribe: ")
