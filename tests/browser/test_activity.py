"""The activity page: health, queue depth, live job progress, retry, run now and backfill."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import pytest
from playwright.async_api import Page

from stash_sense.changes import Topic
from stash_sense.changes.hub import DEFAULT_LIMIT
from stash_sense.keys import DAEMON, QUEUE, STORE
from stash_sense.queue import JobType, PermanentJobError, Resource
from stash_sense.queue.registry import JobContext
from tests.browser.conftest import Stack, UiPage
from tests.helpers import eventually

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

ACTIVITY = "/plugins/stash-sense/activity"
HOSTILE = "<img src=x onerror=alert(1)>"


@dataclass(frozen=True)
class StepArgs:
    """Arguments of the test's stepped job."""

    steps: int = 3


class SteppedJob:
    """A job type the test drives: it reports one more step each time the test lets it."""

    def __init__(self) -> None:
        self.gate: asyncio.Queue[None] = asyncio.Queue()

    async def run(self, context: JobContext, args: StepArgs) -> None:
        """Report progress, waiting for the test between steps."""
        for step in range(args.steps):
            await context.progress(step, args.steps, f"step {step} of {args.steps}")
            await self.gate.get()

    def job_type(self) -> JobType[StepArgs]:
        return JobType("test.stepped", StepArgs, self.run, resource=Resource.CPU)


@dataclass(frozen=True)
class NoArgs:
    """A job without arguments."""


class FailsOnce:
    """A job type that fails its first run with a hostile message, then succeeds."""

    def __init__(self) -> None:
        self.runs = 0

    async def run(self, context: JobContext, args: NoArgs) -> None:
        """Fail the first time only."""
        self.runs += 1
        if self.runs == 1:
            raise PermanentJobError(f"could not read {HOSTILE}")

    def job_type(self) -> JobType[NoArgs]:
        return JobType("test.fails_once", NoArgs, self.run, resource=Resource.CPU)


async def start_stepped(stack: Stack) -> tuple[SteppedJob, int]:
    """Register and queue a stepped job; return it and its id once it is running."""
    stepped = SteppedJob()
    job_type = stepped.job_type()
    stack.app[DAEMON].registry.register(job_type)
    job = (await stack.app[QUEUE].jobs.enqueue(job_type, StepArgs())).job
    await eventually(lambda: _state_is(stack, job.id, "running"))
    return stepped, job.id


async def fail_a_job(stack: Stack) -> tuple[FailsOnce, int]:
    """Register and queue a job that fails once; return it and its id once it failed."""
    fails = FailsOnce()
    job_type = fails.job_type()
    stack.app[DAEMON].registry.register(job_type)
    job = (await stack.app[QUEUE].jobs.enqueue(job_type, NoArgs())).job
    await stack.finished(job.id)
    return fails, job.id


async def _state_is(stack: Stack, job_id: int, state: str) -> bool:
    return str((await stack.api("GET", f"/api/v1/jobs/{job_id}"))["state"]) == state


async def open_activity(ui: UiPage) -> Page:
    page = await ui.open(ACTIVITY)
    await page.locator(".stash-sense-health [data-status]").wait_for()
    return page


async def test_health_and_queue_depth(stack: Stack, ui: UiPage) -> None:
    await stack.identify(stack.add_scene())
    health = await stack.api("GET", "/api/v1/health")
    page = await open_activity(ui)

    panel = page.locator(".stash-sense-health")
    await panel.locator("[data-fact=stash-reachable]", has_text="reachable").wait_for()
    version = panel.locator("[data-fact=daemon-version] .stash-sense-fact-value")
    assert await version.inner_text() == health["version"]
    faces = health["faces"]
    db = faces["database"]
    await panel.locator("[data-fact=facedb-version]", has_text=db["version"]).wait_for()
    counts = await panel.locator("[data-fact=facedb-counts]").inner_text()
    assert str(db["performer_count"]) in counts
    providers = panel.locator("[data-fact=providers-detector]")
    assert "CPUExecutionProvider" in await providers.inner_text()

    stats = await stack.api("GET", "/api/v1/jobs/stats")
    queue = page.locator(".stash-sense-queue")
    succeeded = stats["by_state"]["succeeded"]
    await queue.locator("[data-state=succeeded]", has_text=f"succeeded {succeeded}").wait_for()
    cells = queue.locator("tr[data-type=identify_scene] td")
    # Columns: type, queued, running, failed, succeeded, cancelled, mean time.
    assert await cells.nth(4).inner_text() == str(stats["by_type"]["identify_scene"]["succeeded"])
    assert await cells.nth(6).inner_text() != "—"  # a mean time once one succeeded


async def test_running_job_progress_moves_live(stack: Stack, ui: UiPage) -> None:
    page = await open_activity(ui)
    stepped, job_id = await start_stepped(stack)
    job = page.locator(f".stash-sense-running-job[data-job-id='{job_id}']")
    await job.locator(".stash-sense-progress-text", has_text="0 / 3").wait_for()
    bar = job.locator(".progress-bar")
    assert await bar.get_attribute("aria-valuenow") == "0"

    # No reload: the WebSocket's job topic moves the bar.
    stepped.gate.put_nowait(None)
    await job.locator(".stash-sense-progress-text", has_text="1 / 3").wait_for()
    assert await bar.get_attribute("aria-valuenow") == "33"
    await job.locator(".stash-sense-progress-message", has_text="step 1 of 3").wait_for()
    stepped.gate.put_nowait(None)
    await job.locator(".stash-sense-progress-text", has_text="2 / 3").wait_for()

    stepped.gate.put_nowait(None)
    await stack.finished(job_id)
    await job.wait_for(state="detached")


async def test_failed_job_shows_its_reason_as_text_and_retry_requeues_it(
    stack: Stack, ui: UiPage
) -> None:
    dialogs: list[str] = []
    _fails, job_id = await fail_a_job(stack)
    page = await open_activity(ui)
    page.on("dialog", lambda d: dialogs.append(d.message))

    row = page.locator(f".stash-sense-failed-job[data-job-id='{job_id}']")
    error = row.locator(".stash-sense-job-error")
    await error.wait_for()
    assert await error.inner_text() == f"could not read {HOSTILE}"
    assert await error.locator("img").count() == 0

    await row.locator(".stash-sense-retry").click()
    await row.wait_for(state="detached")
    job = await stack.finished(job_id)
    assert job.state.value == "succeeded"
    after = await stack.api("GET", f"/api/v1/jobs/{job_id}")
    assert after["state"] == "succeeded" and after["attempts"] == 1
    assert dialogs == []


async def test_resync_refetches_what_the_page_shows(stack: Stack, ui: UiPage) -> None:
    page = await open_activity(ui)
    failed = page.locator(".stash-sense-failed")
    await failed.locator("text=No failed jobs.").wait_for()
    # A failed job written behind the hub's back: only a refetch can show it.
    now = time.time()
    await stack.app[STORE].database.execute(
        "INSERT INTO jobs (type, args, resource, state, max_attempts, run_at, created_at,"
        " updated_at, finished_at, last_error) VALUES ('test.silent', '{}', 'cpu', 'failed',"
        " 1, ?, ?, ?, ?, 'written while the page was behind')",
        (now, now, now, now),
    )
    # More changes than a subscriber may fall behind by, with no chance to send any:
    # the page's socket gets one resync instead of them.
    hub = stack.app[DAEMON].changes
    for i in range(DEFAULT_LIMIT + 1):
        hub.publish(Topic.WRITE, "test", {"id": i, "target": "scene:0", "action": "x"})
    await failed.locator(
        ".stash-sense-job-error", has_text="written while the page was behind"
    ).wait_for()


async def test_run_now_enqueues_an_analyzer_run(stack: Stack, ui: UiPage) -> None:
    page = await open_activity(ui)
    name = "duplicate_performers"
    row = page.locator(f".stash-sense-analyzer[data-analyzer='{name}']")
    await row.wait_for()
    before = await stack.api("GET", "/api/v1/jobs?type=analyzer.run&limit=500")
    known = {j["id"] for j in before["jobs"]}

    async def enqueued() -> bool:
        page_ = await stack.api("GET", "/api/v1/jobs?type=analyzer.run&limit=500")
        return any(j["id"] not in known and j["args"]["name"] == name for j in page_["jobs"])

    last_run = row.locator("td").nth(2)
    assert await last_run.inner_text() == "—"  # never ran: the scheduler waits 60 s at start

    await row.locator(".stash-sense-run-now").click()

    await eventually(enqueued)
    await eventually(lambda: _last_run_is_set(stack, name))
    # The page follows the run through the job topic and shows when it last ran.
    await row.locator("td").nth(2).filter(has_text="ago").wait_for()


async def _last_run_is_set(stack: Stack, name: str) -> bool:
    body = await stack.api("GET", "/api/v1/analyzers")
    return any(a["name"] == name and a["last_run_at"] for a in body["analyzers"])


async def test_backfill_shows_count_and_estimate_and_starts(stack: Stack, ui: UiPage) -> None:
    await stack.identify(stack.add_scene("first"))
    waiting = {stack.add_scene(f"waiting {i}") for i in range(2)}
    coverage = await stack.api("GET", "/api/v1/scenes/coverage")
    assert coverage["never_identified"] == 2 and coverage["estimate_seconds"] is not None

    page = await open_activity(ui)
    panel = page.locator(".stash-sense-coverage")
    await panel.locator(".stash-sense-coverage-summary", has_text="1 of 3 scenes").wait_for()
    estimate = await panel.locator("[data-fact=estimate]").inner_text()
    assert "about" in estimate and "1 worker" in estimate
    button = panel.locator(".stash-sense-backfill")
    assert await button.inner_text() == "Identify 2 scenes"

    await button.click()

    async def queued() -> bool:
        jobs = (await stack.api("GET", "/api/v1/jobs?type=identify_scene&limit=500"))["jobs"]
        return {int(j["args"]["scene_id"]) for j in jobs} >= waiting

    await eventually(queued, timeout=20)
    # Every scene identified: the page catches up through the job topic.
    await panel.locator(".stash-sense-coverage-summary", has_text="3 of 3 scenes").wait_for(
        timeout=60_000
    )
    assert await button.is_disabled()


async def test_screenshot_with_work_in_progress(stack: Stack, ui: UiPage) -> None:
    await stack.identify(stack.add_scene())
    stack.add_scene("waiting")
    await fail_a_job(stack)
    stepped, job_id = await start_stepped(stack)
    stepped.gate.put_nowait(None)
    page = await open_activity(ui)
    await page.locator(
        f".stash-sense-running-job[data-job-id='{job_id}'] .stash-sense-progress-text",
        has_text="1 / 3",
    ).wait_for()
    await page.locator(".stash-sense-failed-job").first.wait_for()
    await page.locator(".stash-sense-coverage-summary").wait_for()
    await ui.screenshot("activity.png")
    stepped.gate.put_nowait(None)
    stepped.gate.put_nowait(None)
    await stack.finished(job_id)
