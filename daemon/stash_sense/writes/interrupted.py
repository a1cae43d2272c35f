"""The `writes.resolve_interrupted` job: settle writes a dead process left unknown.

A write is recorded before it is sent and finished after; a process that dies in
between leaves the entry `unknown`. Once Stash is reachable this job reads what Stash
has now: an ADD-mode write whose ids are all there is applied, one whose ids are
missing is sent again (ADD merges, so a repeat is harmless), and a field update is
applied when Stash holds what was sent, failed when it does not.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass

from stash_sense.queue import Capability, JobContext, JobQueue, JobType, Priority, Resource
from stash_sense.stash.client import StashClient
from stash_sense.writes.audit import AuditEntry, AuditLog
from stash_sense.writes.writer import ADD_PERFORMERS, ADDITIONS, StashWriter

_LOGGER = logging.getLogger(__name__)
RESOLVE_INTERRUPTED = "writes.resolve_interrupted"
# Reads Stash and says why a field update did not land (None: it did).
Check = Callable[[StashClient, AuditEntry], Awaitable[str | None]]


@dataclass(frozen=True)
class ResolveInterruptedArgs:
    """Arguments of `writes.resolve_interrupted` (none: it takes every unknown entry)."""


class InterruptedWrites:
    """Check interrupted writes against Stash, then mark, resend or fail them."""

    def __init__(self, stash: StashClient, audit: AuditLog) -> None:
        self._stash = stash
        self._audit = audit
        self._writer = StashWriter(stash, audit)
        # Checks of field updates by audit action, added by the domains that write them.
        self.checks: MutableMapping[str, Check] = {}

    async def enqueue_if_needed(self, queue: JobQueue) -> int:
        """Mark in-flight writes unknown and queue their resolution; return how many."""
        await self._audit.recover()
        pending = len(await self._audit.unknown())
        if pending:
            await queue.enqueue(
                self.job_type(), ResolveInterruptedArgs(), idempotency_key=RESOLVE_INTERRUPTED
            )
        return pending

    async def run(self, context: JobContext, args: ResolveInterruptedArgs) -> None:
        """Resolve every unknown entry, oldest first; log what became of them."""
        entries = await self._audit.unknown()
        tally: Counter[str] = Counter()
        for index, entry in enumerate(entries):
            context.check_cancelled()
            await context.progress(index, len(entries), "resolving interrupted writes")
            tally[await self._resolve(entry)] += 1
        if entries:
            _LOGGER.info(
                "Resolved %d interrupted writes to Stash: %d had landed, %d sent again,"
                " %d failed, %d left unknown",
                len(entries),
                tally["applied"],
                tally["resent"],
                tally["failed"],
                tally["unknown"],
            )

    async def _resolve(self, entry: AuditEntry) -> str:
        """Settle one entry; return applied, resent, failed or unknown."""
        if entry.action in ADDITIONS:
            return await self._resolve_addition(entry)
        check = self.checks.get(entry.action)
        if check is None:
            await self._audit.explain(
                entry.id, f"interrupted; a {entry.action} write cannot be checked automatically"
            )
            return "unknown"
        reason = await check(self._stash, entry)
        await self._audit.finish(entry.id, error=reason)
        return "failed" if reason else "applied"

    async def _resolve_addition(self, entry: AuditEntry) -> str:
        """Compare a scene's performers or tags with what the write added."""
        scene = await self._stash.find_scene(entry.scene_id)
        if scene is None:
            await self._audit.finish(
                entry.id, error="interrupted; the scene no longer exists in Stash"
            )
            return "failed"
        if entry.undone_at is not None:
            await self._audit.finish(entry.id)  # undo removed whatever had landed
            return "applied"
        if entry.action == ADD_PERFORMERS:
            have, added = {p.id for p in scene.performers}, entry.performer_ids
        else:
            have, added = {t.id for t in scene.tags}, entry.tag_ids
        if set(added) <= have:
            await self._audit.finish(entry.id)
            return "applied"
        await self._writer.resend(entry)
        await self._audit.finish(entry.id)
        _LOGGER.info("Scene %d: sent interrupted write %d again", entry.scene_id, entry.id)
        return "resent"

    def job_type(self) -> JobType[ResolveInterruptedArgs]:
        """Describe the job for the registry: it waits for Stash, never for a retry."""
        return JobType(
            name=RESOLVE_INTERRUPTED,
            args_type=ResolveInterruptedArgs,
            handler=self.run,
            resource=Resource.IO,
            priority=Priority.NORMAL,
            requires=frozenset({Capability.STASH}),
        )
