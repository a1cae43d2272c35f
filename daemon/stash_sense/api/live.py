"""Live updates for the plugin UI: the change hub's events over one WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging

from aiohttp import WSMsgType, hdrs, web

from stash_sense import __version__
from stash_sense.changes import ChangeHub, Topic
from stash_sense.keys import DAEMON

_LOGGER = logging.getLogger(__name__)
routes = web.RouteTableDef()
WS_PATH = "/api/v1/changes/ws"
AUTH_TIMEOUT_SECONDS = 10.0
# Close codes in the range applications may use (4000-4999), stable for the client.
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403


@routes.get(WS_PATH)
async def changes_ws(request: web.Request) -> web.StreamResponse:
    """Authenticate by the first message, then push every change until the client leaves."""
    allowed = {o.rstrip("/") for o in request.app[DAEMON].config.server.cors_origins}
    origin = request.headers.get(hdrs.ORIGIN)
    ws = web.WebSocketResponse(heartbeat=30.0)
    await ws.prepare(request)
    # Browsers send Origin on every WebSocket; only the configured Stash origins may listen.
    if origin is not None and origin.rstrip("/") not in allowed:
        await ws.close(code=CLOSE_FORBIDDEN_ORIGIN, message=b"origin not allowed")
        return ws
    if not await _authenticate(ws, request.app[DAEMON].token):
        await ws.close(code=CLOSE_UNAUTHORIZED, message=b"unauthorized")
        return ws
    await ws.send_json({"type": "ready", "version": __version__})
    pump = asyncio.ensure_future(_pump(ws, request.app[DAEMON].changes))
    try:
        # The client sends nothing after auth; reading notices when it goes away.
        async for message in ws:
            if message.type is WSMsgType.ERROR:
                break
    finally:
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pump
    return ws


async def _authenticate(ws: web.WebSocketResponse, token: str) -> bool:
    """Read the first message and check it is `{"type": "auth", "token": <token>}`."""
    try:
        message = await ws.receive(timeout=AUTH_TIMEOUT_SECONDS)
    except TimeoutError:
        return False
    if message.type is not WSMsgType.TEXT:
        return False
    try:
        body = json.loads(message.data)
    except ValueError:
        return False
    given = body.get("token") if isinstance(body, dict) and body.get("type") == "auth" else None
    return isinstance(given, str) and hmac.compare_digest(given.encode(), token.encode())


async def _pump(ws: web.WebSocketResponse, hub: ChangeHub) -> None:
    """Forward the hub's changes; a subscriber that fell behind gets `resync`."""
    subscription = hub.subscribe(list(Topic))
    try:
        async for item in subscription:
            await ws.send_json(item.to_json())
    except ConnectionResetError:
        return
    finally:
        subscription.close()
    # The hub closed (shutdown): tell the client to come back later.
    await ws.close(code=1001, message=b"daemon stopping")
