"""The face-database routes and jobs inside a real daemon app on loopback."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from stash_sense.config import Config, FaceDbConfig
from stash_sense.daemon import build_app
from stash_sense.facedb import context
from stash_sense.facedb.installer import Installer
from tests.facedb.releases import release_zip
from tests.facedb.server import REPO, ReleaseServer, release_server
from tests.faces.kit import Kit
from tests.helpers import TOKEN, daemon_config, eventually

__all__ = ["release_server"]
AUTH = {"Authorization": f"Bearer {TOKEN}"}
Client = TestClient[Any, Any]
ClientFactory = Callable[[web.Application], Awaitable[Client]]


def config_for(tmp_path: Path, kit: Kit, server: ReleaseServer, **facedb: Any) -> Config:
    base = daemon_config(tmp_path / "data", faces={"models_dir": str(kit.models_dir)})
    options = {"source": f"github:{REPO}", "github_api_url": server.url, "download_attempts": 1}
    return dataclasses.replace(base, facedb=FaceDbConfig(**(options | facedb)))


async def finished_job(client: Client, job_id: int) -> dict[str, Any]:
    """Wait for a job to leave the live states; return it."""
    body: dict[str, Any] = {}

    async def done() -> bool:
        nonlocal body
        body = await (await client.get(f"/api/v1/jobs/{job_id}", headers=AUTH)).json()
        return body["state"] not in ("queued", "running")

    await eventually(done, timeout=30)
    return body


async def status(client: Client) -> dict[str, Any]:
    resp = await client.get("/api/v1/facedb", headers=AUTH)
    assert resp.status == 200
    body: dict[str, Any] = await resp.json()
    return body


async def test_install_job_swaps_the_database_without_restart(
    aiohttp_client: ClientFactory, tmp_path: Path, face_kit: Kit, release_server: ReleaseServer
) -> None:
    release_server.add("a.zip", release_zip(tmp_path, "2026.10.01"), tag="v2026.10.01")
    client = await aiohttp_client(build_app(config_for(tmp_path, face_kit, release_server), TOKEN))
    before = await status(client)
    assert before["installed_version"] is None and before["loaded"] is None

    checked = await (await client.post("/api/v1/facedb/check", headers=AUTH)).json()
    assert checked["update_available"] is True
    assert checked["latest_version"] == "2026.10.01"

    resp = await client.post("/api/v1/facedb/install", headers=AUTH)
    assert resp.status == 202
    job = await resp.json()
    assert job["type"] == "facedb.install"
    done = await finished_job(client, job["id"])
    assert done["state"] == "succeeded", done
    assert done["progress"]["message"] == "release 2026.10.01 is in use"
    after = await status(client)
    assert after["installed_version"] == "2026.10.01"
    assert after["loaded"]["version"] == "2026.10.01"
    assert after["update"]["update_available"] is False
    health = await (await client.get("/api/v1/health")).json()
    assert health["faces"]["ready"] is True
    assert health["faces"]["database"]["version"] == "2026.10.01"

    # a newer release from a local zip, then back again
    newer = release_zip(tmp_path, "2026.11.01")
    resp = await client.post("/api/v1/facedb/install", headers=AUTH, json={"source": str(newer)})
    assert (await finished_job(client, (await resp.json())["id"]))["state"] == "succeeded"
    assert (await status(client))["loaded"]["version"] == "2026.11.01"
    resp = await client.post("/api/v1/facedb/rollback", headers=AUTH)
    assert resp.status == 202
    assert (await finished_job(client, (await resp.json())["id"]))["state"] == "succeeded"
    rolled = await status(client)
    assert (rolled["current"], rolled["previous"]) == ("2026.10.01", "2026.11.01")
    assert rolled["loaded"]["version"] == "2026.10.01"


async def test_failed_install_is_one_line_and_keeps_serving(
    aiohttp_client: ClientFactory, tmp_path: Path, face_kit: Kit, release_server: ReleaseServer
) -> None:
    release_server.add("a.zip", release_zip(tmp_path, "2026.10.01"), tag="v2026.10.01")
    client = await aiohttp_client(build_app(config_for(tmp_path, face_kit, release_server), TOKEN))
    resp = await client.post("/api/v1/facedb/install", headers=AUTH)
    assert (await finished_job(client, (await resp.json())["id"]))["state"] == "succeeded"
    bad = release_zip(tmp_path, "2026.11.01", bad_checksum="performers.db")
    resp = await client.post("/api/v1/facedb/install", headers=AUTH, json={"source": str(bad)})
    failed = await finished_job(client, (await resp.json())["id"])
    assert failed["state"] == "failed"
    assert "performers.db fails its checksum" in failed["last_error"]
    assert "\n" not in failed["last_error"]
    assert (await status(client))["loaded"]["version"] == "2026.10.01"


async def test_bad_install_requests_are_rejected(
    aiohttp_client: ClientFactory, tmp_path: Path, face_kit: Kit, release_server: ReleaseServer
) -> None:
    client = await aiohttp_client(build_app(config_for(tmp_path, face_kit, release_server), TOKEN))
    for body in ({"version": 5}, {"bogus": 1}, {"version": "../x"}, ["x"], {"source": " "}):
        resp = await client.post("/api/v1/facedb/install", headers=AUTH, json=body)
        assert resp.status == 422, body
    resp = await client.post("/api/v1/facedb/rollback", headers=AUTH)
    failed = await finished_job(client, (await resp.json())["id"])
    assert failed["state"] == "failed"
    assert failed["last_error"].startswith("no previous release to roll back to")


async def test_release_switched_by_the_command_line_is_loaded(
    aiohttp_client: ClientFactory,
    tmp_path: Path,
    face_kit: Kit,
    release_server: ReleaseServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(context, "POINTER_POLL_SECONDS", 0.05)
    config = config_for(tmp_path, face_kit, release_server, check_interval_hours=1.0)
    release_server.add("a.zip", release_zip(tmp_path, "2026.10.01"), tag="v2026.10.01")
    client = await aiohttp_client(build_app(config, TOKEN))

    async def checked() -> bool:
        return (await status(client))["update"]["checked_at"] is not None

    await eventually(checked)  # the scheduled check runs at start-up
    assert (await status(client))["update"]["latest_version"] == "2026.10.01"
    installer = Installer(config.faces, config.facedb)
    await installer.install(await installer.offer(str(release_zip(tmp_path, "2026.11.01"))))

    async def loaded() -> bool:
        return ((await status(client))["loaded"] or {}).get("version") == "2026.11.01"

    await eventually(loaded, timeout=20)


async def test_install_without_models_says_identification_is_not_ready(
    aiohttp_client: ClientFactory, tmp_path: Path, face_kit: Kit, release_server: ReleaseServer
) -> None:
    config = config_for(tmp_path, face_kit, release_server)
    config = dataclasses.replace(
        config, faces=dataclasses.replace(config.faces, models_dir=str(tmp_path / "none"))
    )
    client = await aiohttp_client(build_app(config, TOKEN))
    zipped = release_zip(tmp_path, "2026.10.01")
    resp = await client.post("/api/v1/facedb/install", headers=AUTH, json={"source": str(zipped)})
    done = await finished_job(client, (await resp.json())["id"])
    assert done["state"] == "succeeded"
    message = done["progress"]["message"]
    assert message.startswith("release 2026.10.01 installed; identification is not ready")
    assert "model files missing" in message
    after = await status(client)
    assert (after["installed_version"], after["loaded"]) == ("2026.10.01", None)
