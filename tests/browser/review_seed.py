"""Review items of every kind for the review page's browser tests, built from the real
payload classes and filed through the real review queue (or, for bulk amounts, its table)."""

from __future__ import annotations

import time
from typing import Any

from stash_sense.analyzers.duplicate_files import DuplicateFilesPayload, SceneFile
from stash_sense.analyzers.duplicate_performers import DuplicatePerformer, DuplicatePerformerPayload
from stash_sense.analyzers.duplicate_scenes import DuplicateScenesPayload, SceneSide, Signals
from stash_sense.analyzers.fingerprint_match import FingerprintMatchPayload, MatchedFingerprint
from stash_sense.analyzers.upstream import FieldChange, UpstreamChangesPayload
from stash_sense.keys import REVIEW
from stash_sense.review import ReviewQueue
from stash_sense.review.models import dumps
from tests.browser.conftest import Stack

STASHDB = "https://stashdb.org/graphql"
# A 1x1 PNG: the fake Stash serves a performer's data: image at /performer/{id}/image.
PIXEL = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
HOSTILE = "<img src=x onerror=alert(1)>"


def queue(stack: Stack) -> ReviewQueue:
    """Return the daemon's review queue."""
    review: ReviewQueue = stack.app[REVIEW].queue
    return review


def side(scene_id: int, title: str, **facts: Any) -> SceneSide:
    """One scene of a duplicate pair."""
    base: dict[str, Any] = {
        "studio": "Studio One",
        "performers": ["Alice"],
        "date": "2024-05-01",
        "path": f"/media/videos/{title.lower().replace(' ', '-')}.mp4",
        "duration": 1832.0,
        "width": 1920,
        "height": 1080,
        "size": 2_400_000_000,
        "bit_rate": 8_000_000,
        "video_codec": "h264",
    }
    base.update(facts)
    return SceneSide(id=scene_id, title=title, **base)


def fingerprint_payload(local_title: str, remote_id: str) -> FingerprintMatchPayload:
    """A local scene matched by two of three fingerprints."""
    return FingerprintMatchPayload(
        endpoint=STASHDB,
        endpoint_name="StashDB",
        stashbox_scene_id=remote_id,
        title=f"Remote {local_title}",
        studio="Studio One",
        performers=["Alice", "Bob"],
        date="2024-05-01",
        code="SO-17",
        remote_duration=1833,
        local_title=local_title,
        local_duration=1832.4,
        matching=[
            MatchedFingerprint("OSHASH", "9b1c0e5a6f2d3e4b", 1832.4, 1833),
            MatchedFingerprint("PHASH", "c3f1e0d2a4b59687", 1832.4, 1833),
        ],
        local_fingerprints=3,
        match_count=2,
        match_percentage=66.7,
        duration_diff=0.6,
    )


async def fingerprint_items(stack: Stack, count: int) -> list[int]:
    """Scenes in the fake Stash, each with a pending stash-box match; ids oldest first."""
    ids = []
    for n in range(count):
        scene = stack.fake.library.add_scene(title=f"Walk {n + 1:02d}", with_file=False)
        done = await queue(stack).upsert(
            "scene_fingerprint_match",
            scene_id=scene.id,
            subject=f"{STASHDB}|remote-{n}",
            payload=fingerprint_payload(f"Walk {n + 1:02d}", f"remote-{n}"),
            confidence=0.5 + n / 100,
        )
        ids.append(done.item.id)
    return ids


async def duplicate_performer_items(stack: Stack, count: int) -> list[int]:
    """Pairs of local performers sharing a stash-box id, each pair one pending item."""
    ids = []
    lib = stack.fake.library
    for n in range(count):
        stash_id = f"dup-{n}"
        first = lib.add_performer(f"Dana {n}", image=PIXEL, stash_ids=[(STASHDB, stash_id)])
        second = lib.add_performer(f"Dana {n} (2)", image=PIXEL, stash_ids=[(STASHDB, stash_id)])
        payload = DuplicatePerformerPayload(
            endpoint=STASHDB,
            stash_id=stash_id,
            performers=[
                DuplicatePerformer(str(first.id), first.name, 12, 3, 1),
                DuplicatePerformer(str(second.id), second.name, 2, 0, 0),
            ],
            suggested_keeper_id=str(first.id),
        )
        done = await queue(stack).upsert(
            "duplicate_performer", scene_id=None, subject=f"{STASHDB}|{stash_id}", payload=payload
        )
        ids.append(done.item.id)
    return ids


async def one_of_each(stack: Stack) -> dict[str, int]:
    """One pending item of every kind the daemon has (face suggestions come from identify)."""
    review = queue(stack)
    lib = stack.fake.library
    a = lib.add_scene(title="Beach Day", with_file=False)
    b = lib.add_scene(title="Beach Day (copy)", with_file=False)
    made: dict[str, int] = {}
    scenes = DuplicateScenesPayload(
        scene_a_id=a.id,
        scene_b_id=b.id,
        confidence=92.0,
        reasoning=["Perceptual hashes 2 bits apart", "Same studio and date"],
        signals=Signals(True, STASHDB, 2, 80.0, "same studio, date", 0.0, "", False),
        sources=["phash", "stashbox"],
        scene_a=side(
            a.id,
            "Beach Day",
            width=3840,
            height=2160,
            video_codec="hevc",
            bit_rate=16_000_000,
            size=5_100_000_000,
        ),
        scene_b=side(b.id, "Beach Day (copy)", path="/media/old/beach day copy.mp4"),
        suggested_keep_id=a.id,
    )
    made["duplicate_scenes"] = (
        await review.upsert(
            "duplicate_scenes",
            scene_id=min(a.id, b.id),
            subject=f"{a.id}:{b.id}",
            payload=scenes,
            confidence=0.92,
        )
    ).item.id
    (made["duplicate_performer"],) = await duplicate_performer_items(stack, 1)
    files = DuplicateFilesPayload(
        scene_title="Harbour Lights",
        files=[
            SceneFile(
                "31",
                "/media/videos/harbour-lights-2160p.mkv",
                "harbour-lights-2160p.mkv",
                6_200_000_000,
                2400.0,
                "hevc",
                "aac",
                3840,
                2160,
                29.97,
                20_000_000,
                849.4,
            ),
            SceneFile(
                "32",
                "/media/videos/harbour-lights-480p.avi",
                "harbour-lights-480p.avi",
                700_000_000,
                2399.5,
                "mpeg4",
                "mp3",
                854,
                480,
                25.0,
                2_300_000,
                43.3,
            ),
        ],
        suggested_keeper_id="31",
        total_size=6_900_000_000,
        potential_savings=700_000_000,
        performers=["Alice"],
        studio="Studio One",
    )
    harbour = lib.add_scene(title="Harbour Lights", with_file=False)
    made["duplicate_scene_file"] = (
        await review.upsert(
            "duplicate_scene_file", scene_id=harbour.id, subject="files", payload=files
        )
    ).item.id
    matched = lib.add_scene(title="Night Drive", with_file=False)
    made["scene_fingerprint_match"] = (
        await review.upsert(
            "scene_fingerprint_match",
            scene_id=matched.id,
            subject=f"{STASHDB}|night",
            payload=fingerprint_payload("Night Drive", "night"),
            confidence=0.67,
        )
    ).item.id
    changes: dict[str, list[FieldChange]] = {
        "performer": [
            FieldChange("name", "Name", "name", "Jane Roe", "Jane Doe", "Jane Roe"),
            FieldChange("aliases", "Aliases", "alias_list", ["JR"], ["JR", "Janie"], ["JR"]),
        ],
        "studio": [
            FieldChange(
                "urls",
                "URLs",
                "alias_list",
                ["http://old.example"],
                ["https://new.example"],
                ["http://old.example"],
            )
        ],
        "tag": [FieldChange("description", "Description", "text", None, "Shot outdoors", None)],
        "scene": [
            FieldChange("title", "Title", "text", "Beach Dy", "Beach Day", "Beach Dy"),
            FieldChange(
                "studio",
                "Studio",
                "link",
                {"id": "s-1", "name": "Studio One"},
                {"id": "s-2", "name": "Studio Two"},
                {"id": "s-1", "name": "Studio One"},
                added=[{"id": "s-2", "name": "Studio Two", "local_id": None, "matched_by": None}],
                removed=[{"id": "s-1", "name": "Studio One", "local_id": "4"}],
            ),
        ],
    }
    for entity, fields in changes.items():
        kind = f"upstream_{entity}_changes"
        local_id = str(a.id) if entity == "scene" else "7"
        payload = UpstreamChangesPayload(
            entity_type=entity,
            local_id=local_id,
            local_name=f"Local {entity}",
            endpoint=STASHDB,
            endpoint_name="StashDB",
            stash_box_id=f"{entity}-box-id",
            upstream_updated="2026-11-30T10:00:00+00:00",
            changes=fields,
        )
        scene_id = a.id if entity == "scene" else None
        made[kind] = (
            await review.upsert(
                kind, scene_id=scene_id, subject=f"{STASHDB}|{entity}-box-id", payload=payload
            )
        ).item.id
    # A row of a kind this daemon no longer (or not yet) knows: the generic card shows it.
    now = time.time()
    async with review.store.db.transaction() as conn:
        cursor = await conn.execute(
            "INSERT INTO review_items (kind, scene_id, subject, payload, created_at, updated_at)"
            " VALUES ('future_kind', NULL, 'x', ?, ?, ?)",
            (dumps({"note": "from a newer daemon", "value": 3}), now, now),
        )
        made["future_kind"] = int(cursor.lastrowid or 0)
    return made


async def many_pending(stack: Stack, count: int) -> None:
    """File `count` pending fingerprint items at once (one transaction, real payloads)."""
    kind = queue(stack).kinds.get("scene_fingerprint_match")
    payload = dumps(kind.normalize(fingerprint_payload("Bulk scene", "bulk")))
    now = time.time()
    rows = [
        (
            "scene_fingerprint_match",
            n + 1,
            f"{STASHDB}|bulk-{n}",
            0.5 + (n % 50) / 100,
            payload,
            now - n,
            now - n,
        )
        for n in range(count)
    ]
    async with queue(stack).store.db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO review_items (kind, scene_id, subject, confidence, payload, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
