"""Small review kinds for the tests: a plain one, a destructive one, a curation one."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Literal

from stash_sense.review import (
    InvalidPayload,
    Resuggest,
    ResuggestPolicy,
    ReviewItem,
    ReviewKind,
)


@dataclass(frozen=True)
class TagPayload:
    """A tag proposed for a scene."""

    tag: str
    score: float
    frames: int = 0
    notes: list[str] = field(default_factory=list)
    extra: dict[str, int] = field(default_factory=dict)
    mode: Literal["add", "replace"] = "add"
    parent: str | None = None


@dataclass(frozen=True)
class FilesPayload:
    """Files proposed for deletion."""

    file_ids: list[int]


@dataclass(frozen=True)
class ChangePayload:
    """An upstream change of a library-wide object."""

    field: str
    value: str
    seen_at: float = 0.0


class Recorder:
    """What a test kind's handler saw, and how it should behave next."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, dict[str, Any]]] = []
        self.fail: Exception | None = None
        self.fail_subjects: dict[str, Exception] = {}
        self.gate: asyncio.Event | None = None
        self.started = asyncio.Event()

    async def run(self, item: ReviewItem, options: dict[str, Any]) -> dict[str, Any]:
        """Record a call, wait at the gate if any, then fail or succeed."""
        self.calls.append((item.id, options))
        self.started.set()
        if self.gate is not None:
            await self.gate.wait()
        error = self.fail_subjects.get(item.subject) or self.fail
        if error is not None:
            raise error
        return {"done": item.subject, "options": options}


class TagKind(ReviewKind[TagPayload]):
    """Add a tag to a scene."""

    name = "test_tag"
    payload_type = TagPayload

    def __init__(self) -> None:
        self.recorder = Recorder()

    async def accept(self, item: ReviewItem, options: dict[str, Any]) -> dict[str, Any]:
        """Pretend to tag the scene."""
        return await self.recorder.run(item, options)

    async def describe(self, item: ReviewItem) -> dict[str, Any]:
        """Add a derived field, as crop URLs would be."""
        payload = self.load(item.payload)
        return {"label": payload.tag.upper()}

    def check(self, payload: TagPayload) -> None:
        """Scores are in [0, 1]."""
        if not 0 <= payload.score <= 1:
            raise InvalidPayload("payload.score must be in [0, 1]")


class DeleteKind(ReviewKind[FilesPayload]):
    """Delete files: destructive."""

    name = "test_delete"
    payload_type = FilesPayload
    destructive = True

    def __init__(self) -> None:
        self.recorder = Recorder()

    async def accept(self, item: ReviewItem, options: dict[str, Any]) -> dict[str, Any]:
        """Pretend to delete files."""
        return await self.recorder.run(item, options)


class CurationKind(ReviewKind[ChangePayload]):
    """A library-wide change that may come back when upstream changes again."""

    name = "test_curation"
    payload_type = ChangePayload
    scene_scoped = False
    resuggest_after_resolve = ResuggestPolicy(
        after_accept=Resuggest.IF_CHANGED, after_reject=Resuggest.IF_CHANGED
    )

    def __init__(self) -> None:
        self.recorder = Recorder()

    async def accept(self, item: ReviewItem, options: dict[str, Any]) -> dict[str, Any]:
        """Pretend to apply the change."""
        return await self.recorder.run(item, options)

    def fingerprint(self, payload: dict[str, Any]) -> str:
        """Compare the change, not when it was seen."""
        return f"{payload['field']}={payload['value']}"


@dataclass
class Kinds:
    """The registered test kinds."""

    tag: TagKind = field(default_factory=TagKind)
    delete: DeleteKind = field(default_factory=DeleteKind)
    curation: CurationKind = field(default_factory=CurationKind)


def tag(tag_name: str = "blonde", score: float = 0.8, **extra: Any) -> dict[str, Any]:
    """Build a TagPayload as JSON."""
    return {"tag": tag_name, "score": score, **extra}
