"""The review queue page in a real browser: every card kind's evidence, hostile names as
text, the keyboard walk with undo and a place kept across reload and back/forward, bulk
accept over a filter with its confirmation, and speed with 10,000 pending items."""

from __future__ import annotations

import json
import os
import platform
import statistics
from typing import Any

import pytest
from playwright.async_api import Page

from tests.browser import review_seed as seed
from tests.browser.conftest import Stack, UiPage

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

REVIEW = "/plugins/stash-sense/review"
CARD = ".stash-sense-card"
X = "\u00d7"  # the multiplication sign between width and height


async def shown(page: Page, item_id: int) -> None:
    """Wait until the card of an item is the one shown."""
    await page.wait_for_selector(f"{CARD}[data-id='{item_id}']")


async def card_text(page: Page, item_id: int) -> str:
    await shown(page, item_id)
    return await page.inner_text(f"{CARD}[data-id='{item_id}']")


async def item(stack: Stack, item_id: int) -> dict[str, Any]:
    body: dict[str, Any] = await stack.api("GET", f"/api/v1/review/items/{item_id}")
    return body


async def test_each_card_kind_shows_its_evidence(stack: Stack, ui: UiPage) -> None:
    await stack.identify(stack.add_scene())
    made = await seed.one_of_each(stack)
    faces = await stack.api("GET", "/api/v1/review/items?kind=performer_suggestion")
    assert faces["total"] == 2
    # A deep link to one item.
    face = faces["items"][0]
    page = await ui.open(f"{REVIEW}?kind=performer_suggestion&item={face['id']}")

    # Face suggestion: the scene's crops (signed URLs, no token) beside the reference image.
    text = await card_text(page, face["id"])
    assert face["payload"]["name"] in text and "Seen in the scene" in text
    crops = page.locator(f"{CARD} .stash-sense-crops img")
    await crops.first.wait_for()
    sources = await crops.evaluate_all("els => els.map(e => e.src)")
    assert len(sources) == len(face["payload"]["crop_ids"])
    assert all("sig=" in s and "token" not in s for s in sources)
    assert await crops.evaluate_all("els => els.every(e => e.complete && e.naturalWidth > 0)")
    reference = page.locator(f"{CARD} .stash-sense-reference-image img")
    assert (await reference.get_attribute("src") or "").startswith("data:image/svg+xml")

    expectations = {
        # Side by side with the facts that decide which to keep.
        "duplicate_scenes": [
            "Beach Day (copy)",
            f"3840{X}2160 (4K)",
            f"1920{X}1080 (1080p)",
            "hevc",
            "h264",
            "16 Mbit/s",
            "8.0 Mbit/s",
            "4.7 GB",
            "/media/old/beach day copy.mp4",
            "Keep (suggested)",
            "Perceptual hashes 2 bits apart",
        ],
        "duplicate_performer": ["Dana 0", "Dana 0 (2)", "Keep (suggested)", "Scenes"],
        "duplicate_scene_file": [
            "harbour-lights-2160p.mkv",
            "harbour-lights-480p.avi",
            "hevc / aac",
            "20 Mbit/s",
            "2.3 Mbit/s",
            "29.97 fps",
            "Deleting the others frees 668 MB",
        ],
        "scene_fingerprint_match": [
            "Night Drive",
            "On StashDB",
            "2 of 3 (67%)",
            "SO-17",
            "OSHASH 9b1c0e5a6f2d3e4b",
        ],
        # A per-field diff: what upstream had, has now, and what the library has.
        "upstream_performer_changes": ["Local performer", "Jane Roe", "Jane Doe", "JR, Janie"],
        "upstream_studio_changes": ["https://new.example", "http://old.example"],
        "upstream_tag_changes": ["Shot outdoors", "Description"],
        "upstream_scene_changes": [
            "Beach Day",
            "Studio Two",
            "links Studio Two (not in library)",
            "unlinks Studio One",
            "Create what is not in the library",
        ],
        "future_kind": ["no card for the kind", "from a newer daemon"],
    }
    for kind, needles in expectations.items():
        await page.select_option(".stash-sense-filter-kind", kind)
        text = await card_text(page, made[kind])
        for needle in needles:
            assert needle in text, (kind, needle, text)
    # The whole queue, every kind in the list, a duplicate pair open.
    await page.select_option(".stash-sense-filter-kind", "")
    await page.click(f".stash-sense-row[data-id='{made['duplicate_scenes']}']")
    await shown(page, made["duplicate_scenes"])
    assert await page.locator(".stash-sense-kept").count() == 1
    assert await page.locator(".stash-sense-row").count() == len(made) + 2
    await ui.screenshot("review-queue.png")


async def test_live_changes_reach_the_open_page(stack: Stack, ui: UiPage) -> None:
    ids = await seed.fingerprint_items(stack, 3)
    page = await ui.open(REVIEW)
    await shown(page, ids[-1])
    # A decision made elsewhere updates the row in place; the list does not move.
    await stack.api("POST", f"/api/v1/review/items/{ids[0]}/reject")
    await page.wait_for_selector(f".stash-sense-row[data-id='{ids[0]}'][data-state='rejected']")
    # A new item is announced, and shown on request.
    (fresh,) = await seed.fingerprint_items(stack, 1)
    banner = page.locator(".stash-sense-fresh")
    await banner.wait_for()
    assert "1 new item" in await banner.inner_text()
    assert await page.locator(f".stash-sense-row[data-id='{fresh}']").count() == 0
    await banner.locator("button").click()
    await page.wait_for_selector(f".stash-sense-row[data-id='{fresh}']")
    # The kind filter's counts follow.
    await page.wait_for_selector(
        ".stash-sense-filter-kind option:has-text('Stash-box match (3)')", state="attached"
    )


async def test_names_from_stash_render_as_text(stack: Stack, ui: UiPage) -> None:
    lib = stack.fake.library
    first = lib.add_performer(seed.HOSTILE, image=seed.PIXEL)
    second = lib.add_performer(seed.HOSTILE + " 2", image=seed.PIXEL)
    payload = seed.DuplicatePerformerPayload(
        endpoint=seed.STASHDB,
        stash_id="hostile",
        performers=[
            seed.DuplicatePerformer(str(first.id), first.name, 1, 0, 0),
            seed.DuplicatePerformer(str(second.id), second.name, 0, 0, 0),
        ],
        suggested_keeper_id=str(first.id),
    )
    done = await seed.queue(stack).upsert(
        "duplicate_performer", scene_id=None, subject="hostile", payload=payload
    )
    page = await ui.open(REVIEW)
    alerts: list[str] = []
    page.on("dialog", lambda d: alerts.append(d.message))
    text = await card_text(page, done.item.id)
    assert seed.HOSTILE in text
    row = await page.inner_text(f".stash-sense-row[data-id='{done.item.id}']")
    assert seed.HOSTILE in row
    assert await page.locator("img[src='x']").count() == 0
    assert alerts == []


async def test_keyboard_walk_keeps_its_place(stack: Stack, ui: UiPage) -> None:
    ids = await seed.fingerprint_items(stack, 20)
    newest_first = list(reversed(ids))
    page = await ui.open(REVIEW)
    await shown(page, newest_first[0])

    await page.keyboard.press("a")  # accept the first, move on
    await shown(page, newest_first[1])
    await page.keyboard.press("r")  # reject the second
    await shown(page, newest_first[2])
    await page.keyboard.press("s")  # skip the third
    await shown(page, newest_first[3])
    await page.keyboard.press("j")
    await page.keyboard.press("ArrowDown")
    await shown(page, newest_first[5])
    await page.keyboard.press("k")
    await shown(page, newest_first[4])
    assert (await item(stack, newest_first[0]))["state"] == "accepted"
    assert (await item(stack, newest_first[1]))["state"] == "rejected"
    assert (await item(stack, newest_first[2]))["state"] == "pending"

    # Undo walks back: the skip, then the rejection (the item is pending again).
    await page.keyboard.press("u")
    await shown(page, newest_first[2])
    await page.keyboard.press("u")
    await shown(page, newest_first[1])
    await page.wait_for_selector(f"{CARD}[data-id='{newest_first[1]}'][data-state='pending']")
    assert (await item(stack, newest_first[1]))["state"] == "pending"
    # Accepting a stash-box link is not undone from here: the page says so.
    await page.keyboard.press("u")
    await page.wait_for_selector(".stash-sense-error:has-text('cannot be undone here')")
    assert (await item(stack, newest_first[0]))["state"] == "accepted"

    # The place is in the URL: reload keeps filter and item.
    for _ in range(6):
        await page.keyboard.press("j")
    await shown(page, newest_first[7])
    await page.reload()
    await shown(page, newest_first[7])

    # A new filter is a history entry; back returns to the old filter at the same item.
    await page.select_option(".stash-sense-filter-sort", "confidence")
    await shown(page, ids[0])  # least confident first: the oldest
    assert "sort=confidence" in page.url
    await page.go_back()
    await shown(page, newest_first[7])
    assert "sort=" not in page.url
    await page.go_forward()
    await shown(page, ids[0])

    # Walk to the end of the 20: the last one, then the page says there is no more.
    await page.go_back()
    await shown(page, newest_first[7])
    for _ in range(12):
        await page.keyboard.press("j")
    await shown(page, newest_first[19])
    await page.keyboard.press("j")
    await page.wait_for_selector(".stash-sense-info:has-text('last item')")

    # The help overlay lists the keys.
    await page.keyboard.press("?")
    help_text = await page.inner_text(".stash-sense-help")
    assert "Undo the last decision" in help_text and "Skip" in help_text


async def test_stash_keys_are_left_as_they_were(stack: Stack, ui: UiPage) -> None:
    (only,) = await seed.fingerprint_items(stack, 1)
    page = await ui.open("/")
    # Stash binds "?" (its keyboard manual) on its global Mousetrap.
    await page.evaluate(
        "window.PluginApi.libraries.Mousetrap.bind('?', () => {"
        " window.stashManual = (window.stashManual || 0) + 1; })"
    )
    await page.click(".stash-sense-navbar-button")
    await shown(page, only)
    await page.keyboard.press("?")
    await page.wait_for_selector(".stash-sense-help")
    assert await page.evaluate("window.stashManual || 0") == 0
    await page.keyboard.press("Escape")
    await page.wait_for_selector(".stash-sense-help", state="detached")
    # Leaving the page gives the key back to Stash.
    await page.go_back()
    await page.wait_for_selector(CARD, state="detached")
    await page.keyboard.press("?")
    assert await page.evaluate("window.stashManual || 0") == 1
    await page.keyboard.press("j")
    assert await page.locator(".stash-sense-help").count() == 0


async def test_bulk_accept_over_a_filter_asks_first(stack: Stack, ui: UiPage) -> None:
    merged = await seed.duplicate_performer_items(stack, 3)
    others = await seed.fingerprint_items(stack, 2)
    performers_before = len(stack.fake.library.performers)
    page = await ui.open(REVIEW)
    await page.select_option(".stash-sense-filter-kind", "duplicate_performer")
    accept_all = ".stash-sense-bulk-accept-filter:has-text('Accept all 3 matching')"
    await page.wait_for_selector(accept_all)
    await page.click(".stash-sense-bulk-accept-filter")
    # Destructive: nothing happens before the confirmation.
    dialog = page.locator(".stash-sense-confirm")
    await dialog.wait_for()
    assert "Duplicate performers" in await dialog.inner_text()
    assert all([(await item(stack, i))["state"] == "pending" for i in merged])
    await dialog.locator("button:has-text('Accept all')").click()
    await page.wait_for_selector(".stash-sense-bulk-progress:has-text('Done: 3 accepted')")
    for item_id in merged:
        assert (await item(stack, item_id))["state"] == "accepted"
    for item_id in others:
        assert (await item(stack, item_id))["state"] == "pending"
    # Each merge removed one performer of its pair in Stash.
    assert len(stack.fake.library.performers) == performers_before - 3
    # The filtered page now has nothing pending left.
    await page.wait_for_selector(".stash-sense-empty")

    # Bulk over a selection: tick two rows (a click and the x key), reject them.
    await page.select_option(".stash-sense-filter-kind", "scene_fingerprint_match")
    await shown(page, others[-1])
    await page.check(f".stash-sense-row[data-id='{others[0]}'] .stash-sense-row-check")
    await page.keyboard.press("x")
    await page.wait_for_selector(".stash-sense-bulk-count:has-text('2 selected')")
    await page.click(".stash-sense-bulk-reject-selected")
    done = ".stash-sense-bulk-progress:has-text('Done: 0 accepted, 2 rejected')"
    await page.wait_for_selector(done)
    for item_id in others:
        assert (await item(stack, item_id))["state"] == "rejected"


_TIME_FIRST_PAINT = """async () => {
  const start = performance.now();
  document.querySelector('.stash-sense-navbar-button').click();
  while (!document.querySelector('.stash-sense-card[data-id]')) {
    if (performance.now() - start > 10000) throw new Error('no card after 10 s');
    await new Promise(r => requestAnimationFrame(r));
  }
  return performance.now() - start;
}"""

_TIME_NEXT = """async () => {
  const before = document.querySelector('.stash-sense-card').dataset.id;
  const start = performance.now();
  window.StashSense.review.keyboard().trigger('j');
  while (document.querySelector('.stash-sense-card').dataset.id === before) {
    if (performance.now() - start > 10000) throw new Error('the card did not move in 10 s');
    await new Promise(r => requestAnimationFrame(r));
  }
  return performance.now() - start;
}"""


async def test_first_paint_and_next_item_with_10000_pending(stack: Stack, ui: UiPage) -> None:
    await seed.many_pending(stack, 10_000)
    counts = await stack.api("GET", "/api/v1/review/counts")
    assert counts["pending"] == 10_000
    page = await ui.open("/")
    await page.wait_for_selector(".stash-sense-pending-count:has-text('10,000')")
    first = await page.evaluate(_TIME_FIRST_PAINT)
    # Again with the browser warm (CORS preflight cached), as on every later visit.
    warm = []
    for _ in range(5):
        await page.go_back()
        await page.wait_for_selector(CARD, state="detached")
        warm.append(await page.evaluate(_TIME_FIRST_PAINT))
    assert "1\u201350 of 10,000" in await page.inner_text(".stash-sense-pager")
    moves = [await page.evaluate(_TIME_NEXT) for _ in range(20)]
    figures = {
        "first_paint_ms": round(first, 1),
        "first_paint_warm_median_ms": round(statistics.median(warm), 1),
        "next_item_median_ms": round(statistics.median(moves), 1),
        "next_item_max_ms": round(max(moves), 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "load_average_1min": round(os.getloadavg()[0], 1),
    }
    print("review page timings:", json.dumps(figures))

    # Reject two, then walk off the page: the next page starts two earlier, since the
    # rejected items left the "pending" view, so no pending item is passed over.
    await page.keyboard.press("r")
    await page.keyboard.press("r")
    for _ in range(60):
        if "1\u201350 of" not in await page.inner_text(".stash-sense-pager"):
            break
        await page.keyboard.press("j")
    await page.wait_for_selector(".stash-sense-pager:has-text('49\u201398 of 9,998')")
    assert "offset=48" in page.url
    # The figures recorded in docs/benchmarks.md are the measured ones; these bounds are
    # looser (medians under 1 s, any single sample under 3 s) so that a loaded CI machine
    # does not fail the test on a slow moment, while a page that grows with the queue
    # (rendering or sorting all 10,000 items) still fails it.
    assert statistics.median(warm) < 1000 and statistics.median(moves) < 1000, figures
    assert max([first, *warm, *moves]) < 3000, figures
