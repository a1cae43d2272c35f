"""Event ingest throughput: hook events/s that the daemon stores and maps to jobs.

The daemon runs as its own process (`stash-sense run`, Stash unreachable so identify
jobs stay queued); this process posts `--events` Scene.Create.Post events with
`--concurrency` requests in flight. Baseline, side by side: the same client against an
aiohttp server whose handler answers 202 without doing anything, so the ratio is
the cost of validation, durable storage and enqueueing.

    python bench/event_ingest.py [--events 3000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

TOKEN = "bench-token-0123456789"
NOOP_SERVER = """
import sys
from aiohttp import web
async def ok(request):
    await request.read()
    return web.json_response({"status": "accepted"}, status=202)
app = web.Application()
app.router.add_get("/api/v1/health", lambda r: web.json_response({}))
app.router.add_post("/api/v1/events/stash", ok)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def free_port() -> int:
    """Return an unused loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_up(url: str) -> None:
    """Wait until the server answers its health route."""
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            try:
                async with session.get(f"{url}/api/v1/health"):
                    return
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not start")


async def blast(url: str, events: int, concurrency: int, first_id: int) -> float:
    """Post events and return events per second."""
    limit = asyncio.Semaphore(concurrency)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(scene_id: int) -> None:
            async with (
                limit,
                session.post(
                    f"{url}/api/v1/events/stash",
                    json={"id": scene_id, "type": "Scene.Create.Post", "input": None},
                    headers=headers,
                ) as resp,
            ):
                if resp.status != 202:
                    raise RuntimeError(f"HTTP {resp.status}: {await resp.text()}")

        began = time.perf_counter()
        await asyncio.gather(*(one(first_id + i) for i in range(events)))
        return events / (time.perf_counter() - began)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        daemon_port, noop_port = free_port(), free_port()
        env = {
            **os.environ,
            "STASH_SENSE_SERVER__PORT": str(daemon_port),
            "STASH_SENSE_SERVER__TOKEN": TOKEN,
            "STASH_SENSE_PATHS__DATA_DIR": str(Path(tmp) / "data"),
            "STASH_SENSE_STASH__URL": f"http://127.0.0.1:{free_port()}",
            "STASH_SENSE_LOG__LEVEL": "WARNING",
        }
        daemon = subprocess.Popen(
            [sys.executable, "-m", "stash_sense", "run"],
            env=env,
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        noop = subprocess.Popen([sys.executable, "-c", NOOP_SERVER, str(noop_port)])
        try:
            await wait_up(f"http://127.0.0.1:{daemon_port}")
            await wait_up(f"http://127.0.0.1:{noop_port}")
            # Warm up both, then alternate runs so neither gets a quieter machine.
            await blast(f"http://127.0.0.1:{noop_port}", 200, args.concurrency, 10**6)
            await blast(f"http://127.0.0.1:{daemon_port}", 200, args.concurrency, 10**6)
            base = await blast(f"http://127.0.0.1:{noop_port}", args.events, args.concurrency, 1)
            ours = await blast(f"http://127.0.0.1:{daemon_port}", args.events, args.concurrency, 1)
        finally:
            for proc in (daemon, noop):
                proc.terminate()
                proc.wait(10)
    print(f"Machine: {platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"Python: {sys.version.split()[0]}")
    print(
        f"Command: python bench/event_ingest.py --events {args.events} "
        f"--concurrency {args.concurrency}"
    )
    print()
    print("| server | events/s | ratio to baseline |")
    print("|---|---:|---:|")
    print(f"| baseline: aiohttp no-op handler (202) | {base:,.0f} | 1.00 |")
    print(f"| stash-sense: validate, store, enqueue identify | {ours:,.0f} | {ours / base:.2f} |")


if __name__ == "__main__":
    asyncio.run(main())
