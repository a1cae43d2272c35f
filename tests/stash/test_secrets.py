"""The API key never reaches log output or exception text."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from collections.abc import AsyncIterator

import pytest

from stash_sense.stash import StashClient, StashError
from tests.fakes.stash import StashBoxConfig
from tests.fakes.stash.fixtures import FakeStashFactory

from .conftest import SECRET, ClientFactory

BOX_KEY = "box-secret-0815"
WRONG_KEY = "wrong-secret-9999"


async def _first(events: AsyncIterator[object]) -> object:
    return await anext(events)


async def _drain(events: AsyncIterator[object]) -> None:
    async for _ in events:
        pass


def _texts(error: BaseException) -> list[str]:
    return [str(error), repr(error), "".join(traceback.format_exception(error))]


async def test_key_stays_out_of_logs_and_errors(
    fake_stash_factory: FakeStashFactory,
    make_client: ClientFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake = await fake_stash_factory(api_key=SECRET)
    fake.library.stash_boxes.append(StashBoxConfig(endpoint="https://box", api_key=BOX_KEY))
    scene = fake.library.add_scene()
    client = await make_client(fake, max_retries=1)
    errors: list[StashError] = []

    found = await client.find_scene(scene.id)
    assert found is not None and SECRET in (found.paths.stream or "")
    await client.stash_boxes()
    await client.check_schema()
    fake.faults.drop(count=1)
    await client.version()  # one retry, logged
    fake.faults.http_error(503, count=5)
    with pytest.raises(StashError) as unavailable:
        await client.version()
    errors.append(unavailable.value)
    fake.faults.clear()
    with pytest.raises(StashError) as query_error:
        await client.create_tag("x" * 3)
        await client.create_tag("x" * 3)
    errors.append(query_error.value)

    async with contextlib.aclosing(client.subscribe_jobs()) as events:
        reader = asyncio.create_task(_first(events))
        await fake.wait_for_subscribers("jobsSubscribe")
        fake.start_job("Scanning...")
        await asyncio.wait_for(reader, 5)
        await fake.drop_websockets()
        with pytest.raises(StashError) as dropped:
            await asyncio.wait_for(_drain(events), 5)
        errors.append(dropped.value)

    wrong = await make_client(fake, api_key=WRONG_KEY)
    with pytest.raises(StashError) as refused:
        await wrong.version()
    errors.append(refused.value)
    with pytest.raises(StashError) as refused_ws:
        await anext(wrong.subscribe_jobs())
    errors.append(refused_ws.value)

    logged = caplog.text + "".join(r.getMessage() for r in caplog.records)
    assert "Version" in logged  # the debug log of operation names is there
    for secret in (SECRET, BOX_KEY, WRONG_KEY):
        assert secret not in logged
        for error in errors:
            for text in _texts(error):
                assert secret not in text


def test_construction_does_not_expose_the_key() -> None:
    from stash_sense.config.model import StashConfig

    client = StashClient(StashConfig(url="http://127.0.0.1:9", api_key=SECRET))
    assert SECRET not in repr(client)
    assert SECRET not in client.graphql_url + client.websocket_url
