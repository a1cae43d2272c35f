"""The demo daemon's config file and a small client of its API."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import time
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from stash_sense.analyzers.registry import analyzer_classes
from tests.demo.kit import DemoKit
from tests.fakes.stash.ui import PLUGIN_ID

NUM_FRAMES = 12
# With 12 sampled frames a person seen in 5 of them is "confident": the clips give each
# main performer 6 or more frames and a brief appearance 3 or fewer.
AUTO_MIN_FRAMES = 5
AUTO_MIN_CONFIDENCE = 0.5


class DaemonError(Exception):
    """The daemon did not come up, or answered an error."""


def config(
    data_dir: Path, *, port: int, stash_url: str, page_url: str, kit: DemoKit
) -> dict[str, dict[str, Any]]:
    """Return the daemon's settings: loopback only, auto-tagging, the demo's kit."""
    return {
        "server": {"host": "127.0.0.1", "port": port, "cors_origins": [page_url]},
        "stash": {"url": stash_url, "check_interval_seconds": 1.0},
        "paths": {"data_dir": str(data_dir)},
        "faces": {
            "models_dir": str(kit.models_dir),
            "database_dir": str(kit.database_dir),
            "num_frames": NUM_FRAMES,
            # The synthetic faces are large squares: a small detector input finds them.
            "detection_size": 320,
        },
        "tagging": {
            "mode": "auto",
            "auto_min_frames": AUTO_MIN_FRAMES,
            "auto_min_confidence": AUTO_MIN_CONFIDENCE,
        },
        # Curation is not what the demo shows; the analyzers stay available on demand.
        "analyzers": {"disabled": [cls.name for cls in analyzer_classes()]},
    }


def write_toml(path: Path, sections: Mapping[str, Mapping[str, Any]]) -> None:
    """Write a config of flat sections; JSON strings and lists are valid TOML values."""
    lines = []
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in values.items()]
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


class DaemonApi:
    """Call the daemon's API with its token."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.token = token
        self._headers = {"Authorization": f"Bearer {token}"}
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))

    async def get(self, path: str, **query: str | int) -> Any:
        """GET a route and return its JSON body; raise DaemonError on an error status."""
        async with self._session.get(
            f"{self.url}{path}", params=query, headers=self._headers
        ) as resp:
            body = await resp.json()
            if resp.status >= 400:
                raise DaemonError(f"GET {path}: HTTP {resp.status}: {body}")
            return body

    async def plugin_files(self) -> dict[str, bytes]:
        """Download the plugin as Stash's package manager does: index, zip, checksum."""
        async with self._session.get(f"{self.url}/plugin/index.yml") as resp:
            resp.raise_for_status()
            index = yaml.safe_load(await resp.text())
        package = next(p for p in index if p["id"] == PLUGIN_ID)
        async with self._session.get(f"{self.url}/plugin/{package['path']}") as resp:
            resp.raise_for_status()
            data = await resp.read()
        if hashlib.sha256(data).hexdigest() != package["sha256"]:
            raise DaemonError("the plugin zip does not match the index's sha256")
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return {name: archive.read(name) for name in archive.namelist()}

    async def wait_ready(self, alive: asyncio.subprocess.Process, timeout: float) -> dict[str, Any]:
        """Wait until the daemon answers, sees Stash and has loaded the faces; return /health."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if alive.returncode is not None:
                raise DaemonError(f"the daemon exited with status {alive.returncode}")
            try:
                health: dict[str, Any] = await self.get("/api/v1/health")
            except (aiohttp.ClientError, DaemonError) as err:
                last = str(err) or type(err).__name__
            else:
                faces = health["faces"]
                if faces.get("error"):
                    raise DaemonError(f"the face models or database did not load: {faces['error']}")
                if health["status"] == "ok" and faces["ready"]:
                    return health
                last = f"status {health['status']}, faces ready: {faces['ready']}"
            await asyncio.sleep(0.2)
        raise DaemonError(f"the daemon was not ready after {timeout:.0f} s ({last})")

    async def close(self) -> None:
        """Close the HTTP session."""
        await self._session.close()
