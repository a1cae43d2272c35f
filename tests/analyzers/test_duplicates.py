"""The duplicate performers and duplicate scene files analyzers, on a fake Stash."""

from __future__ import annotations

from tests.analyzers.kit import BOX, call, items, run_analyzer
from tests.daemons import DaemonFactory
from tests.fakes.stash.server import FakeStash

FANSDB = "https://fansdb.cc/graphql"
PMV = "https://pmvstash.org/graphql"


async def test_duplicate_performers_found_dismissed_and_merged(
    fake_stash: FakeStash, start_daemon: DaemonFactory
) -> None:
    lib = fake_stash.library
    small = lib.add_performer("Anna", stash_ids=[(BOX, "p1")], aliases=["Annie"])
    big = lib.add_performer("Anna B", stash_ids=[(BOX, "p1"), (FANSDB, "f1")])
    lib.add_scene(performers=[big])
    lib.add_scene(performers=[big])
    only_small = lib.add_scene(performers=[small])
    # Near misses: one stash id on two endpoints, and a group on a disabled endpoint.
    lib.add_performer("Cara", stash_ids=[(BOX, "p2")])
    lib.add_performer("Cara Two", stash_ids=[(FANSDB, "p2")])
    lib.add_performer("Dee", stash_ids=[(PMV, "p3")])
    lib.add_performer("Dee Two", stash_ids=[(PMV, "p3")])
    lib.add_performer("Eve", stash_ids=[(BOX, "p4")])
    lib.add_performer("Eve Two", stash_ids=[(BOX, "p4")])
    lib.add_performer("Unlinked")
    daemon = await start_daemon(fake_stash, stashbox={"disabled_endpoints": ["pmvstash.org"]})

    await run_analyzer(daemon, "duplicate_performers")
    found = {i["subject"]: i for i in await items(daemon, "duplicate_performer")}
    assert set(found) == {f"{BOX}|p1", f"{BOX}|p4"}
    anna = found[f"{BOX}|p1"]
    assert anna["payload"]["suggested_keeper_id"] == str(big.id)
    assert anna["destructive"] is True

    eve = found[f"{BOX}|p4"]
    await call(daemon, "POST", f"/api/v1/review/items/{eve['id']}/reject", 200)
    await run_analyzer(daemon, "duplicate_performers")
    pending = await items(daemon, "duplicate_performer", "pending")
    assert [i["subject"] for i in pending] == [f"{BOX}|p1"]  # the dismissed one stays so
    assert len(await items(daemon, "duplicate_performer")) == 2  # re-running adds no copies

    accept = f"/api/v1/review/items/{anna['id']}/accept"
    refused = await call(daemon, "POST", accept, 422, json={})
    assert refused["error"]["code"] == "confirmation_required"
    assert small.id in lib.performers

    done = await call(daemon, "POST", accept, 200, json={"confirm": True})
    assert done["state"] == "accepted"
    assert done["outcome"]["merged_ids"] == [str(small.id)]
    assert small.id not in lib.performers
    keeper = lib.performers[big.id]
    assert {"Anna", "Annie"} <= set(keeper.alias_list)
    assert lib.scenes[only_small.id].performer_ids == [big.id]
    audit = await call(daemon, "GET", "/api/v1/audit", 200)
    merges = [e for e in audit["entries"] if e["action"] == "merge_performers"]
    assert [m["status"] for m in merges] == ["applied"]

    # The merged group is gone from Stash: nothing new is proposed.
    await run_analyzer(daemon, "duplicate_performers")
    assert await items(daemon, "duplicate_performer", "pending") == []


async def test_duplicate_scene_files_found_and_deleted(
    fake_stash: FakeStash, start_daemon: DaemonFactory
) -> None:
    lib = fake_stash.library
    scene = lib.add_scene(title="Two copies", width=1280, height=720, video_codec="h264")
    better = lib.make_file(
        path="/data/videos/copy-4k.mp4", width=3840, height=2160, video_codec="hevc"
    )
    scene.files.append(better)
    dismissed = lib.add_scene(title="Keep both")
    dismissed.files.append(lib.make_file(path="/data/videos/alt.mp4"))
    resolved = lib.add_scene(title="Resolved later")
    resolved.files.append(lib.make_file(path="/data/videos/later.mp4"))
    lib.add_scene(title="Single file")
    daemon = await start_daemon(fake_stash)

    await run_analyzer(daemon, "duplicate_scene_files")
    found = {i["scene_id"]: i for i in await items(daemon, "duplicate_scene_file")}
    assert set(found) == {scene.id, dismissed.id, resolved.id}
    item = found[scene.id]
    assert item["payload"]["suggested_keeper_id"] == str(better.id)

    await call(daemon, "POST", f"/api/v1/review/items/{found[dismissed.id]['id']}/reject", 200)
    resolved.files = resolved.files[:1]  # a person removed the copy in Stash
    await run_analyzer(daemon, "duplicate_scene_files")
    by_scene = {i["scene_id"]: i["state"] for i in await items(daemon, "duplicate_scene_file")}
    assert by_scene == {scene.id: "pending", dismissed.id: "rejected", resolved.id: "superseded"}

    accept = f"/api/v1/review/items/{item['id']}/accept"
    await call(daemon, "POST", accept, 422, json={})
    assert len(scene.files) == 2
    done = await call(daemon, "POST", accept, 200, json={"confirm": True})
    assert done["outcome"]["kept_file_id"] == str(better.id)
    # The kept file became primary before the other one was deleted.
    assert [f.id for f in scene.files] == [better.id]
    assert lib.deleted_files == ["/data/videos/scene-1.mp4"]
    audit = await call(daemon, "GET", f"/api/v1/audit?scene={scene.id}", 200)
    assert [e["action"] for e in audit["entries"]] == ["delete_scene_files"]
