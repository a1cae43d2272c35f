"""StashBoxClient: rate-limited, retried GraphQL calls to one stash-box endpoint."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Self

import aiohttp
from gql import GraphQLRequest
from yarl import URL

from ..queue.backoff import retry_delay
from ..stash.connection import API_KEY_HEADER
from ..stash.errors import StashError
from ..stash.models import Fingerprint
from ..stash.operations import Operation, load_package
from ..stash.ratelimit import RateLimiter
from ..stash.retrylog import RetryLog
from ..stash.transport import (
    LazyTransport,
    error_messages,
    scrub,
    silence_gql_payload_logs,
    to_stash_error,
)
from .errors import StashBoxError, StashBoxQueryError, StashBoxUnavailable, from_stash_error
from .models import StashBoxPerformer, StashBoxScene, fingerprint_query

log = logging.getLogger(__name__)

DEFAULT_REQUESTS_PER_MINUTE = 240.0
# stash-box answers "too many scenes" beyond this many groups in one request.
MAX_FINGERPRINT_GROUPS = 40
_PACKAGE = "stash_sense.stashbox"


def operation(name: str) -> Operation:
    """Return the stash-box operation called `name`; raise KeyError for an unknown one."""
    try:
        return load_package(_PACKAGE)[name]
    except KeyError:
        raise KeyError(f"unknown stash-box operation {name!r}") from None


def all_operations() -> tuple[Operation, ...]:
    """Return every stash-box operation, sorted by name."""
    return tuple(load_package(_PACKAGE).values())


def _group_query(group: Sequence[Fingerprint]) -> list[dict[str, str]]:
    """Encode one scene's fingerprints: MD5 and junk dropped, duplicates once."""
    seen: list[dict[str, str]] = []
    for fingerprint in group:
        query = fingerprint_query(fingerprint)
        if query is not None and query not in seen:
            seen.append(query)
    return seen


class StashBoxClient:
    """One stash-box endpoint: its own rate limit, timeouts, retries and typed helpers."""

    def __init__(
        self,
        endpoint: str,
        api_key: str,
        *,
        requests_per_minute: float = DEFAULT_REQUESTS_PER_MINUTE,
        timeout_seconds: float = 30,
        max_retries: int = 3,
        session: aiohttp.ClientSession | None = None,
        backoff_base_seconds: float = 0.5,
        backoff_max_seconds: float = 30.0,
    ) -> None:
        url = URL(endpoint.strip())
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError("stash-box endpoint must look like http(s)://host/graphql")
        if requests_per_minute <= 0:
            raise ValueError("requests_per_minute must be positive")
        self.endpoint = str(url)
        self._secret = api_key
        # The endpoint as it may appear in logs and errors: never with a key in it.
        self._label = scrub(self.endpoint, api_key)
        self._peer = f"stash-box {self._label}"
        self._headers = {API_KEY_HEADER: api_key} if api_key else {}
        self.requests_per_minute = requests_per_minute
        self._limiter = RateLimiter(requests_per_minute / 60.0)
        self._timeout = timeout_seconds
        self._max_retries = max_retries
        self._retry_log = RetryLog(log, self._peer)
        self._backoff_base = backoff_base_seconds
        self._backoff_max = backoff_max_seconds
        self._http = LazyTransport(self.endpoint, headers=self._headers, session=session)
        # Parse every document now so a broken file fails at construction.
        all_operations()
        silence_gql_payload_logs()

    def __repr__(self) -> str:
        return f"StashBoxClient({self._label!r})"

    async def connect(self) -> None:
        """Open the HTTP session (sends nothing); calling it again does nothing."""
        await self._http.get()

    async def close(self) -> None:
        """Close the HTTP session unless the caller lent it."""
        await self._http.close()

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # ------------------------------------------------------------ typed helpers

    async def version(self) -> str:
        """Return the stash-box version string (e.g. "v0.6.3")."""
        data = await self.execute("Version")
        version: Mapping[str, Any] = data["version"]
        return str(version.get("version") or version.get("hash") or "")

    async def find_performer(
        self, performer_id: str, *, follow_merge: bool = True
    ) -> StashBoxPerformer | None:
        """Return a performer, or None if unknown; a merged one resolves to its target.

        One merge hop is followed: the target comes back with `merged_from` set to the
        id asked for. When the target is gone the merged (deleted) original is returned.
        A deleted, unmerged performer is returned with `deleted` true.
        """
        performer = await self._performer(performer_id)
        target_id = performer.merged_into_id if performer is not None else None
        if performer is None or not follow_merge or not target_id or target_id == performer.id:
            return performer
        target = await self._performer(target_id)
        if target is None:
            return performer
        return dataclasses.replace(target, merged_from=performer.id)

    async def _performer(self, performer_id: str) -> StashBoxPerformer | None:
        data = await self.execute("FindPerformer", {"id": performer_id})
        found = data.get("findPerformer")
        return StashBoxPerformer.from_json(found) if found else None

    async def find_scene(self, scene_id: str) -> StashBoxScene | None:
        """Return one scene by id, or None if unknown."""
        data = await self.execute("FindScene", {"id": scene_id})
        found = data.get("findScene")
        return StashBoxScene.from_json(found) if found else None

    async def find_scenes_by_fingerprints(
        self, groups: Sequence[Sequence[Fingerprint]]
    ) -> list[list[StashBoxScene]]:
        """Return, per group of one local scene's fingerprints, the stash-box scenes matching.

        Groups go out at most 40 per request; MD5 entries are dropped (stash-box ignores
        them) and phashes sent as lowercase hex. A group left empty costs no request.
        """
        queries = [_group_query(group) for group in groups]
        results: list[list[StashBoxScene]] = [[] for _ in queries]
        pending = [index for index, query in enumerate(queries) if query]
        for start in range(0, len(pending), MAX_FINGERPRINT_GROUPS):
            batch = pending[start : start + MAX_FINGERPRINT_GROUPS]
            data = await self.execute(
                "FindScenesBySceneFingerprints", {"fingerprints": [queries[i] for i in batch]}
            )
            answer = data.get("findScenesBySceneFingerprints")
            if not isinstance(answer, list) or len(answer) != len(batch):
                raise StashBoxError(
                    f"FindScenesBySceneFingerprints: {self._peer} answered "
                    f"{len(answer) if isinstance(answer, list) else 'no'} groups "
                    f"for {len(batch)}",
                    endpoint=self.endpoint,
                )
            for index, scenes in zip(batch, answer, strict=True):
                results[index] = [StashBoxScene.from_json(s) for s in scenes or () if s]
        return results

    # ------------------------------------------------------------ transport

    async def execute(
        self, operation_name: str, variables: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Run a query by name and return its `data`; retry transient failures only."""
        op = operation(operation_name)
        transport = await self._http.get()
        request = GraphQLRequest(
            op.document,
            variable_values=dict(variables) if variables is not None else None,
            operation_name=op.name,
        )
        loop = asyncio.get_running_loop()
        attempt = 0
        while True:
            await self._limiter.acquire()
            started = loop.time()
            try:
                async with asyncio.timeout(self._timeout):
                    result = await transport.execute(request)
            except Exception as exc:
                error = self._error(exc, op.name)
            else:
                if result.errors:
                    error = StashBoxQueryError(
                        op.name, error_messages(result.errors, self._secret), endpoint=self.endpoint
                    )
                elif result.data is None:
                    error = StashBoxError(
                        f"{op.name}: {self._peer} answered without data", endpoint=self.endpoint
                    )
                else:
                    log.debug("%s %s: %.0f ms", self._peer, op.name, (loop.time() - started) * 1e3)
                    self._retry_log.answered()
                    return result.data
            if not isinstance(error, StashBoxUnavailable):
                self._retry_log.answered()  # it answered, if only with an error
            if not isinstance(error, StashBoxUnavailable) or attempt >= self._max_retries:
                if attempt:
                    error.args = (f"{error} (after {attempt + 1} attempts)",)
                raise error from None
            attempt += 1
            delay = self._delay(attempt, error)
            self._retry_log.retrying(error, attempt, self._max_retries, delay)
            await asyncio.sleep(delay)

    def _error(self, exc: Exception, name: str) -> StashBoxError:
        mapped: StashError = to_stash_error(
            exc, name, secret=self._secret, timeout=self._timeout, peer=self._peer
        )
        return from_stash_error(mapped, self.endpoint)

    def _delay(self, attempt: int, error: StashBoxUnavailable) -> float:
        delay = retry_delay(attempt, self._backoff_base, self._backoff_max)
        if error.retry_after:
            delay = max(delay, min(error.retry_after, self._backoff_max))
        return delay
