"""Find a release to install: the GitHub releases API, an http(s) zip, or a local zip or folder."""

from __future__ import annotations

import asyncio
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from stash_sense.facedb.layout import FaceDbError, check_version
from stash_sense.faces.database import MANIFEST

GITHUB_PREFIX = "github:"


@dataclass(frozen=True)
class Offer:
    """One installable release: where it is and what is known before fetching it."""

    location: str  # an http(s) URL or a local path (zip or folder)
    version: str | None = None  # None: only known once unpacked (a bare zip URL)
    size: int | None = None  # zip size in bytes, when known
    name: str | None = None
    published_at: str | None = None

    @property
    def is_remote(self) -> bool:
        """Tell whether the release must be downloaded."""
        return urlsplit(self.location).scheme in ("http", "https")

    def json(self) -> dict[str, Any]:
        """Describe the offer for the API."""
        return {
            "version": self.version,
            "location": self.location,
            "size_bytes": self.size,
            "name": self.name,
            "published_at": self.published_at,
        }


def _is_url(text: str) -> bool:
    return urlsplit(text).scheme in ("http", "https")


async def find_offer(
    source: str,
    *,
    version: str | None = None,
    github_api_url: str = "https://api.github.com",
    session: aiohttp.ClientSession,
) -> Offer:
    """Resolve `source` (and an optional wanted version) to one release; raise FaceDbError."""
    source = source.strip()
    if source.startswith(GITHUB_PREFIX):
        return await _github_offer(
            source.removeprefix(GITHUB_PREFIX).strip("/"), version, github_api_url, session
        )
    if version is not None:
        raise FaceDbError(f"a version can only be chosen with a github: source, not {source}")
    if _is_url(source):
        return Offer(location=source, name=Path(urlsplit(source).path).name or None)
    return await asyncio.to_thread(_local_offer, source)


def _local_offer(source: str) -> Offer:
    """Describe a local zip or folder (reads its manifest)."""
    path = Path(source).expanduser()
    if not path.exists():
        raise FaceDbError(f"release source {path} does not exist")
    return Offer(location=str(path.resolve()), version=local_version(path), name=path.name)


async def _github_offer(
    repo: str, version: str | None, api_url: str, session: aiohttp.ClientSession
) -> Offer:
    """Ask the GitHub releases API for the latest release (or tag v<version>)."""
    if repo.count("/") != 1 or not all(repo.split("/")):
        raise FaceDbError(f"github source must be github:<owner>/<repo>, not github:{repo}")
    tail = "latest" if version is None else f"tags/v{check_version(version)}"
    url = f"{api_url.rstrip('/')}/repos/{repo}/releases/{tail}"
    headers = {"Accept": "application/vnd.github+json"}
    try:
        async with session.get(url, headers=headers) as response:
            if response.status == 404:
                wanted = "no release" if version is None else f"no release v{version}"
                raise FaceDbError(f"{wanted} found in {repo}")
            if response.status != 200:
                raise FaceDbError(f"GitHub answered HTTP {response.status} for {url}")
            release = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as err:
        raise FaceDbError(f"cannot ask GitHub for releases of {repo}: {_describe(err)}") from err
    return _offer_from_release(repo, release)


def _offer_from_release(repo: str, release: Any) -> Offer:
    """Pick the first .zip asset of a GitHub release document."""
    if not isinstance(release, dict):
        raise FaceDbError(f"GitHub's release document for {repo} is not an object")
    tag = release.get("tag_name")
    if not isinstance(tag, str) or not tag:
        raise FaceDbError(f"the latest release of {repo} has no tag")
    assets = release.get("assets") or []
    for asset in assets if isinstance(assets, list) else []:
        if not isinstance(asset, dict):
            continue
        name, url = asset.get("name"), asset.get("browser_download_url")
        if isinstance(name, str) and name.endswith(".zip") and isinstance(url, str):
            size = asset.get("size")
            published = release.get("published_at")
            return Offer(
                location=url,
                version=check_version(tag.removeprefix("v")),
                size=size if isinstance(size, int) and size >= 0 else None,
                name=name,
                published_at=published if isinstance(published, str) else None,
            )
    raise FaceDbError(f"release {tag} of {repo} has no .zip asset")


def local_version(path: Path) -> str | None:
    """Read the version from a local release folder or zip's manifest, if it has one."""
    try:
        if path.is_dir():
            manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        else:
            with zipfile.ZipFile(path) as archive:
                names = [n for n in archive.namelist() if n.rsplit("/", 1)[-1] == MANIFEST]
                if not names:
                    return None
                manifest = json.loads(archive.read(min(names, key=len)))
    except (OSError, ValueError, zipfile.BadZipFile, KeyError):
        return None
    version = manifest.get("version") if isinstance(manifest, dict) else None
    return version if isinstance(version, str) and version else None


def newer(latest: str | None, current: str | None) -> bool | None:
    """Tell whether `latest` is newer than `current` (YYYY.MM.DD compares as text)."""
    if latest is None:
        return None
    return current is None or latest > current


def _describe(err: BaseException) -> str:
    """Name an error in a few words (TimeoutError has no message)."""
    text = " ".join(str(err).split())
    return text or type(err).__name__
