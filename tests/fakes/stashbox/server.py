"""`FakeStashBox`: an aiohttp server on loopback that answers like stash-box's GraphQL API."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from inspect import isawaitable
from types import TracebackType
from typing import Any, Self

from aiohttp import web
from graphql import GraphQLError, GraphQLSchema, execute, get_operation_ast, parse, validate

from tests.fakes.stash.faults import Faults

from .catalogue import Catalogue
from .resolvers import DEFAULT_SDL, RequestContext, build_fake_schema

__all__ = ["FakeStashBox", "RecordedCall"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class RecordedCall:
    """One authorised GraphQL request the fake received."""

    operation_name: str | None
    variables: dict[str, Any]
    query: str
    api_key: str | None
    # Loop-independent monotonic clock, for spacing checks.
    at: float = field(default_factory=time.monotonic)


def _error(message: str, status: int) -> web.Response:
    return web.json_response({"errors": [{"message": message}], "data": None}, status=status)


class FakeStashBox:
    """A fake stash-box: findPerformer, findScene, findScenesBySceneFingerprints, version."""

    def __init__(
        self,
        *,
        api_key: str = "fake-stashbox-key",
        sdl: str | None = None,
        catalogue: Catalogue | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        version: str = "v0.7.0",
        version_hash: str = "0d1e2f3",
    ) -> None:
        """Configure the fake; nothing listens until `start()` / `async with`."""
        self.api_key = api_key
        self.sdl = sdl if sdl is not None else DEFAULT_SDL
        self.schema: GraphQLSchema = build_fake_schema(self.sdl)
        self.catalogue = catalogue or Catalogue()
        self.host = host
        self._requested_port = port
        self.version = version
        self.version_hash = version_hash
        self.calls: list[RecordedCall] = []
        # Requests refused for a wrong or missing key, with the key presented.
        self.refused: list[str | None] = []
        # The fingerprint groups each findScenesBySceneFingerprints call matched on,
        # as (algorithm, uint64) pairs after MD5 entries were dropped.
        self.received_groups: list[list[list[tuple[str, int]]]] = []
        self.faults = Faults()
        # Whole seconds sent as Retry-After on injected 429 and 503 answers, when set.
        self.retry_after: int | None = None
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    @property
    def port(self) -> int:
        """Return the bound port (after start)."""
        if self._port is None:
            raise RuntimeError("FakeStashBox is not started")
        return self._port

    @property
    def url(self) -> str:
        """Return `http://127.0.0.1:PORT`."""
        return f"http://{self.host}:{self.port}"

    @property
    def graphql_url(self) -> str:
        """Return the GraphQL endpoint URL, as Stash stores it for a stash-box."""
        return f"{self.url}/graphql"

    def calls_to(self, operation_name: str) -> list[RecordedCall]:
        """Return the recorded calls of one operation."""
        return [c for c in self.calls if c.operation_name == operation_name]

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> Self:
        """Bind to `host` (a free port unless one was given) and serve."""
        app = web.Application(middlewares=[self._fault_middleware, self._auth_middleware])
        app.router.add_route("*", "/graphql", self._graphql)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self._requested_port).start()
        self._port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        """Start the server."""
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server."""
        await self.stop()

    # ------------------------------------------------------------ middlewares

    @web.middleware
    async def _fault_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        for fault in self.faults.take():
            if fault.kind == "latency":
                await asyncio.sleep(fault.seconds)
            elif fault.kind == "drop":
                if request.transport is not None:
                    request.transport.abort()
                # aiohttp discards a response written to an aborted transport.
                return web.Response(status=599)
            elif fault.kind == "http_error":
                headers = {}
                if self.retry_after is not None and fault.status in (429, 503):
                    headers["Retry-After"] = str(self.retry_after)
                return web.Response(status=fault.status, text=fault.body, headers=headers)
        return await handler(request)

    @web.middleware
    async def _auth_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        key = request.headers.get("ApiKey")
        if key is None or not secrets.compare_digest(key, self.api_key):
            self.refused.append(key)
            return web.Response(status=401, text="Unauthorized")
        return await handler(request)

    # ------------------------------------------------------------ graphql

    async def _graphql(self, request: web.Request) -> web.StreamResponse:
        if request.method != "POST" or request.content_type != "application/json":
            return _error("transport not supported", 400)
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise TypeError("expected a JSON object")
        except (ValueError, TypeError) as exc:
            return _error(f"json request body could not be decoded: {exc}", 400)
        query = body.get("query") if isinstance(body.get("query"), str) else ""
        variables = body.get("variables") if isinstance(body.get("variables"), dict) else {}
        name = body.get("operationName") or None
        try:
            document = parse(query or "")
        except GraphQLError as exc:
            self.calls.append(RecordedCall(name, variables, query, request.headers["ApiKey"]))
            return web.json_response({"errors": [exc.formatted], "data": None}, status=422)
        operation = get_operation_ast(document, name)
        if name is None and operation is not None and operation.name is not None:
            name = operation.name.value
        self.calls.append(RecordedCall(name, variables, query, request.headers["ApiKey"]))
        problems = validate(self.schema, document)
        if problems or operation is None:
            # gqlgen answers parse and validation failures with 422.
            errors = [p.formatted for p in problems] or [{"message": "no operation"}]
            return web.json_response({"errors": errors, "data": None}, status=422)
        result = execute(
            self.schema,
            document,
            context_value=RequestContext(self),
            variable_values=variables,
            operation_name=name,
        )
        if isawaitable(result):
            result = await result
        return web.json_response(result.formatted)
