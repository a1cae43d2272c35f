"""The scene "Faces" tab: persons with evidence, accept / reject / undo / someone else,
live progress of "Identify again", and names from Stash rendered as text."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Locator, Page

from tests.browser.conftest import Stack, UiPage

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


async def open_faces(ui: UiPage, scene_id: int) -> Page:
    """Open the scene page and its Faces tab; wait for the persons to show."""
    page = await ui.open(f"/scenes/{scene_id}")
    await page.click(".stash-sense-faces-tab")
    await page.wait_for_selector(".stash-sense-faces .stash-sense-identification-summary")
    return page


def person(page: Page, name: str) -> Locator:
    return page.locator(
        ".stash-sense-person", has=page.locator(".stash-sense-person-name", has_text=name)
    )


async def state_of(card: Locator) -> str | None:
    return await card.get_attribute("data-state")


async def wait_state(card: Locator, state: str) -> None:
    await card.and_(card.page.locator(f'[data-state="{state}"]')).wait_for()


async def test_persons_with_crops_then_accept_creates_and_adds_the_performer(
    stack: Stack, ui: UiPage
) -> None:
    scene_id = stack.add_scene()
    await stack.identify(scene_id)
    page = await open_faces(ui, scene_id)
    alice, bob = person(page, "Alice"), person(page, "Bob")
    assert await state_of(alice) == "pending" and await state_of(bob) == "pending"
    assert "Waiting for review" in await bob.locator(".stash-sense-person-state").inner_text()
    # Evidence crops load from signed URLs (no token in them) and show real JPEGs.
    crops = bob.locator(".stash-sense-evidence img")
    assert await crops.count() >= 3
    src = await crops.first.get_attribute("src")
    assert src is not None and "sig=" in src and "token" not in src
    await page.wait_for_function(
        "Array.from(document.querySelectorAll('.stash-sense-evidence img'))"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )
    # Alice is in the library: her reference image is Stash's own performer image.
    reference = alice.locator(".stash-sense-reference img")
    assert await reference.get_attribute("src") == f"/performer/{stack.alice.id}/image"
    assert "frames" in await alice.locator(".stash-sense-person-facts").inner_text()
    await ui.screenshot("scene-faces-tab.png")

    # Clicking a crop seeks the player to where that face was seen.
    first = bob.locator(".stash-sense-evidence-item").first
    seen_at = await first.locator(".stash-sense-evidence-time").inner_text()
    await first.locator("button").click()
    current = await page.evaluate("document.querySelector('.video-js video').currentTime")
    minutes, seconds = seen_at.split(":")
    assert int(current) == int(minutes) * 60 + int(seconds)

    # Accept Bob: created from the stash-box (he was not in the library), added to the scene.
    await bob.locator(".stash-sense-action-accept").click()
    await wait_state(bob, "accepted")
    created = [p for p in stack.fake.library.performers.values() if p.name == "Bob"]
    assert len(created) == 1
    assert stack.performers_of(scene_id) == {created[0].id}

    # A decision made elsewhere (the review page, the API) shows up here by itself.
    pending = await stack.api("GET", f"/api/v1/review/items?scene_id={scene_id}&state=pending")
    await stack.api("POST", f"/api/v1/review/items/{pending['items'][0]['id']}/accept")
    await wait_state(alice, "accepted")
    assert stack.performers_of(scene_id) == {created[0].id, stack.alice.id}


async def test_reject_and_undo(stack: Stack, ui: UiPage) -> None:
    scene_id = stack.add_scene()
    await stack.identify(scene_id)
    page = await open_faces(ui, scene_id)
    alice, bob = person(page, "Alice"), person(page, "Bob")
    await alice.locator(".stash-sense-action-reject").click()
    await wait_state(alice, "rejected")
    items = await stack.api("GET", f"/api/v1/review/items?scene_id={scene_id}&state=rejected")
    assert [i["payload"]["name"] for i in items["items"]] == ["Alice"]

    await bob.locator(".stash-sense-action-accept").click()
    await wait_state(bob, "accepted")
    assert len(stack.performers_of(scene_id)) == 1
    await bob.locator(".stash-sense-action-undo").click()
    await page.click(".stash-sense-confirm .btn-danger")  # the confirmation dialog
    await wait_state(bob, "undone")
    assert stack.performers_of(scene_id) == set()
    assert not await alice.locator(".stash-sense-action-accept").count()


async def test_someone_else_picks_a_local_performer_whose_name_is_markup(
    stack: Stack, ui: UiPage
) -> None:
    hostile = "<img src=x onerror=alert(1)>"
    other = stack.fake.library.add_performer(hostile)
    scene_id = stack.add_scene()
    await stack.identify(scene_id)
    page = await open_faces(ui, scene_id)
    dialogs: list[Any] = []
    page.on("dialog", lambda d: dialogs.append(d.message))
    alice = person(page, "Alice")
    await alice.locator(".stash-sense-action-someoneElse").click()
    await page.fill(".stash-sense-performer-search", "img")
    result = page.locator(f'.stash-sense-performer-result[data-performer-id="{other.id}"]')
    assert await result.inner_text() == hostile  # shown as text, not parsed as HTML
    await result.click()
    corrected = page.locator('.stash-sense-person[data-state="corrected"]')
    await corrected.wait_for()
    assert await corrected.locator(".stash-sense-person-name").inner_text() == hostile
    assert await page.locator('img[src="x"]').count() == 0
    assert dialogs == []
    # The pick is in the scene, Alice is rejected for it, and the pick can be undone.
    assert stack.performers_of(scene_id) == {other.id}
    rejected = await stack.api("GET", f"/api/v1/review/items?scene_id={scene_id}&state=rejected")
    assert {i["subject"] for i in rejected["items"]} == {await _alice_subject(stack, scene_id)}
    await corrected.locator(".stash-sense-action-undo").click()
    await page.click(".stash-sense-confirm .btn-danger")
    await page.locator('.stash-sense-person[data-state="rejected"]').wait_for()
    assert stack.performers_of(scene_id) == set()


async def _alice_subject(stack: Stack, scene_id: int) -> str:
    faces = await stack.api("GET", f"/api/v1/scenes/{scene_id}/faces")
    return str(
        next(p["best"]["universal_id"] for p in faces["persons"] if p["best"]["name"] == "Alice")
    )


async def test_identify_and_identify_again_show_live_progress_then_the_result(
    stack: Stack, ui: UiPage
) -> None:
    scene_id = stack.add_scene()
    frames: list[str] = []
    ui.page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(str(f))))
    page = await ui.open(f"/scenes/{scene_id}")
    await page.click(".stash-sense-faces-tab")
    await page.locator(".stash-sense-not-identified").wait_for()
    assert await page.locator(".stash-sense-identify-again").inner_text() == " Identify"

    progress = page.locator(".stash-sense-identify-progress")
    await page.click(".stash-sense-identify-again")
    await progress.wait_for()
    # The job runs, its progress arrives over the WebSocket, and the tab fills in by itself.
    await person(page, "Alice").wait_for(timeout=30_000)
    await progress.wait_for(state="detached")
    first = await stack.api("GET", f"/api/v1/scenes/{scene_id}/faces")
    job_frames = [f for f in frames if '"topic": "job"' in f or '"topic":"job"' in f]
    assert any(f'"scene_id": {scene_id}' in f or f'"scene_id":{scene_id}' in f for f in job_frames)

    await page.click(".stash-sense-identify-again")
    await progress.wait_for()
    await progress.wait_for(state="detached", timeout=30_000)
    latest = await stack.api("GET", f"/api/v1/scenes/{scene_id}/faces")
    assert latest["identification"]["id"] != first["identification"]["id"]
    summary = f'[data-identification-id="{latest["identification"]["id"]}"]'
    await page.locator(f".stash-sense-identification-summary{summary}").wait_for()
    assert await person(page, "Alice").count() == 1
