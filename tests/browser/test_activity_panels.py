"""The activity page's evaluation panel and the health panel's face-database status."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page

from stash_sense.keys import FACEDB
from tests.browser.conftest import Stack, UiPage
from tests.facedb.releases import release_folder, zip_folder
from tests.faces.kit import BOB

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

ACTIVITY = "/plugins/stash-sense/activity"
HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture
def daemon_options() -> dict[str, Any]:
    """Auto-tag at the calibrated threshold, so applying a recommendation changes it."""
    return {"tagging": {"auto_min_confidence": "calibrated"}}


async def open_activity(ui: UiPage) -> Page:
    page = await ui.open(ACTIVITY)
    await page.locator(".stash-sense-activity-panel").first.wait_for()
    return page


def tagged_scene(stack: Stack) -> int:
    """Add the two-performer scene tagged with both, each linked to the stash-box."""
    library = stack.fake.library
    bob = library.add_performer("Bob", stash_ids=[(stack.box.graphql_url, BOB.partition(":")[2])])
    scene = library.add_scene(
        title="Tagged", path=str(stack.kit.video), performers=[stack.alice, bob]
    )
    return int(scene.id)


async def test_evaluate_then_apply_the_recommendation(stack: Stack, ui: UiPage) -> None:
    tagged_scene(stack)
    stack.add_scene("Untagged")
    page = await open_activity(ui)
    panel = page.locator(".stash-sense-evaluation")
    # No calibration yet: the panel says which threshold applies and why.
    threshold = (await stack.api("GET", "/api/v1/calibrations"))["auto_threshold"]
    assert threshold["note"]
    await panel.locator(".stash-sense-threshold-note", has_text=threshold["note"]).wait_for()
    await panel.get_by_text("No evaluation yet.").wait_for()

    await panel.locator(".stash-sense-evaluate-scenes").fill("5")
    await panel.locator(".stash-sense-evaluate").click()
    report = panel.locator(".stash-sense-evaluation-report")
    await report.wait_for(timeout=60_000)
    latest = await stack.api("GET", "/api/v1/evaluations/latest")
    assert latest["settings"]["scenes"] == 5
    scenes = latest["report"]["scenes"]
    await report.locator(
        "[data-fact='eval-scenes']", has_text=f"{scenes['evaluated']} / 1"
    ).wait_for()
    await report.locator(".stash-sense-skip-reason", has_text="no tagged performers").wait_for()
    # The chart loads through its signed URL: the token never appears in the page.
    chart = report.locator("img.stash-sense-pr-chart")
    src = await chart.get_attribute("src")
    assert src is not None and "sig=" in src and "Bearer" not in src
    await page.wait_for_function(
        "() => { const i = document.querySelector('img.stash-sense-pr-chart');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )

    recommendation = latest["recommendation"]
    assert recommendation is not None
    await report.locator(
        "[data-fact='eval-recommendation']", has_text=str(recommendation["threshold"])
    ).wait_for()
    await panel.locator(".stash-sense-apply-recommendation").click()
    dialog = page.locator(".stash-sense-confirm")
    await dialog.get_by_text("Apply the recommended threshold?").wait_for()
    assert (await stack.api("GET", "/api/v1/calibrations"))["calibrations"] == []
    await dialog.get_by_role("button", name="Apply").click()
    await panel.locator(
        "[data-fact='threshold']", has_text=str(recommendation["threshold"])
    ).wait_for()
    calibrations = (await stack.api("GET", "/api/v1/calibrations"))["calibrations"]
    assert [c["evaluation_id"] for c in calibrations] == [latest["id"]]


def point_source_at(stack: Stack, release: Path) -> None:
    """Point the daemon's `[facedb] source` at a local release zip."""
    installer = stack.app[FACEDB].service.installer
    installer.facedb = dataclasses.replace(installer.facedb, source=str(release))


async def test_face_database_status_and_check(stack: Stack, ui: UiPage, tmp_path: Path) -> None:
    # The release's version comes from outside (its manifest): it must render as text.
    version = f"2099.01.01 {HOSTILE}"
    folder = release_folder(tmp_path / "release", version)
    point_source_at(stack, zip_folder(folder, tmp_path / "release.zip"))
    status = await stack.api("GET", "/api/v1/facedb")
    page = await open_activity(ui)
    box = page.locator(".stash-sense-facedb")
    installed = status["installed_version"] or "none"
    await box.locator("[data-fact='facedb-installed']", has_text=installed).wait_for()
    await box.get_by_text("Not checked for updates yet.").wait_for()
    assert await box.locator(".stash-sense-facedb-install").count() == 0

    await box.locator(".stash-sense-facedb-check").click()
    await box.locator(
        ".stash-sense-facedb-update", has_text=f"Update available: {version}"
    ).wait_for()
    update = (await stack.api("GET", "/api/v1/facedb"))["update"]
    assert update["latest_version"] == version and update["checked_at"]
    await box.locator(".stash-sense-facedb-install").wait_for()
    assert await page.locator(".stash-sense-facedb img").count() == 0
