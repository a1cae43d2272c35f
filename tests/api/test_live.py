"""The live WebSocket: token in the first message, origin check, changes pushed in order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from stash_sense import __version__
from stash_sense.changes import Topic
from stash_sense.daemon import build_app
from stash_sense.keys import DAEMON

from ..helpers import TOKEN, daemon_config, eventually

STASH = "http://stash.lan:9999"


async def _client(aiohttp_client: Any, tmp_path: Path) -> Any:
    app = build_app(daemon_config(tmp_path / "data", server={"cors_origins": [STASH]}), TOKEN)
    return await aiohttp_client(app)


async def test_changes_reach_an_authenticated_client(aiohttp_client: Any, tmp_path: Path) -> None:
    client = await _client(aiohttp_client, tmp_path)
    hub = client.app[DAEMON].changes
    async with client.ws_connect("/api/v1/changes/ws", headers={"Origin": STASH}) as ws:
        await ws.send_json({"type": "auth", "token": TOKEN})
        assert await ws.receive_json(timeout=5) == {"type": "ready", "version": __version__}
        await eventually(lambda: _true(hub.subscribers >= 1))
        hub.publish(Topic.REVIEW, "created", {"id": 1, "kind": "k", "state": "pending"})
        hub.publish(Topic.JOB, "progress", {"id": 2})
        first = await ws.receive_json(timeout=5)
        second = await ws.receive_json(timeout=5)
    assert (first["type"], first["topic"], first["action"]) == ("change", "review", "created")
    assert first["data"]["id"] == 1 and second["topic"] == "job"
    assert second["seq"] > first["seq"]


async def _true(value: bool) -> bool:
    return value


async def test_wrong_token_and_foreign_origin_are_closed(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    client = await _client(aiohttp_client, tmp_path)
    async with client.ws_connect("/api/v1/changes/ws") as ws:
        await ws.send_json({"type": "auth", "token": "wrong"})
        message = await ws.receive(timeout=5)
        assert message.type is aiohttp.WSMsgType.CLOSE and message.data == 4401
    async with client.ws_connect("/api/v1/changes/ws") as ws:
        await ws.send_str("not json")
        assert (await ws.receive(timeout=5)).data == 4401
    async with client.ws_connect(
        "/api/v1/changes/ws", headers={"Origin": "http://evil.example"}
    ) as ws:
        assert (await ws.receive(timeout=5)).data == 4403
    assert client.app[DAEMON].changes.subscribers == 0
