"""Evaluation end to end: fake Stash, a planted library, real models, release and videos."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from stash_sense.config.model import ConcurrencyConfig
from stash_sense.queue import JobState
from tests.daemons import AUTH, Daemon, DaemonFactory
from tests.evaluate.world import SCENES, Videos, add_library, build_videos
from tests.faces.kit import ALICE, Kit
from tests.fakes.stash.server import FakeStash
from tests.helpers import daemon_config, eventually

NUM_FRAMES = 12


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> Videos:
    return build_videos(Path(tmp_path_factory.mktemp("evaluate")))


def faces_config(videos: Videos, **extra: Any) -> dict[str, Any]:
    # The boost at its largest: were it on, clustered_frequency would pick the lookalike.
    return {
        "num_frames": NUM_FRAMES,
        "database_dir": str(videos.database_dir),
        "tagged_boost": 1.0,
        **extra,
    }


async def call(daemon: Daemon, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    async with daemon.session.request(
        method, f"{daemon.url}{path}", json=body, headers=AUTH
    ) as resp:
        if resp.content_type == "application/json":
            return resp.status, await resp.json()
        return resp.status, await resp.text()


async def evaluated(daemon: Daemon, evaluation_id: int) -> dict[str, Any]:
    """Wait for an evaluation to leave its live states; return it."""
    found: dict[str, Any] = {}

    async def done() -> bool:
        status, body = await call(daemon, "GET", f"/api/v1/evaluations/{evaluation_id}")
        assert status == 200, body
        found.update(body)
        return body["state"] not in ("sampling", "running")

    await eventually(done, timeout=60, interval=0.1)
    return found


def planted_figures(scene_ids: list[int]) -> dict[str, Any]:
    """Derive the expected counts from the construction, for thresholds keeping every match."""
    hits = sum(len(p.tagged & p.shows) for p in SCENES)
    predicted = sum(len(p.shows) for p in SCENES)
    truth = sum(len(p.tagged) for p in SCENES)
    seen = sum(len(p.tagged & p.near) for p in SCENES)
    per_scene = {
        scene_id: {
            "hits": sorted(p.tagged & p.shows),
            "misses": sorted(p.tagged - p.shows),
            "false_alarms": sorted(p.shows - p.tagged),
            "unseen": sorted(p.tagged - p.near),
        }
        for scene_id, p in zip(scene_ids, SCENES, strict=True)
    }
    return {
        "predicted": predicted,
        "hits": hits,
        "false_alarms": predicted - hits,
        "truth": truth,
        "truth_seen": seen,
        "precision": pytest.approx(hits / predicted, abs=1e-4),
        "recall": pytest.approx(hits / truth, abs=1e-4),
        "recall_seen": pytest.approx(hits / seen, abs=1e-4),
        "per_scene": per_scene,
    }


async def test_reports_the_planted_truth_and_writes_nothing(
    fake_stash: FakeStash, start_daemon: DaemonFactory, face_kit: Kit, videos: Videos
) -> None:
    scenes = add_library(fake_stash.library, videos)
    planted_ids = [s.id for s in scenes["planted"]]
    daemon = await start_daemon(
        fake_stash,
        faces=faces_config(videos),
        tagging={"mode": "auto", "auto_min_confidence": 0.3, "auto_min_frames": 2},
    )
    status, started = await call(daemon, "POST", "/api/v1/evaluations", {"scenes": 100})
    assert status == 202, started
    assert started["job"]["priority"] == -10  # low: never ahead of the library's own work
    body = await evaluated(daemon, started["id"])
    assert body["state"] == "finished", body
    report = body["report"]

    # Skipped scenes, each with the reason its construction implies.
    skipped = {
        reason: [s.id for s in found] for reason, found in scenes.items() if reason != "planted"
    }
    assert report["scenes"]["skipped_reasons"] == {r: len(ids) for r, ids in skipped.items()}
    by_id = {s["scene_id"]: s for s in report["per_scene"]}
    for reason, ids in skipped.items():
        assert all(by_id[i]["state"] == "skipped" and by_id[i]["reason"] == reason for i in ids)
    assert report["scenes"]["evaluated"] == len(SCENES)
    assert report["scenes"]["cost_ms_per_scene"] > 0

    # Every matcher's figures equal the planted truth (every shown performer is found).
    expected = planted_figures(planted_ids)
    names = {v["name"] for v in report["variants"]}
    assert names == {"precision", "clustered_frequency"}
    for variant in report["variants"]:
        for figures in (variant["proposed"], variant["auto"]):
            for key in ("predicted", "hits", "false_alarms", "truth", "truth_seen"):
                assert figures[key] == expected[key], (variant["name"], key, figures)
            for key in ("precision", "recall", "recall_seen"):
                assert figures[key] == expected[key], (variant["name"], key, figures)
        assert variant["curve"], variant["name"]
    for scene_id, outcome in expected["per_scene"].items():
        got = by_id[scene_id]
        assert {k: got[k] for k in outcome} == outcome, scene_id
    assert report["matcher"] == "precision"

    # Evaluation mode: nothing written to Stash, no identification saved, no review item.
    mutations = [c for c in fake_stash.calls if c.kind == "mutation"]
    assert mutations == []
    assert await daemon.rows("SELECT COUNT(*) FROM identifications") == [(0,)]
    assert await daemon.rows("SELECT COUNT(*) FROM review_items") == [(0,)]
    assert await daemon.jobs("identify_scene") == []

    # The stored report comes back as the latest, with its chart.
    status, latest = await call(daemon, "GET", "/api/v1/evaluations/latest")
    assert status == 200 and latest["id"] == started["id"]
    assert latest["report"]["variants"] == report["variants"]
    status, svg = await call(daemon, "GET", latest["chart_url"])
    assert status == 200 and svg.startswith("<svg") and "<polyline" in svg


async def test_a_calibrated_threshold_changes_what_auto_tagging_applies(
    fake_stash: FakeStash, start_daemon: DaemonFactory, face_kit: Kit, videos: Videos
) -> None:
    library = fake_stash.library
    scenes = add_library(library, videos)
    alice = scenes["planted"][0]  # Alice alone, tagged: all correct, precision 1
    for scene in scenes["planted"][1:]:
        library.delete_scene(scene.id)
    daemon = await start_daemon(
        fake_stash,
        faces=faces_config(videos),
        tagging={
            "mode": "auto",
            "auto_min_confidence": "calibrated",
            "fallback_min_confidence": 1.0,
            "auto_min_frames": 2,
        },
    )
    status, health = await call(daemon, "GET", "/api/v1/health")
    assert health["tagging"]["auto_threshold"]["source"] == "fallback"
    assert "no calibration yet" in health["tagging"]["auto_threshold"]["note"]

    # Before calibration: the fallback (1.0) lets nothing be applied; Alice is suggested.
    untagged = library.add_scene(title="alice, untagged", path=str(videos.clips["alice"]))
    await identify(daemon, untagged.id)
    assert library.scene(untagged.id).performer_ids == []
    status, items = await call(daemon, "GET", "/api/v1/review/items?state=pending")
    assert [i["subject"] for i in items["items"]] == [ALICE]

    status, started = await call(daemon, "POST", "/api/v1/evaluations", {"matcher": "precision"})
    body = await evaluated(daemon, started["id"])
    recommendation = body["report"]["recommendation"]
    assert recommendation is not None and recommendation["precision"] == 1.0
    status, calibration = await call(daemon, "POST", f"/api/v1/evaluations/{started['id']}/apply")
    assert status == 201, calibration
    assert calibration["threshold"] == recommendation["threshold"] < 1.0
    status, health = await call(daemon, "GET", "/api/v1/health")
    threshold = health["tagging"]["auto_threshold"]
    assert threshold["source"] == "calibration" and threshold["value"] == calibration["threshold"]

    # After: the same kind of match is applied.
    again = library.add_scene(title="alice again", path=str(videos.clips["alice"]))
    await identify(daemon, again.id)
    assert [library.performers[i].name for i in library.scene(again.id).performer_ids] == ["Alice"]
    status, history = await call(daemon, "GET", "/api/v1/calibrations")
    assert [c["id"] for c in history["calibrations"]] == [calibration["id"]]
    assert history["calibrations"][0]["report"]["id"] == started["id"]
    assert alice.id in [s["scene_id"] for s in history["calibrations"][0]["report"]["per_scene"]]


async def identify(daemon: Daemon, scene_id: int) -> None:
    status, job = await call(daemon, "POST", f"/api/v1/scenes/{scene_id}/identify")
    assert status == 202, job

    async def done() -> bool:
        found = await daemon.jobs("identify_scene", JobState.SUCCEEDED)
        if not any(j.args["scene_id"] == scene_id for j in found):
            return False
        # Tagging is a job of its own: wait until every identification was tagged.
        tagged = await daemon.jobs("tag_identification", JobState.SUCCEEDED)
        return len(tagged) >= len(found)

    await eventually(done, timeout=30)


async def test_cancel_stops_the_queued_scenes(
    fake_stash: FakeStash,
    start_daemon: DaemonFactory,
    face_kit: Kit,
    videos: Videos,
    tmp_path: Path,
) -> None:
    add_library(fake_stash.library, videos)
    config = daemon_config(
        tmp_path / "data",
        stash_url=fake_stash.url,
        faces={"models_dir": str(face_kit.models_dir), **faces_config(videos)},
    )
    # No GPU worker: the scene jobs wait in the queue, so the cancel finds them all queued.
    queue = dataclasses.replace(config.queue, concurrency=ConcurrencyConfig(gpu=0, cpu=1, io=1))
    daemon = await start_daemon(config=dataclasses.replace(config, queue=queue))
    status, started = await call(daemon, "POST", "/api/v1/evaluations", {"scenes": 3, "seed": 7})
    evaluation_id = started["id"]

    async def queued() -> bool:
        return len(await daemon.jobs("evaluate_scene", JobState.QUEUED)) == 3

    await eventually(queued, timeout=20)
    status, cancelled = await call(daemon, "POST", f"/api/v1/evaluations/{evaluation_id}/cancel")
    assert status == 200, cancelled
    assert cancelled["report"]["state"] == "cancelled"
    assert cancelled["report"]["scenes"]["evaluated"] == 0
    assert await daemon.jobs("evaluate_scene", JobState.QUEUED) == []
    assert len(await daemon.jobs("evaluate_scene", JobState.CANCELLED)) == 3
    body = await evaluated(daemon, evaluation_id)
    assert body["state"] == "cancelled"
    assert {s["state"] for s in body["report"]["per_scene"] if s["state"] != "skipped"} == {
        "cancelled"
    }
    status, again = await call(daemon, "POST", f"/api/v1/evaluations/{evaluation_id}/cancel")
    assert status == 409, again


async def test_bad_requests_get_one_clear_error(
    fake_stash: FakeStash, start_daemon: DaemonFactory, face_kit: Kit
) -> None:
    daemon = await start_daemon(fake_stash)
    for body, words in (
        ({"scenes": 0}, "scenes must be an integer from 1"),
        ({"scenes": True}, "scenes must be an integer"),
        ({"matcher": "best"}, "matcher must be one of"),
        ({"sweep": "yes"}, "sweep must be true or false"),
        ({"colour": "red"}, "unknown fields: colour"),
    ):
        status, answer = await call(daemon, "POST", "/api/v1/evaluations", body)
        assert status == 422 and words in answer["error"]["message"], (body, answer)
    status, answer = await call(daemon, "GET", "/api/v1/evaluations/latest")
    assert status == 404
    status, answer = await call(daemon, "POST", "/api/v1/evaluations/99/apply")
    assert status == 404
