"""Every API route is documented in docs/api.md."""

from __future__ import annotations

from pathlib import Path

from stash_sense.config import Config
from stash_sense.daemon import build_app

ROOT = Path(__file__).resolve().parents[1]


def test_every_route_is_in_the_api_docs() -> None:
    doc = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    app = build_app(Config(), "token")
    missing = []
    for route in app.router.routes():
        if route.method == "HEAD" or route.resource is None:
            continue
        info = route.resource.get_info()
        path = info.get("path") or info.get("formatter")
        if f"{route.method} {path}" not in doc:
            missing.append(f"{route.method} {path}")
    assert not missing, f"undocumented routes: {missing}"
