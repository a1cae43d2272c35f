"""GraphQL over WebSocket as gqlgen serves it: ``graphql-ws`` and ``graphql-transport-ws``.

Behaviour copied from gqlgen's ``transport.Websocket`` (Stash sets only
``KeepAlivePingInterval``):
- the server's subprotocol order wins (gorilla), server order
  ``graphql-ws, graphql-transport-ws``; no subprotocol means ``graphql-ws``;
- ``graphql-ws``: ``connection_ack`` is followed at once by ``ka``, then ``ka``
  every keep-alive interval;
- ``graphql-transport-ws``: no keep-alive frames at all (gqlgen drops them for
  this protocol); a client ``ping`` is answered with ``pong``. The fake can send
  unsolicited ``pong`` frames (gqlgen's ``PongOnlyInterval``) when asked to;
- request errors go out as an ``error`` frame whose payload is a list, followed
  by ``complete``; a stopped operation still gets a ``complete``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from inspect import isawaitable
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web
from graphql import ExecutionResult, GraphQLError, OperationType, subscribe

from .resolvers import RequestContext

if TYPE_CHECKING:
    from .server import FakeStash, Prepared

__all__ = ["GRAPHQL_TRANSPORT_WS", "GRAPHQL_WS", "WsConnection", "negotiate"]

GRAPHQL_WS = "graphql-ws"
GRAPHQL_TRANSPORT_WS = "graphql-transport-ws"
SERVER_PROTOCOLS = (GRAPHQL_WS, GRAPHQL_TRANSPORT_WS)

# Message types each protocol knows (anything else fails to decode).
_KNOWN = {
    GRAPHQL_WS: {
        "connection_init",
        "connection_terminate",
        "start",
        "stop",
        "connection_ack",
        "connection_error",
        "data",
        "error",
        "complete",
        "ka",
    },
    GRAPHQL_TRANSPORT_WS: {
        "connection_init",
        "connection_ack",
        "subscribe",
        "next",
        "error",
        "complete",
        "ping",
        "pong",
    },
}

CLOSE_NORMAL = 1000
CLOSE_PROTOCOL_ERROR = 1002


def negotiate(requested: list[str]) -> str | None:
    """Pick the first server protocol the client offered (gorilla's rule)."""
    return next((p for p in SERVER_PROTOCOLS if p in requested), None)


class _Undecodable(Exception):
    """A frame that is not JSON or has a type this protocol does not know."""


class WsConnection:
    """One websocket connection: the init handshake, operations and keep-alive."""

    def __init__(
        self,
        fake: FakeStash,
        request: web.Request,
        ws: web.WebSocketResponse,
        protocol: str | None,
    ) -> None:
        """Wrap an upgraded socket speaking ``protocol`` (None means graphql-ws)."""
        self.fake = fake
        self.request = request
        self.ws = ws
        self.protocol = protocol or GRAPHQL_WS
        self.legacy = self.protocol == GRAPHQL_WS
        self.operations: dict[str, asyncio.Task[None]] = {}
        self._send_lock = asyncio.Lock()
        self._background: list[asyncio.Task[None]] = []
        self.frames_sent: list[dict[str, Any]] = []

    # ------------------------------------------------------------ io

    async def send(self, message: dict[str, Any]) -> None:
        """Send one JSON frame (ignored once the socket is closing)."""
        if self.ws.closed:
            return
        async with self._send_lock:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self.ws.send_str(json.dumps(message))
                self.frames_sent.append(message)

    async def _connection_error(self, text: str) -> None:
        # graphql-transport-ws has no connection_error; gqlgen silently drops it.
        if self.legacy:
            await self.send({"type": "connection_error", "payload": {"message": text}})

    async def close(self, code: int, reason: str) -> None:
        """Close the socket with a close frame."""
        await self.ws.close(code=code, message=reason.encode())

    def abort(self) -> None:
        """Drop the TCP connection without a close frame."""
        transport = self.request.transport
        if transport is not None:
            transport.abort()

    async def _next(self) -> dict[str, Any] | None:
        msg = await self.ws.receive()
        if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
            return None
        if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
            raise _Undecodable
        try:
            data = json.loads(msg.data)
        except ValueError:
            raise _Undecodable from None
        if not isinstance(data, dict) or data.get("type") not in _KNOWN[self.protocol]:
            raise _Undecodable
        return data

    # ------------------------------------------------------------ lifecycle

    async def run(self) -> None:
        """Serve the connection until either side closes it."""
        try:
            if await self._init():
                self._start_keepalive()
                await self._loop()
        finally:
            for task in [*self.operations.values(), *self._background]:
                task.cancel()
            for task in [*self.operations.values(), *self._background]:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _init(self) -> bool:
        try:
            first = await self._next()
        except _Undecodable:
            await self._connection_error("invalid json")
            await self.close(CLOSE_PROTOCOL_ERROR, "decoding error")
            return False
        if first is None:
            return False
        kind = first["type"]
        if kind == "connection_init":
            # Stash sets no InitFunc: the payload is ignored, auth happened on upgrade.
            await self.send({"type": "connection_ack"})
            if self.legacy:
                await self.send({"type": "ka"})
            return True
        if kind == "connection_terminate" and self.legacy:
            await self.close(CLOSE_NORMAL, "terminated")
            return False
        await self._connection_error(f"unexpected message {kind}")
        await self.close(CLOSE_PROTOCOL_ERROR, "unexpected message")
        return False

    def _start_keepalive(self) -> None:
        if self.legacy and self.fake.ws_keepalive_s:
            self._background.append(self._spawn(self._tick, self.fake.ws_keepalive_s, "ka"))
        elif not self.legacy and self.fake.ws_pong_interval_s:
            self._background.append(self._spawn(self._tick, self.fake.ws_pong_interval_s, "pong"))

    def _spawn(
        self, fn: Callable[[float, str], Any], interval: float, kind: str
    ) -> asyncio.Task[None]:
        return asyncio.get_running_loop().create_task(fn(interval, kind))

    async def _tick(self, interval: float, kind: str) -> None:
        while not self.ws.closed:
            await asyncio.sleep(interval)
            await self.send({"type": kind})

    async def _loop(self) -> None:
        start, stop = ("start", "stop") if self.legacy else ("subscribe", "complete")
        while True:
            try:
                message = await self._next()
            except _Undecodable:
                break
            if message is None:
                return
            kind = message["type"]
            op_id = str(message.get("id", ""))
            if kind == start:
                self._start_operation(op_id, message.get("payload") or {})
            elif kind == stop:
                task = self.operations.get(op_id)
                if task is not None:
                    task.cancel()
            elif kind == "connection_terminate" and self.legacy:
                break
            elif kind == "ping" and not self.legacy:
                pong: dict[str, Any] = {"type": "pong"}
                if message.get("payload") is not None:
                    pong["payload"] = message["payload"]
                await self.send(pong)
            elif kind == "pong" and not self.legacy:
                continue
            else:
                await self._connection_error(f"unexpected message {kind}")
                await self.close(CLOSE_PROTOCOL_ERROR, "unexpected message")
                return
        await self.close(CLOSE_NORMAL, "terminated")

    # ------------------------------------------------------------ operations

    def _start_operation(self, op_id: str, payload: dict[str, Any]) -> None:
        previous = self.operations.get(op_id)
        if previous is not None:
            previous.cancel()
        task = asyncio.get_running_loop().create_task(self._operation(op_id, payload))
        self.operations[op_id] = task

    async def _send_result(self, op_id: str, result: ExecutionResult) -> None:
        await self.send(
            {"id": op_id, "type": "data" if self.legacy else "next", "payload": result.formatted}
        )

    async def _operation(self, op_id: str, payload: dict[str, Any]) -> None:
        context = RequestContext(self.fake, self.fake.base_url_for(self.request))
        try:
            prepared = self.fake.prepare(
                payload.get("query"),
                payload.get("variables"),
                payload.get("operationName"),
                context=context,
                transport="ws",
                request=self.request,
            )
            if isinstance(prepared, list):
                await self.send({"id": op_id, "type": "error", "payload": prepared})
                return
            if prepared.operation.operation == OperationType.SUBSCRIPTION:
                await self._stream(op_id, prepared, context)
            else:
                await self._send_result(op_id, await self.fake.execute_prepared(prepared))
        except asyncio.CancelledError:
            pass
        finally:
            for stream in context.subscriptions:
                await stream.aclose()
            if self.operations.get(op_id) is asyncio.current_task():
                del self.operations[op_id]
            await self.send({"id": op_id, "type": "complete"})

    async def _stream(self, op_id: str, prepared: Prepared, context: RequestContext) -> None:
        result = subscribe(
            self.fake.schema,
            prepared.document,
            context_value=context,
            variable_values=prepared.variables,
            operation_name=prepared.operation_name,
        )
        if isawaitable(result):
            result = await result
        if isinstance(result, ExecutionResult):
            await self._send_result(op_id, result)
            return
        try:
            async for event in result:
                await self._send_result(op_id, event)
        except GraphQLError as exc:
            await self.send({"id": op_id, "type": "error", "payload": [exc.formatted]})
        finally:
            aclose = getattr(result, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()
