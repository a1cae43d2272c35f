"""The manifest's `ui:` lists exactly the UI files on disk, in a load order that works."""

from __future__ import annotations

from pathlib import Path

import yaml

PLUGIN = Path(__file__).resolve().parents[2] / "plugin"


def test_manifest_lists_every_ui_file_in_order() -> None:
    manifest = yaml.safe_load((PLUGIN / "stash-sense.yml").read_text(encoding="utf-8"))
    ui = manifest["ui"]
    # Stash parses the manifest strictly: only these keys exist under ui.
    assert set(ui) <= {"javascript", "css", "requires", "assets", "csp"}
    assert set(ui["csp"]) <= {"script-src", "style-src", "connect-src"}
    listed = ui["javascript"]
    on_disk = sorted(p.relative_to(PLUGIN).as_posix() for p in (PLUGIN / "ui").rglob("*.js"))
    assert sorted(listed) == on_disk
    assert len(set(listed)) == len(listed)
    # The namespace comes first, main (which registers everything) last, and the shared
    # core before any page that uses it.
    assert listed[0] == "ui/core/namespace.js" and listed[-1] == "ui/main.js"
    last_core = max(i for i, path in enumerate(listed) if path.startswith("ui/core/"))
    first_page = min(i for i, path in enumerate(listed) if not path.startswith("ui/core/"))
    assert last_core < first_page
    css = sorted(p.relative_to(PLUGIN).as_posix() for p in (PLUGIN / "ui").rglob("*.css"))
    assert sorted(ui["css"]) == css
    # The daemon's packager fills connect-src; the source tree leaves it empty.
    assert ui["csp"]["connect-src"] == []


def test_every_ui_file_adds_to_the_one_namespace() -> None:
    for path in (PLUGIN / "ui").rglob("*.js"):
        text = path.read_text(encoding="utf-8")
        assert text.startswith("//"), f"{path.name}: start with a comment saying what it is"
        assert "window.StashSense" in text, f"{path.name}: add to window.StashSense"
        assert "dangerouslySetInnerHTML" not in text and "innerHTML" not in text, path.name
