"""Undoing a rejection from the review page: reopen, and the rejections that stand."""

from __future__ import annotations

from .kinds import Kinds, tag
from .test_api import Client, call, client, kinds, review_of, suggest

__all__ = ["client", "kinds"]  # fixtures shared with the review route tests


async def test_reopen_puts_a_rejected_item_back_to_pending(client: Client) -> None:
    item = await suggest(client)
    await call(client, "POST", f"/api/v1/review/items/{item}/reject", 200)
    body = await call(client, "POST", f"/api/v1/review/items/{item}/reopen", 200)
    assert (body["id"], body["state"]) == (item, "pending")
    assert body["decided_at"] is None and body["decided_by"] is None
    # Reopening an open item changes nothing; the item can be decided again.
    assert (await call(client, "POST", f"/api/v1/review/items/{item}/reopen", 200))["state"] == (
        "pending"
    )
    accepted = await call(client, "POST", f"/api/v1/review/items/{item}/accept", 200)
    assert accepted["state"] == "accepted"


async def test_a_reopened_item_takes_the_next_analysis(client: Client) -> None:
    item = await suggest(client)
    await call(client, "POST", f"/api/v1/review/items/{item}/reject", 200)
    blocked = await review_of(client).upsert(
        "test_tag", scene_id=1, subject="stashdb.org:a", payload=tag(score=0.3)
    )
    assert blocked.outcome.value == "blocked"
    await call(client, "POST", f"/api/v1/review/items/{item}/reopen", 200)
    updated = await review_of(client).upsert(
        "test_tag", scene_id=1, subject="stashdb.org:a", payload=tag(score=0.3)
    )
    assert (updated.outcome.value, updated.item.id) == ("updated", item)


async def test_recorded_rejections_and_other_states_are_not_reopened(
    client: Client, kinds: Kinds
) -> None:
    review = review_of(client)
    recorded = await review.record_rejection("test_tag", 1, "stashdb.org:gone")
    refused = await call(client, "POST", f"/api/v1/review/items/{recorded.id}/reopen", 409)
    assert refused["error"]["code"] == "reopen_refused"

    # A person rejected it in the queue, then removed the performer in Stash as well.
    item = await suggest(client, "stashdb.org:b")
    await call(client, "POST", f"/api/v1/review/items/{item}/reject", 200)
    await review.record_rejection("test_tag", 1, "stashdb.org:b")
    refused = await call(client, "POST", f"/api/v1/review/items/{item}/reopen", 409)
    assert refused["error"]["code"] == "reopen_refused"
    assert (await review.get(item)).state.value == "rejected"  # type: ignore[union-attr]

    accepted = await suggest(client, "stashdb.org:c")
    await call(client, "POST", f"/api/v1/review/items/{accepted}/accept", 200)
    conflict = await call(client, "POST", f"/api/v1/review/items/{accepted}/reopen", 409)
    assert conflict["error"]["code"] == "conflict"

    for path in ("/api/v1/review/items/424242/reopen", f"/api/v1/review/items/{2**70}/reopen"):
        await call(client, "POST", path, 404)
    await call(client, "POST", "/api/v1/review/items/x/reopen", 400)
    unknown = await call(
        client, "POST", f"/api/v1/review/items/{item}/reopen", 422, json={"why": 1}
    )
    assert unknown["error"]["code"] == "unknown_field"


async def test_reopen_refuses_when_the_subject_is_live_again(client: Client) -> None:
    review = review_of(client)
    # The curation kind lets a changed subject come back after a rejection.
    first = await review.upsert(
        "test_curation", scene_id=None, subject="tag:1", payload={"field": "name", "value": "a"}
    )
    await call(client, "POST", f"/api/v1/review/items/{first.item.id}/reject", 200)
    again = await review.upsert(
        "test_curation", scene_id=None, subject="tag:1", payload={"field": "name", "value": "b"}
    )
    assert again.outcome.value == "created"
    refused = await call(client, "POST", f"/api/v1/review/items/{first.item.id}/reopen", 409)
    assert refused["error"]["code"] == "reopen_refused"
