"""`stash-sense backfill` says when no daemon runs instead of waiting forever."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from stash_sense.config import Config
from stash_sense.config.model import ServerConfig
from stash_sense.identify.backfill import BACKFILL
from stash_sense.identify.daemon_probe import health_url
from stash_sense.keys import STORE
from tests.daemons import DaemonFactory
from tests.helpers import free_port

NO_DAEMON = "the queued backfill will start when the daemon runs (`stash-sense run`)"


def backfill(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stash_sense", "backfill", "--config", str(config), *args],
        capture_output=True,
        text=True,
        check=False,
        # Before the probe, --wait without a daemon never returned.
        timeout=60,
    )


def config_file(tmp_path: Path, data_dir: Path, port: int) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(f'[paths]\ndata_dir = "{data_dir}"\n[server]\nport = {port}\n')
    return path


@pytest.mark.parametrize(("args", "code"), [((), 0), (("--wait",), 1)])
def test_backfill_without_a_daemon_says_it_waits_for_one(
    tmp_path: Path, args: tuple[str, ...], code: int
) -> None:
    port = free_port()
    run = backfill(config_file(tmp_path, tmp_path / "data", port), *args)
    assert run.returncode == code, run.stderr
    lines = run.stdout.strip().splitlines()
    assert lines[0].startswith("Queued backfill as job ")
    assert lines[-1] == (
        f"No daemon answers at http://127.0.0.1:{port}/api/v1/health: {NO_DAEMON}."
    )


async def test_backfill_with_a_running_daemon_does_not_warn(
    tmp_path: Path, start_daemon: DaemonFactory
) -> None:
    daemon = await start_daemon()
    data_dir = Path(daemon.app[STORE].database.path).parent
    port = urlsplit(daemon.url).port
    assert port is not None
    run = await asyncio.to_thread(backfill, config_file(tmp_path, data_dir, port))
    assert run.returncode == 0, run.stderr
    assert NO_DAEMON not in run.stdout
    assert len(await daemon.jobs(BACKFILL)) == 1


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("0.0.0.0", "127.0.0.1"),
        ("", "127.0.0.1"),
        ("::", "[::1]"),
        ("192.168.1.5", "192.168.1.5"),
        ("fe80::1", "[fe80::1]"),
        ("stash-sense", "stash-sense"),
    ],
)
def test_health_url_reaches_a_daemon_bound_to_every_address(host: str, expected: str) -> None:
    config = Config(server=ServerConfig(host=host, port=7001))
    assert health_url(config) == f"http://{expected}:7001/api/v1/health"
