"""Analyzer runs as durable jobs in the real daemon: restarts, exclusivity, versions, API."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from stash_sense.analyzers import registry
from stash_sense.analyzers.runner import RUN_ANALYZER
from stash_sense.analyzers.schedule import ScheduleError, parse_overrides
from tests.analyzers import fakes
from tests.analyzers.fakes import TEST_ANALYZERS, GatedAnalyzer, Probe
from tests.analyzers.kit import call, config_with, items, run_analyzer
from tests.daemons import Daemon, DaemonFactory, stop
from tests.faces.kit import Kit
from tests.fakes.stash.server import FakeStash
from tests.helpers import eventually


@pytest.fixture(autouse=True)
def probe(monkeypatch: pytest.MonkeyPatch) -> Iterator[Probe]:
    """Serve only the test analyzers, with a fresh probe."""
    fresh = Probe()
    monkeypatch.setattr(fakes, "PROBE", fresh)
    monkeypatch.setattr(registry, "analyzer_classes", lambda: list(TEST_ANALYZERS))
    yield fresh


async def _job(daemon: Daemon, job_id: int) -> dict[str, object]:
    return await call(daemon, "GET", f"/api/v1/jobs/{job_id}", 200)


async def test_interrupted_run_reruns_after_restart_without_duplicates(
    fake_stash: FakeStash, start_daemon: DaemonFactory, probe: Probe
) -> None:
    first = await start_daemon(fake_stash, forward_hooks=False)
    body = await call(first, "POST", "/api/v1/analyzers/gated/run", 202)
    job_id = body["job"]["id"]
    await asyncio.wait_for(probe.started.wait(), 10)
    assert len(await items(first, "test_note")) == 2
    await stop(first)  # the run is still waiting at the gate: shutdown requeues it

    probe.gate.set()
    second = await start_daemon(fake_stash, forward_hooks=False)

    async def succeeded() -> bool:
        return (await _job(second, job_id))["state"] == "succeeded"

    await eventually(succeeded, timeout=15)
    subjects = sorted(i["subject"] for i in await items(second, "test_note"))
    assert subjects == ["n0", "n1", "n2", "n3"]
    # First run ever is full; the rerun is the same job, not a second run of the first.
    assert probe.runs == [(True, None), (False, None)]
    listed = await call(second, "GET", "/api/v1/analyzers", 200)
    gated = next(a for a in listed["analyzers"] if a["name"] == "gated")
    assert gated["last_counts"] == {"emitted": 2, "unchanged": 2}
    assert gated["last_job_id"] == job_id and gated["watermark"] == "2"


async def test_never_two_runs_at_once(
    fake_stash: FakeStash, start_daemon: DaemonFactory, probe: Probe
) -> None:
    daemon = await start_daemon(fake_stash, forward_hooks=False)
    first = await call(daemon, "POST", "/api/v1/analyzers/gated/run", 202)
    await asyncio.wait_for(probe.started.wait(), 10)
    again = await call(daemon, "POST", "/api/v1/analyzers/gated/run?full=true", 202)
    assert again["created"] is False and again["job"]["id"] == first["job"]["id"]
    listed = await call(daemon, "GET", "/api/v1/analyzers", 200)
    gated = next(a for a in listed["analyzers"] if a["name"] == "gated")
    assert gated["running_job_id"] == first["job"]["id"]
    probe.gate.set()
    await run_analyzer(daemon, "gated")
    assert probe.most_running == 1


async def test_logic_version_bump_forces_a_full_run(
    fake_stash: FakeStash,
    start_daemon: DaemonFactory,
    probe: Probe,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    probe.gate.set()
    daemon = await start_daemon(fake_stash, forward_hooks=False)
    await run_analyzer(daemon, "gated")
    await run_analyzer(daemon, "gated")
    await stop(daemon)
    monkeypatch.setattr(GatedAnalyzer, "logic_version", 2)
    daemon = await start_daemon(fake_stash, forward_hooks=False)
    await run_analyzer(daemon, "gated")
    await run_analyzer(daemon, "gated", full=True)
    assert probe.runs == [(True, None), (False, "2"), (True, None), (True, None)]
    listed = await call(daemon, "GET", "/api/v1/analyzers", 200)
    assert next(a for a in listed["analyzers"] if a["name"] == "gated")["logic_version"] == 2


async def test_cancel_stops_a_run_between_batches(
    fake_stash: FakeStash, start_daemon: DaemonFactory, probe: Probe
) -> None:
    daemon = await start_daemon(fake_stash, forward_hooks=False)
    body = await call(daemon, "POST", "/api/v1/analyzers/gated/run", 202)
    await asyncio.wait_for(probe.started.wait(), 10)
    await call(daemon, "POST", f"/api/v1/jobs/{body['job']['id']}/cancel", 202)
    probe.gate.set()

    async def cancelled() -> bool:
        return (await _job(daemon, body["job"]["id"]))["state"] == "cancelled"

    await eventually(cancelled)
    assert len(await items(daemon, "test_note")) == 2  # the second batch never ran


async def test_scheduled_runs_fire_on_time(
    fake_stash: FakeStash, start_daemon: DaemonFactory, tmp_path: Path, face_kit: Kit
) -> None:
    config = config_with(
        tmp_path / "data",
        fake_stash,
        face_kit,
        schedules=["quick=interval:1s"],
        disabled=["gated"],
        start_delay_seconds=0,
    )
    daemon = await start_daemon(fake_stash, forward_hooks=False, config=config)

    async def ran_twice() -> bool:
        return len(await daemon.jobs(RUN_ANALYZER)) >= 2

    await eventually(ran_twice, timeout=5)
    assert {j.args["name"] for j in await daemon.jobs(RUN_ANALYZER)} == {"quick"}
    listed = {
        a["name"]: a for a in (await call(daemon, "GET", "/api/v1/analyzers", 200))["analyzers"]
    }
    assert listed["quick"]["schedule"] == "interval:1s"
    assert listed["quick"]["schedule_source"] == "config"
    assert listed["quick"]["next_run_at"] is not None
    assert listed["gated"]["enabled"] is False and listed["gated"]["next_run_at"] is None
    assert listed["quick"]["last_success_at"] is not None


async def test_schedule_api_validates_persists_and_needs_the_token(
    fake_stash: FakeStash, start_daemon: DaemonFactory
) -> None:
    daemon = await start_daemon(fake_stash, forward_hooks=False)
    for method, path in (
        ("GET", "/api/v1/analyzers"),
        ("POST", "/api/v1/analyzers/quick/run"),
        ("PUT", "/api/v1/analyzers/quick/schedule"),
    ):
        async with daemon.session.request(method, f"{daemon.url}{path}") as resp:
            assert resp.status == 401
    path = "/api/v1/analyzers/quick/schedule"
    for bad in ("interval:0s", "interval:6x", "cron:61 * * * *", "cron:* *", "weekly", 7):
        body = await call(daemon, "PUT", path, 422, json={"schedule": bad, "enabled": True})
        assert body["error"]["code"] == "invalid_schedule"
    await call(daemon, "PUT", path, 422, json={"schedule": "interval:6h", "enabled": "yes"})
    await call(
        daemon, "PUT", "/api/v1/analyzers/nope/schedule", 404, json={"schedule": "interval:6h"}
    )
    await call(daemon, "POST", "/api/v1/analyzers/quick/run?full=maybe", 400)

    set_cron = await call(
        daemon, "PUT", path, 200, json={"schedule": "cron:0 3 * * *", "enabled": True}
    )
    assert set_cron["schedule"] == "cron:0 3 * * *" and set_cron["schedule_source"] == "api"
    assert set_cron["next_run_at"] is not None
    off = await call(daemon, "PUT", path, 200, json={"schedule": "interval:6h", "enabled": False})
    assert off["enabled"] is False and off["next_run_at"] is None
    await stop(daemon)

    daemon = await start_daemon(fake_stash, forward_hooks=False)
    listed = await call(daemon, "GET", "/api/v1/analyzers", 200)
    quick = next(a for a in listed["analyzers"] if a["name"] == "quick")
    assert (quick["schedule"], quick["enabled"]) == ("interval:6h", False)


def test_config_entries_are_checked() -> None:
    assert parse_overrides(["a=interval:24h", " b = cron:0 3 * * * "]) == {
        "a": "interval:24h",
        "b": "cron:0 3 * * *",
    }
    for bad in (["a"], ["=interval:1h"], ["a=interval:1d"]):
        with pytest.raises(ScheduleError):
            parse_overrides(bad)
