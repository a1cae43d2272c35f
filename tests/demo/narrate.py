"""Follow a new scene through the daemon and say, in one line each, what happened to it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from tests.demo.daemon import DaemonApi

IDENTIFY = "identify_scene"
FINAL = ("succeeded", "failed", "cancelled")


def _names(names: list[str]) -> str:
    """Join names as a sentence does: "Alice", "Alice and Bob", "A, B and C"."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def summary(identification: dict[str, Any], audit: dict[str, Any], review: dict[str, Any]) -> str:
    """Say what the daemon did with a scene: applied, queued for review, not recognised."""
    known = {
        p["best"]["universal_id"]: p["best"]["name"]
        for p in identification["persons"]
        if p.get("best")
    }
    written = {
        uid
        for entry in audit["entries"]
        if entry["action"] == "add_performers" and entry["status"] == "applied"
        for uid in entry["universal_ids"]
    }
    # In the order the identification lists the people (first seen first).
    applied = [name for uid, name in known.items() if uid in written]
    waiting = [str(item["payload"].get("name") or item["subject"]) for item in review["items"]]
    parts = []
    if applied:
        parts.append(f"{_names(applied)} applied")
    if waiting:
        parts.append(f"{_names(waiting)} waiting for review")
    unknown = int(identification.get("unknown_persons") or 0)
    if unknown:
        parts.append(f"{unknown} face{'s' if unknown > 1 else ''} not in the face database")
    if not identification["faces_kept"]:
        parts.append("no faces found")
    return ", ".join(parts) or "nobody recognised"


class Narrator:
    """Print the demo's step lines and follow each new scene until it is identified."""

    def __init__(self, api: DaemonApi, say: Callable[[str], None]) -> None:
        self._api = api
        self.say = say

    async def _job(self, scene_id: int) -> dict[str, Any] | None:
        """Return the newest identify job of a scene, if there is one."""
        page = await self._api.get("/api/v1/jobs", type=IDENTIFY, limit=500)
        jobs: list[dict[str, Any]] = page["jobs"]
        return next((j for j in jobs if j["args"].get("scene_id") == scene_id), None)

    async def follow(self, scene_id: int, timeout: float) -> bool:
        """Wait for the scene's identification and say its outcome; return whether it worked."""
        deadline = time.monotonic() + timeout
        announced = False
        while time.monotonic() < deadline:
            job = await self._job(scene_id)
            state = job["state"] if job else None
            if state == "running" and not announced:
                self.say(f"scene {scene_id}: identifying the faces")
                announced = True
            if job is not None and state in FINAL:
                if state != "succeeded":
                    self.say(f"scene {scene_id}: identification {state}: {job['last_error']}")
                    return False
                if not await self._tagged(scene_id, deadline):
                    break
                self.say(f"scene {scene_id}: {await self._outcome(scene_id)}")
                return True
            await asyncio.sleep(0.2)
        self.say(f"scene {scene_id}: not identified after {timeout:.0f} s")
        return False

    async def _tagged(self, scene_id: int, deadline: float) -> bool:
        """Wait for tagging, a job of its own that follows each identification."""
        while time.monotonic() < deadline:
            identification = await self._api.get(f"/api/v1/scenes/{scene_id}/identification")
            if identification.get("tagged_at") is not None:
                return True
            await asyncio.sleep(0.2)
        return False

    async def _outcome(self, scene_id: int) -> str:
        """Read what the daemon recorded and wrote for an identified scene."""
        identification = await self._api.get(f"/api/v1/scenes/{scene_id}/identification")
        audit = await self._api.get("/api/v1/audit", scene=scene_id)
        review = await self._api.get(
            "/api/v1/review/items", scene=scene_id, state="pending", kind="performer_suggestion"
        )
        return summary(identification, audit, review)
