"""Hostile payloads at the event endpoint never cause a 5xx, and valid events still land."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stash_sense.identify import IDENTIFY_SCENE
from stash_sense.keys import QUEUE
from tests.daemons import AUTH, Daemon, DaemonFactory

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
TRIGGERS = st.sampled_from(
    [
        "Scene.Create.Post",
        "Scene.Update.Post",
        "Scene.Destroy.Post",
        "Performer.Update.Post",
        "Tag.Merge.Post",
        "Scene.Create.Pre",
        "",
        "Scene",
    ]
)
HOOKISH = st.fixed_dictionaries(
    {"type": TRIGGERS},
    optional={
        "id": st.integers(-5, 2**64) | st.text(max_size=8) | st.none() | st.booleans(),
        "input": JSON,
        "inputFields": JSON,
    },
)

JSON_TYPE = "application/json"
HOSTILE_RAW: list[tuple[bytes, str, int]] = [
    (b"", JSON_TYPE, 400),
    (b"{", JSON_TYPE, 400),
    (b"\xff\xfe\x00", JSON_TYPE, 400),
    (b"[" * 50_000 + b"]" * 50_000, JSON_TYPE, 400),  # deeper than the parser's recursion
    (b'{"input": ' * 40 + b"1" + b"}" * 40, JSON_TYPE, 400),  # deeper than we accept
    (b'{"type": "Scene.Create.Post", "id": 1}', "text/plain", 415),
    (b"x" * 2_000_000, JSON_TYPE, 413),  # over the body limit
    (b'{"type": "Scene.Create.Post", "id": 1e400}', JSON_TYPE, 422),
    (b'{"type": "Scene.Create.Post", "id": NaN}', JSON_TYPE, 422),
    (b'{"type": "Scene.Create.Post", "id": 99999999999999999999999}', JSON_TYPE, 422),
    # Odd but valid: stored and ignored (no performer change).
    (
        json.dumps({"type": "Scene.Update.Post", "id": 3, "input": {"a": "\u0000" * 10}}).encode(),
        JSON_TYPE,
        202,
    ),
]


async def post_raw(daemon: Daemon, body: bytes, content_type: str) -> int:
    headers = {**AUTH, "Content-Type": content_type}
    try:
        async with daemon.session.post(
            f"{daemon.url}/api/v1/events/stash", data=body, headers=headers
        ) as resp:
            await resp.read()
            return resp.status
    except aiohttp.ClientError:
        # The server may close the connection on an oversized body; that is not a 5xx.
        return 413


async def test_hostile_table(start_daemon: DaemonFactory) -> None:
    daemon = await start_daemon()
    for index, (body, content_type, expected) in enumerate(HOSTILE_RAW):
        status = await post_raw(daemon, body, content_type)
        assert status == expected, (body[:40], status)
        ok, receipt = await daemon.post_event(
            {"id": 1000 + index, "type": "Scene.Create.Post", "input": None}
        )
        assert ok == 202 and receipt["status"] == "accepted"
    assert len(await daemon.jobs(IDENTIFY_SCENE)) == len(HOSTILE_RAW)


@pytest.fixture
async def fuzz_daemon(start_daemon: DaemonFactory) -> Daemon:
    return await start_daemon()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(payload=HOOKISH | JSON)
async def test_fuzzed_payloads(fuzz_daemon: Daemon, payload: Any) -> None:
    # One daemon serves every example: events accumulate as they would in production.
    daemon = fuzz_daemon
    status, body = await daemon.post_event(payload)
    assert status in (202, 422, 400), (payload, body)
    if status != 202:
        assert body["error"]["code"] in ("invalid_event", "invalid_json")
    # A valid event sent right after still lands.
    (count,) = await daemon.rows("SELECT COUNT(*) FROM events")
    scene_id = 1_000_000 + count[0]
    ok, receipt = await daemon.post_event({"id": scene_id, "type": "Scene.Create.Post"})
    assert ok == 202 and receipt["status"] == "accepted"
    job = await daemon.app[QUEUE].jobs.store.get(receipt["job_id"])
    assert job is not None and job.args["scene_id"] == scene_id
