"""A release server on loopback: GitHub's releases API shape, zips with Range, injectable faults."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

REPO = "stash-sense/data"
_RANGE = re.compile(r"bytes=(\d+)-")


@dataclass
class ReleaseServer:
    """Serves files by name; `cut_after` bytes ends a body early (`cuts` times, -1: always)."""

    url: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    releases: list[tuple[str, str]] = field(default_factory=list)  # (tag, asset name), oldest first
    cut_after: int | None = None
    cuts: int = 0
    ranges: list[str | None] = field(default_factory=list)  # the Range header of each file GET
    honour_range: bool = True

    def add(self, name: str, path: Path, tag: str | None = None) -> str:
        """Serve `path` as /files/<name> (a release asset when `tag` is given); return its URL."""
        self.files[name] = path.read_bytes()
        if tag is not None:
            self.releases.append((tag, name))
        return f"{self.url}/files/{name}"

    def asset(self, tag: str, name: str) -> dict[str, object]:
        return {
            "tag_name": tag,
            "published_at": "2026-11-01T12:00:00Z",
            "assets": [
                {"name": "notes.txt", "browser_download_url": f"{self.url}/files/notes.txt"},
                {
                    "name": name,
                    "size": len(self.files[name]),
                    "browser_download_url": f"{self.url}/files/{name}",
                },
            ],
        }

    async def latest(self, request: web.Request) -> web.Response:
        if not self.releases:
            return web.json_response({"message": "Not Found"}, status=404)
        return web.json_response(self.asset(*self.releases[-1]))

    async def by_tag(self, request: web.Request) -> web.Response:
        for tag, name in self.releases:
            if tag == request.match_info["tag"]:
                return web.json_response(self.asset(tag, name))
        return web.json_response({"message": "Not Found"}, status=404)

    async def file(self, request: web.Request) -> web.StreamResponse:
        body = self.files.get(request.match_info["name"])
        if body is None:
            raise web.HTTPNotFound()
        header = request.headers.get("Range")
        self.ranges.append(header)
        start = 0
        match = _RANGE.fullmatch(header or "")
        response = web.StreamResponse(headers={"ETag": '"v1"', "Accept-Ranges": "bytes"})
        if match and self.honour_range:
            start = int(match.group(1))
            if start >= len(body):
                return web.Response(status=416)
            response.set_status(206)
            response.headers["Content-Range"] = f"bytes {start}-{len(body) - 1}/{len(body)}"
        response.content_length = len(body) - start
        await response.prepare(request)
        chunk = body[start:]
        if self.cut_after is not None and self.cuts != 0:
            self.cuts -= 1
            await response.write(chunk[: self.cut_after])
            await asyncio.sleep(0.05)  # let the bytes arrive before the connection drops
            # the server dies mid-body: the client sees fewer bytes than announced
            assert request.transport is not None
            request.transport.close()
            return response
        await response.write(chunk)
        await response.write_eof()
        return response


@pytest.fixture
async def release_server() -> AsyncIterator[ReleaseServer]:
    """Run a ReleaseServer on 127.0.0.1 for one test."""
    state = ReleaseServer()
    app = web.Application()
    app.router.add_get(f"/repos/{REPO}/releases/latest", state.latest)
    app.router.add_get(f"/repos/{REPO}/releases/tags/{{tag}}", state.by_tag)
    app.router.add_get("/files/{name}", state.file)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    state.url = str(server.make_url("")).rstrip("/")
    try:
        yield state
    finally:
        await server.close()
