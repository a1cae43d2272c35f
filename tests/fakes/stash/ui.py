"""The page Stash serves its UI on, for browser tests: shell, libraries, plugin, Stash's CSP."""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from aiohttp import web

HOST_DIR = Path(__file__).resolve().parents[2] / "browser" / "host"
PLUGIN_ID = "stash-sense"

# The libraries Stash hands to plugins, as UMD builds from the host's node_modules.
LIBRARIES = (
    "react/umd/react.development.js",
    "react-dom/umd/react-dom.development.js",
    "react-bootstrap/dist/react-bootstrap.js",
    "react-router-dom/umd/react-router-dom.js",
    "react-intl/react-intl.iife.js",
    "@fortawesome/free-solid-svg-icons/index.js",
    "mousetrap/mousetrap.js",
)


@dataclass
class UiHost:
    """What the fake serves at `/`: the shell page, loading the plugin's files in order."""

    plugin_files: Mapping[str, bytes]
    host_dir: Path = HOST_DIR
    extra_connect_src: list[str] = field(default_factory=list)

    @property
    def manifest(self) -> dict[str, object]:
        """Return the plugin manifest, parsed."""
        loaded = yaml.safe_load(self.plugin_files[f"{PLUGIN_ID}.yml"])
        assert isinstance(loaded, dict)
        return loaded

    def _ui(self) -> dict[str, object]:
        ui = self.manifest.get("ui") or {}
        assert isinstance(ui, dict)
        return ui

    def csp(self) -> str:
        """Return the page CSP the way Stash builds it, with the plugin's connect-src."""
        csp = self._ui().get("csp") or {}
        assert isinstance(csp, dict)
        connect = [*(csp.get("connect-src") or []), *self.extra_connect_src]
        return "; ".join(
            [
                "default-src data: 'self' 'unsafe-inline'",
                "connect-src data: 'self' ws: wss: " + " ".join(connect),
                "img-src data: *",
                "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
                "style-src 'self' 'unsafe-inline'",
                "media-src blob: 'self'",
                "worker-src blob:",
                "child-src 'none'",
                "object-src 'none'",
                "form-action 'self'",
            ]
        )

    def page(self) -> str:
        """Return the shell HTML: libraries, PluginApi, plugin files, then the shell app."""
        ui = self._ui()
        scripts = [f"/host/node_modules/{lib}" for lib in LIBRARIES]
        scripts.append("/host/pluginapi.js")
        scripts += [f"/plugin/{PLUGIN_ID}/{path}" for path in _strings(ui.get("javascript"))]
        scripts.append("/host/shell.js")
        styles = ["/host/node_modules/bootstrap/dist/css/bootstrap.min.css", "/host/shell.css"]
        styles += [f"/plugin/{PLUGIN_ID}/{path}" for path in _strings(ui.get("css"))]
        head = [f'<link rel="stylesheet" href="{s}">' for s in styles]
        head += [f'<script src="{s}"></script>' for s in scripts]
        body = '<body><div id="root"></div></body>'
        return (
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Stash</title>'
            + "".join(head)
            + "</head>"
            + body
            + "</html>"
        )

    async def serve_page(self, _request: web.Request) -> web.StreamResponse:
        """Answer an HTML route: Stash sets its CSP on these."""
        return web.Response(
            text=self.page(),
            content_type="text/html",
            headers={"Content-Security-Policy": self.csp(), "Cache-Control": "no-store"},
        )

    async def serve_host_file(self, request: web.Request) -> web.StreamResponse:
        """Serve a file of the host folder (libraries, PluginApi stand-in, shell)."""
        root = self.host_dir.resolve()
        path = (root / request.match_info["path"]).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            raise web.HTTPNotFound
        return web.FileResponse(path)

    async def serve_plugin_file(self, request: web.Request) -> web.StreamResponse:
        """Serve one of the plugin's files, as Stash serves an installed plugin's UI."""
        data = self.plugin_files.get(request.match_info["path"])
        if data is None:
            raise web.HTTPNotFound
        kind = mimetypes.guess_type(request.match_info["path"])[0] or "application/octet-stream"
        return web.Response(body=data, content_type=kind, headers={"Cache-Control": "no-store"})


def _strings(value: object) -> list[str]:
    """Return a manifest list as strings (empty when absent)."""
    return [str(v) for v in value] if isinstance(value, list) else []
