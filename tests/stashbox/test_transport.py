"""Retries on transient failures only, per-endpoint rate limits, auth errors, key hygiene."""

from __future__ import annotations

import asyncio
import logging
import time
import traceback

import pytest

from stash_sense.stashbox import (
    StashBoxAuthError,
    StashBoxClient,
    StashBoxError,
    StashBoxQueryError,
    StashBoxUnavailable,
)
from tests.fakes.stashbox import FakeStashBox
from tests.fakes.stashbox.fixtures import FakeStashBoxFactory

from .conftest import SECRET, ClientFactory


def _texts(error: BaseException) -> list[str]:
    return [str(error), repr(error), "".join(traceback.format_exception(error))]


@pytest.mark.parametrize("fault", ["http_503", "drop", "http_429"])
async def test_transient_failures_are_retried_then_succeed(
    fake_stashbox: FakeStashBox, make_client: ClientFactory, fault: str
) -> None:
    if fault == "drop":
        fake_stashbox.faults.drop(count=2)
    else:
        fake_stashbox.faults.http_error(int(fault.removeprefix("http_")), count=2)
    client = await make_client(fake_stashbox)

    assert await client.version() == fake_stashbox.version

    assert len(fake_stashbox.faults.injected) == 2
    assert len(fake_stashbox.calls) == 1


async def test_timeouts_are_retried(
    fake_stashbox: FakeStashBox, make_client: ClientFactory
) -> None:
    fake_stashbox.faults.latency(1.0, count=1)
    client = await make_client(fake_stashbox, timeout_seconds=0.2)
    assert await client.version() == fake_stashbox.version


async def test_retry_after_is_honoured(
    fake_stashbox: FakeStashBox, make_client: ClientFactory
) -> None:
    fake_stashbox.retry_after = 1
    fake_stashbox.faults.http_error(429, count=1)
    client = await make_client(fake_stashbox)
    started = time.monotonic()
    await client.version()
    assert time.monotonic() - started >= 0.9


async def test_gives_up_after_max_retries(
    fake_stashbox: FakeStashBox, make_client: ClientFactory
) -> None:
    fake_stashbox.faults.http_error(502, count=10)
    client = await make_client(fake_stashbox, max_retries=2)
    with pytest.raises(StashBoxUnavailable, match=r"answered HTTP 502 \(after 3 attempts\)") as e:
        await client.version()
    assert e.value.status == 502 and e.value.endpoint == fake_stashbox.graphql_url
    assert fake_stashbox.faults.injected == ["http_error"] * 3


async def test_graphql_and_client_errors_are_not_retried(
    fake_stashbox: FakeStashBox, make_client: ClientFactory
) -> None:
    client = await make_client(fake_stashbox)
    with pytest.raises(StashBoxQueryError):
        await client.find_performer("not-a-uuid")
    fake_stashbox.faults.http_error(400, count=5)
    with pytest.raises(StashBoxQueryError):
        await client.version()
    assert len(fake_stashbox.calls) == 1
    assert fake_stashbox.faults.injected == ["http_error"]


async def test_unreachable_endpoint_is_unavailable(make_client: ClientFactory) -> None:
    fake = FakeStashBox()
    await fake.start()
    await fake.stop()  # the port is now closed
    client = await make_client(fake, max_retries=1)
    with pytest.raises(StashBoxUnavailable, match="cannot reach stash-box"):
        await client.version()


async def test_wrong_key_is_an_auth_error_without_the_key(
    fake_stashbox: FakeStashBox, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = await make_client(fake_stashbox, api_key=SECRET)
    with pytest.raises(StashBoxAuthError, match="refused the API key") as refused:
        await client.find_performer("00000000-0000-0000-0000-000000000000")
    assert refused.value.status == 401
    assert fake_stashbox.refused == [SECRET]  # sent in the ApiKey header, not retried
    keyless = await make_client(fake_stashbox, api_key="")
    with pytest.raises(StashBoxAuthError, match="requires an API key"):
        await keyless.version()
    assert fake_stashbox.refused == [SECRET, None]
    for text in [*_texts(refused.value), repr(client), caplog.text]:
        assert SECRET not in text


async def test_key_stays_out_of_logs_and_errors(
    fake_stashbox_factory: FakeStashBoxFactory,
    make_client: ClientFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake = await fake_stashbox_factory(api_key=SECRET)
    client = await make_client(fake, max_retries=1)
    errors: list[StashBoxError] = []
    fake.faults.drop(count=1)
    await client.version()  # one retry, logged
    fake.faults.http_error(503, count=5)
    with pytest.raises(StashBoxError) as unavailable:
        await client.version()
    errors.append(unavailable.value)
    fake.faults.clear()
    with pytest.raises(StashBoxError) as query_error:
        await client.find_scene(SECRET)  # the key echoed in a GraphQL error message
    errors.append(query_error.value)
    assert "***" in str(query_error.value)
    for error in errors:
        for text in _texts(error):
            assert SECRET not in text
    assert "retry 1/1" in caplog.text
    assert SECRET not in caplog.text


async def test_rate_limit_is_per_endpoint(
    fake_stashbox_factory: FakeStashBoxFactory, make_client: ClientFactory
) -> None:
    slow_box = await fake_stashbox_factory()
    fast_box = await fake_stashbox_factory()
    slow = await make_client(slow_box, requests_per_minute=240)  # one per 0.25 s
    fast = await make_client(fast_box, requests_per_minute=60_000)

    async def burst(client: StashBoxClient) -> float:
        await asyncio.gather(*(client.version() for _ in range(4)))
        return time.monotonic()

    started = time.monotonic()
    slow_done, fast_done = await asyncio.gather(burst(slow), burst(fast))

    slow_times = [c.at for c in slow_box.calls]
    # The limiter spaces sends by 0.25 s; arrival jitter on a loaded machine can shorten
    # one gap only by lengthening another, so the span of four calls is what is checked.
    assert len(slow_times) == 4 and slow_times[-1] - slow_times[0] >= 0.6
    # The fast endpoint never waits on the slow one's limiter.
    assert fast_done - started < 0.5 < slow_done - started


async def test_retries_while_a_stash_box_is_down_are_logged_once_per_state_change(
    fake_stashbox_factory: FakeStashBoxFactory,
    make_client: ClientFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = "stash_sense.stashbox.client"
    caplog.set_level(logging.DEBUG, logger=logger)
    fake = await fake_stashbox_factory()
    client = await make_client(fake, max_retries=2)
    fake.faults.drop(count=5)  # one call gives up, the next gets through on its third try
    with pytest.raises(StashBoxError):
        await client.version()
    await client.version()
    records = [r for r in caplog.records if r.name == logger]
    assert len([r for r in records if "; retry " in r.getMessage()]) == 4
    visible = [r.getMessage() for r in records if r.levelno >= logging.INFO]
    assert len(visible) == 2, visible
    assert "; retry 1/2 in " in visible[0]
    assert visible[1].endswith(" answers again")
