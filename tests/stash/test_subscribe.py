"""Subscriptions over the graphql-ws protocol (what Stash prefers) against the fake Stash."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TypeVar

import pytest

from stash_sense.stash import (
    JobEvent,
    StashAuthError,
    StashClient,
    StashError,
    StashUnavailable,
)
from tests.fakes.stash import FakeStash, schema_without
from tests.fakes.stash.fixtures import FakeStashFactory

from .conftest import SECRET, ClientFactory

T = TypeVar("T")


async def _first(events: AsyncIterator[T]) -> T:
    async for event in events:
        return event
    raise AssertionError("subscription ended without an event")


async def _next_job_event(client: StashClient, fake: FakeStash) -> JobEvent:
    async with contextlib.aclosing(client.subscribe_jobs()) as events:
        reader = asyncio.create_task(_first(events))
        await fake.wait_for_subscribers("jobsSubscribe")
        fake.start_job("Scanning...")
        return await asyncio.wait_for(reader, 5)


async def test_job_event_arrives(fake_stash: FakeStash, make_client: ClientFactory) -> None:
    client = await make_client(fake_stash)
    event = await _next_job_event(client, fake_stash)
    assert event.type == "ADD"
    assert event.description == "Scanning..."
    assert event.job_id
    call = next(c for c in fake_stash.calls if c.transport == "ws")
    assert call.operation_name == "JobsSubscribe"
    assert call.headers.get("Sec-WebSocket-Protocol") == "graphql-ws"
    assert not call.api_key_sent


async def test_subscription_sends_api_key_on_upgrade(
    fake_stash_factory: FakeStashFactory, make_client: ClientFactory
) -> None:
    fake = await fake_stash_factory(api_key=SECRET)
    client = await make_client(fake)
    await _next_job_event(client, fake)
    call = next(c for c in fake.calls if c.transport == "ws")
    assert call.api_key == SECRET


async def test_subscription_with_wrong_key_is_auth_error(
    fake_stash_factory: FakeStashFactory, make_client: ClientFactory
) -> None:
    fake = await fake_stash_factory(api_key=SECRET)
    client = await make_client(fake, api_key="wrong-key")
    with pytest.raises(StashAuthError):
        await _first(client.subscribe_jobs())


async def test_subscription_rejected_by_stash_is_a_permanent_error(
    fake_stash_factory: FakeStashFactory, make_client: ClientFactory
) -> None:
    # No schema check ran, so the client sends it and Stash answers with an error frame.
    # On graphql-ws gqlgen sends that frame's payload as a list, which gql cannot parse:
    # the client reports a non-transient error rather than pretending Stash is down.
    fake = await fake_stash_factory(sdl=schema_without("Job.progress"))
    client = await make_client(fake)
    with pytest.raises(StashError) as info:
        await _first(client.subscribe_jobs())
    assert not isinstance(info.value, StashUnavailable)
    assert "JobsSubscribe" in str(info.value)


async def test_scan_complete_event(fake_stash: FakeStash, make_client: ClientFactory) -> None:
    client = await make_client(fake_stash)
    async with contextlib.aclosing(client.subscribe_scan_complete()) as events:
        reader = asyncio.create_task(_first(events))
        await fake_stash.wait_for_subscribers("scanCompleteSubscribe")
        fake_stash.emit_scan_complete()
        assert await asyncio.wait_for(reader, 5) is True


async def test_dropped_socket_raises_unavailable(
    fake_stash: FakeStash, make_client: ClientFactory
) -> None:
    client = await make_client(fake_stash)

    async def consume() -> None:
        async with contextlib.aclosing(client.subscribe_jobs()) as events:
            async for _ in events:
                pass

    reader = asyncio.create_task(consume())
    await fake_stash.wait_for_subscribers("jobsSubscribe")
    await fake_stash.drop_websockets()
    with pytest.raises(StashUnavailable):
        await asyncio.wait_for(reader, 5)


async def test_refused_subscription_is_unavailable(
    closed_port_url: str, make_client: ClientFactory
) -> None:
    client = await make_client(closed_port_url)
    with pytest.raises(StashUnavailable, match="cannot reach Stash"):
        await _first(client.subscribe_jobs())


async def test_leaving_the_loop_unsubscribes(
    fake_stash: FakeStash, make_client: ClientFactory
) -> None:
    client = await make_client(fake_stash)
    await _next_job_event(client, fake_stash)
    for _ in range(100):
        if not fake_stash.websockets:
            break
        await asyncio.sleep(0.01)
    assert not fake_stash.websockets


async def test_execute_refuses_subscriptions_and_subscribe_refuses_queries(
    fake_stash: FakeStash, make_client: ClientFactory
) -> None:
    client = await make_client(fake_stash)
    with pytest.raises(ValueError, match="not a subscription"):
        await _first(client.subscribe("Version"))
