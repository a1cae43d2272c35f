"""The review queue: propose, accept, reject and list what a person decides on."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from stash_sense.changes import ChangeHub
from stash_sense.review.errors import (
    AcceptTimeout,
    ConfirmationRequired,
    InvalidPayload,
    ItemNotFound,
    ReopenRefused,
    ReviewClosed,
    ReviewConflict,
    ReviewError,
    item_error,
)
from stash_sense.review.kinds import KindRegistry, ReviewKind
from stash_sense.review.models import (
    BulkAction,
    BulkItemResult,
    BulkResult,
    DecidedBy,
    ItemError,
    ItemFilter,
    ItemPage,
    ItemSort,
    ReviewCounts,
    ReviewItem,
    ReviewState,
    Upserted,
    dumps,
)
from stash_sense.review.payload import dump_payload
from stash_sense.review.store import NewItem, ReviewStore
from stash_sense.stash.errors import StashError, StashUnavailable
from stash_sense.store import Database

_LOGGER = logging.getLogger(__name__)
BULK_MAX_ITEMS = 1000
MAX_SUBJECT_CHARS = 500
_MAX_SQL_INT = 2**63 - 1


@dataclass
class _Accepts:
    """Accepts running in this process, one task per item, and whether more may start."""

    tasks: dict[int, asyncio.Task[ReviewItem]] = field(default_factory=dict)
    closed: bool = False


class ReviewQueue:
    """One store for every kind of decision, with a registry of kinds.

    Accept safety: an accept moves the row `pending → accepting` in one guarded SQL
    update before the handler runs, so nothing else (reject, supersede, a second
    accept) can touch it meanwhile; concurrent accepts of an item in this process
    join the one running task, so its handler runs once. A handler failure puts the
    row back to `pending` with the error; a crash leaves it `accepting`, and
    `start()` puts it back to `pending` before the API binds.
    """

    def __init__(
        self, db: Database, kinds: KindRegistry | None = None, changes: ChangeHub | None = None
    ) -> None:
        self.store = ReviewStore(db, changes)
        self.kinds = kinds if kinds is not None else KindRegistry()
        self._accepts = _Accepts()

    def register(self, kind: ReviewKind[Any]) -> None:
        """Register a kind of item."""
        self.kinds.register(kind)

    async def start(self) -> None:
        """Unlock items a dead process left accepting (call before the API binds)."""
        unlocked = await self.store.recover()
        if unlocked:
            _LOGGER.warning(
                "%d review items were being accepted when the daemon stopped; they are"
                " pending again",
                unlocked,
            )

    async def close(self, grace_seconds: float = 10.0) -> None:
        """Refuse new accepts, let running ones finish, then cancel the rest."""
        self._accepts.closed = True
        tasks = list(self._accepts.tasks.values())
        if not tasks:
            return
        _, late = await asyncio.wait(tasks, timeout=grace_seconds)
        for task in late:
            task.cancel()
        # Cancelled accepts put their items back to pending on their way out.
        await asyncio.gather(*late, return_exceptions=True)

    async def upsert(
        self,
        kind: str,
        *,
        scene_id: int | None,
        subject: str,
        payload: Any,
        confidence: float | None = None,
        source: str | None = None,
    ) -> Upserted:
        """Propose a subject, or update its pending item; a final decision blocks it."""
        found = self.kinds.get(kind)
        _check_target(found, scene_id, subject)
        if confidence is not None and (
            isinstance(confidence, bool)
            or not isinstance(confidence, int | float)
            or not math.isfinite(confidence)
            or not 0.0 <= confidence <= 1.0
        ):
            raise InvalidPayload("confidence must be a number in [0, 1] or None")
        data = found.normalize(payload)
        new = NewItem(
            kind=kind,
            scene_id=scene_id,
            subject=subject,
            payload=data,
            fingerprint=found.fingerprint(data),
            confidence=None if confidence is None else float(confidence),
            source=source,
        )
        return await self.store.upsert(new, found.resuggest_after_resolve)

    async def supersede(
        self, kind: str, scene_id: int | None, keep_subjects: Collection[str]
    ) -> int:
        """Mark the scene's pending items of a kind superseded, except `keep_subjects`."""
        _check_target(self.kinds.get(kind), scene_id, None)
        return await self.store.supersede(kind, scene_id, sorted(set(keep_subjects)))

    async def expire_scene(self, scene_id: int) -> int:
        """Expire the pending items of a deleted scene."""
        return await self.store.expire_scene(scene_id)

    async def record_rejection(
        self,
        kind: str,
        scene_id: int | None,
        subject: str,
        *,
        decided_by: DecidedBy | str = DecidedBy.USER_EDIT,
        payload: Any = None,
        source: str | None = None,
    ) -> ReviewItem:
        """Record a rejection made outside the queue: the subject is never proposed again.

        `payload` is free-form JSON about that decision (e.g. the removed performer's
        local id), not the kind's payload: nothing is proposed. A pending item of the
        subject is rejected too.
        """
        _check_target(self.kinds.get(kind), scene_id, subject)
        try:
            who = DecidedBy(decided_by)
        except ValueError:
            allowed = ", ".join(d.value for d in DecidedBy)
            raise InvalidPayload(f"decided_by must be one of {allowed}") from None
        transition = await self.store.record_rejection(
            kind,
            scene_id,
            subject,
            payload=_free_json(payload),
            decided_by=who,
            source=source,
        )
        return transition.item

    async def is_rejected(self, kind: str, scene_id: int | None, subject: str) -> bool:
        """Tell whether a subject was ever rejected, in the queue or outside it."""
        return await self.store.is_rejected(kind, scene_id, subject)

    async def get(self, item_id: int) -> ReviewItem | None:
        """Return one item."""
        if not 0 < item_id <= _MAX_SQL_INT:
            return None
        return await self.store.get(item_id)

    async def list(
        self,
        filters: ItemFilter | None = None,
        *,
        sort: ItemSort = ItemSort.DATE_DESC,
        limit: int = 50,
        offset: int = 0,
    ) -> ItemPage:
        """List items matching a filter."""
        return await self.store.list(filters or ItemFilter(), sort=sort, limit=limit, offset=offset)

    async def counts(self) -> ReviewCounts:
        """Count items per kind and state."""
        return await self.store.counts(self.kinds.names())

    async def describe(self, item: ReviewItem) -> dict[str, Any]:
        """Return the kind's extra fields for an item (none for unknown kinds)."""
        kind = self.kinds.find(item.kind)
        if kind is None:
            return {}
        try:
            kind.load(item.payload)
        except InvalidPayload:
            # Recorded rejections, and rows from an older payload shape, have no details.
            return {}
        return await kind.describe(item)

    async def accept(
        self,
        item_id: int,
        *,
        confirm: bool = False,
        options: dict[str, Any] | None = None,
        decided_by: DecidedBy = DecidedBy.USER,
    ) -> ReviewItem:
        """Perform an item's action once and mark it accepted; idempotent."""
        item = await self._require(item_id)
        if item.state is ReviewState.ACCEPTED:
            return item
        if item.state not in (ReviewState.PENDING, ReviewState.ACCEPTING):
            raise ReviewConflict(item_id, item.state, "accepted")
        kind = self.kinds.get(item.kind)
        if kind.destructive and decided_by is DecidedBy.AUTO:
            raise ConfirmationRequired(f"{kind.name} items are never accepted automatically")
        if kind.destructive and not confirm:
            raise ConfirmationRequired(f"accepting a {kind.name} item needs confirm=true")
        task = self._accepts.tasks.get(item_id)
        if task is None:
            if self._accepts.closed:
                raise ReviewClosed("the daemon is shutting down")
            # No await between the lookup and the insert: one task per item.
            task = asyncio.create_task(
                self._run_accept(item_id, kind, dict(options or {}), decided_by),
                name=f"review-accept-{item_id}",
            )
            self._accepts.tasks[item_id] = task
            task.add_done_callback(lambda done: self._forget(item_id, done))
        # A caller that goes away (client disconnect) does not abort a half-done write.
        return await asyncio.shield(task)

    async def reject(self, item_id: int, *, decided_by: DecidedBy = DecidedBy.USER) -> ReviewItem:
        """Reject a pending item; rejecting a rejected item changes nothing."""
        if not 0 < item_id <= _MAX_SQL_INT:
            raise ItemNotFound(item_id)
        transition = await self.store.reject(item_id, decided_by)
        if transition is None:
            raise ItemNotFound(item_id)
        item = transition.item
        if not transition.changed and item.state is not ReviewState.REJECTED:
            raise ReviewConflict(item_id, item.state, "rejected")
        return item

    async def reopen(self, item_id: int) -> ReviewItem:
        """Undo a person's rejection in the queue: the item is pending again.

        Reopening a pending item changes nothing. A rejection recorded outside the queue
        (a performer removed in Stash, an undone write) is never reopened: it keeps its
        subject from being proposed again, and so does it for a reopened item's subject.
        """
        if not 0 < item_id <= _MAX_SQL_INT:
            raise ItemNotFound(item_id)
        transition = await self.store.reopen(item_id)
        if transition is None:
            raise ItemNotFound(item_id)
        item = transition.item
        if transition.changed or item.state is ReviewState.PENDING:
            return item
        if item.state is not ReviewState.REJECTED:
            raise ReviewConflict(item_id, item.state, "reopened")
        raise ReopenRefused(
            f"review item {item_id} stays rejected: the rejection was recorded outside the"
            " queue, or its subject was proposed or rejected again since"
        )

    async def bulk(
        self,
        action: BulkAction,
        *,
        ids: Sequence[int] | None = None,
        filters: ItemFilter | None = None,
        confirm: bool = False,
    ) -> BulkResult:
        """Accept or reject items by ids, or the pending items matching a filter."""
        remaining = 0
        if ids is not None:
            if len(ids) > BULK_MAX_ITEMS:
                raise InvalidPayload(f"at most {BULK_MAX_ITEMS} ids per bulk call")
            targets = list(dict.fromkeys(ids))
        else:
            pending = dataclasses.replace(filters or ItemFilter(), states=(ReviewState.PENDING,))
            page = await self.store.list(pending, sort=ItemSort.DATE, limit=BULK_MAX_ITEMS)
            targets = [item.id for item in page.items]
            remaining = page.total - len(targets)
        results: list[BulkItemResult] = []
        skip: ItemError | None = None
        for item_id in targets:
            if skip is None and self._accepts.closed:
                # Shutdown began: what was not done stays pending for the next start.
                skip = ItemError("skipped", "not attempted: the daemon is shutting down")
            if skip is not None:
                results.append(BulkItemResult(item_id, None, skip))
                continue
            result = await self._bulk_one(action, item_id, confirm)
            results.append(result)
            if result.error is not None and result.error.code == "upstream_unavailable":
                # Stash is down: the rest would fail the same way, slowly.
                skip = ItemError("skipped", "not attempted: Stash is unavailable")
        return BulkResult(action, results, remaining)

    async def _bulk_one(self, action: BulkAction, item_id: int, confirm: bool) -> BulkItemResult:
        """Run one item of a bulk call and describe the result."""
        try:
            if action is BulkAction.ACCEPT:
                item = await self.accept(item_id, confirm=confirm)
            else:
                item = await self.reject(item_id)
        except StashUnavailable as err:
            error = ItemError("upstream_unavailable", str(err))
        except Exception as err:
            if not isinstance(err, ReviewError | StashError):
                _LOGGER.exception("Bulk %s of review item %d failed", action.value, item_id)
            error = item_error(err)
        else:
            return BulkItemResult(item_id, item.state)
        # Report where the item stands after the failure (pending, rejected, gone, ...).
        current = await self.get(item_id)
        return BulkItemResult(item_id, current.state if current else None, error)

    async def _require(self, item_id: int) -> ReviewItem:
        """Return an item or raise `ItemNotFound`."""
        item = await self.get(item_id)
        if item is None:
            raise ItemNotFound(item_id)
        return item

    async def _run_accept(
        self, item_id: int, kind: ReviewKind[Any], options: dict[str, Any], decided_by: DecidedBy
    ) -> ReviewItem:
        """Claim the item, run its handler, and record the outcome or the failure."""
        claimed = await self.store.claim(item_id)
        if claimed is None:
            current = await self._require(item_id)
            if current.state is ReviewState.ACCEPTED:
                return current
            raise ReviewConflict(item_id, current.state, "accepted")
        try:
            async with asyncio.timeout(kind.accept_timeout_seconds) as budget:
                outcome = await kind.accept(claimed, options)
            if not isinstance(outcome, dict):
                raise TypeError(f"{kind.name}.accept returned {type(outcome).__name__}, not dict")
            dumps(outcome)  # refuse an outcome that cannot be stored before marking accepted
        except TimeoutError as err:
            if not budget.expired():
                await self._release(item_id, err)
                raise
            message = f"accepting took longer than {kind.accept_timeout_seconds:g} s"
            await self._release(item_id, AcceptTimeout(message))
            raise AcceptTimeout(message) from None
        except BaseException as err:
            # Also on cancellation (shutdown): the item must not stay locked.
            await self._release(item_id, err)
            raise
        try:
            done = await self.store.finish_accept(item_id, outcome, decided_by)
        except BaseException as err:
            await self._release(item_id, err)
            raise
        assert done is not None  # only this task moves the claimed row out of accepting
        return done

    async def _release(self, item_id: int, err: BaseException) -> None:
        """Put a claimed item back to pending, keeping why; never raise."""
        if isinstance(err, asyncio.CancelledError):
            reason = "interrupted: the daemon stopped while accepting; accept again"
        elif isinstance(err, ReviewError | StashError):
            # Both are written for people; Stash errors never carry the API key.
            reason = str(err)
        else:
            reason = f"{type(err).__name__}: {err}"
        try:
            await self.store.release(item_id, reason[:2000])
        except Exception:
            # start() unlocks it at the next start instead.
            _LOGGER.exception("Could not unlock review item %d after a failed accept", item_id)

    def _forget(self, item_id: int, task: asyncio.Task[ReviewItem]) -> None:
        """Drop a finished accept task and mark its exception as seen."""
        if self._accepts.tasks.get(item_id) is task:
            del self._accepts.tasks[item_id]
        if not task.cancelled():
            # Every caller may have gone away; the error is logged by the API or bulk.
            task.exception()


def _check_target(kind: ReviewKind[Any], scene_id: int | None, subject: str | None) -> None:
    """Check the scene id and subject against the kind."""
    if kind.scene_scoped:
        if isinstance(scene_id, bool) or not isinstance(scene_id, int):
            raise InvalidPayload(f"{kind.name} items need a scene id")
        if not 0 < scene_id <= _MAX_SQL_INT:
            raise InvalidPayload("scene id must be a positive integer")
    elif scene_id is not None:
        raise InvalidPayload(f"{kind.name} items are not about one scene")
    if subject is not None and (
        not isinstance(subject, str) or not subject or len(subject) > MAX_SUBJECT_CHARS
    ):
        raise InvalidPayload(f"subject must be a string of 1 to {MAX_SUBJECT_CHARS} characters")


def _free_json(payload: Any) -> dict[str, Any] | None:
    """Check free-form JSON given with a recorded decision."""
    if payload is None:
        return None
    if dataclasses.is_dataclass(payload) and not isinstance(payload, type):
        payload = dump_payload(payload)
    if not isinstance(payload, Mapping):
        raise InvalidPayload("payload must be a JSON object")
    data = dict(payload)
    try:
        dumps(data)
    except (TypeError, ValueError) as err:
        raise InvalidPayload(f"payload is not JSON: {err}") from None
    return data
