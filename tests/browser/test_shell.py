"""The plugin loads into Stash's page: navbar button with the live pending count."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import Stack, UiPage

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


async def test_navbar_button_shows_the_pending_count(stack: Stack, ui: UiPage) -> None:
    scene_id = stack.add_scene()
    await stack.identify(scene_id)
    counts = await stack.api("GET", "/api/v1/review/counts")
    assert counts["pending"] == 2  # Alice and Bob, waiting for review

    page = await ui.open("/")
    badge = page.locator(".stash-sense-navbar-button .stash-sense-pending-count")
    await badge.wait_for()
    assert await badge.inner_text() == "2"

    await page.click(".stash-sense-navbar-button")
    # A client-side route change: wait for the URL, not for a page "load" event. The page
    # may already have put the first item's id into the query by the time we look.
    await page.wait_for_url(
        re.compile(r".*/plugins/stash-sense/review(\?.*)?$"), wait_until="commit"
    )
    await page.locator(".stash-sense-review-header").wait_for()


async def test_pending_count_follows_live_review_changes(stack: Stack, ui: UiPage) -> None:
    await stack.identify(stack.add_scene())
    page = await ui.open("/")
    badge = page.locator(".stash-sense-pending-count")
    await badge.wait_for()
    assert await badge.inner_text() == "2"
    # A decision made elsewhere (another tab, the API) reaches the button over the WebSocket.
    items = await stack.api("GET", "/api/v1/review/items?state=pending")
    await stack.api("POST", f"/api/v1/review/items/{items['items'][0]['id']}/reject")
    await page.wait_for_function(
        "document.querySelector('.stash-sense-pending-count').textContent === '1'"
    )
