"""Small helpers shared by tests: configs for a daemon under test, free ports, polling."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from stash_sense.config import (
    Config,
    EngineConfig,
    EventsConfig,
    FacesConfig,
    PathsConfig,
    QueueConfig,
    ServerConfig,
    StashBoxConfig,
    StashConfig,
    TaggingConfig,
)
from stash_sense.config.model import ConcurrencyConfig

TOKEN = "test-token-0123456789"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def daemon_config(
    data_dir: Path,
    *,
    stash_url: str | None = None,
    stash_api_key: str = "",
    port: int = 0,
    server: dict[str, Any] | None = None,
    events: dict[str, Any] | None = None,
    faces: dict[str, Any] | None = None,
    tagging: dict[str, Any] | None = None,
    stashbox: dict[str, Any] | None = None,
    engine: dict[str, Any] | None = None,
) -> Config:
    """Build a config for a daemon under test: fast timers, loopback only."""
    return Config(
        server=dataclasses.replace(
            ServerConfig(host="127.0.0.1", port=port or free_port(), token=TOKEN),
            **(server or {}),
        ),
        stash=StashConfig(
            url=stash_url or f"http://127.0.0.1:{free_port()}",
            api_key=stash_api_key,
            requests_per_second=1000.0,
            timeout_seconds=2.0,
            max_retries=1,
            check_interval_seconds=0.5,
        ),
        paths=PathsConfig(data_dir=str(data_dir)),
        queue=QueueConfig(
            retry_base_seconds=0.05,
            retry_max_seconds=0.2,
            poll_interval_seconds=0.05,
            shutdown_grace_seconds=2.0,
            concurrency=ConcurrencyConfig(gpu=1, cpu=1, io=2),
        ),
        events=dataclasses.replace(
            EventsConfig(reconnect_max_seconds=1.0, reconcile_page_size=20), **(events or {})
        ),
        # Small and fast: the synthetic kit's squares need no more.
        faces=dataclasses.replace(
            FacesConfig(
                models_dir=str(data_dir / "models"),
                database_dir=str(data_dir / "face-db"),
                num_frames=12,
                detection_size=320,
            ),
            **(faces or {}),
        ),
        tagging=dataclasses.replace(TaggingConfig(), **(tagging or {})),
        stashbox=dataclasses.replace(StashBoxConfig(), **(stashbox or {})),
        engine=dataclasses.replace(EngineConfig(), **(engine or {})),
    )


async def eventually(
    check: Callable[[], Awaitable[bool]], timeout: float = 10.0, interval: float = 0.02
) -> None:
    """Wait until `check` returns true, failing after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")
