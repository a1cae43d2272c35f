"""StashClient: typed helpers for the operations the daemon uses."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Iterable, Mapping
from typing import Any, Literal

from .connection import StashConnection
from .errors import StashQueryError
from .models import (
    JobEvent,
    PerformerRef,
    Scene,
    SceneLinks,
    ScenesPage,
    SceneSummary,
    StashBox,
    TagRef,
)

BulkMode = Literal["SET", "ADD", "REMOVE"]
SortDirection = Literal["ASC", "DESC"]


def _ids(values: Iterable[str | int]) -> list[str]:
    return [str(value) for value in values]


class StashClient(StashConnection):
    """Client of one Stash; see StashConnection for limits, retries and errors."""

    async def version(self) -> str:
        """Return Stash's version (e.g. "v0.30.1"), or its build hash for dev builds."""
        data = await self.execute("Version")
        version: Mapping[str, Any] = data["version"]
        return str(version.get("version") or version.get("hash") or "")

    async def find_scene(self, scene_id: str | int) -> Scene | None:
        """Return one scene with files, stream URL and links, or None if it is gone."""
        data = await self.execute("FindScene", {"id": str(scene_id)})
        found = data.get("findScene")
        return Scene.from_json(found) if found else None

    async def find_scenes_page(
        self,
        *,
        page: int = 1,
        per_page: int = 100,
        scene_filter: Mapping[str, Any] | None = None,
        sort: str = "created_at",
        direction: SortDirection = "ASC",
    ) -> ScenesPage:
        """Return one page (1-based) of scenes matching `scene_filter` (a SceneFilterType)."""
        variables = {
            "scene_filter": dict(scene_filter) if scene_filter is not None else None,
            "filter": {"page": page, "per_page": per_page, "sort": sort, "direction": direction},
        }
        data = await self.execute("FindScenes", variables)
        result: Mapping[str, Any] = data["findScenes"]
        scenes = tuple(SceneSummary.from_json(s) for s in result.get("scenes") or ())
        return ScenesPage(count=int(result["count"]), scenes=scenes)

    async def count_scenes(self) -> int:
        """Return how many scenes the library holds."""
        data = await self.execute("CountScenes")
        return int(data["findScenes"]["count"])

    async def bulk_update_scenes(
        self,
        scene_ids: Iterable[str | int],
        *,
        performer_ids: Iterable[str | int] | None = None,
        tag_ids: Iterable[str | int] | None = None,
        mode: BulkMode = "ADD",
        client_mutation_id: str | None = None,
    ) -> list[SceneLinks]:
        """Change performers and/or tags of many scenes; return their links afterwards.

        `client_mutation_id` comes back in Stash's Scene.Update.Post hook input, which
        lets the daemon recognise its own edits.
        """
        update: dict[str, Any] = {"ids": _ids(scene_ids)}
        if client_mutation_id is not None:
            update["clientMutationId"] = client_mutation_id
        if performer_ids is not None:
            update["performer_ids"] = {"ids": _ids(performer_ids), "mode": mode}
        if tag_ids is not None:
            update["tag_ids"] = {"ids": _ids(tag_ids), "mode": mode}
        data = await self.execute("BulkSceneUpdate", {"input": update})
        return [SceneLinks.from_json(s) for s in data.get("bulkSceneUpdate") or ()]

    async def bulk_add_performers(
        self,
        scene_ids: Iterable[str | int],
        performer_ids: Iterable[str | int],
        client_mutation_id: str | None = None,
    ) -> list[SceneLinks]:
        """Add performers to scenes, keeping the ones already linked."""
        return await self.bulk_update_scenes(
            scene_ids, performer_ids=performer_ids, client_mutation_id=client_mutation_id
        )

    async def bulk_add_tags(
        self,
        scene_ids: Iterable[str | int],
        tag_ids: Iterable[str | int],
        client_mutation_id: str | None = None,
    ) -> list[SceneLinks]:
        """Add tags to scenes, keeping the ones already there."""
        return await self.bulk_update_scenes(
            scene_ids, tag_ids=tag_ids, client_mutation_id=client_mutation_id
        )

    async def find_performers_by_stash_id(self, endpoint: str, stash_id: str) -> list[PerformerRef]:
        """Return local performers linked to one stash-box performer."""
        variables = {"endpoint": endpoint, "stash_id": stash_id}
        data = await self.execute("FindPerformersByStashId", variables)
        found = data["findPerformers"].get("performers") or ()
        return [PerformerRef.from_json(p) for p in found]

    async def create_performer(
        self,
        name: str,
        *,
        stash_ids: Iterable[tuple[str, str]],
        disambiguation: str | None = None,
        aliases: Iterable[str] = (),
        country: str | None = None,
        image: str | None = None,
    ) -> PerformerRef:
        """Create a performer linked to stash-box ids (endpoint URL, id)."""
        performer: dict[str, Any] = {
            "name": name,
            "stash_ids": [{"endpoint": e, "stash_id": i} for e, i in stash_ids],
        }
        if disambiguation:
            performer["disambiguation"] = disambiguation
        if aliases := [a for a in aliases if a and a != name]:
            performer["alias_list"] = aliases
        if country:
            performer["country"] = country
        if image:
            performer["image"] = image
        data = await self.execute("PerformerCreate", {"input": performer})
        return PerformerRef.from_json(data["performerCreate"])

    async def find_tag_by_name(self, name: str) -> TagRef | None:
        """Return the tag named `name` (exact match preferred over case-insensitive)."""
        data = await self.execute("FindTagByName", {"name": name})
        tags = [TagRef.from_json(t) for t in data["findTags"].get("tags") or ()]
        for tag in tags:
            if tag.name == name:
                return tag
        return next((t for t in tags if t.name.casefold() == name.casefold()), None)

    async def create_tag(self, name: str, *, description: str | None = None) -> TagRef:
        """Create a tag; StashQueryError if one with that name exists."""
        tag_input: dict[str, Any] = {"name": name}
        if description is not None:
            tag_input["description"] = description
        data = await self.execute("TagCreate", {"input": tag_input})
        return TagRef.from_json(data["tagCreate"])

    async def ensure_tag(self, name: str, *, description: str | None = None) -> TagRef:
        """Return the tag named `name`, creating it if missing (safe against races)."""
        found = await self.find_tag_by_name(name)
        if found is not None:
            return found
        try:
            return await self.create_tag(name, description=description)
        except StashQueryError:
            # Someone else (or a retried attempt of ours) created it meanwhile.
            found = await self.find_tag_by_name(name)
            if found is None:
                raise
            return found

    async def stash_boxes(self) -> list[StashBox]:
        """Return the stash-box endpoints configured in Stash, with their API keys."""
        data = await self.execute("StashBoxes")
        boxes = data["configuration"]["general"].get("stashBoxes") or ()
        return [StashBox.from_json(b) for b in boxes]

    async def subscribe_jobs(
        self, on_subscribed: Callable[[], None] | None = None
    ) -> AsyncGenerator[JobEvent, None]:
        """Yield job queue events until the socket drops (StashUnavailable)."""
        async for data in self.subscribe("JobsSubscribe", on_subscribed=on_subscribed):
            yield JobEvent.from_json(data["jobsSubscribe"])

    async def subscribe_scan_complete(
        self, on_subscribed: Callable[[], None] | None = None
    ) -> AsyncGenerator[bool, None]:
        """Yield True per finished scan or clean until the socket drops (StashUnavailable)."""
        async for data in self.subscribe("ScanCompleteSubscribe", on_subscribed=on_subscribed):
            if data.get("scanCompleteSubscribe"):
                yield True
