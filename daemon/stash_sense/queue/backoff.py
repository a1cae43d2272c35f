"""Retry delays: exponential backoff with jitter."""

from __future__ import annotations

import random


def retry_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Return the delay before retry number `attempt` (1 = first retry).

    The delay is drawn between half and all of the exponential ceiling: the jitter
    spreads retries of jobs that failed together (e.g. when Stash went down) instead
    of herding them, and the lower half-bound keeps the backoff meaningful.
    """
    ceiling = min(cap, base * 2 ** max(attempt - 1, 0))
    return (rng or random).uniform(ceiling / 2, ceiling)
