"""gql transports for Stash, log hygiene, and the mapping of failures to our errors."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp
from gql import GraphQLRequest
from gql.transport.aiohttp import AIOHTTPTransport
from gql.transport.exceptions import (
    TransportAlreadyConnected,
    TransportClosed,
    TransportConnectionFailed,
    TransportProtocolError,
    TransportQueryError,
    TransportServerError,
)
from graphql import ExecutionResult, GraphQLError

from .errors import StashAuthError, StashError, StashQueryError, StashUnavailable

# gql dumps whole requests and answers (Stash stream URLs embed ?apikey=) and reprs of
# aiohttp errors (their request_info holds the ApiKey header) at DEBUG on these loggers.
_GQL_LOGGERS = (
    "gql.client",
    "gql.transport.aiohttp",
    "gql.transport.common.base",
    "gql.transport.common.adapters.aiohttp",
    "gql.transport.websockets",
)
_APIKEY_PARAM = re.compile(r"(?i)(apikey=)[^&\s'\"]+")
_TRANSIENT_STATUS = 429
_NETWORK_ERRORS = (aiohttp.ClientError, OSError, TimeoutError)
_MAX_DETAIL = 300


class _DropDebug(logging.Filter):
    """Drop DEBUG records: at that level gql logs payloads that may carry secrets."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


_DROP_DEBUG = _DropDebug()


def silence_gql_payload_logs() -> None:
    """Install the filter that keeps gql's payload dumps out of the logs (idempotent)."""
    for name in _GQL_LOGGERS:
        logger = logging.getLogger(name)
        if _DROP_DEBUG not in logger.filters:
            logger.addFilter(_DROP_DEBUG)


def scrub(text: str, secret: str) -> str:
    """Remove the API key and any apikey= query value from text."""
    if secret:
        text = text.replace(secret, "***")
    return _APIKEY_PARAM.sub(r"\1***", text)


class HTTPStatusError(TransportServerError):
    """Stash answered with an HTTP status that the body must not be parsed for."""

    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}", status)
        self.status = status
        self.retry_after = retry_after


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After", "")
    return float(value) if value.strip().isdigit() else None


class StashHTTPTransport(AIOHTTPTransport):
    """AIOHTTPTransport on a session it does not own, sending the ApiKey per request."""

    def __init__(
        self, url: str, *, headers: Mapping[str, str], session: aiohttp.ClientSession
    ) -> None:
        super().__init__(url)
        self._request_headers = dict(headers)
        self._borrowed = session

    async def connect(self) -> None:
        """Borrow the session; its owner closes it."""
        if self.session is not None:
            raise TransportAlreadyConnected("Transport is already connected")
        self.session = self._borrowed

    async def close(self) -> None:
        """Let go of the borrowed session."""
        self.session = None

    async def execute(
        self,
        request: GraphQLRequest,
        *,
        extra_args: dict[str, Any] | None = None,
        upload_files: bool = False,
    ) -> ExecutionResult:
        """Send the request with the ApiKey header (when set)."""
        args = dict(extra_args or {})
        if self._request_headers:
            args["headers"] = {**args.get("headers", {}), **self._request_headers}
        return await super().execute(request, extra_args=args, upload_files=upload_files)

    async def _prepare_result(self, response: aiohttp.ClientResponse) -> ExecutionResult:
        # Auth and transient statuses decide retries; their bodies (HTML, proxies'
        # pages, occasionally JSON) must not be mistaken for GraphQL errors.
        status = response.status
        if status in (401, 403, _TRANSIENT_STATUS) or status >= 500:
            raise HTTPStatusError(status, _retry_after(response.headers))
        return await super()._prepare_result(response)


class LazyTransport:
    """A `StashHTTPTransport` opened on first use, over a lent or an own aiohttp session."""

    def __init__(
        self, url: str, *, headers: Mapping[str, str], session: aiohttp.ClientSession | None
    ) -> None:
        self._url = url
        self._headers = dict(headers)
        self._borrowed = session
        self.session: aiohttp.ClientSession | None = session
        self._transport: StashHTTPTransport | None = None

    async def get(self) -> StashHTTPTransport:
        """Return the transport, opening the session (ours, unless one was lent) first."""
        if self._transport is None:
            if self.session is None:
                self.session = aiohttp.ClientSession()
            transport = StashHTTPTransport(self._url, headers=self._headers, session=self.session)
            await transport.connect()
            self._transport = transport
        return self._transport

    async def close(self) -> None:
        """Close the transport, and the session unless it was lent."""
        if self._transport is not None:
            await self._transport.close()
            self._transport = None
        if self.session is not None and self._borrowed is None:
            await self.session.close()
        self.session = self._borrowed


def _status_in_chain(exc: BaseException) -> int | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, aiohttp.ClientResponseError):
            return seen.status
        seen = seen.__cause__
    return None


def _describe(exc: BaseException, secret: str) -> str:
    root = exc.__cause__ or exc
    text = scrub(str(root), secret)[:_MAX_DETAIL]
    return f"{type(root).__name__}: {text}" if text else type(root).__name__


def _from_status(status: int, operation: str, *, secret: str, peer: str) -> StashError:
    if status in (401, 403):
        reason = "refused the API key" if secret else "requires an API key"
        return StashAuthError(f"{operation}: {peer} {reason} (HTTP {status})", status=status)
    if status == _TRANSIENT_STATUS or status >= 500:
        return StashUnavailable(f"{operation}: {peer} answered HTTP {status}", status=status)
    if 400 <= status < 500:
        return StashQueryError(operation, [f"HTTP {status}"])
    return StashError(f"{operation}: unexpected HTTP {status} from {peer}")


def error_messages(errors: Sequence[Any] | None, secret: str) -> list[str]:
    """Return the scrubbed messages of GraphQL errors (dicts from JSON or GraphQLError)."""
    messages: list[str] = []
    for error in errors or ():
        if isinstance(error, GraphQLError):
            message: Any = error.message
        elif isinstance(error, Mapping):
            message = error.get("message", error)
        else:
            message = error
        messages.append(scrub(str(message), secret))
    return messages


def to_stash_error(
    exc: BaseException, operation: str, *, secret: str, timeout: float, peer: str = "Stash"
) -> StashError:
    """Map a gql/aiohttp/asyncio failure to a clean StashError (StashUnavailable = retry).

    `peer` names the server in messages (a stash-box endpoint reuses this mapping).
    """
    if isinstance(exc, StashError):
        return exc
    if isinstance(exc, HTTPStatusError):
        error = _from_status(exc.status, operation, secret=secret, peer=peer)
        if isinstance(error, StashUnavailable):
            error.retry_after = exc.retry_after
        return error
    if isinstance(exc, TransportQueryError):
        messages = error_messages(exc.errors, secret) or [scrub(str(exc), secret)]
        return StashQueryError(operation, messages)
    if isinstance(exc, TransportServerError) and exc.code is not None:
        return _from_status(exc.code, operation, secret=secret, peer=peer)
    status = _status_in_chain(exc)
    if status is not None:
        return _from_status(status, operation, secret=secret, peer=peer)
    if isinstance(exc, TimeoutError):
        return StashUnavailable(f"{operation}: {peer} did not answer within {timeout:g} s")
    if isinstance(exc, (TransportConnectionFailed, TransportClosed)):
        cause = exc.__cause__
        if cause is None or isinstance(cause, _NETWORK_ERRORS):
            return StashUnavailable(f"{operation}: cannot reach {peer} ({_describe(exc, secret)})")
        return StashError(f"{operation}: request failed ({_describe(exc, secret)})")
    if isinstance(exc, _NETWORK_ERRORS):
        return StashUnavailable(f"{operation}: cannot reach {peer} ({_describe(exc, secret)})")
    if isinstance(exc, TransportProtocolError):
        return StashError(f"{operation}: {peer} sent an answer that is not GraphQL")
    return StashError(f"{operation}: {_describe(exc, secret)}")
