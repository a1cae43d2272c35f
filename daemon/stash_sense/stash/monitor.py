"""Watch Stash's reachability and schema compatibility in the background."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from stash_sense.stash.errors import StashError, StashUnavailable

_LOGGER = logging.getLogger(__name__)


class StashProbe(Protocol):
    """The two calls the monitor needs from a Stash client."""

    async def version(self) -> str:
        """Return Stash's version."""

    async def check_schema(self) -> list[str]:
        """Return problems of our operations against Stash's schema."""


@dataclass
class StashStatus:
    """What the daemon last learnt about Stash (shown on /health)."""

    reachable: bool = False
    version: str | None = None
    compatible: bool | None = None
    problems: list[str] = field(default_factory=list)
    error: str | None = None
    checked_at: float | None = None

    @property
    def ready(self) -> bool:
        """Tell whether Stash-dependent work may run."""
        return self.reachable and self.compatible is True


class StashMonitor:
    """Poll Stash; on (re)connection validate our operations against its schema."""

    def __init__(
        self,
        client: StashProbe,
        status: StashStatus,
        *,
        interval: float,
        on_ready: Callable[[bool], None],
        first_retry: float = 1.0,
    ) -> None:
        self._client = client
        self.status = status
        self._interval = interval
        self._on_ready = on_ready
        self._first_retry = first_retry
        self._wake = asyncio.Event()

    async def run(self) -> None:
        """Check forever: at the interval when up, with backoff when down."""
        delay = self._first_retry
        while True:
            await self.check()
            if self.status.reachable:
                delay = self._first_retry
                await self._sleep(self._interval)
            else:
                await self._sleep(delay)
                delay = min(delay * 2, self._interval)

    async def _sleep(self, seconds: float) -> None:
        """Sleep, or less when a job reports Stash down."""
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    def mark_down(self, err: BaseException) -> None:
        """Take Stash as unreachable now (a job could not reach it) and probe again soon."""
        status = self.status
        if status.reachable:
            _LOGGER.warning("Stash is unreachable, retrying in the background: %s", err)
        status.reachable = False
        status.error = str(err)
        self._on_ready(False)
        self._wake.set()

    async def check(self) -> None:
        """Probe Stash once and update the status."""
        status = self.status
        was_reachable = status.reachable
        try:
            version = await self._client.version()
            if not was_reachable or status.version != version or status.compatible is None:
                # A new connection may be a different or upgraded Stash: recheck the schema.
                problems = await self._client.check_schema()
                status.problems = problems
                status.compatible = not problems
                if problems:
                    _LOGGER.error(
                        "Stash %s is incompatible; Stash-dependent work is paused: %s",
                        version,
                        "; ".join(problems),
                    )
            status.version = version
            status.reachable = True
            status.error = None
            if not was_reachable:
                _LOGGER.info("Connected to Stash %s", version)
        except StashError as err:
            status.reachable = False
            status.error = str(err)
            if was_reachable or status.checked_at is None:
                _LOGGER.warning("Stash is unreachable, retrying in the background: %s", err)
        status.checked_at = time.time()
        self._on_ready(status.ready)


def is_outage(err: BaseException) -> bool:
    """Tell whether a job's error means Stash did not answer at all (not an HTTP error)."""
    return isinstance(err, StashUnavailable) and err.status is None
