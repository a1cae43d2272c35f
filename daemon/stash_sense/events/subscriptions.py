"""Listen to Stash's job and scan-complete subscriptions and trigger reconciliation.

Subscriptions are live only: Stash drops events for slow subscribers and replays
nothing after a reconnect. So every (re)connection triggers a reconcile, and so does
every finished scan or generate job; losing the websocket never loses scenes, it
only delays them until the next reconcile.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from stash_sense.stash.client import StashClient
from stash_sense.stash.errors import StashError

_LOGGER = logging.getLogger(__name__)
Trigger = Callable[[str], Awaitable[None]]

# Jobs whose completion can add scenes or change their files.
_TRIGGERING_JOBS = ("Scanning", "Generating")
# A connection that lived this long was healthy: start the backoff afresh.
_HEALTHY_SECONDS = 30.0


class SubscriptionListener:
    """Keep both subscriptions open, reconnecting with backoff."""

    def __init__(
        self,
        stash: StashClient,
        trigger: Trigger,
        *,
        max_backoff: float,
        first_backoff: float = 1.0,
    ) -> None:
        self._stash = stash
        self._trigger = trigger
        self._max_backoff = max_backoff
        self._first_backoff = first_backoff
        self.connected = False
        # Logged once when the subscriptions drop, and once when they are back.
        self._down = False

    async def run(self) -> None:
        """Listen forever."""
        delay = self._first_backoff
        while True:
            began = time.monotonic()
            try:
                await self._trigger("subscription (re)connected")
                await self._listen()
            except* StashError as group:
                if not self._down:
                    self._down = True
                    _LOGGER.warning(
                        "Stash subscriptions dropped, reconnecting: %s", group.exceptions[0]
                    )
            except* Exception:
                # A bug must not end the listener for the daemon's lifetime.
                _LOGGER.exception("Stash subscription listener failed; restarting it")
            self.connected = False
            if time.monotonic() - began > _HEALTHY_SECONDS:
                delay = self._first_backoff
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_backoff)

    async def _listen(self) -> None:
        """Consume both subscriptions until either ends."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._jobs())
            group.create_task(self._scans())

    def _subscribed(self) -> None:
        """Note an open subscription: an outage, if any, is over."""
        self.connected = True
        if self._down:
            self._down = False
            _LOGGER.info("Stash subscriptions reconnected")

    async def _jobs(self) -> None:
        """Trigger a reconcile when a scan or generate job finishes."""
        async for event in self._stash.subscribe_jobs(self._subscribed):
            self.connected = True
            finished = event.type == "REMOVE" and event.status == "FINISHED"
            if finished and event.description.startswith(_TRIGGERING_JOBS):
                await self._trigger(f"{event.description.rstrip('.')} finished")
        raise _Ended("jobs subscription ended")

    async def _scans(self) -> None:
        """Trigger a reconcile when a scan completes."""
        async for _ in self._stash.subscribe_scan_complete(self._subscribed):
            self.connected = True
            await self._trigger("scan complete")
        raise _Ended("scan subscription ended")


class _Ended(StashError):
    """Stash closed a subscription without an error."""
