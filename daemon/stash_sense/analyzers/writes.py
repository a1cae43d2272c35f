"""Destructive writes of analyzer review kinds, recorded in the audit log."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from stash_sense.tagging.audit import AuditLog


async def audited(
    audit: AuditLog | None,
    write: Callable[[], Awaitable[object]],
    *,
    scene_id: int,
    action: str,
    reason: str,
    mutation_id: str,
    before_ids: Sequence[str] = (),
    performer_ids: Sequence[str] = (),
    target: str | None = None,
) -> int | None:
    """Record a write before sending it and its outcome after; return the entry id."""
    if audit is None:
        await write()
        return None
    entry = await audit.begin(
        scene_id,
        action,
        reason=reason,
        mutation_id=mutation_id,
        before_ids=before_ids,
        performer_ids=performer_ids,
        target=target,
    )
    try:
        await write()
    except Exception as err:
        await audit.finish(entry, error=str(err) or type(err).__name__)
        raise
    await audit.finish(entry)
    return entry
