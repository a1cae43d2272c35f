"""The review queue on a real SQLite file: suggestions, decisions, policies, concurrency."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from stash_sense.review import (
    AcceptTimeout,
    BulkAction,
    ConfirmationRequired,
    DecidedBy,
    InvalidPayload,
    ItemError,
    ItemFilter,
    ItemNotFound,
    ItemSort,
    ReviewClosed,
    ReviewConflict,
    ReviewItem,
    ReviewQueue,
    ReviewState,
    UnknownKind,
    UpsertOutcome,
)
from stash_sense.review import queue as review_queue
from stash_sense.stash.errors import StashQueryError, StashUnavailable
from stash_sense.store import Database

from .kinds import ChangePayload, Kinds, TagPayload, tag

PERFORMER_A = "stashdb.org:aaaaaaaa-0000-0000-0000-000000000001"
PERFORMER_B = "stashdb.org:bbbbbbbb-0000-0000-0000-000000000002"


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(tmp_path / "review.db")
    await database.open()
    yield database
    await database.close()


@pytest.fixture
def kinds() -> Kinds:
    return Kinds()


@pytest.fixture
async def queue(db: Database, kinds: Kinds) -> AsyncIterator[ReviewQueue]:
    review = ReviewQueue(db)
    for kind in (kinds.tag, kinds.delete, kinds.curation):
        review.register(kind)
    await review.start()
    yield review
    await review.close(grace_seconds=1.0)


async def suggest(
    queue: ReviewQueue,
    subject: str = PERFORMER_A,
    scene_id: int = 1,
    confidence: float | None = 0.8,
    **payload: object,
) -> ReviewItem:
    done = await queue.upsert(
        "test_tag",
        scene_id=scene_id,
        subject=subject,
        payload=tag(**payload),  # type: ignore[arg-type]
        confidence=confidence,
        source="identification:1",
    )
    return done.item


async def rows(db: Database) -> int:
    row = await db.fetch_one("SELECT COUNT(*) AS n FROM review_items")
    assert row is not None
    return int(row["n"])


# --- suggestions -----------------------------------------------------------------


async def test_upsert_creates_then_updates_without_duplicating(
    queue: ReviewQueue, db: Database
) -> None:
    first = await queue.upsert(
        "test_tag", scene_id=1, subject=PERFORMER_A, payload=tag(), confidence=0.5
    )
    assert first.outcome is UpsertOutcome.CREATED
    assert first.item.state is ReviewState.PENDING
    assert first.item.payload == {
        "tag": "blonde",
        "score": 0.8,
        "frames": 0,
        "notes": [],
        "extra": {},
        "mode": "add",
        "parent": None,
    }
    same = await queue.upsert(
        "test_tag", scene_id=1, subject=PERFORMER_A, payload=tag(), confidence=0.5
    )
    assert same.outcome is UpsertOutcome.UNCHANGED
    assert same.item.updated_at == first.item.updated_at
    newer = await queue.upsert(
        "test_tag",
        scene_id=1,
        subject=PERFORMER_A,
        payload=tag(frames=9),
        confidence=0.7,
        source="identification:2",
    )
    assert newer.outcome is UpsertOutcome.UPDATED
    assert newer.item.id == first.item.id
    assert newer.item.confidence == 0.7
    assert newer.item.source == "identification:2"
    assert newer.item.payload is not None and newer.item.payload["frames"] == 9
    # Another subject, scene or kind is another item.
    await suggest(queue, subject=PERFORMER_B)
    await suggest(queue, scene_id=2)
    assert await rows(db) == 3


async def test_concurrent_upserts_keep_one_live_item(queue: ReviewQueue, db: Database) -> None:
    done = await asyncio.gather(
        *(
            queue.upsert(
                "test_tag", scene_id=5, subject=PERFORMER_A, payload=tag(), confidence=c / 100
            )
            for c in range(30, 60)
        )
    )
    assert [d.outcome for d in done].count(UpsertOutcome.CREATED) == 1
    assert len({d.item.id for d in done}) == 1
    assert await rows(db) == 1


async def test_dataclass_payloads_are_accepted(queue: ReviewQueue) -> None:
    done = await queue.upsert(
        "test_tag", scene_id=1, subject=PERFORMER_A, payload=TagPayload("red", 0.4, notes=["x"])
    )
    assert done.item.payload is not None and done.item.payload["notes"] == ["x"]
    with pytest.raises(InvalidPayload):
        await queue.upsert(
            "test_tag", scene_id=1, subject=PERFORMER_B, payload=ChangePayload("name", "x")
        )


async def test_rejected_subject_never_comes_back(queue: ReviewQueue) -> None:
    item = await suggest(queue)
    rejected = await queue.reject(item.id)
    assert rejected.state is ReviewState.REJECTED
    assert rejected.decided_by is DecidedBy.USER
    assert rejected.decided_at is not None
    again = await queue.upsert(
        "test_tag", scene_id=1, subject=PERFORMER_A, payload=tag(score=0.99), confidence=0.99
    )
    assert again.outcome is UpsertOutcome.BLOCKED
    assert again.item.id == item.id
    assert await queue.is_rejected("test_tag", 1, PERFORMER_A)
    assert not await queue.is_rejected("test_tag", 2, PERFORMER_A)
    page = await queue.list(ItemFilter(states=(ReviewState.PENDING,)))
    assert page.total == 0


async def test_accepted_subject_is_not_suggested_again(queue: ReviewQueue) -> None:
    item = await suggest(queue)
    await queue.accept(item.id)
    again = await queue.upsert("test_tag", scene_id=1, subject=PERFORMER_A, payload=tag())
    assert again.outcome is UpsertOutcome.BLOCKED
    assert again.item.state is ReviewState.ACCEPTED


async def test_resuggest_policy_lets_changed_curation_items_come_back(
    queue: ReviewQueue,
) -> None:
    async def propose(value: str, seen_at: float = 0.0) -> UpsertOutcome:
        payload = {"field": "name", "value": value, "seen_at": seen_at}
        done = await queue.upsert(
            "test_curation", scene_id=None, subject="performer:9", payload=payload
        )
        return done.outcome

    assert await propose("Alice") is UpsertOutcome.CREATED
    first = (await queue.list(ItemFilter(kinds=("test_curation",)))).items[0]
    await queue.accept(first.id)
    # Same change (the kind's fingerprint ignores seen_at): still decided.
    assert await propose("Alice", seen_at=5.0) is UpsertOutcome.BLOCKED
    # Upstream changed again: a new suggestion, not blocked by the resolved one.
    assert await propose("Alicia") is UpsertOutcome.CREATED
    pending = ItemFilter(kinds=("test_curation",), states=(ReviewState.PENDING,))
    second = (await queue.list(pending)).items[0]
    await queue.reject(second.id)
    assert await propose("Alicia") is UpsertOutcome.BLOCKED
    assert await propose("Alice") is UpsertOutcome.BLOCKED
    assert await propose("Ali") is UpsertOutcome.CREATED


async def test_supersede_only_touches_the_scenes_other_pending_items(
    queue: ReviewQueue,
) -> None:
    keep = await suggest(queue, subject="keep")
    old_1 = await suggest(queue, subject="old-1")
    old_2 = await suggest(queue, subject="old-2")
    decided = await suggest(queue, subject="decided")
    await queue.reject(decided.id)
    other_scene = await suggest(queue, subject="old-1", scene_id=2)
    other_kind = await queue.upsert(
        "test_delete", scene_id=1, subject="file:1", payload={"file_ids": [1]}
    )
    assert await queue.supersede("test_tag", 1, {"keep"}) == 2
    states = {i.id: i.state for i in (await queue.list(limit=500)).items}
    assert states[keep.id] is ReviewState.PENDING
    assert states[old_1.id] is ReviewState.SUPERSEDED
    assert states[old_2.id] is ReviewState.SUPERSEDED
    assert states[decided.id] is ReviewState.REJECTED
    assert states[other_scene.id] is ReviewState.PENDING
    assert states[other_kind.item.id] is ReviewState.PENDING
    # A superseded subject may be proposed again by a later analysis.
    back = await queue.upsert("test_tag", scene_id=1, subject="old-1", payload=tag())
    assert back.outcome is UpsertOutcome.CREATED
    assert back.item.id != old_1.id
    # Keeping nothing supersedes everything pending of the kind on that scene.
    assert await queue.supersede("test_tag", 1, []) == 2


async def test_expire_scene(queue: ReviewQueue) -> None:
    pending = await suggest(queue, subject="p", scene_id=3)
    accepted = await suggest(queue, subject="a", scene_id=3)
    await queue.accept(accepted.id)
    elsewhere = await suggest(queue, subject="p", scene_id=4)
    assert await queue.expire_scene(3) == 1
    assert (await queue.get(pending.id)).state is ReviewState.EXPIRED  # type: ignore[union-attr]
    assert (await queue.get(accepted.id)).state is ReviewState.ACCEPTED  # type: ignore[union-attr]
    assert (await queue.get(elsewhere.id)).state is ReviewState.PENDING  # type: ignore[union-attr]
    with pytest.raises(ReviewConflict):
        await queue.accept(pending.id)


async def test_record_rejection_blocks_the_pair(queue: ReviewQueue, kinds: Kinds) -> None:
    # The daemon added a performer (accepted), then a person removed it in Stash.
    item = await suggest(queue)
    await queue.accept(item.id)
    recorded = await queue.record_rejection(
        "test_tag", 1, PERFORMER_A, payload={"performer_id": "12"}, source="feedback:3"
    )
    assert recorded.state is ReviewState.REJECTED
    assert recorded.decided_by is DecidedBy.USER_EDIT
    assert recorded.payload == {"performer_id": "12"}
    assert recorded.source == "feedback:3"
    again = await queue.record_rejection("test_tag", 1, PERFORMER_A, decided_by="user-edit")
    assert again.id == recorded.id
    blocked = await queue.upsert("test_tag", scene_id=1, subject=PERFORMER_A, payload=tag())
    assert blocked.outcome is UpsertOutcome.BLOCKED
    # Its free-form payload is not the kind's: the item has no details.
    assert await queue.describe(recorded) == {}
    assert await queue.describe(item) == {"label": "BLONDE"}

    # A pending suggestion of the pair is rejected with it.
    pending = await suggest(queue, subject=PERFORMER_B)
    await queue.record_rejection("test_tag", 1, PERFORMER_B)
    assert (await queue.get(pending.id)).state is ReviewState.REJECTED  # type: ignore[union-attr]

    # Even a kind that re-suggests changed items never re-suggests an outside rejection.
    await queue.record_rejection("test_curation", None, "performer:1", decided_by=DecidedBy.USER)
    done = await queue.upsert(
        "test_curation", scene_id=None, subject="performer:1", payload={"field": "a", "value": "b"}
    )
    assert done.outcome is UpsertOutcome.BLOCKED

    with pytest.raises(InvalidPayload, match="decided_by"):
        await queue.record_rejection("test_tag", 1, "x", decided_by="undo")
    with pytest.raises(InvalidPayload):
        await queue.record_rejection("test_tag", 1, "x", payload=["not", "an", "object"])
    assert kinds.tag.recorder.calls == [(item.id, {})]


# --- accept and reject -----------------------------------------------------------------


async def test_accept_runs_the_handler_once_and_is_idempotent(
    queue: ReviewQueue, kinds: Kinds
) -> None:
    item = await suggest(queue)
    accepted = await queue.accept(item.id, options={"note": 1})
    assert accepted.state is ReviewState.ACCEPTED
    assert accepted.decided_by is DecidedBy.USER
    assert accepted.outcome == {"done": PERFORMER_A, "options": {"note": 1}}
    assert accepted.decided_at is not None
    again = await queue.accept(item.id, options={"note": 2})
    assert again == accepted
    assert kinds.tag.recorder.calls == [(item.id, {"note": 1})]


async def test_concurrent_accepts_run_the_handler_once(queue: ReviewQueue, kinds: Kinds) -> None:
    item = await suggest(queue)
    recorder = kinds.tag.recorder
    recorder.gate = asyncio.Event()
    accepts = [asyncio.create_task(queue.accept(item.id)) for _ in range(5)]
    await asyncio.wait_for(recorder.started.wait(), 5)
    # While it is being accepted nothing else may change it.
    current = await queue.get(item.id)
    assert current is not None and current.state is ReviewState.ACCEPTING
    with pytest.raises(ReviewConflict, match="being accepted"):
        await queue.reject(item.id)
    busy = await queue.upsert("test_tag", scene_id=1, subject=PERFORMER_A, payload=tag(score=0.1))
    assert busy.outcome is UpsertOutcome.BUSY
    assert await queue.supersede("test_tag", 1, []) == 0
    assert await queue.expire_scene(1) == 0
    late = asyncio.create_task(queue.accept(item.id))
    recorder.gate.set()
    done = await asyncio.gather(*accepts, late)
    assert {d.state for d in done} == {ReviewState.ACCEPTED}
    assert len(recorder.calls) == 1


async def test_destructive_kinds_need_confirmation(queue: ReviewQueue, kinds: Kinds) -> None:
    item = (
        await queue.upsert("test_delete", scene_id=1, subject="files", payload={"file_ids": [3]})
    ).item
    with pytest.raises(ConfirmationRequired):
        await queue.accept(item.id)
    with pytest.raises(ConfirmationRequired, match="automatically"):
        await queue.accept(item.id, confirm=True, decided_by=DecidedBy.AUTO)
    assert kinds.delete.recorder.calls == []
    assert (await queue.get(item.id)).state is ReviewState.PENDING  # type: ignore[union-attr]
    accepted = await queue.accept(item.id, confirm=True)
    assert accepted.state is ReviewState.ACCEPTED
    # Accepting an accepted item again needs nothing: it changes nothing.
    assert (await queue.accept(item.id)).id == item.id


async def test_auto_accept_is_recorded(queue: ReviewQueue) -> None:
    item = await suggest(queue)
    accepted = await queue.accept(item.id, decided_by=DecidedBy.AUTO)
    assert accepted.decided_by is DecidedBy.AUTO


@pytest.mark.parametrize(
    ("error", "raised", "stored"),
    [
        (RuntimeError("boom"), RuntimeError, "RuntimeError: boom"),
        (StashQueryError("SceneUpdate", ["no scene"]), StashQueryError, "SceneUpdate: no scene"),
        (StashUnavailable("Stash is unreachable"), StashUnavailable, "Stash is unreachable"),
    ],
)
async def test_handler_failure_leaves_the_item_pending(
    queue: ReviewQueue, kinds: Kinds, error: Exception, raised: type[Exception], stored: str
) -> None:
    item = await suggest(queue)
    kinds.tag.recorder.fail = error
    with pytest.raises(raised):
        await queue.accept(item.id)
    failed = await queue.get(item.id)
    assert failed is not None
    assert failed.state is ReviewState.PENDING
    assert failed.last_error == stored
    assert failed.decided_at is None
    kinds.tag.recorder.fail = None
    accepted = await queue.accept(item.id)
    assert accepted.state is ReviewState.ACCEPTED
    assert accepted.last_error is None
    assert len(kinds.tag.recorder.calls) == 2


async def test_handler_time_limit(queue: ReviewQueue, kinds: Kinds) -> None:
    item = await suggest(queue)
    kinds.tag.accept_timeout_seconds = 0.05
    kinds.tag.recorder.gate = asyncio.Event()
    with pytest.raises(AcceptTimeout):
        await queue.accept(item.id)
    stuck = await queue.get(item.id)
    assert stuck is not None and stuck.state is ReviewState.PENDING
    assert stuck.last_error is not None and "longer than" in stuck.last_error


async def test_bad_outcome_leaves_the_item_pending(queue: ReviewQueue, kinds: Kinds) -> None:
    item = await suggest(queue)

    async def bad(item: ReviewItem, options: dict[str, object]) -> dict[str, object]:
        return {"not json": {1, 2}}

    kinds.tag.accept = bad  # type: ignore[method-assign]
    with pytest.raises(TypeError):
        await queue.accept(item.id)
    assert (await queue.get(item.id)).state is ReviewState.PENDING  # type: ignore[union-attr]


async def test_accept_and_reject_conflicts(queue: ReviewQueue) -> None:
    rejected = await suggest(queue, subject="r")
    await queue.reject(rejected.id)
    first = await queue.reject(rejected.id)
    assert (await queue.reject(rejected.id)) == first  # a no-op, decided_at unchanged
    with pytest.raises(ReviewConflict, match="rejected"):
        await queue.accept(rejected.id)

    accepted = await suggest(queue, subject="a")
    await queue.accept(accepted.id)
    with pytest.raises(ReviewConflict, match="accepted"):
        await queue.reject(accepted.id)

    superseded = await suggest(queue, subject="s")
    await queue.supersede("test_tag", 1, [])
    for action in (queue.accept, queue.reject):
        with pytest.raises(ReviewConflict, match="superseded"):
            await action(superseded.id)

    for missing in (999, 2**70):
        with pytest.raises(ItemNotFound):
            await queue.accept(missing)
        with pytest.raises(ItemNotFound):
            await queue.reject(missing)
        assert await queue.get(missing) is None


async def test_unknown_kind(queue: ReviewQueue, db: Database) -> None:
    with pytest.raises(UnknownKind):
        await queue.upsert("nope", scene_id=1, subject="x", payload={})
    # Rows of a kind that is no longer loaded can be listed and rejected, not accepted.
    await db.execute(
        "INSERT INTO review_items (kind, scene_id, subject, payload, fingerprint, created_at,"
        " updated_at) VALUES ('gone', 1, 'x', '{}', 'f', 0, 0)"
    )
    item = (await queue.list(ItemFilter(kinds=("gone",)))).items[0]
    with pytest.raises(UnknownKind):
        await queue.accept(item.id)
    assert await queue.describe(item) == {}
    assert (await queue.reject(item.id)).state is ReviewState.REJECTED


# --- crashes and shutdown ---------------------------------------------------------------


async def test_start_unlocks_items_left_accepting(db: Database, kinds: Kinds) -> None:
    crashed = ReviewQueue(db)
    crashed.register(kinds.tag)
    item = await suggest(crashed)
    # What a process killed in the middle of an accept leaves behind.
    assert await crashed.store.claim(item.id) is not None

    restarted = ReviewQueue(db)
    restarted.register(kinds.tag)
    await restarted.start()
    unlocked = await restarted.get(item.id)
    assert unlocked is not None and unlocked.state is ReviewState.PENDING
    assert unlocked.last_error is not None and "interrupted" in unlocked.last_error
    assert (await restarted.accept(item.id)).state is ReviewState.ACCEPTED


async def test_close_cancels_running_accepts_and_unlocks_them(
    queue: ReviewQueue, kinds: Kinds
) -> None:
    item = await suggest(queue)
    kinds.tag.recorder.gate = asyncio.Event()  # never opens
    waiting = asyncio.create_task(queue.accept(item.id))
    await asyncio.wait_for(kinds.tag.recorder.started.wait(), 5)
    await queue.close(grace_seconds=0.05)
    with pytest.raises(asyncio.CancelledError):
        await waiting
    unlocked = await queue.get(item.id)
    assert unlocked is not None and unlocked.state is ReviewState.PENDING
    assert unlocked.last_error is not None and "interrupted" in unlocked.last_error
    with pytest.raises(ReviewClosed):
        await queue.accept(item.id)


async def test_a_caller_going_away_does_not_abort_the_accept(
    queue: ReviewQueue, kinds: Kinds
) -> None:
    item = await suggest(queue)
    kinds.tag.recorder.gate = asyncio.Event()
    caller = asyncio.create_task(queue.accept(item.id))
    await asyncio.wait_for(kinds.tag.recorder.started.wait(), 5)
    caller.cancel()
    kinds.tag.recorder.gate.set()
    with pytest.raises(asyncio.CancelledError):
        await caller

    async def settled() -> bool:
        got = await queue.get(item.id)
        return got is not None and got.state is ReviewState.ACCEPTED

    for _ in range(100):
        if await settled():
            break
        await asyncio.sleep(0.01)
    assert await settled()


# --- bulk --------------------------------------------------------------------------------


async def test_bulk_by_ids_reports_each_item(queue: ReviewQueue, kinds: Kinds) -> None:
    ok = await suggest(queue, subject="ok")
    failing = await suggest(queue, subject="fails")
    rejected = await suggest(queue, subject="rejected")
    await queue.reject(rejected.id)
    destructive = (
        await queue.upsert("test_delete", scene_id=1, subject="f", payload={"file_ids": [1]})
    ).item
    kinds.tag.recorder.fail_subjects["fails"] = RuntimeError("nope")
    result = await queue.bulk(
        BulkAction.ACCEPT, ids=[ok.id, failing.id, rejected.id, 99999, destructive.id, ok.id]
    )
    by_id = {r.id: r for r in result.results}
    code = {r.id: r.error.code if r.error else None for r in result.results}
    assert len(result.results) == 5  # duplicates are acted on once
    assert by_id[ok.id].ok and by_id[ok.id].state is ReviewState.ACCEPTED
    assert by_id[failing.id].error == ItemError("internal", "internal error; see the daemon log")
    assert by_id[failing.id].state is ReviewState.PENDING
    assert code[rejected.id] == "conflict"
    assert by_id[rejected.id].state is ReviewState.REJECTED
    assert code[99999] == "not_found"
    assert code[destructive.id] == "confirmation_required"
    assert (result.succeeded, result.failed) == (1, 4)

    confirmed = await queue.bulk(BulkAction.ACCEPT, ids=[destructive.id], confirm=True)
    assert confirmed.results[0].ok

    rejects = await queue.bulk(BulkAction.REJECT, ids=[failing.id, ok.id])
    assert rejects.results[0].ok and rejects.results[0].state is ReviewState.REJECTED
    assert rejects.results[1].error is not None and rejects.results[1].error.code == "conflict"


async def test_bulk_by_filter_acts_on_pending_items_only(
    queue: ReviewQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    low = await suggest(queue, subject="low", confidence=0.2)
    highs = [await suggest(queue, subject=f"high-{n}", confidence=0.9) for n in range(3)]
    done = await suggest(queue, subject="done", confidence=0.95)
    await queue.reject(done.id)
    other_scene = await suggest(queue, subject="high-x", scene_id=2, confidence=0.9)
    monkeypatch.setattr(review_queue, "BULK_MAX_ITEMS", 2)
    flt = ItemFilter(kinds=("test_tag",), scene_ids=(1,), min_confidence=0.5)
    first = await queue.bulk(BulkAction.ACCEPT, filters=flt)
    assert [r.id for r in first.results] == [highs[0].id, highs[1].id]
    assert first.remaining == 1
    second = await queue.bulk(BulkAction.ACCEPT, filters=flt)
    assert [r.id for r in second.results] == [highs[2].id]
    assert second.remaining == 0
    third = await queue.bulk(BulkAction.REJECT, filters=ItemFilter(max_confidence=0.3))
    assert [r.id for r in third.results] == [low.id]
    assert (await queue.get(other_scene.id)).state is ReviewState.PENDING  # type: ignore[union-attr]


async def test_bulk_stops_calling_an_unavailable_stash(queue: ReviewQueue, kinds: Kinds) -> None:
    items = [await suggest(queue, subject=f"s{n}") for n in range(3)]
    kinds.tag.recorder.fail = StashUnavailable("Stash is unreachable: connection refused")
    result = await queue.bulk(BulkAction.ACCEPT, ids=[i.id for i in items])
    codes = [r.error.code if r.error else None for r in result.results]
    assert codes == ["upstream_unavailable", "skipped", "skipped"]
    assert len(kinds.tag.recorder.calls) == 1
    assert (await queue.counts()).pending == 3


# --- listing -----------------------------------------------------------------------------


async def test_list_filters_sorting_and_pagination(queue: ReviewQueue) -> None:
    made = [
        await suggest(queue, subject="a", scene_id=1, confidence=0.5),
        await suggest(queue, subject="b", scene_id=1, confidence=0.9),
        await suggest(queue, subject="c", scene_id=2, confidence=None),
        await suggest(queue, subject="d", scene_id=2, confidence=0.5),
        await suggest(queue, subject="e", scene_id=3, confidence=0.1),
    ]
    a, b, c, d, e = (i.id for i in made)
    change = (
        await queue.upsert(
            "test_curation", scene_id=None, subject="studio:1", payload={"field": "f", "value": "v"}
        )
    ).item
    await queue.reject(e)

    async def ids(flt: ItemFilter | None = None, **kw: object) -> list[int]:
        page = await queue.list(flt, **kw)  # type: ignore[arg-type]
        return [i.id for i in page.items]

    assert await ids(sort=ItemSort.DATE_DESC) == [change.id, e, d, c, b, a]
    assert await ids(sort=ItemSort.DATE) == [a, b, c, d, e, change.id]
    # Unknown confidences last; equal ones by id, in the same direction.
    tagged = ItemFilter(kinds=("test_tag",))
    assert await ids(tagged, sort=ItemSort.CONFIDENCE) == [e, a, d, b, c]
    assert await ids(tagged, sort=ItemSort.CONFIDENCE_DESC) == [b, d, a, e, c]
    assert await ids(ItemFilter(scene_ids=(2,))) == [d, c]
    assert await ids(ItemFilter(subjects=("a", "c"))) == [c, a]
    assert await ids(ItemFilter(states=(ReviewState.REJECTED,))) == [e]
    assert await ids(ItemFilter(kinds=("test_curation",))) == [change.id]
    assert await ids(ItemFilter(sources=("identification:1",), min_confidence=0.5)) == [d, b, a]
    assert await ids(ItemFilter(max_confidence=0.5, min_confidence=0.2)) == [d, a]
    assert await ids(ItemFilter(ids=(a, b, 12345))) == [b, a]

    page = await queue.list(tagged, sort=ItemSort.CONFIDENCE, limit=2, offset=2)
    assert [i.id for i in page.items] == [d, b]
    assert page.total == 5
    empty = await queue.list(tagged, limit=2, offset=50)
    assert empty.items == [] and empty.total == 5

    counts = await queue.counts()
    assert counts.pending == 5
    assert counts.by_kind["test_tag"][ReviewState.PENDING] == 4
    assert counts.by_kind["test_tag"][ReviewState.REJECTED] == 1
    assert counts.by_kind["test_curation"][ReviewState.PENDING] == 1
    # Registered kinds without items still show, every state at zero.
    assert set(counts.by_kind["test_delete"].values()) == {0}
    assert set(counts.by_kind["test_delete"]) == set(ReviewState)
