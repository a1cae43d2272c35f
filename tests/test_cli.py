"""The command line's papercuts: analyzer names, --json errors, whole ids, scene ids."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from stash_sense.analyzers.registry import analyzer_classes
from stash_sense.cli import main
from stash_sense.evaluate.report import render_table as render_report
from stash_sense.faces.result import MatchInfo, PersonResult, SceneResult
from stash_sense.identify.commands import render_table

LONG_ID = "stashdb.org:0f3a1c2e-9b7d-4e51-a8c6-2d4f6b8e0a13"


@pytest.fixture
def no_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty folder: no config file, no models, no face database."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STASH_SENSE_PATHS__DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STASH_SENSE_STASH__URL", "http://127.0.0.1:9")
    return tmp_path


def test_analyze_help_lists_the_analyzer_names(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["analyze", "-h"])
    assert info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    names = [cls.name for cls in analyzer_classes()]
    assert names
    assert all(name in out for name in names), out


def test_unknown_analyzer_error_lists_the_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["analyze", "duplicate_perfromers"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    names = ", ".join(cls.name for cls in analyzer_classes())
    assert line == f"error: no analyzer named 'duplicate_perfromers'; choose from {names}"
    assert not (tmp_path / "data").exists()


def test_config_check_does_not_import_the_analyzers(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from stash_sense.cli import main\n"
        "code = main(['config', 'check'])\n"
        "print(sorted(m for m in sys.modules if m.startswith('stash_sense.analyzers')))\n"
        "sys.exit(code)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("scene_id", ["0", "-4", "abc"])
def test_identify_rejects_a_non_positive_scene_id(
    scene_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["identify", scene_id])
    assert info.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.endswith(
        f"argument scene_id: scene id must be a positive integer, got '{scene_id}'"
    )


def test_identify_json_usage_error_is_json_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["identify", "0", "--json"])
    assert info.value.code == 2
    captured = capsys.readouterr()
    assert "positive integer" in json.loads(captured.out)["error"]
    assert captured.err == ""


@pytest.mark.parametrize(
    "argv",
    [
        ["identify", "5", "--json"],
        ["identify", "--file", "nowhere.mp4", "--json"],
        ["evaluate", "--json"],
        ["evaluate", "--scenes", "0", "--json"],
    ],
)
def test_json_errors_are_json_on_stdout_and_fail(
    argv: list[str], no_models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(argv)
    assert code != 0
    captured = capsys.readouterr()
    error = json.loads(captured.out)["error"]
    assert error and "\n" not in error
    assert not any(line.startswith("error:") for line in captured.err.splitlines())


def test_json_config_errors_are_json_on_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[server]\nport = 0\n[log]\nlevel = 'x'\n")
    for command in ("identify", "evaluate"):
        assert main([command, "--config", str(bad), "--json", *(["7"] * (command == "identify"))])
        captured = capsys.readouterr()
        data = json.loads(captured.out)
        assert len(data["problems"]) == 2
        assert data["error"].startswith("config error: ")
        assert captured.err == ""


def _match(universal_id: str, name: str) -> MatchInfo:
    endpoint, stash_id = universal_id.split(":", 1)
    return MatchInfo(universal_id, endpoint, stash_id, name, 0.91, 0.3, 7)


def test_identify_table_shows_whole_ids() -> None:
    person = PersonResult(0, 7, 7, _match(LONG_ID, "Alexandra Longname-Example"), [], "", [])
    result = SceneResult("clip.mp4", 10.0, 10, 10, 7, 7, [person], {}, "db", "m", "x", {})
    table = render_table(result)
    row = next(line for line in table.splitlines() if LONG_ID in line)
    assert f"Alexandra Longname-Example ({LONG_ID}) " in row
    header = next(line for line in table.splitlines() if "performer" in line)
    assert header.index("confidence") < row.index("0.91") + 4


def test_evaluation_table_shows_whole_ids() -> None:
    other = "fansdb.xxx:7c1d2e3f-aaaa-bbbb-cccc-1234567890ab"
    figures: dict[str, Any] = {"precision": 1.0, "recall": 0.5, "recall_seen": 0.5}
    report: dict[str, Any] = {
        "id": 3,
        "state": "finished",
        "scenes": {"evaluated": 1, "sampled": 1, "cost_ms_per_scene": 10, "skipped_reasons": {}},
        "settings": {"auto_min_frames": 3, "target_precision": 0.95},
        "auto_threshold": 0.7,
        "variants": [
            {"name": "m" * 50, "auto": figures, "proposed": figures, "recommendation": None}
        ],
        "per_scene": [{"scene_id": 12, "hits": [LONG_ID], "misses": [other], "false_alarms": []}],
    }
    table = render_report(report)
    assert "m" * 50 + " " in table
    row = next(line for line in table.splitlines() if line.lstrip().startswith("12 "))
    assert f"{LONG_ID} {other} -" in " ".join(row.split())
