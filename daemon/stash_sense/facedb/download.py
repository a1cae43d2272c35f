"""Download a file with HTTP Range resume: a `.part` file survives failed tries and restarts."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO

import aiohttp

from stash_sense.config import FaceDbConfig
from stash_sense.facedb.layout import FaceDbError

_LOGGER = logging.getLogger(__name__)
_CHUNK = 64 * 1024
_FLUSH = 1 << 20  # bytes gathered before one write in a thread
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_MB = 1_000_000

Progress = Callable[[int, int | None], Awaitable[None]]  # bytes done, total (None: unknown)
FreeSpace = Callable[[Path], int]  # free bytes on the filesystem holding a folder
Needed = Callable[[int], int]  # zip size -> bytes that must be free for the rest of the install


def client_session(facedb: FaceDbConfig) -> aiohttp.ClientSession:
    """Open an HTTP session with `[facedb]`'s connect and read timeouts."""
    seconds = facedb.timeout_seconds
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(sock_connect=seconds, sock_read=seconds)
    )


async def download(
    url: str,
    part: Path,
    facedb: FaceDbConfig,
    *,
    retry_delay: float,
    free_space: FreeSpace,
    progress: Progress,
    needed: Needed = lambda size: 0,
) -> Path:
    """Fetch `url` into `part` with `[facedb]`'s tries and timeouts; return the file."""
    async with client_session(facedb) as session:
        downloader = Downloader(
            session,
            attempts=facedb.download_attempts,
            retry_delay=retry_delay,
            free_space=free_space,
            progress=progress,
        )
        return await downloader.fetch(url, part, needed=needed)


def disk_free(folder: Path) -> int:
    """Return the free bytes where `folder` lives (the real probe)."""
    return shutil.disk_usage(folder).free


async def _no_progress(done: int, total: int | None) -> None:
    return None


def check_space(folder: Path, needed: int, free_space: FreeSpace, what: str) -> None:
    """Raise FaceDbError unless `needed` bytes are free in `folder`."""
    free = free_space(folder)
    if free < needed:
        raise FaceDbError(
            f"not enough disk space in {folder} for {what}: need {_mb(needed)}, {_mb(free)} free"
        )


def _mb(count: int) -> str:
    return f"{max(count, 0) / _MB:.1f} MB"


class Downloader:
    """Fetch one URL into `part`, resuming what earlier tries left there."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        attempts: int = 3,
        retry_delay: float = 1.0,
        free_space: FreeSpace = disk_free,
        progress: Progress = _no_progress,
    ) -> None:
        self._session = session
        self._attempts = max(attempts, 1)
        self._retry_delay = retry_delay
        self._free_space = free_space
        self._progress = progress

    async def fetch(self, url: str, part: Path, *, needed: Needed = lambda size: 0) -> Path:
        """Download `url` to `part` and return it complete; raise FaceDbError with one line."""
        part.parent.mkdir(parents=True, exist_ok=True)
        meta = part.with_name(part.name + ".json")
        if (await asyncio.to_thread(_read_meta, meta)).get("url") != url:
            # a partial file of another URL must never be continued
            await asyncio.to_thread(part.unlink, True)
        reason = ""
        for attempt in range(1, self._attempts + 1):
            try:
                if await self._try(url, part, meta, needed):
                    meta.unlink(missing_ok=True)
                    return part
                reason = "the server sent fewer bytes than it announced"
            except FaceDbError:
                raise
            except (aiohttp.ClientError, TimeoutError, OSError) as err:
                reason = " ".join(str(err).split()) or type(err).__name__
            _LOGGER.warning("Download of %s interrupted (try %d): %s", url, attempt, reason)
            if attempt < self._attempts:
                await asyncio.sleep(self._retry_delay * attempt)
        have = await asyncio.to_thread(_size, part)
        raise FaceDbError(
            f"download of {url} stopped after {_mb(have)} ({reason}); "
            "the current database is unchanged, run the install again to resume"
        )

    async def _try(self, url: str, part: Path, meta: Path, needed: Needed) -> bool:
        """Make one request; return True when the file is complete."""
        have = await asyncio.to_thread(_size, part)
        known = await asyncio.to_thread(_read_meta, meta)
        headers = {}
        etag = known.get("etag")
        if have:
            headers["Range"] = f"bytes={have}-"
            if isinstance(etag, str):
                headers["If-Range"] = etag
        async with self._session.get(url, headers=headers) as response:
            if response.status == 416 and have and known.get("size") == have:
                return True  # the previous try got everything
            if response.status == 206:
                start, total = _content_range(response.headers.get("Content-Range", ""))
                if start != have:
                    raise aiohttp.ClientPayloadError(
                        f"server resumed at byte {start}, expected {have}"
                    )
            elif response.status == 200:
                have = 0  # no resume: start over
                length = response.content_length
                total = length if length is not None else None
            elif response.status == 416:
                # the partial file no longer fits the server's copy
                await asyncio.to_thread(part.unlink, True)
                raise aiohttp.ClientPayloadError("the server refused to resume; starting over")
            elif response.status >= 500:
                raise aiohttp.ClientPayloadError(f"HTTP {response.status}")
            else:
                raise FaceDbError(f"download of {url} failed: HTTP {response.status}")
            await asyncio.to_thread(_write_meta, meta, url, total, response.headers.get("ETag"))
            if total is not None:
                check_space(
                    part.parent, total - have + needed(total), self._free_space, "this release"
                )
            await self._progress(have, total)
            done = await self._stream(response, part, append=have > 0, have=have, total=total)
        return total is None or done == total

    async def _stream(
        self,
        response: aiohttp.ClientResponse,
        part: Path,
        *,
        append: bool,
        have: int,
        total: int | None,
    ) -> int:
        """Write the body to `part` in 1 MiB writes off the loop; return its final size."""
        handle: IO[bytes] = await asyncio.to_thread(part.open, "ab" if append else "wb")
        buffer = bytearray()
        done = have
        try:
            async for chunk in response.content.iter_chunked(_CHUNK):
                buffer += chunk
                done += len(chunk)
                if len(buffer) >= _FLUSH:
                    await asyncio.to_thread(handle.write, bytes(buffer))
                    buffer.clear()
                    await self._progress(done, total)
        finally:
            # keep what arrived: the next try resumes from it
            if buffer:
                await asyncio.to_thread(handle.write, bytes(buffer))
            await asyncio.to_thread(handle.close)
        await self._progress(done, total)
        return done


def _content_range(value: str) -> tuple[int, int | None]:
    """Parse "bytes start-end/total" into (start, total)."""
    match = _CONTENT_RANGE.fullmatch(value.strip())
    if match is None:
        raise aiohttp.ClientPayloadError(f"bad Content-Range {value!r}")
    total = None if match.group(3) == "*" else int(match.group(3))
    return int(match.group(1)), total


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _read_meta(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_meta(path: Path, url: str, size: int | None, etag: str | None) -> None:
    path.write_text(json.dumps({"url": url, "size": size, "etag": etag}), encoding="utf-8")
