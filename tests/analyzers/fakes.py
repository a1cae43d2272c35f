"""Analyzers for tests: one that waits at a gate between batches, one that is quick."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from stash_sense.analyzers import Analyzer, AnalyzerRun
from stash_sense.review import ReviewItem, ReviewKind


@dataclass(frozen=True)
class NotePayload:
    """A trivial payload."""

    n: int


class NoteKind(ReviewKind[NotePayload]):
    """A kind that does nothing when accepted."""

    name = "test_note"
    payload_type = NotePayload
    scene_scoped = False

    def __init__(self, *_deps: Any) -> None:
        pass

    async def accept(self, item: ReviewItem, options: dict[str, Any]) -> dict[str, Any]:
        return {}


@dataclass
class Probe:
    """What the test analyzers saw, shared with the test."""

    gate: asyncio.Event = field(default_factory=asyncio.Event)
    started: asyncio.Event = field(default_factory=asyncio.Event)
    runs: list[tuple[bool, str | None]] = field(default_factory=list)
    running: int = 0
    most_running: int = 0


PROBE = Probe()


class GatedAnalyzer(Analyzer):
    """Emit two batches with a watermark in between; wait at the gate after the first."""

    name = "gated"
    title = "Gated (tests)"
    kinds = (NoteKind,)

    async def run(self, run: AnalyzerRun) -> None:
        PROBE.runs.append((run.full, run.watermark))
        PROBE.running += 1
        PROBE.most_running = max(PROBE.most_running, PROBE.running)
        try:
            start = int(run.watermark or 0)
            for batch in range(start, 2):
                for n in (batch * 2, batch * 2 + 1):
                    await run.emit("test_note", scene_id=None, subject=f"n{n}", payload={"n": n})
                await run.progress(batch + 1, 2)
                PROBE.started.set()
                await PROBE.gate.wait()
                run.check_cancelled()
                # Commit the batch; a rerun after an interruption resumes here.
                await run.set_watermark(str(batch + 1))
        finally:
            PROBE.running -= 1


class QuickAnalyzer(Analyzer):
    """Emit one item."""

    name = "quick"
    title = "Quick (tests)"
    kinds = (NoteKind,)

    async def run(self, run: AnalyzerRun) -> None:
        await run.emit("test_note", scene_id=None, subject="quick", payload={"n": 0})


TEST_ANALYZERS: list[type[Analyzer]] = [GatedAnalyzer, QuickAnalyzer]
