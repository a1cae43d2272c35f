"""Watermarks and timestamps of the upstream analyzers, and endpoint order."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from stash_sense.stash.models import StashBox
from stash_sense.stashbox import (
    domain_of,
    normalize_endpoint,
)


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def timestamp(text: str | None) -> float:
    """Return a timestamp's POSIX seconds; unparsable ones sort first."""
    moment = parse_time(text)
    return moment.timestamp() if moment is not None else float("-inf")


def newer(a: str | None, b: str | None) -> bool:
    """Tell whether timestamp `a` is later than `b` (unparsable counts as newer)."""
    ta, tb = parse_time(a), parse_time(b)
    if ta is None or tb is None:
        return a is not None and a != b
    return ta > tb


def newer_by(value: Any, since: Any, margin: float) -> bool:
    """Tell whether a local timestamp is later than `since` less a safety margin."""
    moment, start = (
        parse_time(str(value) if value else None),
        parse_time(str(since) if since else None),
    )
    if moment is None or start is None:
        return True
    return moment.timestamp() > start.timestamp() - margin


def load_marks(watermark: str | None) -> dict[str, Any]:
    """Read the watermark (JSON); anything unreadable starts over."""
    if not watermark:
        return {}
    try:
        data = json.loads(watermark)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def by_priority(boxes: Sequence[StashBox], priorities: Sequence[str]) -> list[StashBox]:
    """Order endpoints: the configured priorities first (URL or domain), then Stash's order."""

    def rank(box: StashBox) -> int:
        for index, wanted in enumerate(priorities):
            if "://" in wanted:
                if normalize_endpoint(wanted) == normalize_endpoint(box.endpoint):
                    return index
            elif domain_of(wanted) == domain_of(box.endpoint):
                return index
        return len(priorities)

    return sorted(boxes, key=rank)
