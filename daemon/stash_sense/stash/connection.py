"""StashConnection: rate-limited, retried GraphQL calls to Stash and its subscriptions."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncGenerator, Callable, Mapping
from types import TracebackType
from typing import Any, Self

import aiohttp
from gql import GraphQLRequest
from gql.transport.aiohttp_websockets import AIOHTTPWebsocketsTransport
from graphql import DocumentNode, GraphQLError
from yarl import URL

from ..config.model import StashConfig
from . import operations
from .errors import StashError, StashIncompatible, StashQueryError, StashUnavailable
from .ratelimit import RateLimiter
from .retrylog import RetryLog
from .schema_check import (
    INTROSPECTION_DOCUMENT,
    INTROSPECTION_NAME,
    operation_problems,
    schema_from_introspection,
)
from .transport import (
    LazyTransport,
    error_messages,
    silence_gql_payload_logs,
    to_stash_error,
)

log = logging.getLogger(__name__)

API_KEY_HEADER = "ApiKey"
_KEEP_ALIVE_TIMEOUT = 30.0


def endpoints(base_url: str) -> tuple[str, str]:
    """Return Stash's GraphQL HTTP and websocket URLs for its base URL."""
    url = URL(base_url)
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError("Stash URL must look like http(s)://host:port")
    path = url.path.rstrip("/")
    if not path.endswith("/graphql"):
        path += "/graphql"
    http = url.with_path(path)
    return str(http), str(http.with_scheme("wss" if url.scheme == "https" else "ws"))


def _problems_by_operation(data: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    try:
        schema = schema_from_introspection(data)
    except (GraphQLError, TypeError, ValueError, KeyError) as exc:
        return {INTROSPECTION_NAME: (f"{INTROSPECTION_NAME}: unusable answer ({exc})",)}
    found: dict[str, tuple[str, ...]] = {}
    for operation in operations.all_operations():
        problems = operation_problems(schema, operation)
        if problems:
            found[operation.name] = tuple(problems)
    return found


class StashConnection:
    """One Stash: a shared rate limit, timeouts, retries, schema check and subscriptions."""

    def __init__(
        self,
        config: StashConfig,
        *,
        session: aiohttp.ClientSession | None = None,
        backoff_base_seconds: float = 0.5,
        backoff_max_seconds: float = 30.0,
        heartbeat_seconds: float | None = 30.0,
    ) -> None:
        self.graphql_url, self.websocket_url = endpoints(config.url)
        self._secret = config.api_key
        self._headers = {API_KEY_HEADER: config.api_key} if config.api_key else {}
        self._timeout = config.timeout_seconds
        self._max_retries = config.max_retries
        self._retry_log = RetryLog(log, "Stash")
        self._backoff_base = backoff_base_seconds
        self._backoff_max = backoff_max_seconds
        self._heartbeat = heartbeat_seconds
        self._limiter = RateLimiter(config.requests_per_second)
        self._http = LazyTransport(self.graphql_url, headers=self._headers, session=session)
        # Operations the last schema check found invalid: refused without a request.
        self._incompatible: dict[str, tuple[str, ...]] = {}
        # Parse every document now so a broken file fails at construction.
        operations.all_operations()
        silence_gql_payload_logs()

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

    async def execute(
        self, operation: str, variables: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Run a query or mutation by name and return its `data`."""
        op = operations.get(operation)
        if op.is_subscription:
            raise ValueError(f"{operation} is a subscription: use subscribe()")
        self._require_compatible(op.name)
        return await self._send(op.name, op.document, variables)

    async def check_schema(self) -> list[str]:
        """Introspect Stash and validate every operation; return problems, empty if none."""
        data = await self._send(INTROSPECTION_NAME, INTROSPECTION_DOCUMENT, None)
        # Building a ~300-type schema and validating takes tens of ms: off the loop.
        found = await asyncio.to_thread(_problems_by_operation, data)
        self._incompatible = found
        return [problem for problems in found.values() for problem in problems]

    async def require_compatible(self) -> None:
        """Run the schema check; raise StashIncompatible listing the problems."""
        problems = await self.check_schema()
        if problems:
            raise StashIncompatible(problems)

    async def subscribe(
        self,
        operation: str,
        variables: Mapping[str, Any] | None = None,
        *,
        on_subscribed: Callable[[], None] | None = None,
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Yield each event's `data`; raise StashUnavailable when the socket drops.

        `on_subscribed` is called once the socket is open, before any event.

        Use it under `contextlib.aclosing` so leaving the loop closes the socket at once.
        """
        op = operations.get(operation)
        if not op.is_subscription:
            raise ValueError(f"{operation} is not a subscription: use execute()")
        self._require_compatible(op.name)
        await self.connect()
        request = self._request(op.name, op.document, variables)
        transport = AIOHTTPWebsocketsTransport(
            url=self.websocket_url,
            headers=self._headers or None,
            # Stash (gqlgen) prefers the legacy "graphql-ws" protocol and sends a "ka"
            # frame every 10 s on it, so silence for three intervals means a dead socket.
            subprotocols=[AIOHTTPWebsocketsTransport.APOLLO_SUBPROTOCOL],
            keep_alive_timeout=_KEEP_ALIVE_TIMEOUT,
            heartbeat=self._heartbeat,
            connect_timeout=self._timeout,
            ack_timeout=self._timeout,
            close_timeout=self._timeout,
            session=self._http.session,
        )
        await self._limiter.acquire()
        try:
            try:
                await transport.connect()
                log.debug("%s: subscribed", op.name)
                if on_subscribed is not None:
                    on_subscribed()
                async with contextlib.aclosing(transport.subscribe(request)) as results:
                    async for result in results:
                        if result.errors:
                            raise StashQueryError(
                                op.name, error_messages(result.errors, self._secret)
                            )
                        if result.data is not None:
                            yield result.data
            finally:
                await transport.close()
        except Exception as exc:
            raise to_stash_error(exc, op.name, secret=self._secret, timeout=self._timeout) from None

    def _require_compatible(self, name: str) -> None:
        problems = self._incompatible.get(name)
        if problems:
            raise StashIncompatible(problems)

    @staticmethod
    def _request(
        name: str, document: DocumentNode, variables: Mapping[str, Any] | None
    ) -> GraphQLRequest:
        return GraphQLRequest(
            document,
            variable_values=dict(variables) if variables is not None else None,
            operation_name=name,
        )

    async def _send(
        self, name: str, document: DocumentNode, variables: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        transport = await self._http.get()
        request = self._request(name, document, variables)
        loop = asyncio.get_running_loop()
        attempt = 0
        while True:
            await self._limiter.acquire()
            started = loop.time()
            try:
                async with asyncio.timeout(self._timeout):
                    result = await transport.execute(request)
            except Exception as exc:
                error = to_stash_error(exc, name, secret=self._secret, timeout=self._timeout)
            else:
                if result.errors:
                    error = StashQueryError(name, error_messages(result.errors, self._secret))
                elif result.data is None:
                    error = StashError(f"{name}: Stash answered without data")
                else:
                    log.debug("%s: %.0f ms", name, (loop.time() - started) * 1000)
                    self._retry_log.answered()
                    return result.data
            if not isinstance(error, StashUnavailable):
                self._retry_log.answered()  # it answered, if only with an error
            if not isinstance(error, StashUnavailable) or attempt >= self._max_retries:
                if attempt:
                    error.args = (f"{error} (after {attempt + 1} attempts)",)
                raise error from None
            delay = self._delay(attempt, error)
            attempt += 1
            self._retry_log.retrying(error, attempt, self._max_retries, delay)
            await asyncio.sleep(delay)

    def _delay(self, attempt: int, error: StashUnavailable) -> float:
        ceiling = min(self._backoff_max, self._backoff_base * 2**attempt)
        # Jitter spreads the retries of callers that failed together.
        delay = random.uniform(ceiling / 2, ceiling)
        if error.retry_after:
            delay = max(delay, min(error.retry_after, self._backoff_max))
        return delay
