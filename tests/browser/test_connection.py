""" "Test connection" names exactly what is wrong: daemon down, token, CSP, versions."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from stash_sense import __version__
from stash_sense.plugin_package import find_plugin_dir, package_files
from tests.browser.conftest import Stack, UiPage
from tests.daemons import stop
from tests.fakes.stash.ui import UiHost

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]
ACTIVITY = "/plugins/stash-sense/activity"


async def check_connection(ui: UiPage) -> list[tuple[str | None, str]]:
    """Open the activity page, press "Test connection"; return (kind, text) per line."""
    page: Page = await ui.open(ACTIVITY)
    await page.click(".stash-sense-test-connection")
    lines = page.locator(".stash-sense-connection-ok, .stash-sense-connection-problem")
    await lines.first.wait_for()
    return [
        (await line.get_attribute("data-kind"), await line.inner_text())
        for line in await lines.all()
    ]


def reinstall(stack: Stack, *, version: str, public_url: str) -> None:
    """Serve the plugin as packaged for another version or URL."""
    files = package_files(find_plugin_dir(), version=version, public_url=public_url)
    stack.fake.ui = UiHost(files)


async def test_all_well(stack: Stack, ui: UiPage) -> None:
    [(kind, text)] = await check_connection(ui)
    assert kind is None and f"version {__version__}" in text and stack.daemon.url in text


async def test_daemon_unreachable(stack: Stack, ui: UiPage) -> None:
    url = stack.daemon.url
    await stop(stack.daemon)
    ui.expect_errors("ERR_CONNECTION_REFUSED")
    [(kind, text)] = await check_connection(ui)
    assert kind == "unreachable"
    assert f"does not answer at {url}" in text


async def test_wrong_token(stack: Stack, ui: UiPage) -> None:
    stack.set_plugin_settings(daemonUrl=stack.daemon.url, daemonToken="not-the-token")
    ui.expect_errors("status of 401")
    [(kind, text)] = await check_connection(ui)
    assert kind == "unauthorized" and "rejected the token" in text


async def test_csp_blocked(stack: Stack, ui: UiPage) -> None:
    # A plugin packaged for another address: Stash's CSP does not allow this daemon.
    reinstall(stack, version=__version__, public_url="http://127.0.0.1:9")
    ui.expect_errors("Content Security Policy", "CSP violation: connect-src")
    [(kind, text)] = await check_connection(ui)
    assert kind == "csp-blocked" and "content security policy" in text


async def test_version_mismatch(stack: Stack, ui: UiPage) -> None:
    reinstall(stack, version="0.0.1", public_url=stack.daemon.url)
    [(kind, text)] = await check_connection(ui)
    assert kind == "version-mismatch"
    assert f"plugin 0.0.1, daemon {__version__}" in text
