"""Writes a dead process left in flight are checked against Stash once it is reachable."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from stash_sense.config.paths import DB_FILE
from stash_sense.keys import TAGGING
from stash_sense.queue import JobState
from stash_sense.store import Database
from stash_sense.writes import RESOLVE_INTERRUPTED, AuditLog, new_mutation_id
from tests.daemons import DaemonFactory
from tests.fakes.stash.server import FakeStash
from tests.helpers import eventually


async def _begin(audit: AuditLog, scene_id: int, action: str, **ids: list[str]) -> int:
    """Record a write as a process would right before sending it (and then die)."""
    return await audit.begin(
        scene_id, action, reason="auto", mutation_id=new_mutation_id(), before_ids=[], **ids
    )


async def _field_update(audit: AuditLog, studio_id: int, before: str, sent: str) -> int:
    """Record an upstream studio rename about to be sent."""
    return await audit.begin(
        0,
        "upstream_studio",
        reason="review:1: upstream name from Box",
        mutation_id=new_mutation_id(),
        before_ids=[],
        target=f"studio:{studio_id}",
        details={
            "entity_type": "studio",
            "local_id": str(studio_id),
            "fields": ["name"],
            "before": {"name": before},
            "sent": {"name": sent},
        },
    )


async def test_interrupted_writes_are_resolved_when_stash_is_back(
    fake_stash: FakeStash,
    start_daemon: DaemonFactory,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    lib = fake_stash.library
    alice, bob = lib.add_performer("Alice"), lib.add_performer("Bob")
    landed, lost = lib.add_scene(title="Landed"), lib.add_scene(title="Lost")
    renamed, unchanged = lib.add_studio("Renamed"), lib.add_studio("Old")
    db = Database(tmp_path / "data" / DB_FILE)
    await db.open()
    audit = AuditLog(db)
    landed_id = await _begin(audit, landed.id, "add_performers", performer_ids=[str(alice.id)])
    lost_id = await _begin(audit, lost.id, "add_performers", performer_ids=[str(bob.id)])
    gone_id = await _begin(audit, 9999, "add_tags", tag_ids=["1"])
    renamed_id = await _field_update(audit, renamed.id, "Before", "Renamed")
    unchanged_id = await _field_update(audit, unchanged.id, "Old", "New name")
    await db.close()
    # The first write reached Stash before the process died; the second never left.
    landed.performer_ids.append(alice.id)

    fake_stash.faults.http_error(503, duration_s=1.5)
    daemon = await start_daemon(fake_stash)
    # Start-up did not wait for Stash: the check is a job that waits for it.
    (job,) = await daemon.jobs(RESOLVE_INTERRUPTED)
    assert job.state is JobState.QUEUED

    async def resolved() -> bool:
        return bool(await daemon.jobs(RESOLVE_INTERRUPTED, JobState.SUCCEEDED))

    await eventually(resolved, timeout=20)
    log = daemon.app[TAGGING].audit
    entries = {i: await log.get(i) for i in (landed_id, lost_id, gone_id, renamed_id)}
    assert {i: (e.status if e else None) for i, e in entries.items()} == {
        landed_id: "applied",
        lost_id: "applied",
        gone_id: "failed",
        renamed_id: "applied",
    }
    gone = entries[gone_id]
    assert gone is not None and gone.error and "no longer exists" in gone.error
    not_applied = await log.get(unchanged_id)
    assert not_applied is not None and not_applied.status == "failed"
    assert not_applied.error and "accept the item again" in not_applied.error
    # The lost write was sent again (ADD mode): Bob is on the scene, exactly once.
    assert lost.performer_ids == [bob.id]
    assert landed.performer_ids == [alice.id]
    assert unchanged.name == "Old"  # a field update is never re-sent blindly
    assert "Resolved 5 interrupted writes to Stash: 2 had landed, 1 sent again" in caplog.text
    assert "outcome is unknown" not in caplog.text
