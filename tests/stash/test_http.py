"""Requests, auth, retries, timeouts and error mapping against the fake Stash."""

from __future__ import annotations

import pytest

from stash_sense.stash import (
    StashAuthError,
    StashQueryError,
    StashUnavailable,
)
from tests.fakes.stash import FakeStash, schema_without
from tests.fakes.stash.fixtures import FakeStashFactory

from .conftest import SECRET, ClientFactory, count_requests


async def test_no_api_key_sends_no_header(
    fake_stash: FakeStash, make_client: ClientFactory
) -> None:
    client = await make_client(fake_stash)
    assert await client.version() == "v0.30.1"
    assert len(fake_stash.calls) == 1
    call = fake_stash.calls[0]
    assert call.operation_name == "Version"
    assert not call.api_key_sent


async def test_api_key_is_sent_as_header(
    fake_stash_factory: FakeStashFactory, make_client: ClientFactory
) -> None:
    fake = await fake_stash_factory(api_key=SECRET)
    client = await make_client(fake)
    assert await client.version() == "v0.30.1"
    assert fake.calls[0].api_key == SECRET


async def test_wrong_key_is_auth_error_without_retry(
    fake_stash_factory: FakeStashFactory, make_client: ClientFactory
) -> None:
    fake = await fake_stash_factory(api_key=SECRET)
    requests = count_requests(fake)
    client = await make_client(fake, api_key="wrong-key", max_retries=3)
    with pytest.raises(StashAuthError) as caught:
        await client.version()
    assert caught.value.status == 401
    assert "refused the API key" in str(caught.value)
    assert requests() == 1


async def test_missing_key_is_auth_error(
    fake_stash_factory: FakeStashFactory, make_client: ClientFactory
) -> None:
    fake = await fake_stash_factory(api_key=SECRET)
    client = await make_client(fake, api_key="")
    with pytest.raises(StashAuthError, match="requires an API key"):
        await client.version()


async def test_key_sent_to_stash_without_credentials_is_refused(
    fake_stash: FakeStash, make_client: ClientFactory
) -> None:
    client = await make_client(fake_stash, api_key="stale-key")
    with pytest.raises(StashAuthError):
        await client.version()


@pytest.mark.parametrize("status", [500, 502, 503, 429])
async def test_transient_status_is_retried(
    fake_stash: FakeStash, make_client: ClientFactory, status: int
) -> None:
    fake_stash.faults.http_error(status, count=2)
    client = await make_client(fake_stash, max_retries=3)
    assert await client.version() == "v0.30.1"
    assert fake_stash.faults.injected == ["http_error", "http_error"]
    assert len(fake_stash.calls) == 1


async def test_dropped_connection_is_retried(
    fake_stash: FakeStash, make_client: ClientFactory
) -> None:
    fake_stash.faults.drop(count=1)
    client = await make_client(fake_stash, max_retries=2)
    assert await client.version() == "v0.30.1"
    assert fake_stash.faults.injected == ["drop"]
    assert len(fake_stash.calls) == 1


async def test_retries_exhausted_is_unavailable(
    fake_stash: FakeStash, make_client: ClientFactory
) -> None:
    fake_stash.faults.http_error(503, count=100)
    client = await make_client(fake_stash, max_retries=2)
    with pytest.raises(StashUnavailable) as caught:
        await client.version()
    assert caught.value.status == 503
    assert "after 3 attempts" in str(caught.value)
    assert fake_stash.faults.injected == ["http_error"] * 3
    assert fake_stash.calls == []


async def test_zero_retries_means_one_attempt(
    fake_stash: FakeStash, make_client: ClientFactory
) -> None:
    fake_stash.faults.drop(count=100)
    client = await make_client(fake_stash, max_retries=0)
    with pytest.raises(StashUnavailable):
        await client.version()
    assert fake_stash.faults.injected == ["drop"]


async def test_other_client_error_is_not_retried(
    fake_stash: FakeStash, make_client: ClientFactory
) -> None:
    fake_stash.faults.http_error(404, count=5)
    client = await make_client(fake_stash, max_retries=3)
    with pytest.raises(StashQueryError, match="HTTP 404"):
        await client.version()
    assert fake_stash.faults.injected == ["http_error"]


async def test_resolver_error_is_query_error_without_retry(
    fake_stash: FakeStash, make_client: ClientFactory
) -> None:
    fake_stash.library.add_tag("Face: matched")
    client = await make_client(fake_stash, max_retries=3)
    with pytest.raises(StashQueryError) as caught:
        await client.create_tag("Face: matched")
    assert caught.value.operation == "TagCreate"
    assert any("already exists" in m for m in caught.value.messages)
    assert len(fake_stash.calls) == 1


async def test_validation_error_is_query_error_without_retry(
    fake_stash_factory: FakeStashFactory, make_client: ClientFactory
) -> None:
    # Without a schema check the client sends FindScene and Stash rejects it (422).
    fake = await fake_stash_factory(sdl=schema_without("Scene.files"))
    client = await make_client(fake, max_retries=3)
    with pytest.raises(StashQueryError, match="files"):
        await client.find_scene(1)
    assert len(fake.calls) == 1


async def test_timeout_is_unavailable(fake_stash: FakeStash, make_client: ClientFactory) -> None:
    fake_stash.faults.latency(2.0, count=100)
    client = await make_client(fake_stash, timeout_seconds=0.2, max_retries=0)
    with pytest.raises(StashUnavailable, match=r"did not answer within 0\.2 s"):
        await client.version()


async def test_timeout_then_success(fake_stash: FakeStash, make_client: ClientFactory) -> None:
    fake_stash.faults.latency(2.0, count=1)
    client = await make_client(fake_stash, timeout_seconds=0.3, max_retries=1)
    assert await client.version() == "v0.30.1"


async def test_connection_refused_is_unavailable(
    closed_port_url: str, make_client: ClientFactory
) -> None:
    client = await make_client(closed_port_url, max_retries=1)
    with pytest.raises(StashUnavailable, match="cannot reach Stash") as caught:
        await client.version()
    assert "after 2 attempts" in str(caught.value)


async def test_unknown_operation_is_a_programming_error(
    fake_stash: FakeStash, make_client: ClientFactory
) -> None:
    client = await make_client(fake_stash)
    with pytest.raises(KeyError, match="NoSuchOperation"):
        await client.execute("NoSuchOperation")
    with pytest.raises(ValueError, match="subscription"):
        await client.execute("JobsSubscribe")
    assert fake_stash.calls == []
