"""The daemon as a real process: crash recovery after SIGKILL, graceful SIGTERM, CLI run."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from stash_sense.queue import JobState, JobStore, Resource
from stash_sense.queue.store import NewJob
from stash_sense.store import Database

from .helpers import TOKEN, eventually, free_port

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


class DaemonProcess:
    """Start and stop `tests.daemon_launcher` as a subprocess."""

    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        self.data_dir = tmp_path / "data"
        self.done_file = tmp_path / "done.txt"
        self.log_file = tmp_path / "daemon.log"
        self.config = tmp_path / "config.toml"
        self.config.write_text(
            f'[server]\nport = {self.port}\ntoken = "{TOKEN}"\n'
            f'[stash]\nurl = "http://127.0.0.1:{free_port()}"\ncheck_interval_seconds = 1.0\n'
            f'[paths]\ndata_dir = "{self.data_dir}"\n'
            "[queue]\npoll_interval_seconds = 0.05\nshutdown_grace_seconds = 1.5\n"
            "retry_base_seconds = 0.1\n[queue.concurrency]\nio = 3\n"
        )
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = self.log_file.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.daemon_launcher",
                "--config",
                str(self.config),
                "--done-file",
                str(self.done_file),
            ],
            cwd=ROOT,
            stdout=log,
            stderr=log,
        )

    async def wait_healthy(self) -> None:
        async with aiohttp.ClientSession() as session:

            async def healthy() -> bool:
                assert self.proc is not None and self.proc.poll() is None, self.log()
                try:
                    async with session.get(f"{self.url}/api/v1/health") as resp:
                        return resp.status == 200
                except aiohttp.ClientError:
                    return False

            await eventually(healthy, timeout=30)

    async def jobs(self, state: str | None = None) -> list[dict[str, object]]:
        query = f"?state={state}&limit=500" if state else "?limit=500"
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                f"{self.url}/api/v1/jobs{query}", headers={"Authorization": f"Bearer {TOKEN}"}
            ) as resp,
        ):
            body = await resp.json()
        jobs: list[dict[str, object]] = body["jobs"]
        return jobs

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    def done_ids(self) -> list[int]:
        if not self.done_file.exists():
            return []
        return [int(line) for line in self.done_file.read_text().split()]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
async def daemon(tmp_path: Path) -> AsyncIterator[DaemonProcess]:
    process = DaemonProcess(tmp_path)
    yield process
    process.stop()


async def enqueue_sleepers(data_dir: Path, seconds: list[float]) -> list[int]:
    """Enqueue test jobs from outside the daemon, as `stash-sense backfill` does."""
    db = Database(data_dir / "stash_sense.db")
    await db.open()
    try:
        results = await JobStore(db).enqueue_many(
            [NewJob("test.sleep", {"seconds": s}, Resource.IO, 0, 5) for s in seconds]
        )
    finally:
        await db.close(checkpoint=False)
    return [r.job.id for r in results]


async def test_crash_recovery_after_sigkill(daemon: DaemonProcess) -> None:
    daemon.start()
    await daemon.wait_healthy()
    ids = await enqueue_sleepers(daemon.data_dir, [1.5] * 6)

    async def three_running() -> bool:
        return len(await daemon.jobs("running")) == 3

    await eventually(three_running)
    assert daemon.proc is not None
    daemon.proc.send_signal(signal.SIGKILL)
    daemon.proc.wait()

    # The database still says "running" for the jobs the dead process held.
    db = Database(daemon.data_dir / "stash_sense.db")
    await db.open()
    stale = [j.id for j in (await JobStore(db).list(states=[JobState.RUNNING])).jobs]
    await db.close(checkpoint=False)
    assert len(stale) == 3

    daemon.start()
    await daemon.wait_healthy()

    async def all_done() -> bool:
        return len(await daemon.jobs("succeeded")) == 6

    await eventually(all_done, timeout=30)
    assert sorted(set(daemon.done_ids())) == sorted(ids)
    jobs = {j["id"]: j for j in await daemon.jobs()}
    for job_id in stale:
        assert jobs[job_id]["attempts"] == 2  # the interrupted attempt counts
    assert "Recovered interrupted jobs: 3 requeued" in daemon.log()


async def test_graceful_sigterm(daemon: DaemonProcess) -> None:
    daemon.start()
    await daemon.wait_healthy()
    short, long = await enqueue_sleepers(daemon.data_dir, [0.6, 60])

    async def both_running() -> bool:
        return len(await daemon.jobs("running")) == 2

    await eventually(both_running)
    assert daemon.proc is not None
    began = time.monotonic()
    daemon.proc.send_signal(signal.SIGTERM)
    code = await asyncio.to_thread(daemon.proc.wait, 15)
    took = time.monotonic() - began
    assert code == 0, daemon.log()
    assert took < 6  # grace is 1.5 s, plus start-up of the shutdown
    assert "Stopped cleanly" in daemon.log()
    assert daemon.done_ids() == [short]  # the short job finished within the grace

    db = Database(daemon.data_dir / "stash_sense.db")
    wal = daemon.data_dir / "stash_sense.db-wal"
    # Closing checkpointed the WAL: nothing is left for recovery to replay.
    assert not wal.exists() or wal.stat().st_size == 0
    await db.open()
    store = JobStore(db)
    done, back = await store.get(short), await store.get(long)
    await db.close(checkpoint=False)
    assert done is not None and done.state is JobState.SUCCEEDED
    assert back is not None and back.state is JobState.QUEUED and back.attempts == 0


async def test_cli_run_starts_without_stash_and_generates_token(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "STASH_SENSE_SERVER__PORT": str(port),
        "STASH_SENSE_PATHS__DATA_DIR": str(tmp_path / "data"),
        "STASH_SENSE_STASH__URL": f"http://127.0.0.1:{free_port()}",
        "STASH_SENSE_STASH__API_KEY": "stash-secret-key",
    }
    log = tmp_path / "log.txt"
    with log.open("wb") as out:
        proc = subprocess.Popen(  # noqa: ASYNC220 - spawning is instant
            [sys.executable, "-m", "stash_sense", "run"],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=out,
        )
    try:
        async with aiohttp.ClientSession() as session:

            async def degraded() -> bool:
                assert proc.poll() is None, log.read_text()
                try:
                    async with session.get(f"http://127.0.0.1:{port}/api/v1/health") as resp:
                        body = await resp.json()
                except aiohttp.ClientError:
                    return False
                return body["stash"]["checked_at"] is not None

            await eventually(degraded, timeout=30)
            token_file = tmp_path / "data" / "api_token"
            assert token_file.stat().st_mode & 0o777 == 0o600
            token = token_file.read_text().strip()
            async with session.get(
                f"http://127.0.0.1:{port}/api/v1/jobs", headers={"Authorization": f"Bearer {token}"}
            ) as resp:
                assert resp.status == 200
        proc.send_signal(signal.SIGINT)
        assert await asyncio.to_thread(proc.wait, 15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    text = log.read_text()
    assert str(token_file.resolve()) in text  # says where the token is
    assert token not in text and "stash-secret-key" not in text
    assert "unreachable" in text
