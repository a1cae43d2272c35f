"""The Faces tab's routes without an identification: clear answers, no surprises."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stash_sense.daemon import build_app

from ..helpers import TOKEN, daemon_config

AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def test_unidentified_scene_and_bad_corrections(aiohttp_client: Any, tmp_path: Path) -> None:
    client = await aiohttp_client(build_app(daemon_config(tmp_path / "data"), TOKEN))
    resp = await client.get("/api/v1/scenes/5/faces", headers=AUTH)
    assert resp.status == 200  # the tab asks for every scene: no 404 for "not yet"
    assert await resp.json() == {
        "scene_id": 5,
        "job": None,
        "identification": None,
        "persons": [],
    }
    path = "/api/v1/scenes/5/faces/0/someone-else"
    cases = [
        (path, {"performer_id": "12"}, 404),
        (path, {"performer_id": "abc"}, 422),
        (path, {"performer_id": 12}, 422),
        (path, {"performer_id": "12", "extra": 1}, 422),
        (path, ["12"], 422),
        ("/api/v1/scenes/5/faces/x/someone-else", {"performer_id": "12"}, 400),
    ]
    for url, body, status in cases:
        resp = await client.post(url, json=body, headers=AUTH)
        assert resp.status == status, (body, await resp.text())
        assert "error" in await resp.json()
