"""The HTTP API on a real loopback server: auth, errors, CORS, body limits, jobs, health."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from stash_sense.api import live, plugin_source
from stash_sense.config import Config
from stash_sense.daemon import build_app
from stash_sense.keys import DAEMON, QUEUE
from stash_sense.queue import JobState
from stash_sense.queue.maintenance import PRUNE_JOBS

from ..helpers import TOKEN, daemon_config, eventually

AUTH = {"Authorization": f"Bearer {TOKEN}"}
ClientFactory = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]


@pytest.fixture
async def make_client(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> AsyncIterator[Callable[..., Awaitable[TestClient[Any, Any]]]]:
    async def make(config: Config | None = None, **kw: Any) -> TestClient[Any, Any]:
        app = build_app(config or daemon_config(tmp_path / "data", server=kw), TOKEN)
        return await aiohttp_client(app)

    yield make


def protected_routes(app: web.Application) -> list[tuple[str, str]]:
    """Every registered route except the public ones, with a concrete path."""
    found = []
    for route in app.router.routes():
        if route.method in ("HEAD", "OPTIONS"):
            continue
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter", "")
        path = path.replace("{id}", "1")
        # Public by design: health, the plugin source (no secret in it) and the live
        # WebSocket (its token comes in the first message; tests/api/test_live.py).
        if path not in ("/api/v1/health", live.WS_PATH) and not path.startswith(
            plugin_source.PREFIX
        ):
            found.append((route.method, path))
    return found


async def test_every_protected_route_needs_the_token(make_client: Any) -> None:
    client = await make_client()
    routes = protected_routes(client.app)
    assert len(routes) >= 4
    for method, path in routes:
        for headers in (
            {},
            {"Authorization": "Bearer wrong"},
            {"Authorization": TOKEN},
            {"Authorization": f"Basic {TOKEN}"},
        ):
            resp = await client.request(method, path, headers=headers)
            assert resp.status == 401, (method, path, headers)
            body = await resp.json()
            assert body["error"]["code"] == "unauthorized"
    # Unknown paths do not reveal themselves without the token either.
    resp = await client.get("/api/v1/nope")
    assert resp.status == 401


async def test_health_without_token_reports_stash_down(make_client: Any) -> None:
    client = await make_client()

    async def checked() -> bool:
        body = await (await client.get("/api/v1/health")).json()
        return body["stash"]["checked_at"] is not None

    await eventually(checked)
    resp = await client.get("/api/v1/health")
    assert resp.status == 200
    body = await resp.json()
    assert body["status"] == "degraded"
    assert body["stash"]["reachable"] is False
    assert body["stash"]["error"]
    assert body["database"] == {"ok": True, "schema_version": body["database"]["schema_version"]}
    assert body["database"]["schema_version"] >= 1
    assert set(body["queue"]) == {s.value for s in JobState}
    assert body["uptime_seconds"] >= 0


async def test_jobs_routes(make_client: Any) -> None:
    client = await make_client()
    queue = client.app[QUEUE].jobs
    prune = client.app[DAEMON].registry.get(PRUNE_JOBS)
    from stash_sense.queue.maintenance import PruneJobsArgs

    job = (await queue.enqueue(prune, PruneJobsArgs(), delay_seconds=3600)).job

    resp = await client.get("/api/v1/jobs?type=maintenance.prune_jobs", headers=AUTH)
    assert resp.status == 200
    body = await resp.json()
    assert body["total"] == 1 and body["jobs"][0]["id"] == job.id
    assert body["jobs"][0]["state"] == "queued"
    assert body["jobs"][0]["type"] == "maintenance.prune_jobs"

    resp = await client.get(
        "/api/v1/jobs?state=failed,succeeded&type=maintenance.prune_jobs", headers=AUTH
    )
    assert (await resp.json())["total"] == 0
    resp = await client.get("/api/v1/jobs?type=maintenance.prune_jobs&state=queued", headers=AUTH)
    assert (await resp.json())["total"] == 1
    resp = await client.get(f"/api/v1/jobs/{job.id}", headers=AUTH)
    assert (await resp.json())["id"] == job.id

    resp = await client.post(f"/api/v1/jobs/{job.id}/cancel", headers=AUTH)
    assert resp.status == 200
    assert (await resp.json())["state"] == "cancelled"
    resp = await client.post(f"/api/v1/jobs/{job.id}/retry", headers=AUTH)
    assert resp.status == 200
    retried = await resp.json()
    assert retried["state"] == "queued" and retried["attempts"] == 0

    async def succeeded() -> bool:
        got = await queue.store.get(job.id)
        return got is not None and got.state is JobState.SUCCEEDED

    await eventually(succeeded)
    resp = await client.post(f"/api/v1/jobs/{job.id}/cancel", headers=AUTH)
    assert resp.status == 409
    resp = await client.post(f"/api/v1/jobs/{job.id}/retry", headers=AUTH)
    assert resp.status == 409
    assert (await resp.json())["error"]["code"] == "conflict"


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/v1/jobs/999", 404, "not_found"),
        ("/api/v1/jobs/abc", 400, "bad_parameter"),
        ("/api/v1/jobs/0", 400, "bad_parameter"),
        ("/api/v1/jobs/%C2%B2", 400, "bad_parameter"),
        ("/api/v1/jobs/9223372036854775808", 400, "bad_parameter"),
        ("/api/v1/jobs?limit=0", 400, "bad_parameter"),
        ("/api/v1/jobs?limit=x", 400, "bad_parameter"),
        ("/api/v1/jobs?state=sleeping", 400, "bad_parameter"),
        ("/api/v1/nowhere", 404, "not_found"),
    ],
)
async def test_errors_are_json(make_client: Any, path: str, status: int, code: str) -> None:
    client = await make_client()
    resp = await client.get(path, headers=AUTH)
    assert resp.status == status
    assert resp.content_type == "application/json"
    body = await resp.json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]


async def test_method_not_allowed_is_json(make_client: Any) -> None:
    client = await make_client()
    resp = await client.delete("/api/v1/jobs", headers=AUTH)
    assert resp.status == 405
    assert (await resp.json())["error"]["code"] == "method_not_allowed"


async def test_request_body_is_size_limited(make_client: Any, tmp_path: Path) -> None:
    client = await make_client(max_body_bytes=2048)

    # Any route reading a body enforces the limit; register one for the test.
    async def echo(request: web.Request) -> web.Response:
        return web.json_response({"size": len(await request.read())})

    client.app.router._frozen = False  # test-only route on the running app
    client.app.router.add_post("/api/v1/test-echo", echo)
    ok = await client.post("/api/v1/test-echo", data=b"x" * 1000, headers=AUTH)
    assert ok.status == 200
    big = await client.post("/api/v1/test-echo", data=b"x" * 5000, headers=AUTH)
    assert big.status == 413
    assert (await big.json())["error"]["code"] == "payload_too_large"


async def test_cors_only_for_configured_origins(make_client: Any) -> None:
    client = await make_client(cors_origins=["http://stash.lan:9999"])
    preflight = {
        "Origin": "http://stash.lan:9999",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    }
    resp = await client.options("/api/v1/jobs", headers=preflight)
    assert resp.status == 204
    assert resp.headers["Access-Control-Allow-Origin"] == "http://stash.lan:9999"
    assert "Authorization" in resp.headers["Access-Control-Allow-Headers"]

    evil = {**preflight, "Origin": "http://evil.example"}
    resp = await client.options("/api/v1/jobs", headers=evil)
    assert resp.status == 403
    assert "Access-Control-Allow-Origin" not in resp.headers

    resp = await client.get("/api/v1/jobs", headers={**AUTH, "Origin": "http://stash.lan:9999"})
    assert resp.headers["Access-Control-Allow-Origin"] == "http://stash.lan:9999"
    resp = await client.get("/api/v1/jobs", headers={**AUTH, "Origin": "http://evil.example"})
    assert "Access-Control-Allow-Origin" not in resp.headers
    # Error responses carry CORS headers too, so the browser can read the error.
    resp = await client.get("/api/v1/jobs", headers={"Origin": "http://stash.lan:9999"})
    assert resp.status == 401
    assert resp.headers["Access-Control-Allow-Origin"] == "http://stash.lan:9999"
