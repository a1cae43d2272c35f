"""Tests for the fake Stash server over real loopback HTTP and websockets."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from gql import Client, gql
from gql.transport.aiohttp import AIOHTTPTransport
from gql.transport.aiohttp_websockets import AIOHTTPWebsocketsTransport
from gql.transport.exceptions import TransportError

from tests.fakes.stash import FakeStash, Library, StashBoxConfig, schema_without
from tests.fakes.stash import fixtures as _fixtures
from tests.fakes.stash.fixtures import FakeStashFactory

fake_stash = _fixtures.fake_stash
fake_stash_factory = _fixtures.fake_stash_factory

STASHDB = "https://stashdb.org/graphql"
GRAPHQL_WS = "graphql-ws"
TRANSPORT_WS = "graphql-transport-ws"


class Clock:
    """A settable clock for deterministic created_at/updated_at."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 1, 11, 12, 0, 0, tzinfo=UTC))


async def post(
    fake: FakeStash,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    headers: dict[str, str] | None = None,
    status: int = 200,
    params: dict[str, str] | None = None,
) -> dict[str, Any]:
    """POST a GraphQL request and return the JSON body, asserting the HTTP status."""
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            fake.graphql_url,
            json={"query": query, "variables": variables or {}},
            headers=headers,
            params=params,
        ) as resp,
    ):
        assert resp.status == status, await resp.text()
        if resp.content_type != "application/json":
            return {}
        body: dict[str, Any] = await resp.json()
        return body


async def data(
    fake: FakeStash, query: str, variables: dict[str, Any] | None = None, **kw: Any
) -> dict[str, Any]:
    """POST and return ``data``, asserting there were no errors."""
    body = await post(fake, query, variables, **kw)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]
    return result


async def scene_ids(
    fake: FakeStash, scene_filter: dict[str, Any], find_filter: dict[str, Any] | None = None
) -> list[int]:
    """Return the ids findScenes yields for a filter."""
    result = await data(
        fake,
        "query($f: SceneFilterType, $ff: FindFilterType) {"
        " findScenes(scene_filter: $f, filter: $ff) { count scenes { id } } }",
        {"f": scene_filter, "ff": find_filter or {"per_page": -1}},
    )
    return [int(s["id"]) for s in result["findScenes"]["scenes"]]


# ---------------------------------------------------------------- queries


async def test_find_scene_returns_files_fingerprints_and_paths(fake_stash: FakeStash) -> None:
    lib = fake_stash.library
    alice = lib.add_performer("Alice", stash_ids=[(STASHDB, "uuid-a")])
    scene = lib.add_scene(
        title="One",
        performers=[alice],
        tags=["Outdoor"],
        phash=0x00AB_0000_0000_00CD,
        duration=61.5,
        oshash="0123456789abcdef",
    )
    result = await data(
        fake_stash,
        """
        query Scene($id: ID!) { findScene(id: $id) {
          id title organized created_at
          files { id path basename size duration width height frame_rate video_codec
                  fingerprints { type value } fingerprint(type: "phash") }
          paths { stream screenshot }
          performers { name stash_ids { endpoint stash_id } }
          tags { name } } }""",
        {"id": str(scene.id)},
    )
    found = result["findScene"]
    assert found["files"][0]["fingerprints"] == [
        {"type": "oshash", "value": "0123456789abcdef"},
        # lowercase hex of the uint64, no zero padding
        {"type": "phash", "value": "ab0000000000cd"},
    ]
    assert found["files"][0]["fingerprint"] == "ab0000000000cd"
    assert found["files"][0]["basename"] == f"scene-{scene.id}.mp4"
    assert found["paths"]["stream"] == f"{fake_stash.url}/scene/{scene.id}/stream"
    assert found["created_at"].endswith("+02:00")
    assert found["performers"] == [
        {"name": "Alice", "stash_ids": [{"endpoint": STASHDB, "stash_id": "uuid-a"}]}
    ]
    assert found["tags"] == [{"name": "Outdoor"}]
    assert (await data(fake_stash, '{ findScene(id: "999") { id } }'))["findScene"] is None


async def test_find_scenes_filters_and_paging(fake_stash: FakeStash) -> None:
    lib = fake_stash.library
    alice = lib.add_performer("Alice")
    bob = lib.add_performer("Bob")
    s1 = lib.add_scene(title="b", performers=[alice], phash=1, stash_ids=[(STASHDB, "x1")])
    s2 = lib.add_scene(title="a", performers=[alice, bob])
    s3 = lib.add_scene(title="c", phash=3)
    s4 = lib.add_scene(title="d", with_file=False)

    def crit(modifier: str, value: int, value2: int | None = None) -> dict[str, Any]:
        return {"id": {"modifier": modifier, "value": value, "value2": value2}}

    assert await scene_ids(fake_stash, crit("GREATER_THAN", s2.id)) == [s3.id, s4.id]
    assert await scene_ids(fake_stash, crit("LESS_THAN", s2.id)) == [s1.id]
    assert await scene_ids(fake_stash, crit("EQUALS", s3.id)) == [s3.id]
    assert await scene_ids(fake_stash, crit("BETWEEN", s2.id, s3.id)) == [s2.id, s3.id]
    assert await scene_ids(fake_stash, {"is_missing": "phash"}) == [s2.id, s4.id]
    assert await scene_ids(fake_stash, {"is_missing": "performers"}) == [s3.id, s4.id]
    assert await scene_ids(fake_stash, {"is_missing": "stash_id"}) == [s2.id, s3.id, s4.id]
    assert await scene_ids(
        fake_stash, {"stash_id_endpoint": {"endpoint": STASHDB, "modifier": "NOT_NULL"}}
    ) == [s1.id]
    assert await scene_ids(
        fake_stash, {"performers": {"value": [str(bob.id)], "modifier": "INCLUDES"}}
    ) == [s2.id]
    assert await scene_ids(
        fake_stash, {"performers": {"value": [str(bob.id)], "modifier": "EXCLUDES"}}
    ) == [s1.id, s3.id, s4.id]
    assert await scene_ids(fake_stash, {}, {"sort": "title", "per_page": -1}) == [
        s2.id,
        s1.id,
        s3.id,
        s4.id,
    ]
    page2 = await data(
        fake_stash,
        '{ findScenes(filter: {page: 2, per_page: 3, sort: "id",'
        " direction: DESC}) { count scenes { id } } }",
    )
    assert page2["findScenes"] == {"count": 4, "scenes": [{"id": str(s1.id)}]}
    default = await data(fake_stash, "{ findScenes { count } }")
    assert default["findScenes"]["count"] == 4


async def test_timestamp_filter_compares_strings_like_sqlite(
    fake_stash_factory: FakeStashFactory, clock: Clock
) -> None:
    fake = await fake_stash_factory(clock=clock, tz_offset="+02:00")
    early = fake.library.add_scene(title="early")  # 2026-01-11T14:00:00+02:00 == 12:00Z
    clock.advance(3600)
    late = fake.library.add_scene(title="late")  # 15:00+02:00 == 13:00Z

    def after(value: str) -> dict[str, Any]:
        return {"created_at": {"value": value, "modifier": "GREATER_THAN"}}

    # In the server's own offset the comparison behaves like time.
    assert await scene_ids(fake, after("2026-01-11T14:30:00+02:00")) == [late.id]
    # The same instant written in UTC is compared as text: "...T14..." > "...T12:30...",
    # so the earlier scene matches too. Real Stash does exactly this.
    assert await scene_ids(fake, after("2026-01-11T12:30:00Z")) == [early.id, late.id]
    stored = await data(
        fake,
        '{ findScenes(filter: {sort: "created_at", direction: DESC}) { scenes { created_at } } }',
    )
    assert [s["created_at"] for s in stored["findScenes"]["scenes"]] == [
        "2026-01-11T15:00:00+02:00",
        "2026-01-11T14:00:00+02:00",
    ]


async def test_find_performers_tags_studios(fake_stash: FakeStash) -> None:
    lib = fake_stash.library
    alice = lib.add_performer("Alice", stash_ids=[(STASHDB, "uuid-a")])
    lib.add_performer("Alina", stash_ids=[("https://other.example/graphql", "uuid-a")])
    lib.add_tag("Outdoor", aliases=["outside"])
    lib.add_studio("Studio One", stash_ids=[(STASHDB, "st-1")])
    lib.add_scene(performers=[alice])
    found = await data(
        fake_stash,
        """
        query P($ep: String!, $sid: String!) {
          findPerformers(performer_filter: {stash_id_endpoint:
              {endpoint: $ep, stash_id: $sid, modifier: EQUALS}}, filter: {per_page: -1}) {
            count performers { id name scene_count image_path } }
          findTags(tag_filter: {name: {value: "OUTDOOR", modifier: EQUALS}}) {
            count tags { name aliases } }
          findStudios(filter: {q: "one"}) { count studios { name stash_ids { stash_id } } }
        }""",
        {"ep": STASHDB, "sid": "uuid-a"},
    )
    assert found["findPerformers"]["count"] == 1
    performer = found["findPerformers"]["performers"][0]
    assert performer["name"] == "Alice"
    assert performer["scene_count"] == 1
    assert performer["image_path"].endswith(f"/performer/{alice.id}/image?default=true")
    assert found["findTags"] == {"count": 1, "tags": [{"name": "Outdoor", "aliases": ["outside"]}]}
    assert found["findStudios"]["studios"] == [
        {"name": "Studio One", "stash_ids": [{"stash_id": "st-1"}]}
    ]
    one = await data(
        fake_stash, "query($id: ID!) { findPerformer(id: $id) { name } }", {"id": str(alice.id)}
    )
    assert one == {"findPerformer": {"name": "Alice"}}


async def test_configuration_and_version(fake_stash_factory: FakeStashFactory) -> None:
    fake = await fake_stash_factory(api_key="secret")
    fake.library.stash_boxes.append(StashBoxConfig(STASHDB, api_key="box-key"))
    fake.library.plugin_settings["stash-sense"] = {"url": "http://daemon:8765"}
    fake.library.plugin_settings["other"] = {"x": 1}
    result = await data(
        fake,
        """{ configuration {
        general { apiKey stashes { path } stashBoxes { endpoint api_key name
                  max_requests_per_minute } }
        plugins(include: ["stash-sense", "missing"]) }
        version { version hash build_time } systemStatus { status appSchema } jobQueue { id } }""",
        headers={"ApiKey": "secret"},
    )
    general = result["configuration"]["general"]
    assert general["apiKey"] == "secret"
    assert general["stashBoxes"] == [
        {
            "endpoint": STASHDB,
            "api_key": "box-key",
            "name": "StashDB",
            "max_requests_per_minute": 240,
        }
    ]
    assert result["configuration"]["plugins"] == {"stash-sense": {"url": "http://daemon:8765"}}
    assert result["version"]["version"] == "v0.30.1"
    assert result["systemStatus"]["status"] == "OK"
    # Stash returns null, not [], for an empty queue.
    assert result["jobQueue"] is None


async def test_find_duplicate_scenes(fake_stash: FakeStash) -> None:
    lib = fake_stash.library
    a = lib.add_scene(phash=0b1111, duration=100)
    b = lib.add_scene(phash=0b1110, duration=100.4)
    lib.add_scene(phash=0xFFFF_0000, duration=100)
    result = await data(fake_stash, "{ findDuplicateScenes(distance: 1, duration_diff: 1) { id } }")
    assert result["findDuplicateScenes"] == [[{"id": str(a.id)}, {"id": str(b.id)}]]


# ---------------------------------------------------------------- mutations and hooks


@pytest.fixture
def hook_log(fake_stash: FakeStash) -> list[dict[str, Any]]:
    """Record every hook payload the fake sends."""
    received: list[dict[str, Any]] = []

    async def listener(payload: dict[str, Any]) -> None:
        received.append(payload)

    fake_stash.hook_listeners.append(listener)
    return received


BULK = (
    "mutation B($input: BulkSceneUpdateInput!) { bulkSceneUpdate(input: $input) "
    "{ id performers { id } tags { id } updated_at } }"
)


async def test_bulk_add_keeps_existing_and_fires_one_hook_per_scene(
    fake_stash_factory: FakeStashFactory, clock: Clock
) -> None:
    fake = await fake_stash_factory(clock=clock)
    lib = fake.library
    alice, bob = lib.add_performer("Alice"), lib.add_performer("Bob")
    s1 = lib.add_scene(performers=[alice])
    s2 = lib.add_scene()
    received: list[dict[str, Any]] = []
    listener_done = asyncio.Event()

    async def slow_listener(payload: dict[str, Any]) -> None:
        await asyncio.sleep(0.05)
        received.append(payload)
        listener_done.set()

    fake.hook_listeners.append(slow_listener)
    clock.advance(60)
    variables = {
        "input": {
            "clientMutationId": "stash-sense:42",
            "ids": [str(s1.id), str(s2.id)],
            "performer_ids": {"ids": [str(bob.id)], "mode": "ADD"},
        }
    }
    result = await data(fake, BULK, variables)
    # The response waited for the listeners, like Stash's hook execution.
    assert listener_done.is_set() and len(received) == 2
    assert [p["id"] for p in result["bulkSceneUpdate"][0]["performers"]] == [
        str(alice.id),
        str(bob.id),
    ]
    assert result["bulkSceneUpdate"][0]["updated_at"] == "2026-01-11T14:01:00+02:00"
    assert received[0] == {
        "server_connection": {
            "Scheme": "http",
            "Host": "0.0.0.0",
            "Port": fake.port,
            "SessionCookie": received[0]["server_connection"]["SessionCookie"],
            "Dir": "/root/.stash",
            "PluginDir": "/root/.stash/plugins/stash-sense",
        },
        "args": {
            "hookContext": {
                "id": s1.id,
                "type": "Scene.Update.Post",
                # Generated Go model: nullable fields are omitempty.
                "input": {
                    "clientMutationId": "stash-sense:42",
                    "ids": [str(s1.id), str(s2.id)],
                    "performer_ids": {"ids": [str(bob.id)], "mode": "ADD"},
                },
                "inputFields": received[0]["args"]["hookContext"]["inputFields"],
            }
        },
    }
    assert set(received[0]["args"]["hookContext"]["inputFields"]) == {
        "clientMutationId",
        "ids",
        "performer_ids",
    }
    assert received[0]["server_connection"]["SessionCookie"]["Name"] == "session"
    assert received[1]["args"]["hookContext"]["id"] == s2.id

    await data(
        fake,
        BULK,
        {
            "input": {
                "ids": [str(s1.id)],
                "performer_ids": {"ids": [str(alice.id)], "mode": "REMOVE"},
            }
        },
    )
    assert lib.scene(s1.id).performer_ids == [bob.id]
    await data(
        fake, BULK, {"input": {"ids": [str(s1.id)], "performer_ids": {"ids": [], "mode": "SET"}}}
    )
    assert lib.scene(s1.id).performer_ids == []


async def test_scene_update_replaces_and_hook_input_has_every_field(
    fake_stash: FakeStash, hook_log: list[dict[str, Any]]
) -> None:
    lib = fake_stash.library
    tag = lib.add_tag("Face checked")
    scene = lib.add_scene(tags=["Old"])
    result = await data(
        fake_stash,
        """mutation U($input: SceneUpdateInput!) {
        sceneUpdate(input: $input) { id tags { name } } }""",
        {"input": {"id": str(scene.id), "tag_ids": [str(tag.id)]}},
    )
    assert result["sceneUpdate"]["tags"] == [{"name": "Face checked"}]
    context = hook_log[0]["args"]["hookContext"]
    assert context["type"] == "Scene.Update.Post"
    assert set(context["inputFields"]) == {"id", "tag_ids"}
    # SceneUpdateInput is a hand-written struct without omitempty: unset fields are null.
    assert context["input"]["tag_ids"] == [str(tag.id)]
    assert context["input"]["clientMutationId"] is None
    assert context["input"]["performer_ids"] is None
    assert "primary_file_id" in context["input"]


async def test_scenes_update_hooks_carry_the_whole_list(
    fake_stash: FakeStash, hook_log: list[dict[str, Any]]
) -> None:
    lib = fake_stash.library
    s1, s2 = lib.add_scene(), lib.add_scene()
    await data(
        fake_stash,
        """mutation($input: [SceneUpdateInput!]!) {
        scenesUpdate(input: $input) { id } }""",
        {"input": [{"id": str(s1.id), "title": "one"}, {"id": str(s2.id), "organized": True}]},
    )
    assert (lib.scene(s1.id).title, lib.scene(s2.id).organized) == ("one", True)
    contexts = [p["args"]["hookContext"] for p in hook_log]
    assert [c["id"] for c in contexts] == [s1.id, s2.id]
    assert [len(c["input"]) for c in contexts] == [2, 2]
    assert [set(c["inputFields"]) for c in contexts] == [{"id", "title"}, {"id", "organized"}]


async def test_unknown_id_is_a_resolver_error(fake_stash: FakeStash) -> None:
    scene = fake_stash.library.add_scene()
    body = await post(
        fake_stash,
        BULK,
        {"input": {"ids": [str(scene.id)], "performer_ids": {"ids": ["77"], "mode": "ADD"}}},
    )
    assert body["errors"][0]["message"] == "FOREIGN KEY constraint failed"
    assert body["data"] == {"bulkSceneUpdate": None}


async def test_destroy_fires_hook_with_file_hashes(
    fake_stash: FakeStash, hook_log: list[dict[str, Any]]
) -> None:
    lib = fake_stash.library
    scene = lib.add_scene(path="/data/a.mp4", oshash="00000000000000aa", md5="m" * 32)
    other = lib.add_scene()
    result = await data(
        fake_stash,
        """mutation D($input: ScenesDestroyInput!) {
        scenesDestroy(input: $input) }""",
        {"input": {"ids": [str(scene.id)], "delete_file": True}},
    )
    assert result == {"scenesDestroy": True}
    assert scene.id not in lib.scenes and other.id in lib.scenes
    assert lib.deleted_files == ["/data/a.mp4"]
    assert hook_log[0]["args"]["hookContext"] == {
        "id": scene.id,
        "type": "Scene.Destroy.Post",
        "input": {
            "ids": [str(scene.id)],
            "delete_file": True,
            "delete_generated": None,
            "checksum": "m" * 32,
            "oshash": "00000000000000aa",
            "path": "/data/a.mp4",
        },
    }
    fake_stash.hooks_enabled = False
    await data(
        fake_stash,
        "mutation($i: SceneDestroyInput!) { sceneDestroy(input: $i) }",
        {"i": {"id": str(other.id)}},
    )
    assert len(hook_log) == 1


async def test_tag_and_performer_creation_rules(fake_stash: FakeStash) -> None:
    create_tag = "mutation T($input: TagCreateInput!) { tagCreate(input: $input) { id name } }"
    created = await data(fake_stash, create_tag, {"input": {"name": "Face: Alice"}})
    assert created["tagCreate"]["name"] == "Face: Alice"
    duplicate = await post(fake_stash, create_tag, {"input": {"name": "face: alice"}})
    assert duplicate["errors"][0]["message"] == "tag with name 'face: alice' already exists"

    create = """mutation P($input: PerformerCreateInput!) { performerCreate(input: $input) {
        id name disambiguation alias_list stash_ids { endpoint stash_id } image_path } }"""
    made = await data(
        fake_stash,
        create,
        {
            "input": {
                "name": "Alice",
                "disambiguation": "2020s",
                "alias_list": ["Ally"],
                "image": "data:image/png;base64,iVBORw0KGgo=",
                "stash_ids": [{"endpoint": STASHDB, "stash_id": "uuid-a"}],
            }
        },
    )
    performer = made["performerCreate"]
    assert performer["stash_ids"] == [{"endpoint": STASHDB, "stash_id": "uuid-a"}]
    assert "?t=" in performer["image_path"]
    again = await post(fake_stash, create, {"input": {"name": "alice", "disambiguation": "2020s"}})
    assert again["errors"][0]["message"] == (
        "performer with name 'alice' and disambiguation '2020s' already exists"
    )
    aliases = await post(fake_stash, create, {"input": {"name": "Cara", "alias_list": ["cara"]}})
    assert aliases["errors"][0]["message"] == "performer contains duplicate alias 'cara'"
    updated = await data(
        fake_stash,
        """mutation($input: PerformerUpdateInput!) {
        performerUpdate(input: $input) { name alias_list } }""",
        {"input": {"id": performer["id"], "alias_list": ["Al"]}},
    )
    assert updated["performerUpdate"] == {"name": "Alice", "alias_list": ["Al"]}
    async with aiohttp.ClientSession() as http, http.get(performer["image_path"]) as resp:
        assert resp.status == 200 and resp.content_type == "image/png"


async def test_configure_plugin_overwrites_whole_map(fake_stash: FakeStash) -> None:
    fake_stash.library.plugin_settings["stash-sense"] = {"a": 1, "b": 2}
    result = await data(
        fake_stash,
        """mutation { configurePlugin(plugin_id: "stash-sense",
        input: {b: 3}) }""",
    )
    assert result == {"configurePlugin": {"b": 3}}
    assert fake_stash.library.plugin_settings == {"stash-sense": {"b": 3}}


# ---------------------------------------------------------------- protocol errors, calls


async def test_request_errors_are_422_and_calls_are_recorded(fake_stash: FakeStash) -> None:
    invalid = await post(fake_stash, "{ findScenes { nope } }", status=422)
    assert invalid["data"] is None
    assert invalid["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    syntax = await post(fake_stash, "{ findScenes ", status=422)
    assert syntax["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    bad_var = await post(fake_stash, "query($id: ID!) { findScene(id: $id) { id } }", status=422)
    assert "$id" in bad_var["errors"][0]["message"]
    resolver = await post(fake_stash, '{ findScene(id: "x") { id } }', status=200)
    assert resolver["errors"][0]["message"] == 'strconv.Atoi: parsing "x": invalid syntax'
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            fake_stash.graphql_url, data=b"{not json", headers={"Content-Type": "application/json"}
        ) as resp,
    ):
        assert resp.status == 400

    await data(fake_stash, "query Named($id: ID!) { findScene(id: $id) { id } }", {"id": "1"})
    call = fake_stash.calls[-1]
    assert (call.operation_name, call.kind, call.variables, call.transport) == (
        "Named",
        "query",
        {"id": "1"},
        "http",
    )
    assert not call.api_key_sent
    assert [c.kind for c in fake_stash.calls[:4]] == ["query", None, "query", "query"]


async def test_introspection_with_gql_client(fake_stash: FakeStash) -> None:
    fake_stash.library.add_scene(title="t")
    transport = AIOHTTPTransport(url=fake_stash.graphql_url)
    async with Client(transport=transport, fetch_schema_from_transport=True) as session:
        result = await session.execute(gql("{ findScenes { count } }"))
        assert result == {"findScenes": {"count": 1}}
        assert session.client.schema is not None
        assert "Scene" in session.client.schema.type_map


async def test_schema_without_makes_an_incompatible_stash(
    fake_stash_factory: FakeStashFactory,
) -> None:
    fake = await fake_stash_factory(sdl=schema_without("Scene.files"))
    body = await post(fake, "{ findScenes { scenes { files { id } } } }", status=422)
    assert "Cannot query field 'files'" in body["errors"][0]["message"]


# ---------------------------------------------------------------- auth


async def test_auth_header_query_param_cookie_and_wrong_key(
    fake_stash_factory: FakeStashFactory,
) -> None:
    fake = await fake_stash_factory(api_key="secret")
    query = "{ version { version } }"
    await data(fake, query, headers={"ApiKey": "secret"})
    await data(fake, query, params={"apikey": "secret"})
    await post(fake, query, status=401)
    await post(fake, query, headers={"ApiKey": "wrong"}, status=401)
    # The header wins over a correct query parameter.
    await post(fake, query, headers={"ApiKey": "wrong"}, params={"apikey": "secret"}, status=401)
    await data(fake, query, headers={"Cookie": f"session={fake.session_cookie}"})
    assert fake.calls[0].api_key == "secret"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{fake.url}/healthz") as resp:
            assert resp.status == 200
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(fake.ws_url, protocols=(TRANSPORT_WS,))
        assert refused.value.status == 401
        ws = await http.ws_connect(fake.ws_url + "?apikey=secret", protocols=(TRANSPORT_WS,))
        await ws.close()


async def test_key_sent_to_a_stash_without_credentials_is_refused(fake_stash: FakeStash) -> None:
    await post(fake_stash, "{ version { version } }", headers={"ApiKey": "anything"}, status=401)
    await data(fake_stash, "{ version { version } }")


# ---------------------------------------------------------------- stream


@pytest.fixture
def video_file(tmp_path: Path) -> Path:
    path = tmp_path / "clip.mp4"
    path.write_bytes(bytes(range(256)) * 4)
    return path


async def test_stream_serves_ranges_with_embedded_key(
    fake_stash_factory: FakeStashFactory, video_file: Path
) -> None:
    fake = await fake_stash_factory(api_key="secret")
    scene = fake.library.add_scene(path=str(video_file))
    assert scene.primary_file is not None and scene.primary_file.size == 1024
    result = await data(
        fake, "{ findScenes { scenes { paths { stream } } } }", headers={"ApiKey": "secret"}
    )
    stream = result["findScenes"]["scenes"][0]["paths"]["stream"]
    assert stream == f"{fake.url}/scene/{scene.id}/stream?apikey=secret"
    async with aiohttp.ClientSession() as http:
        async with http.get(stream, headers={"Range": "bytes=10-19"}) as resp:
            assert resp.status == 206
            assert await resp.read() == bytes(range(10, 20))
            assert resp.headers["Content-Range"] == "bytes 10-19/1024"
        async with http.get(f"{fake.url}/scene/{scene.id}/stream") as resp:
            assert resp.status == 401
        async with http.get(f"{fake.url}/scene/999/stream?apikey=secret") as resp:
            assert resp.status == 404


# ---------------------------------------------------------------- websockets


async def collect(stream: AsyncIterator[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """Take ``count`` results from a gql subscription."""
    out: list[dict[str, Any]] = []
    # Close the generator explicitly, or gql waits for it until its close timeout.
    async with contextlib.aclosing(stream) as items:  # type: ignore[type-var]
        async for item in items:
            out.append(item)
            if len(out) == count:
                break
    return out


@pytest.mark.parametrize("protocol", [GRAPHQL_WS, TRANSPORT_WS])
async def test_gql_subscription_on_each_subprotocol(fake_stash: FakeStash, protocol: str) -> None:
    transport = AIOHTTPWebsocketsTransport(url=fake_stash.ws_url, subprotocols=[protocol])
    async with Client(transport=transport) as session:
        stream = session.subscribe(
            gql("subscription Jobs { jobsSubscribe { type job { id status description } } }")
        )
        task = asyncio.create_task(collect(stream, 3))
        await fake_stash.wait_for_subscribers("jobsSubscribe")
        job = await fake_stash.run_job("Running plugin task: x")
        events = await asyncio.wait_for(task, 3)
        assert transport.subprotocol == protocol
        # queries also work over the socket
        assert await session.execute(gql("{ version { version } }")) == {
            "version": {"version": "v0.30.1"}
        }
    assert [(e["jobsSubscribe"]["type"], e["jobsSubscribe"]["job"]["status"]) for e in events] == [
        ("ADD", "READY"),
        ("UPDATE", "RUNNING"),
        ("UPDATE", "RUNNING"),
    ]
    assert events[0]["jobsSubscribe"]["job"]["id"] == job.id
    assert fake_stash.calls[0].transport == "ws"
    assert fake_stash.calls[0].operation_name == "Jobs"


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def receive(ws: aiohttp.ClientWebSocketResponse, timeout: float = 2.0) -> dict[str, Any]:
    """Receive one JSON frame."""
    msg = await ws.receive(timeout=timeout)
    assert msg.type == aiohttp.WSMsgType.TEXT, msg
    frame: dict[str, Any] = json.loads(msg.data)
    return frame


async def ws_subscribe(
    http: aiohttp.ClientSession, fake: FakeStash, queries: dict[str, str]
) -> aiohttp.ClientWebSocketResponse:
    """Open a graphql-transport-ws socket with one subscription per id."""
    ws = await http.ws_connect(fake.ws_url, protocols=(TRANSPORT_WS,))
    await ws.send_json({"type": "connection_init"})
    assert await receive(ws) == {"type": "connection_ack"}
    for op_id, query in queries.items():
        await ws.send_json({"type": "subscribe", "id": op_id, "payload": {"query": query}})
    return ws


async def test_negotiation_prefers_server_order_and_defaults_to_graphql_ws(
    fake_stash_factory: FakeStashFactory, http: aiohttp.ClientSession
) -> None:
    fake = await fake_stash_factory(ws_keepalive_s=0.05)
    both = await http.ws_connect(fake.ws_url, protocols=(TRANSPORT_WS, GRAPHQL_WS))
    assert both.protocol == GRAPHQL_WS
    await both.close()
    bare = await http.ws_connect(fake.ws_url)
    assert bare.protocol is None
    await bare.send_json({"type": "connection_init"})
    # Legacy protocol: ack, an immediate ka, then one ka per interval.
    assert [await receive(bare) for _ in range(3)] == [
        {"type": "connection_ack"},
        {"type": "ka"},
        {"type": "ka"},
    ]
    await bare.close()


async def test_transport_ws_sends_no_keepalive_but_answers_ping(
    fake_stash_factory: FakeStashFactory, http: aiohttp.ClientSession
) -> None:
    fake = await fake_stash_factory(ws_keepalive_s=0.02)
    ws = await http.ws_connect(fake.ws_url, protocols=(TRANSPORT_WS,))
    await ws.send_json({"type": "connection_init", "payload": {}})
    assert await receive(ws) == {"type": "connection_ack"}
    with pytest.raises(asyncio.TimeoutError):
        await ws.receive(timeout=0.15)
    await ws.send_json({"type": "ping", "payload": {"n": 1}})
    assert await receive(ws) == {"type": "pong", "payload": {"n": 1}}
    await ws.close()

    chatty = await fake_stash_factory(ws_pong_interval_s=0.03)
    ws = await http.ws_connect(chatty.ws_url, protocols=(TRANSPORT_WS,))
    await ws.send_json({"type": "connection_init"})
    assert [await receive(ws) for _ in range(3)] == [
        {"type": "connection_ack"},
        {"type": "pong"},
        {"type": "pong"},
    ]
    await ws.close()


async def test_logging_subscription(fake_stash: FakeStash, http: aiohttp.ClientSession) -> None:
    ws = await ws_subscribe(
        http, fake_stash, {"log": "subscription { loggingSubscribe { time level message } }"}
    )
    await fake_stash.wait_for_subscribers("loggingSubscribe")
    fake_stash.log("Warning", "disk almost full")
    frame = await receive(ws)
    entry = frame["payload"]["data"]["loggingSubscribe"][0]
    assert (entry["level"], entry["message"]) == ("Warning", "disk almost full")
    await ws.send_json({"type": "complete", "id": "log"})
    assert await receive(ws) == {"id": "log", "type": "complete"}
    await ws.close()
    assert fake_stash.pubsub.count("logging") == 0


async def test_ws_protocol_errors(fake_stash: FakeStash, http: aiohttp.ClientSession) -> None:
    legacy = await http.ws_connect(fake_stash.ws_url, protocols=(GRAPHQL_WS,))
    await legacy.send_json({"type": "start", "id": "1", "payload": {"query": "{ version }"}})
    assert await receive(legacy) == {
        "type": "connection_error",
        "payload": {"message": "unexpected message start"},
    }
    closing = await legacy.receive(timeout=2)
    assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 1002

    ws = await http.ws_connect(fake_stash.ws_url, protocols=(TRANSPORT_WS,))
    await ws.send_json({"type": "connection_init"})
    await receive(ws)
    await ws.send_json(
        {"type": "subscribe", "id": "7", "payload": {"query": "subscription { nope }"}}
    )
    error = await receive(ws)
    assert error["type"] == "error" and error["id"] == "7"
    assert isinstance(error["payload"], list)
    assert await receive(ws) == {"type": "complete", "id": "7"}
    await ws.close()


async def test_drop_websockets_closes_abruptly(
    fake_stash: FakeStash, http: aiohttp.ClientSession
) -> None:
    ws = await http.ws_connect(fake_stash.ws_url, protocols=(TRANSPORT_WS,))
    await ws.send_json({"type": "connection_init"})
    await receive(ws)
    await ws.send_json(
        {
            "type": "subscribe",
            "id": "1",
            "payload": {"query": "subscription { scanCompleteSubscribe }"},
        }
    )
    await fake_stash.wait_for_subscribers("scanCompleteSubscribe")
    await fake_stash.drop_websockets()
    msg = await ws.receive(timeout=2)
    # No close frame with a code: the TCP connection just went away.
    assert msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE)
    assert ws.close_code != 1000
    assert not fake_stash.websockets
    assert fake_stash.pubsub.count("scan_complete") == 0

    transport = AIOHTTPWebsocketsTransport(url=fake_stash.ws_url, subprotocols=[TRANSPORT_WS])
    with pytest.raises(TransportError):
        async with Client(transport=transport) as session:
            stream = session.subscribe(gql("subscription { scanCompleteSubscribe }"))
            task = asyncio.create_task(collect(stream, 1))
            await fake_stash.wait_for_subscribers("scanCompleteSubscribe")
            await fake_stash.drop_websockets()
            await asyncio.wait_for(task, 3)


# ---------------------------------------------------------------- faults


async def test_faults_latency_errors_and_drops(fake_stash: FakeStash) -> None:
    query = "{ version { version } }"
    fake_stash.faults.http_error(status=503, count=2)
    await post(fake_stash, query, status=503)
    await post(fake_stash, query, status=503)
    await data(fake_stash, query)

    fake_stash.faults.latency(0.2, count=1)
    started = time.monotonic()
    await data(fake_stash, query)
    assert time.monotonic() - started >= 0.2

    fake_stash.faults.drop(duration_s=0.15)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await post(fake_stash, query)
    await asyncio.sleep(0.2)
    await data(fake_stash, query)

    fake_stash.faults.http_error(status=500, duration_s=60)
    fake_stash.faults.clear()
    await data(fake_stash, query)
    assert fake_stash.faults.injected == ["http_error", "http_error", "latency", "drop"]
    with pytest.raises(ValueError, match="never end"):
        fake_stash.faults.drop()


# ---------------------------------------------------------------- jobs and scans


async def test_simulated_scan_event_sequence_and_hooks(
    fake_stash: FakeStash, http: aiohttp.ClientSession
) -> None:
    phash_at_hook: list[str | None] = []

    async def listener(payload: dict[str, Any]) -> None:
        context = payload["args"]["hookContext"]
        assert context["input"] is None and "inputFields" not in context
        scene = fake_stash.library.scene(context["id"])
        phash_at_hook.append(scene.files[0].phash)

    fake_stash.hook_listeners.append(listener)
    ws = await ws_subscribe(
        http,
        fake_stash,
        {
            "jobs": "subscription { jobsSubscribe { type job { id status progress endTime } } }",
            "scan": "subscription { scanCompleteSubscribe }",
        },
    )
    await fake_stash.wait_for_subscribers("jobsSubscribe")
    await fake_stash.wait_for_subscribers("scanCompleteSubscribe")
    created = await fake_stash.simulate_scan(
        [
            {"title": "new 1", "path": "/data/new1.mp4", "phash": 0xABC},
            {"title": "new 2", "path": "/data/new2.mp4"},
        ]
    )
    frames = [await receive(ws) for _ in range(6)]
    await ws.close()
    # Events of different subscriptions are not ordered relative to each other.
    assert [f["payload"] for f in frames if f["id"] == "scan"] == [
        {"data": {"scanCompleteSubscribe": True}}
    ]
    jobs = [f["payload"]["data"]["jobsSubscribe"] for f in frames if f["id"] == "jobs"]
    assert [(e["type"], e["job"]["status"], e["job"]["progress"]) for e in jobs] == [
        ("ADD", "READY", None),
        ("UPDATE", "RUNNING", 0.0),
        ("UPDATE", "RUNNING", 0.5),
        ("UPDATE", "RUNNING", 1.0),
        ("REMOVE", "FINISHED", 1.0),
    ]
    assert jobs[-1]["job"]["endTime"] is not None
    assert [e["job"]["endTime"] for e in jobs[:-1]] == [None] * 4
    # Hooks run before phash generation, as in Stash.
    assert phash_at_hook == [None, None]
    assert [s.files[0].phash is not None for s in created] == [True, True]
    assert created[0].files[0].phash == "abc"
    assert [e["args"]["hookContext"]["type"] for e in fake_stash.hooks.fired] == [
        "Scene.Create.Post",
        "Scene.Create.Post",
    ]
    assert fake_stash.hooks.errors == []


async def test_metadata_scan_mutation_and_job_lookup(fake_stash: FakeStash) -> None:
    fake_stash.pending_scan_scenes.append({"title": "queued", "path": "/data/q.mp4"})
    fake_stash.pending_scan_scenes.append({"title": "elsewhere", "path": "/other/x.mp4"})
    started = await data(fake_stash, 'mutation { metadataScan(input: {paths: ["/data"]}) }')
    job_id = started["metadataScan"]
    await fake_stash.jobs.wait(job_id)
    job = await data(
        fake_stash,
        "query($id: ID!) { findJob(input: {id: $id}) { status description endTime } }",
        {"id": job_id},
    )
    assert job["findJob"]["status"] == "FINISHED"
    assert job["findJob"]["description"] == "Scanning..."
    titles = [s.title for s in fake_stash.library.scenes.values()]
    assert titles == ["queued"]
    assert fake_stash.pending_scan_scenes == [{"title": "elsewhere", "path": "/other/x.mp4"}]
    # No scanGeneratePhashes flag: the new scene has no phash yet.
    missing = await scene_ids(fake_stash, {"is_missing": "phash"})
    assert len(missing) == 1
    generated = await data(fake_stash, "mutation { metadataGenerate(input: {phashes: true}) }")
    await fake_stash.jobs.wait(generated["metadataGenerate"])
    assert await scene_ids(fake_stash, {"is_missing": "phash"}) == []


async def test_stop_job_cancels_without_scan_complete(fake_stash: FakeStash) -> None:
    events: list[Any] = []
    jobs = fake_stash.pubsub.subscribe("jobs")
    job = fake_stash.start_job("Generating...", duration_s=5)
    await asyncio.sleep(0.05)
    stopped = await data(fake_stash, "mutation($id: ID!) { stopJob(job_id: $id) }", {"id": job.id})
    assert stopped == {"stopJob": True}
    await fake_stash.jobs.wait(job.id)
    while not jobs.queue.empty():
        events.append(await jobs.__anext__())
    await jobs.aclose()
    assert [(e["type"], e["job"].status) for e in events] == [
        ("ADD", "READY"),
        ("UPDATE", "RUNNING"),
        ("UPDATE", "STOPPING"),
        ("REMOVE", "CANCELLED"),
    ]


def test_library_helpers_and_offsets() -> None:
    lib = Library(tz_offset="-05:30", clock=lambda: datetime(2026, 1, 1, 0, 0, 0, 500, tzinfo=UTC))
    scene = lib.add_scene(created_at="2026-01-01T10:00:00Z", phash="000ff")
    assert lib.stored(scene.created_at) == "2026-01-01T04:30:00-05:30"
    assert scene.files[0].phash == "ff"
    assert lib.stored(lib.now()) == "2025-12-31T18:30:00-05:30"
    lib.delete_scene(scene.id)
    assert lib.add_scene().id == scene.id + 1  # ids are never reused
    with pytest.raises(ValueError, match="offset"):
        Library(tz_offset="CET")
