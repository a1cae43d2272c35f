"""The subscription listener logs a Stash outage once when it drops and once when back."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest

from stash_sense.config.model import StashConfig
from stash_sense.events.subscriptions import SubscriptionListener
from stash_sense.stash import StashClient
from tests.fakes.stash import FakeStash
from tests.helpers import eventually

LOGGER = "stash_sense.events.subscriptions"


async def _outage(fake: FakeStash, listener: SubscriptionListener, seconds: float) -> None:
    """Take Stash down for a while (sockets dropped, requests refused), then wait for it."""
    fake.faults.drop(duration_s=seconds)
    await fake.drop_websockets()
    await eventually(lambda: asyncio.sleep(0, not listener.connected))
    await eventually(lambda: asyncio.sleep(0, listener.connected), timeout=10)


async def test_reconnect_attempts_are_logged_once_per_state_change(
    fake_stash: FakeStash, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    client = StashClient(StashConfig(url=fake_stash.url, timeout_seconds=2.0, max_retries=0))
    attempts: list[str] = []

    async def trigger(reason: str) -> None:
        attempts.append(reason)

    listener = SubscriptionListener(client, trigger, max_backoff=0.1, first_backoff=0.02)
    task = asyncio.create_task(listener.run())
    try:
        await eventually(lambda: asyncio.sleep(0, listener.connected))
        for _ in range(2):
            await _outage(fake_stash, listener, 0.8)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await client.close()
    assert len(attempts) >= 8  # each outage saw several failed reconnects
    messages = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    dropped = [m for m in messages if m.startswith("Stash subscriptions dropped")]
    assert len(dropped) == 2, messages
    assert messages.count("Stash subscriptions reconnected") == 2, messages
