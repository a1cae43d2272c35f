"""The plugin source: an index Stash's package manager reads and the zip it points at."""

from __future__ import annotations

import hashlib
import io
import shutil
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from aiohttp.test_utils import TestClient

from stash_sense import __version__
from stash_sense.api.plugin_source import public_url
from stash_sense.config import ServerConfig
from stash_sense.daemon import build_app
from stash_sense.plugin_package import build, find_plugin_dir, package_date

from ..helpers import TOKEN, daemon_config


async def _client(aiohttp_client: Any, tmp_path: Path, **server: Any) -> TestClient[Any, Any]:
    app = build_app(daemon_config(tmp_path / "data", server=server), TOKEN)
    client: TestClient[Any, Any] = await aiohttp_client(app)
    return client


async def test_index_and_zip_install_like_stash_does(aiohttp_client: Any, tmp_path: Path) -> None:
    client = await _client(aiohttp_client, tmp_path, public_url="http://sense.lan:6960/")
    resp = await client.get("/plugin/index.yml")  # no token: the source holds no secret
    assert resp.status == 200
    index = yaml.safe_load(await resp.text())
    assert isinstance(index, list) and len(index) == 1
    package = index[0]
    assert set(package) == {
        "id",
        "name",
        "version",
        "date",
        "path",
        "sha256",
        "requires",
        "metadata",
    }
    assert package["id"] == "stash-sense" and package["version"] == __version__
    assert package["requires"] == [] and package["metadata"] == {}
    datetime.strptime(package["date"], "%Y-%m-%d %H:%M:%S")  # Stash's layout, UTC

    zipped = await client.get(f"/plugin/{package['path']}")
    assert zipped.status == 200
    data = await zipped.read()
    assert hashlib.sha256(data).hexdigest() == package["sha256"]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        manifest = yaml.safe_load(archive.read("stash-sense.yml"))
        namespace = archive.read("ui/core/namespace.js").decode()
    assert "stash_sense_hook.py" in names and "README.md" not in names
    assert manifest["version"] == __version__
    assert manifest["ui"]["csp"] == {"connect-src": ["http://sense.lan:6960"]}
    assert all(path in names for path in manifest["ui"]["javascript"] + manifest["ui"]["css"])
    assert f'S.version = "{__version__}"' in namespace

    head = await client.head("/plugin/index.yml")
    assert head.status == 200 and head.headers["Last-Modified"] == resp.headers["Last-Modified"]


async def test_the_date_moves_only_when_the_package_changes(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    client = await _client(aiohttp_client, tmp_path)
    first = yaml.safe_load(await (await client.get("/plugin/index.yml")).text())[0]
    again = yaml.safe_load(await (await client.get("/plugin/index.yml")).text())[0]
    assert again == first  # same files: same bytes, same sha256, same date
    # A daemon with another public URL packages a different manifest: a new, later date.
    other = await _client(aiohttp_client, tmp_path, public_url="http://other:1")
    changed = yaml.safe_load(await (await other.get("/plugin/index.yml")).text())[0]
    assert changed["sha256"] != first["sha256"]
    assert changed["date"] > first["date"]


def test_package_date_is_stable_and_never_goes_back(tmp_path: Path) -> None:
    state = tmp_path / "plugin-package.json"
    t0 = datetime(2026, 12, 3, 14, 0, 0, tzinfo=UTC)
    assert package_date(state, "a", now=t0) == t0
    assert package_date(state, "a", now=t0 + timedelta(hours=5)) == t0
    # New content with the clock set back still gets a later date.
    assert package_date(state, "b", now=t0 - timedelta(days=1)) == t0 + timedelta(seconds=1)
    assert package_date(state, "b", now=t0 + timedelta(days=2)) == t0 + timedelta(seconds=1)
    state.write_text("not json")
    assert package_date(state, "b", now=t0 + timedelta(days=3)) == t0 + timedelta(days=3)


def test_zip_bytes_depend_on_content_only(tmp_path: Path) -> None:
    copy = tmp_path / "plugin"
    shutil.copytree(find_plugin_dir(), copy)
    first = build(copy, version="1.2.3", public_url="http://a:1")
    (copy / "stash-sense.yml").touch()  # a new mtime alone changes nothing
    assert build(copy, version="1.2.3", public_url="http://a:1").sha256 == first.sha256
    (copy / "ui" / "stash-sense.css").write_text("/* changed */\n")
    assert build(copy, version="1.2.3", public_url="http://a:1").sha256 != first.sha256


def test_public_url_defaults_to_host_and_port() -> None:
    assert public_url(ServerConfig(host="127.0.0.1", port=6960)) == "http://127.0.0.1:6960"
    assert public_url(ServerConfig(host="0.0.0.0", port=7000)) == "http://127.0.0.1:7000"
    assert public_url(ServerConfig(public_url="https://sense.example/")) == "https://sense.example"
