"""Build the Stash plugin package (zip + index entry) from the `plugin/` folder."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

PLUGIN_ID = "stash-sense"
MANIFEST = f"{PLUGIN_ID}.yml"
ZIP_NAME = f"{PLUGIN_ID}.zip"
# The placeholder namespace.js carries in the source tree; the package bakes the version in.
VERSION_MARKER = "@STASH_SENSE_VERSION@"
CONNECT_SRC_LINE = re.compile(r"^(\s*connect-src:)\s*\[\]\s*(#.*)?$", re.MULTILINE)
VERSION_LINE = re.compile(r"^version:.*$", re.MULTILINE)
# Fixed entry times keep the zip's bytes, and so its sha256, a function of content alone.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_SKIP_NAMES = {"__pycache__", "README.md"}


class PluginSourceMissing(Exception):
    """The `plugin/` folder the package is built from cannot be found."""


@dataclass(frozen=True)
class PluginPackage:
    """One built package: its zip and what the index says about it."""

    version: str
    zip_bytes: bytes
    sha256: str


def find_plugin_dir() -> Path:
    """Return the `plugin/` folder: beside the source tree, else in the working directory."""
    candidates = [
        Path(__file__).resolve().parents[2] / "plugin",
        # The Docker image copies it to /app/plugin, its working directory.
        Path.cwd() / "plugin",
    ]
    for folder in candidates:
        if (folder / MANIFEST).is_file():
            return folder
    raise PluginSourceMissing(f"no {MANIFEST} in {' or '.join(map(str, candidates))}")


def package_files(plugin_dir: Path, *, version: str, public_url: str) -> dict[str, bytes]:
    """Return the package's files by relative path, with version and CSP filled in."""
    files: dict[str, bytes] = {}
    for path in sorted(plugin_dir.rglob("*")):
        relative = path.relative_to(plugin_dir)
        if path.is_dir() or any(p in _SKIP_NAMES or p.startswith(".") for p in relative.parts):
            continue
        files[relative.as_posix()] = path.read_bytes()
    files[MANIFEST] = manifest_for(files[MANIFEST].decode(), version, public_url).encode()
    for name, data in files.items():
        if name.startswith("ui/") and name.endswith(".js"):
            files[name] = data.replace(VERSION_MARKER.encode(), version.encode())
    return files


def manifest_for(text: str, version: str, public_url: str) -> str:
    """Set the manifest's version and put the daemon's URL into `ui.csp.connect-src`."""
    if not CONNECT_SRC_LINE.search(text):
        raise ValueError(f"{MANIFEST} has no empty `connect-src: []` line to fill")
    # JSON strings are valid YAML double-quoted scalars: no quoting rules of our own.
    text = VERSION_LINE.sub(f"version: {json.dumps(version)}", text, count=1)
    return CONNECT_SRC_LINE.sub(lambda m: f"{m.group(1)} [{json.dumps(public_url)}]", text)


def build(plugin_dir: Path, *, version: str, public_url: str) -> PluginPackage:
    """Build the zip (files at its root, as Stash unpacks it into plugins/<id>/)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        files = package_files(plugin_dir, version=version, public_url=public_url)
        for name, data in sorted(files.items()):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    data = buffer.getvalue()
    return PluginPackage(version, data, hashlib.sha256(data).hexdigest())


def package_date(state_file: Path, sha256: str, *, now: datetime | None = None) -> datetime:
    """Return the package's date: unchanged while its sha256 is, else now (and remember it).

    Stash offers an upgrade when the date grows, so the date moves only with the content.
    """
    stored: dict[str, str] = {}
    if state_file.is_file():
        try:
            loaded = json.loads(state_file.read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                stored = {str(k): str(v) for k, v in loaded.items()}
        except (OSError, ValueError):
            stored = {}
    if stored.get("sha256") == sha256 and "date" in stored:
        try:
            return datetime.fromisoformat(stored["date"])
        except ValueError:
            pass
    moment = (now or datetime.now(UTC)).replace(microsecond=0)
    try:
        previous = datetime.fromisoformat(stored["date"]) if "date" in stored else None
    except ValueError:
        previous = None
    if previous is not None and moment <= previous:
        # Never repeat or go back: a clock set back must not hide the new package.
        moment = previous + timedelta(seconds=1)
    state_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = state_file.with_suffix(".tmp")
    tmp.write_text(json.dumps({"sha256": sha256, "date": moment.isoformat()}), encoding="utf-8")
    os.replace(tmp, state_file)
    return moment


def index_yaml(package: PluginPackage, date: datetime, name: str = "Stash Sense") -> str:
    """Return the source's `index.yml`: a YAML list with this one package."""
    fields = {
        "id": PLUGIN_ID,
        "name": name,
        "version": package.version,
        "date": date.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "path": ZIP_NAME,
        "sha256": package.sha256,
    }
    lines = [
        f"{'- ' if i == 0 else '  '}{key}: {json.dumps(value)}"
        for i, (key, value) in enumerate(fields.items())
    ]
    lines += ["  requires: []", "  metadata: {}"]
    return "\n".join(lines) + "\n"
