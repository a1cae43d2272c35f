"""Log a client's retries once per outage, not once per attempt."""

from __future__ import annotations

import logging


class RetryLog:
    """Log the first retry of an outage and the recovery at INFO; the retries between at DEBUG."""

    def __init__(self, logger: logging.Logger, peer: str) -> None:
        self._logger = logger
        self._peer = peer
        # Shared by every request of the client: concurrent callers see one outage.
        self._failing = False

    def retrying(self, error: Exception, attempt: int, max_retries: int, delay: float) -> None:
        """Note one retry; only the first of an outage reaches the log at INFO."""
        level = logging.DEBUG if self._failing else logging.INFO
        self._failing = True
        self._logger.log(level, "%s; retry %d/%d in %.1f s", error, attempt, max_retries, delay)

    def answered(self) -> None:
        """Note an answer from the peer: an outage in progress is over."""
        if self._failing:
            self._failing = False
            self._logger.info("%s answers again", self._peer)
