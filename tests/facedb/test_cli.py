"""`stash-sense facedb …` and `models install`, in-process and as a subprocess."""

from __future__ import annotations

import asyncio
import io
import shutil
import sys
import zipfile
from pathlib import Path

import pytest

from stash_sense.cli import main
from stash_sense.facedb.command import TerminalProgress
from stash_sense.faces.pipeline import MODEL_FILES
from tests.facedb.releases import release_zip
from tests.facedb.server import REPO, ReleaseServer, release_server
from tests.faces.kit import Kit

__all__ = ["release_server"]
ROOT = Path(__file__).resolve().parents[2]


def write_config(tmp_path: Path, api_url: str = "http://127.0.0.1:9") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[paths]
data_dir = "{tmp_path / "data"}"

[faces]
database_dir = "{tmp_path / "face-db"}"
models_dir = "{tmp_path / "models"}"

[facedb]
source = "github:{REPO}"
github_api_url = "{api_url}"
download_attempts = 1
""",
        encoding="utf-8",
    )
    return path


def test_install_status_and_rollback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = str(write_config(tmp_path))
    first, second = release_zip(tmp_path, "2026.10.01"), release_zip(tmp_path, "2026.11.01")
    assert main(["facedb", "rollback", "--config", config]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: no previous release") and "\n" not in err

    assert main(["facedb", "install", "--from", str(first), "--config", config]) == 0
    assert "face database 2026.10.01 installed" in capsys.readouterr().out
    assert main(["facedb", "install", "--from", str(second), "--config", config]) == 0
    assert "rollback returns to 2026.10.01" in capsys.readouterr().out
    assert main(["facedb", "status", "--config", config]) == 0
    out = capsys.readouterr().out
    assert "installed: 2026.11.01" in out and "previous:  2026.10.01" in out

    assert main(["facedb", "rollback", "--config", config]) == 0
    assert "2026.10.01 is current again" in capsys.readouterr().out
    assert main(["facedb", "install", "--from", str(first), "--config", config]) == 0
    assert "already installed" in capsys.readouterr().out


def test_corrupt_release_fails_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(write_config(tmp_path))
    assert (
        main(
            [
                "facedb",
                "install",
                "--from",
                str(release_zip(tmp_path, "2026.10.01")),
                "--config",
                config,
            ]
        )
        == 0
    )
    bad = release_zip(tmp_path, "2026.11.01", bad_checksum="faces.json")
    capsys.readouterr()
    assert main(["facedb", "install", "--from", str(bad), "--config", config]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert all(line.endswith("…") for line in err[:-1])  # stage lines, then one error line
    assert err[-1].startswith("error: the release is not usable") and "faces.json fails" in err[-1]
    assert main(["facedb", "status", "--config", config]) == 0
    assert "installed: 2026.10.01" in capsys.readouterr().out


async def test_update_from_github_in_a_subprocess(
    tmp_path: Path, release_server: ReleaseServer
) -> None:
    release_server.add("a.zip", release_zip(tmp_path, "2026.10.01"), tag="v2026.10.01")
    config = str(write_config(tmp_path, release_server.url))

    async def run(*args: str) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "stash_sense",
            *args,
            "--config",
            config,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=tmp_path,
        )
        out, err = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode is not None
        return process.returncode, out.decode(), err.decode()

    code, out, err = await run("facedb", "update")
    assert code == 0, err
    assert "face database 2026.10.01 installed" in out
    assert "downloading…" in err and "verifying…" in err  # plain stage lines on a pipe
    code, out, _ = await run("facedb", "update")
    assert (code, out.strip()) == (0, "face database 2026.10.01 is up to date")
    code, _, err = await run("facedb", "install", "2020.01.01")
    assert code == 1 and err.strip() == f"error: no release v2020.01.01 found in {REPO}"


def test_models_install_from_folder_zip_and_broken(
    tmp_path: Path, face_kit: Kit, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(write_config(tmp_path))
    models = tmp_path / "models"
    assert main(["models", "install", "--from", str(face_kit.models_dir), "--config", config]) == 0
    assert sorted(p.name for p in models.iterdir()) == sorted(MODEL_FILES)
    assert (models / "arcface.onnx").read_bytes() == (
        face_kit.models_dir / "arcface.onnx"
    ).read_bytes()

    packed = tmp_path / "models.zip"
    with zipfile.ZipFile(packed, "w") as archive:
        for name in MODEL_FILES:
            archive.write(face_kit.models_dir / name, f"pack/{name}")
    shutil.rmtree(models)
    assert main(["models", "install", "--from", str(packed), "--config", config]) == 0
    assert sorted(p.name for p in models.iterdir()) == sorted(MODEL_FILES)

    broken = tmp_path / "broken"
    shutil.copytree(face_kit.models_dir, broken)
    (broken / "facenet512.onnx").write_bytes(b"not a model")
    capsys.readouterr()
    assert main(["models", "install", "--from", str(broken), "--config", config]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error: the new models do not load") and "nothing was replaced" in err
    good = (face_kit.models_dir / "facenet512.onnx").read_bytes()
    assert (models / "facenet512.onnx").read_bytes() == good
    assert not [p for p in models.iterdir() if p.name.startswith(".staging")]


class Terminal(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


async def test_progress_bar_on_a_terminal() -> None:
    screen = Terminal()
    progress = TerminalProgress(screen)
    await progress("downloading", 0, 4_000_000)
    await progress("downloading", 4_000_000, 4_000_000)
    await progress("verifying", 0, None)
    progress.finish()
    text = screen.getvalue()
    assert "\rdownloading [" + "-" * 30 + "] 0.0/4.0 MB" in text
    assert "\rdownloading [" + "#" * 30 + "] 4.0/4.0 MB\n" in text
    assert "verifying" not in text  # stages without a size draw no bar
