"""Async rate limiter: a minimum interval between request starts, granted in FIFO order."""

from __future__ import annotations

import asyncio


class RateLimiter:
    """Space out request starts to at most `per_second`, first come first served."""

    def __init__(self, per_second: float) -> None:
        if per_second <= 0:
            raise ValueError("per_second must be positive")
        self.interval = 1.0 / per_second
        # Loop time at which the next caller may start; slots are reserved on entry, so
        # callers start in the order they asked and nobody polls.
        self._next_start = 0.0

    async def acquire(self) -> None:
        """Wait until this caller's slot comes up."""
        now = asyncio.get_running_loop().time()
        start = max(now, self._next_start)
        self._next_start = start + self.interval
        if start <= now:
            return
        try:
            await asyncio.sleep(start - now)
        except asyncio.CancelledError:
            # Hand the slot back when nobody queued behind it, so a cancelled
            # caller does not delay the next one.
            if self._next_start == start + self.interval:
                self._next_start = start
            raise
