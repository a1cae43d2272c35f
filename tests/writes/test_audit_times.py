"""The audit API's times follow the API's rule: ISO 8601 in UTC, like every route's."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from stash_sense.keys import TAGGING
from tests.daemons import AUTH, DaemonFactory


async def test_audit_times_are_iso_8601_utc(start_daemon: DaemonFactory) -> None:
    daemon = await start_daemon()
    audit = daemon.app[TAGGING].audit
    before = time.time()
    entry_id = await audit.begin(
        42, "add_performers", reason="auto", mutation_id="m1", before_ids=[], performer_ids=["7"]
    )
    await audit.finish(entry_id)
    await audit.mark_undone(entry_id, "m2")
    async with daemon.session.get(f"{daemon.url}/api/v1/audit", headers=AUTH) as resp:
        (entry,) = (await resp.json())["entries"]
    for key in ("created_at", "undone_at"):
        moment = datetime.fromisoformat(entry[key])
        assert moment.tzinfo is not None and moment.utcoffset() == UTC.utcoffset(None)
        assert before - 1 < moment.timestamp() < time.time() + 1
