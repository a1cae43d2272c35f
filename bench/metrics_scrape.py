"""Cost of one Prometheus scrape of GET /metrics, next to GET /api/v1/health.

The daemon app runs in this process on loopback with no workers (nothing changes the
jobs), Stash unreachable and no face models. Three stores: empty; `--jobs` jobs of 12
types with a tenth queued and the rest finished (a daemon at rest); `--jobs` jobs all
queued (a backfill of a large library). Baseline, side by side on the same app:
`/api/v1/health`, the route a monitor polls today (it counts jobs by state).

    python bench/metrics_scrape.py [--jobs 100000] [--repeat 50]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import platform
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from stash_sense.config import Config, PathsConfig, ServerConfig, StashConfig
from stash_sense.config.model import ConcurrencyConfig, QueueConfig
from stash_sense.daemon import build_app
from stash_sense.keys import STORE

TOKEN = "bench-token"
FINISHED = ("succeeded", "succeeded", "succeeded", "failed", "cancelled")
ROUTES = ("/api/v1/health", "/metrics")


def free_port() -> int:
    """Return a loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def fill(app: web.Application, jobs: int, queued_every: int) -> None:
    """Insert `jobs` job rows: every `queued_every`-th queued, the rest finished."""
    now = time.time()
    rows = []
    for n in range(jobs):
        queued = n % queued_every == 0
        state = "queued" if queued else FINISHED[n % len(FINISHED)]
        at = now - 3600 + n * 0.01
        rows.append(
            (
                f"bench.type{n % 12}",
                "{}",
                "gpu" if n % 2 else "io",
                state,
                5,
                at,
                at,
                at,
                None if queued else at,
                None if queued else at + 2.0,
            )
        )
    async with app[STORE].database.transaction() as conn:
        await conn.executemany(
            "INSERT INTO jobs (type, args, resource, state, max_attempts, run_at, created_at,"
            " updated_at, started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


async def timed(session: aiohttp.ClientSession, url: str, repeat: int) -> tuple[float, int]:
    """Median milliseconds per GET, and the body size in bytes."""
    samples, size = [], 0
    headers = {"Authorization": f"Bearer {TOKEN}"}
    for _ in range(repeat):
        start = time.perf_counter()
        async with session.get(url, headers=headers) as resp:
            body = await resp.read()
            assert resp.status == 200, resp.status
        samples.append((time.perf_counter() - start) * 1000)
        size = len(body)
    return statistics.median(samples), size


def config_in(tmp: str) -> Config:
    """A config for an idle daemon in `tmp`: no workers, no Stash, no models."""
    config = Config(
        server=ServerConfig(host="127.0.0.1", port=free_port(), token=TOKEN),
        stash=StashConfig(url=f"http://127.0.0.1:{free_port()}", max_retries=0),
        paths=PathsConfig(data_dir=tmp),
        queue=QueueConfig(concurrency=ConcurrencyConfig(gpu=0, cpu=0, io=0)),
    )
    faces = dataclasses.replace(
        config.faces, models_dir=str(Path(tmp) / "m"), database_dir=str(Path(tmp) / "d")
    )
    return dataclasses.replace(config, faces=faces)


async def scenario(jobs: int, queued_every: int, repeat: int) -> dict[str, tuple[float, int]]:
    """Time both routes on a fresh daemon holding these jobs."""
    with tempfile.TemporaryDirectory() as tmp:
        config = config_in(tmp)
        app = build_app(config, TOKEN)
        server = TestServer(app, host="127.0.0.1", port=config.server.port)
        await server.start_server()
        try:
            await fill(app, jobs, queued_every)
            base = str(server.make_url("")).rstrip("/")
            figures = {}
            async with aiohttp.ClientSession() as session:
                for path in ROUTES:
                    await timed(session, base + path, 3)  # warm the caches
                    figures[path] = await timed(session, base + path, repeat)
        finally:
            await server.close()
    return figures


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    logging.disable(logging.ERROR)  # Stash and the models are absent on purpose
    stores = [
        ("empty", 0, 1),
        (f"{args.jobs:,} jobs, a tenth queued", args.jobs, 10),
        (f"{args.jobs:,} jobs, all queued", args.jobs, 1),
    ]
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print("| store | route | median ms | bytes | ratio to health |")
    print("|---|---|---:|---:|---:|")
    for label, jobs, queued_every in stores:
        figures = await scenario(jobs, queued_every, args.repeat)
        health = figures[ROUTES[0]][0]
        for path, (ms, size) in figures.items():
            print(f"| {label} | `{path}` | {ms:.1f} | {size:,} | {ms / health:.2f} |")


if __name__ == "__main__":
    asyncio.run(main())
