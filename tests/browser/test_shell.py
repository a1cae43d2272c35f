"""The plugin loads into Stash's page: navbar button with the live pending count."""

from __future__ import annotations

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
    await page.wait_for_url("**/plugins/stash-sense/review")
