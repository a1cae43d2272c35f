"""Decide where a scene's video is read from: a local file through path mappings, or Stash's stream.

A mapping is ``"<stash prefix>=<local prefix>"``: Stash reports ``/data/videos/a.mp4``, the
daemon sees the same file at ``/mnt/media/videos/a.mp4`` with ``"/data/=/mnt/media/"``. The
first mapping whose prefix matches wins. A local file is used only when it exists and is
readable; otherwise the scene is streamed from Stash (which costs network reads, so a
working mapping is worth having). Nothing here ever puts an API key in a description.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from stash_sense.faces.types import VideoError

__all__ = [
    "VideoSource",
    "is_url",
    "map_path",
    "parse_path_mappings",
    "redact_url",
    "resolve_source",
]

# Query parameters whose values are secrets (Stash uses apikey=; the others are common spellings).
_SECRET_PARAMS = frozenset({"apikey", "api_key", "api-key", "key", "token", "access_token"})
_SEPARATORS = "/\\"


@dataclass(frozen=True)
class VideoSource:
    """Where to read a scene's video from, and how to name it in logs."""

    location: str  # a local path or an http(s) URL (which may carry the API key)
    is_local: bool
    description: str  # safe to log: never contains the API key


def is_url(location: str) -> bool:
    """Tell whether a location is an http(s) URL rather than a path."""
    return bool(re.match(r"(?i)https?://", location))


def redact_url(url: str) -> str:
    """Return the URL with API keys, tokens and passwords replaced by ***."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{host}" if ":" in userinfo else f"{user}@{host}"
    query = "&".join(_redact_param(piece) for piece in parts.query.split("&"))
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def _redact_param(piece: str) -> str:
    key, sep, _ = piece.partition("=")
    return f"{key}=***" if sep and key.lower() in _SECRET_PARAMS else piece


def parse_path_mappings(mappings: Sequence[str]) -> list[tuple[str, str]]:
    """Split "<stash prefix>=<local prefix>" strings into pairs; raise ValueError on a bad one."""
    pairs: list[tuple[str, str]] = []
    for mapping in mappings:
        stash_prefix, sep, local_prefix = mapping.partition("=")
        stash_prefix, local_prefix = stash_prefix.strip(), local_prefix.strip()
        if not sep or not stash_prefix or not local_prefix:
            raise ValueError(
                f'path mapping {mapping!r} must look like "<stash prefix>=<local prefix>", '
                'e.g. "/data/=/mnt/media/"'
            )
        pairs.append((stash_prefix, local_prefix))
    return pairs


def _prefix_matches(path: str, prefix: str) -> bool:
    # Match whole path components: "/data" covers "/data/a.mp4" but not "/database/a.mp4".
    if not path.startswith(prefix):
        return False
    return len(path) == len(prefix) or prefix[-1] in _SEPARATORS or path[len(prefix)] in _SEPARATORS


def map_path(path: str, mappings: Sequence[tuple[str, str]]) -> str | None:
    """Translate a Stash path with the first matching mapping; None when none matches."""
    for stash_prefix, local_prefix in mappings:
        if not _prefix_matches(path, stash_prefix):
            continue
        rest = path[len(stash_prefix) :]
        if "\\" in stash_prefix and "\\" not in local_prefix:
            # A Windows Stash seen from a POSIX host: the rest of the path uses backslashes.
            rest = rest.replace("\\", "/")
        if local_prefix[-1] in _SEPARATORS and rest[:1] in ("/", "\\"):
            rest = rest[1:]
        elif rest and local_prefix[-1] not in _SEPARATORS and rest[0] not in _SEPARATORS:
            rest = "/" + rest
        return local_prefix + rest
    return None


def _readable_file(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.R_OK)


def resolve_source(
    files_path: str,
    stream_url: str | None,
    path_mappings: Sequence[str],
    *,
    scene_id: str | int | None = None,
) -> VideoSource:
    """Pick the local file when a mapping (or the path as is) makes it readable, else the stream."""
    scene = f"scene {scene_id}" if scene_id is not None else "the scene"
    if files_path:
        mapped = map_path(files_path, parse_path_mappings(path_mappings))
        # Without a matching mapping the daemon may still share Stash's view of the disk.
        local = mapped if mapped is not None else files_path
        local_dir = os.path.dirname(local) or "."
        if os.path.isdir(local_dir) and _readable_file(local):
            return VideoSource(location=local, is_local=True, description=f"{scene} ({local})")
    if stream_url:
        return VideoSource(
            location=stream_url,
            is_local=False,
            description=f"the stream of {scene} ({redact_url(stream_url)})",
        )
    raise VideoError(f"{scene}: file not readable locally and no stream URL")
