"""The shared rate limit: spacing, FIFO order, cancellation; loose timing only."""

from __future__ import annotations

import asyncio

import pytest

from stash_sense.stash.ratelimit import RateLimiter
from tests.fakes.stash import FakeStash

from .conftest import ClientFactory


async def test_starts_are_spaced_and_first_come_first_served() -> None:
    limiter = RateLimiter(per_second=50)
    loop = asyncio.get_running_loop()
    started: list[tuple[int, float]] = []

    async def worker(index: int) -> None:
        await limiter.acquire()
        started.append((index, loop.time()))

    await asyncio.gather(*(worker(i) for i in range(6)))
    assert [index for index, _ in started] == list(range(6))
    span = started[-1][1] - started[0][1]
    assert span >= 0.7 * 5 * limiter.interval


async def test_idle_limiter_does_not_wait() -> None:
    limiter = RateLimiter(per_second=1)
    loop = asyncio.get_running_loop()
    before = loop.time()
    await limiter.acquire()
    assert loop.time() - before < 0.5


async def test_cancelled_waiter_gives_its_slot_back() -> None:
    limiter = RateLimiter(per_second=10)
    await limiter.acquire()
    waiter = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0.01)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    loop = asyncio.get_running_loop()
    before = loop.time()
    await limiter.acquire()
    # The next caller waits for the cancelled caller's slot, not one behind it.
    assert loop.time() - before < 1.5 * limiter.interval


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(per_second=0)


async def test_all_calls_of_a_client_share_the_limit(
    fake_stash: FakeStash, make_client: ClientFactory
) -> None:
    fake_stash.library.add_scene(title="one")
    client = await make_client(fake_stash, requests_per_second=20)
    await asyncio.gather(
        *(client.version() for _ in range(3)), *(client.find_scene(1) for _ in range(3))
    )
    stamps = sorted(call.timestamp for call in fake_stash.calls)
    assert len(stamps) == 6
    assert stamps[-1] - stamps[0] >= 0.7 * 5 / 20
