"""While Stash is down, retries are logged once per outage, and so is the recovery."""

from __future__ import annotations

import logging

import pytest

from stash_sense.stash import StashUnavailable
from tests.fakes.stash import FakeStash

from .conftest import ClientFactory

LOGGER = "stash_sense.stash.connection"


def _logged(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno >= level]


async def test_retries_while_stash_is_down_are_logged_once_per_state_change(
    fake_stash: FakeStash, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    client = await make_client(fake_stash, max_retries=2)
    # Stash goes down for seven requests: two calls give up, the third gets through.
    fake_stash.faults.drop(count=7)
    for _ in range(2):
        with pytest.raises(StashUnavailable):
            await client.version()
    assert await client.version() == "v0.30.1"
    assert await client.version() == "v0.30.1"
    retries = [m for m in _logged(caplog, logging.DEBUG) if "; retry " in m]
    assert len(retries) == 5  # every attempt is still there at DEBUG
    visible = _logged(caplog, logging.INFO)
    assert len(visible) == 2, visible
    assert "; retry 1/2 in " in visible[0]
    assert visible[1] == "Stash answers again"

    # The next outage is logged again, once.
    caplog.clear()
    fake_stash.faults.drop(count=1)
    assert await client.version() == "v0.30.1"
    visible = _logged(caplog, logging.INFO)
    assert len(visible) == 2 and "; retry 1/2 in " in visible[0]
    assert visible[1] == "Stash answers again"
