"""A typed in-process publish/subscribe hub that never blocks a publisher.

Delivery to a subscriber is in publish order and best effort: a subscriber that
falls more than `limit` changes behind loses its backlog and receives one `Resync`
instead, after which it gets new changes again. A live view answers `Resync` by
fetching what it shows afresh, so nothing a person sees stays stale, and a stalled
browser tab can never hold up a job.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import logging
import time
from collections.abc import AsyncIterator, Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

_LOGGER = logging.getLogger(__name__)
DEFAULT_LIMIT = 1000


class Topic(StrEnum):
    """What changed."""

    JOB = "job"
    REVIEW = "review"
    IDENTIFICATION = "identification"
    WRITE = "write"


@dataclass(frozen=True)
class Change:
    """One published change: a topic, what happened to it, and a small JSON-able body."""

    seq: int
    topic: Topic
    action: str
    data: Mapping[str, Any]
    at: float

    def to_json(self) -> dict[str, Any]:
        """Describe the change for a WebSocket client."""
        return {
            "type": "change",
            "seq": self.seq,
            "topic": self.topic.value,
            "action": self.action,
            "data": dict(self.data),
            "at": self.at,
        }


@dataclass(frozen=True)
class Resync:
    """The subscriber fell behind and lost changes up to `seq`: refetch what you show."""

    seq: int

    def to_json(self) -> dict[str, Any]:
        """Describe the marker for a WebSocket client."""
        return {"type": "resync", "seq": self.seq}


class Subscription:
    """A subscriber's bounded backlog; iterate it to receive changes."""

    def __init__(self, hub: ChangeHub, topics: frozenset[Topic] | None, limit: int) -> None:
        self._hub = hub
        self._topics = topics
        self._limit = limit
        self._backlog: collections.deque[Change] = collections.deque()
        self._wake = asyncio.Event()
        self._lost_up_to: int | None = None
        self.closed = False

    def wants(self, topic: Topic) -> bool:
        """Tell whether this subscriber listens to `topic`."""
        return self._topics is None or topic in self._topics

    def offer(self, change: Change) -> None:
        """Queue a change without ever waiting; overflow becomes a resync marker."""
        if self.closed:
            return
        if len(self._backlog) >= self._limit:
            # Dropping the whole backlog (not just the oldest) keeps the resync cheap
            # and honest: the subscriber refetches once, then follows live again.
            self._backlog.clear()
            self._lost_up_to = change.seq
        else:
            self._backlog.append(change)
        self._wake.set()

    async def next(self) -> Change | Resync | None:
        """Wait for the next change or resync marker; None once closed."""
        while True:
            if self._lost_up_to is not None:
                lost, self._lost_up_to = self._lost_up_to, None
                return Resync(lost)
            if self._backlog:
                return self._backlog.popleft()
            if self.closed:
                return None
            self._wake.clear()
            await self._wake.wait()

    def close(self) -> None:
        """Stop receiving; a waiting `next()` returns None."""
        if not self.closed:
            self.closed = True
            self._hub.discard(self)
            self._wake.set()

    def __aiter__(self) -> AsyncIterator[Change | Resync]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Change | Resync]:
        """Yield changes until the subscription or the hub closes."""
        while (item := await self.next()) is not None:
            yield item


class ChangeHub:
    """Fan changes out to subscribers; publishing is synchronous and never blocks."""

    def __init__(self) -> None:
        self._subscribers: set[Subscription] = set()
        self._seq = itertools.count(1)
        self._closed = False

    def publish(self, topic: Topic, action: str, data: Mapping[str, Any]) -> None:
        """Tell every interested subscriber; call from the event loop's thread."""
        if self._closed or not self._subscribers:
            return
        change = Change(next(self._seq), topic, action, data, time.time())
        for subscriber in list(self._subscribers):
            if subscriber.wants(topic):
                subscriber.offer(change)

    def subscribe(
        self, topics: Collection[Topic] | None = None, *, limit: int = DEFAULT_LIMIT
    ) -> Subscription:
        """Start receiving changes of `topics` (all when None)."""
        subscription = Subscription(self, frozenset(topics) if topics else None, limit)
        if self._closed:
            subscription.closed = True
        else:
            self._subscribers.add(subscription)
        return subscription

    def discard(self, subscription: Subscription) -> None:
        """Forget a subscriber (called when it closes)."""
        self._subscribers.discard(subscription)

    @property
    def subscribers(self) -> int:
        """How many subscribers are listening."""
        return len(self._subscribers)

    def close(self) -> None:
        """End every subscription; later publishes are ignored."""
        self._closed = True
        for subscription in list(self._subscribers):
            subscription.close()
        _LOGGER.debug("Change hub closed")
