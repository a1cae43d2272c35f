"""The review routes on the real daemon app: auth, shapes, decisions, bulk, hostile bodies."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from stash_sense.daemon import build_app
from stash_sense.keys import REVIEW
from stash_sense.review import ActionRefused, ReviewQueue, ReviewState
from stash_sense.stash.errors import StashQueryError, StashUnavailable

from ..helpers import TOKEN, daemon_config
from .kinds import Kinds, tag

AUTH = {"Authorization": f"Bearer {TOKEN}"}
ClientFactory = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]
Client = TestClient[Any, Any]


@pytest.fixture
def kinds() -> Kinds:
    return Kinds()


@pytest.fixture
async def client(aiohttp_client: ClientFactory, tmp_path: Path, kinds: Kinds) -> Client:
    app = build_app(daemon_config(tmp_path / "data", server={"max_body_bytes": 65536}), TOKEN)
    started = await aiohttp_client(app)
    review = app[REVIEW].queue
    for kind in (kinds.tag, kinds.delete, kinds.curation):
        review.register(kind)
    return started


def review_of(client: Client) -> ReviewQueue:
    app: web.Application = client.app
    return app[REVIEW].queue


async def suggest(
    client: Client, subject: str = "stashdb.org:a", scene_id: int = 1, confidence: float = 0.8
) -> int:
    done = await review_of(client).upsert(
        "test_tag",
        scene_id=scene_id,
        subject=subject,
        payload=tag(),
        confidence=confidence,
        source="identification:4",
    )
    return done.item.id


async def destructive(client: Client, subject: str = "files") -> int:
    done = await review_of(client).upsert(
        "test_delete", scene_id=1, subject=subject, payload={"file_ids": [1, 2]}
    )
    return done.item.id


async def call(client: Client, method: str, path: str, expect: int, **kw: Any) -> dict[str, Any]:
    resp = await client.request(method, path, headers={**AUTH, **kw.pop("headers", {})}, **kw)
    body = await resp.json()
    assert resp.status == expect, body
    assert isinstance(body, dict)
    return body


async def test_every_review_route_needs_the_token(client: Client) -> None:
    found = []
    for route in client.app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = str(info.get("path") or info.get("formatter", ""))
        if path.startswith("/api/v1/review") and route.method != "HEAD":
            found.append((route.method, path.replace("{id}", "1")))
    assert len(found) == 7
    for method, path in found:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            resp = await client.request(method, path, headers=headers, json={})
            assert resp.status == 401, (method, path)
            assert (await resp.json())["error"]["code"] == "unauthorized"


async def test_list_get_and_counts(client: Client) -> None:
    first = await suggest(client, "stashdb.org:a", confidence=0.4)
    second = await suggest(client, "stashdb.org:b", confidence=0.9)
    other = await suggest(client, "stashdb.org:c", scene_id=2, confidence=0.6)
    await review_of(client).reject(other)

    body = await call(client, "GET", "/api/v1/review/items", 200)
    assert [i["id"] for i in body["items"]] == [other, second, first]
    assert (body["total"], body["limit"], body["offset"]) == (3, 50, 0)
    item = body["items"][2]
    assert item == {
        "id": first,
        "kind": "test_tag",
        "scene_id": 1,
        "subject": "stashdb.org:a",
        "state": "pending",
        "confidence": 0.4,
        "payload": {
            "tag": "blonde",
            "score": 0.8,
            "frames": 0,
            "notes": [],
            "extra": {},
            "mode": "add",
            "parent": None,
        },
        "source": "identification:4",
        "created_at": item["created_at"],
        "updated_at": item["updated_at"],
        "decided_at": None,
        "decided_by": None,
        "outcome": None,
        "error": None,
        "destructive": False,
    }
    assert item["created_at"].endswith("+00:00")

    query = "?state=pending&kind=test_tag&scene=1&sort=-confidence&limit=1"
    body = await call(client, "GET", f"/api/v1/review/items{query}", 200)
    assert [i["id"] for i in body["items"]] == [second] and body["total"] == 2
    body = await call(client, "GET", "/api/v1/review/items?sort=confidence&offset=1", 200)
    assert [i["id"] for i in body["items"]] == [other, second]
    body = await call(client, "GET", "/api/v1/review/items?subject=stashdb.org:c", 200)
    assert [i["state"] for i in body["items"]] == ["rejected"]
    body = await call(client, "GET", "/api/v1/review/items?min_confidence=0.5&state=pending", 200)
    assert [i["id"] for i in body["items"]] == [second]
    body = await call(client, "GET", "/api/v1/review/items?source=identification:4", 200)
    assert body["total"] == 3

    one = await call(client, "GET", f"/api/v1/review/items/{first}", 200)
    assert one["details"] == {"label": "BLONDE"}
    assert one["id"] == first

    counts = await call(client, "GET", "/api/v1/review/counts", 200)
    assert counts["pending"] == 2
    assert counts["by_kind"]["test_tag"]["pending"] == 2
    assert counts["by_kind"]["test_tag"]["rejected"] == 1
    assert counts["by_kind"]["test_delete"] == {s.value: 0 for s in ReviewState}
    assert "test_delete" in counts["destructive"] and "test_tag" not in counts["destructive"]
    assert "duplicate_performer" in counts["destructive"]


async def test_accept_and_reject(client: Client, kinds: Kinds) -> None:
    item = await suggest(client)
    body = await call(
        client,
        "POST",
        f"/api/v1/review/items/{item}/accept",
        200,
        json={"options": {"why": "sure"}},
    )
    assert body["state"] == "accepted" and body["decided_by"] == "user"
    assert body["outcome"] == {"done": "stashdb.org:a", "options": {"why": "sure"}}
    again = await call(client, "POST", f"/api/v1/review/items/{item}/accept", 200)
    assert again == body
    assert len(kinds.tag.recorder.calls) == 1
    conflict = await call(client, "POST", f"/api/v1/review/items/{item}/reject", 409)
    assert conflict["error"]["code"] == "conflict"

    other = await suggest(client, "stashdb.org:b")
    rejected = await call(client, "POST", f"/api/v1/review/items/{other}/reject", 200)
    assert rejected["state"] == "rejected"
    assert await call(client, "POST", f"/api/v1/review/items/{other}/reject", 200) == rejected
    conflict = await call(client, "POST", f"/api/v1/review/items/{other}/accept", 409)
    assert "rejected" in conflict["error"]["message"]

    for path in ("/api/v1/review/items/424242", f"/api/v1/review/items/{2**70}"):
        await call(client, "GET", path, 404)
        await call(client, "POST", f"{path}/accept", 404)
        await call(client, "POST", f"{path}/reject", 404)


async def test_concurrent_http_accepts_run_the_handler_once(client: Client, kinds: Kinds) -> None:
    item = await suggest(client)
    kinds.tag.recorder.gate = asyncio.Event()
    posts = [
        asyncio.create_task(client.post(f"/api/v1/review/items/{item}/accept", headers=AUTH))
        for _ in range(4)
    ]
    await asyncio.wait_for(kinds.tag.recorder.started.wait(), 5)
    listed = await call(client, "GET", "/api/v1/review/items?state=accepting", 200)
    assert [i["id"] for i in listed["items"]] == [item]
    kinds.tag.recorder.gate.set()
    for resp in await asyncio.gather(*posts):
        assert resp.status == 200
        assert (await resp.json())["state"] == "accepted"
    assert len(kinds.tag.recorder.calls) == 1


async def test_destructive_accept_needs_confirm(client: Client, kinds: Kinds) -> None:
    item = await destructive(client)
    listed = await call(client, "GET", f"/api/v1/review/items/{item}", 200)
    assert listed["destructive"] is True
    refused = await call(client, "POST", f"/api/v1/review/items/{item}/accept", 422)
    assert refused["error"]["code"] == "confirmation_required"
    refused = await call(
        client, "POST", f"/api/v1/review/items/{item}/accept", 422, json={"confirm": False}
    )
    assert kinds.delete.recorder.calls == []
    done = await call(
        client, "POST", f"/api/v1/review/items/{item}/accept", 200, json={"confirm": True}
    )
    assert done["state"] == "accepted"


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (StashQueryError("SceneUpdate", ["scene not found"]), 502, "upstream_error"),
        (StashUnavailable("Stash is unreachable"), 502, "upstream_unavailable"),
        (RuntimeError("bug"), 500, "internal"),
        (ActionRefused("dry-run mode: nothing is written to Stash"), 409, "accept_refused"),
    ],
)
async def test_handler_failures_map_to_json_errors(
    client: Client, kinds: Kinds, error: Exception, status: int, code: str
) -> None:
    item = await suggest(client)
    kinds.tag.recorder.fail = error
    body = await call(client, "POST", f"/api/v1/review/items/{item}/accept", status)
    assert body["error"]["code"] == code
    if status == 500:
        assert "bug" not in body["error"]["message"]  # details stay in the log
    after = await call(client, "GET", f"/api/v1/review/items/{item}", 200)
    assert after["state"] == "pending"
    assert after["error"]


async def test_bulk_by_ids_and_by_filter(client: Client, kinds: Kinds) -> None:
    good = await suggest(client, "good", confidence=0.9)
    bad = await suggest(client, "bad", confidence=0.9)
    low = await suggest(client, "low", confidence=0.1)
    files = await destructive(client)
    kinds.tag.recorder.fail_subjects["bad"] = StashQueryError("SceneUpdate", ["nope"])
    body = await call(
        client,
        "POST",
        "/api/v1/review/bulk",
        200,
        json={"action": "accept", "ids": [good, bad, files, 777]},
    )
    assert body["accepted"] == 1 and body["rejected"] == 0 and body["failed"] == 3
    assert body["remaining"] == 0 and body["action"] == "accept"
    results = {r["id"]: r for r in body["results"]}
    assert results[good] == {"id": good, "ok": True, "state": "accepted", "error": None}
    assert results[bad]["ok"] is False and results[bad]["state"] == "pending"
    assert results[bad]["error"] == {"code": "upstream_error", "message": "SceneUpdate: nope"}
    assert results[files]["error"]["code"] == "confirmation_required"
    assert results[777]["error"]["code"] == "not_found" and results[777]["state"] is None

    body = await call(
        client,
        "POST",
        "/api/v1/review/bulk",
        200,
        json={"action": "reject", "filter": {"kind": "test_tag", "max_confidence": 0.5}},
    )
    assert [r["id"] for r in body["results"]] == [low]
    assert body["rejected"] == 1

    body = await call(
        client,
        "POST",
        "/api/v1/review/bulk",
        200,
        json={"action": "accept", "filter": {"kind": ["test_delete"]}, "confirm": True},
    )
    assert [r["id"] for r in body["results"]] == [files] and body["accepted"] == 1
    counts = await call(client, "GET", "/api/v1/review/counts", 200)
    assert counts["pending"] == 1  # only the failing one is left


HOSTILE_BULK: list[tuple[Any, int]] = [
    ([], 422),
    ("accept", 422),
    (None, 422),
    (17, 422),
    ({}, 422),
    ({"action": "accept"}, 422),
    ({"action": "delete", "ids": [1]}, 422),
    ({"action": ["accept"], "ids": [1]}, 422),
    ({"action": "accept", "ids": [1], "filter": {"kind": "x"}}, 422),
    ({"action": "accept", "ids": []}, 422),
    ({"action": "accept", "ids": "1"}, 422),
    ({"action": "accept", "ids": [True]}, 422),
    ({"action": "accept", "ids": [0]}, 422),
    ({"action": "accept", "ids": [-3]}, 422),
    ({"action": "accept", "ids": [1.0]}, 422),
    ({"action": "accept", "ids": ["1"]}, 422),
    ({"action": "accept", "ids": [2**64]}, 422),
    ({"action": "accept", "ids": [None]}, 422),
    ({"action": "accept", "ids": list(range(1, 1002))}, 422),
    ({"action": "accept", "ids": [1], "confirm": "yes"}, 422),
    ({"action": "accept", "ids": [1], "extra": 1}, 422),
    ({"action": "accept", "filter": {}}, 422),
    ({"action": "accept", "filter": []}, 422),
    ({"action": "accept", "filter": {"state": "pending"}}, 422),
    ({"action": "accept", "filter": {"kind": ""}}, 422),
    ({"action": "accept", "filter": {"kind": []}}, 422),
    ({"action": "accept", "filter": {"kind": ["x"] * 101}}, 422),
    ({"action": "accept", "filter": {"scene": "1"}}, 422),
    ({"action": "accept", "filter": {"scene": [1, False]}}, 422),
    ({"action": "accept", "filter": {"subject": {"a": 1}}}, 422),
    ({"action": "accept", "filter": {"min_confidence": "high"}}, 422),
    ({"action": "accept", "filter": {"min_confidence": 2}}, 422),
    ({"action": "accept", "filter": {"min_confidence": True}}, 422),
    ({"action": "accept", "filter": {"min_confidence": 0.9, "max_confidence": 0.1}}, 422),
]


@pytest.mark.parametrize(("body", "status"), HOSTILE_BULK)
async def test_hostile_bulk_bodies(client: Client, body: Any, status: int) -> None:
    headers = {**AUTH, "Content-Type": "application/json"}
    resp = await client.post("/api/v1/review/bulk", data=json.dumps(body), headers=headers)
    assert resp.status == status, await resp.text()
    assert (await resp.json())["error"]["code"]


HOSTILE_RAW: list[tuple[str, bytes, dict[str, str], int]] = [
    ("/api/v1/review/bulk", b"{", {"Content-Type": "application/json"}, 400),
    ("/api/v1/review/bulk", b'{"action": NaN}', {"Content-Type": "application/json"}, 422),
    ("/api/v1/review/bulk", b"[" * 100 + b"]" * 100, {"Content-Type": "application/json"}, 400),
    ("/api/v1/review/bulk", b'{"action": "accept"}', {"Content-Type": "text/plain"}, 415),
    ("/api/v1/review/bulk", b"\xff\xfe", {"Content-Type": "application/json"}, 400),
    ("/api/v1/review/bulk", b" " * 70000, {"Content-Type": "application/json"}, 413),
    (
        "/api/v1/review/bulk",
        b'{"action":"accept","filter":{"max_confidence":Infinity}}',
        {"Content-Type": "application/json"},
        422,
    ),
    ("/api/v1/review/items/1/accept", b"[]", {"Content-Type": "application/json"}, 422),
    ("/api/v1/review/items/1/accept", b"nope", {"Content-Type": "application/json"}, 400),
    ("/api/v1/review/items/1/accept", b'{"confirm": 1}', {"Content-Type": "application/json"}, 422),
    (
        "/api/v1/review/items/1/accept",
        b'{"options": [1]}',
        {"Content-Type": "application/json"},
        422,
    ),
    (
        "/api/v1/review/items/1/accept",
        b'{"confirm": true, "force": true}',
        {"Content-Type": "application/json"},
        422,
    ),
    ("/api/v1/review/items/1/accept", b"{}", {"Content-Type": "text/plain"}, 415),
    (
        "/api/v1/review/items/1/reject",
        b'{"reason": "x"}',
        {"Content-Type": "application/json"},
        422,
    ),
    ("/api/v1/review/items/1/reject", b'"x"', {"Content-Type": "application/json"}, 422),
    ("/api/v1/review/items/abc/accept", b"", {}, 400),
    ("/api/v1/review/items/0/reject", b"", {}, 400),
    ("/api/v1/review/items/%C2%B2/reject", b"", {}, 400),
    ("/api/v1/review/items/-1/accept", b"", {}, 400),
]


@pytest.mark.parametrize(("path", "data", "headers", "status"), HOSTILE_RAW)
async def test_hostile_raw_bodies(
    client: Client, path: str, data: bytes, headers: dict[str, str], status: int
) -> None:
    await suggest(client)  # item 1 exists, so only the body can be wrong
    resp = await client.post(path, data=data, headers={**AUTH, **headers})
    assert resp.status == status, await resp.text()
    assert (await resp.json())["error"]["code"]
    assert (await review_of(client).get(1)).state is ReviewState.PENDING  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=501",
        "limit=x",
        "offset=-1",
        "state=sleeping",
        "sort=name",
        "scene=abc",
        "scene=0",
        "scene=%C2%B2",
        f"scene={2**64}",
        "min_confidence=nan",
        "min_confidence=2",
        "max_confidence=high",
    ],
)
async def test_bad_list_parameters(client: Client, query: str) -> None:
    body = await call(client, "GET", f"/api/v1/review/items?{query}", 400)
    assert body["error"]["code"] == "bad_parameter"


async def test_bad_item_ids(client: Client) -> None:
    for raw in ("abc", "0", "%C2%B2", "1.5"):
        body = await call(client, "GET", f"/api/v1/review/items/{raw}", 400)
        assert body["error"]["code"] == "bad_parameter"
