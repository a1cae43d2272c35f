"""Install, update and roll back against a real release server on loopback."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from stash_sense.config import FaceDbConfig, FacesConfig
from stash_sense.facedb.installer import AlreadyInstalled, Installer
from stash_sense.facedb.layout import FaceDbError, Layout, active_database_dir
from stash_sense.faces.database import FaceDatabase
from tests.facedb.releases import release_folder, release_zip, with_symlink, zip_folder
from tests.facedb.server import REPO, ReleaseServer, release_server

__all__ = ["release_server"]  # the fixture, used by name


def make_installer(tmp_path: Path, server: ReleaseServer | None, **options: Any) -> Installer:
    """An installer for tmp_path/face-db whose github source is the loopback server."""
    facedb = FaceDbConfig(
        source=f"github:{REPO}",
        github_api_url=server.url if server else "http://127.0.0.1:9",
        download_attempts=options.pop("attempts", 1),
        timeout_seconds=5,
    )
    faces = FacesConfig(database_dir=str(tmp_path / "face-db"))
    return Installer(faces, facedb, retry_delay=0, **options)


async def install_latest(installer: Installer) -> str:
    return (await installer.install(await installer.offer())).version


def assert_current(tmp_path: Path, version: str) -> None:
    """The pointer selects `version`, and that release loads as the daemon loads it."""
    active = active_database_dir(tmp_path / "face-db")
    assert active == tmp_path / "face-db" / "releases" / version
    assert FaceDatabase.load(active, verify="always").version == version


def leftovers(tmp_path: Path) -> list[Path]:
    staging = tmp_path / "face-db" / "staging"
    return list(staging.iterdir()) if staging.exists() else []


async def test_good_release_from_github_is_installed(
    tmp_path: Path, release_server: ReleaseServer
) -> None:
    release_server.add("db.zip", release_zip(tmp_path, "2026.10.01"), tag="v2026.10.01")
    installer = make_installer(tmp_path, release_server)
    offer = await installer.offer()
    assert offer.version == "2026.10.01"
    installed = await installer.install(offer)
    assert installed.version == "2026.10.01"
    assert installed.previous is None
    assert installed.database.directory == tmp_path / "face-db" / "releases" / "2026.10.01"
    assert_current(tmp_path, "2026.10.01")
    status = installer.status()
    assert status["installed_version"] == "2026.10.01"
    assert status["releases"] == ["2026.10.01"]
    assert not leftovers(tmp_path)
    assert not list((tmp_path / "face-db" / "downloads").iterdir())  # the zip is gone
    with pytest.raises(AlreadyInstalled):
        await install_latest(installer)


async def test_checksum_mismatch_keeps_the_current_release(
    tmp_path: Path, release_server: ReleaseServer
) -> None:
    release_server.add("v1.zip", release_zip(tmp_path, "2026.10.01"), tag="v2026.10.01")
    installer = make_installer(tmp_path, release_server)
    await install_latest(installer)
    bad = release_zip(tmp_path, "2026.11.01", bad_checksum="face_arcface.voy")
    release_server.add("v2.zip", bad, tag="v2026.11.01")
    with pytest.raises(FaceDbError) as caught:
        await install_latest(installer)
    message = str(caught.value)
    assert "face_arcface.voy fails its checksum" in message
    assert "\n" not in message
    assert_current(tmp_path, "2026.10.01")
    assert Layout(tmp_path / "face-db").installed() == ["2026.10.01"]
    assert not leftovers(tmp_path)


async def test_inconsistent_release_is_refused_as_loading_would(
    tmp_path: Path, release_server: ReleaseServer
) -> None:
    # checksums match, but faces.json names more faces than the indices hold
    bad = release_zip(tmp_path, "2026.11.01", extra_faces=3)
    release_server.add("v2.zip", bad, tag="v2026.11.01")
    installer = make_installer(tmp_path, release_server)
    with pytest.raises(FaceDbError, match=r"faces\.json has .* entries but the indices hold"):
        await install_latest(installer)
    assert installer.layout.read_state().current is None


async def test_truncated_download_resumes_with_range(
    tmp_path: Path, release_server: ReleaseServer
) -> None:
    archive = release_zip(tmp_path, "2026.10.01")
    release_server.add("db.zip", archive, tag="v2026.10.01")
    release_server.cut_after, release_server.cuts = 5000, 1
    installer = make_installer(tmp_path, release_server, attempts=2)
    assert await install_latest(installer) == "2026.10.01"
    assert release_server.ranges == [None, "bytes=5000-"]
    assert_current(tmp_path, "2026.10.01")


async def test_server_dying_mid_download_leaves_the_current_release_then_resumes(
    tmp_path: Path, release_server: ReleaseServer
) -> None:
    release_server.add("v1.zip", release_zip(tmp_path, "2026.10.01"), tag="v2026.10.01")
    installer = make_installer(tmp_path, release_server, attempts=2)
    await install_latest(installer)
    release_server.add("v2.zip", release_zip(tmp_path, "2026.11.01"), tag="v2026.11.01")
    release_server.ranges.clear()
    release_server.cut_after, release_server.cuts = 4000, -1  # dies on every try
    with pytest.raises(FaceDbError) as caught:
        await install_latest(installer)
    message = str(caught.value)
    assert message.startswith("download of ") and "stopped after" in message
    assert "run the install again to resume" in message and "\n" not in message
    assert_current(tmp_path, "2026.10.01")
    parts = list((tmp_path / "face-db" / "downloads").glob("*.part"))
    assert len(parts) == 1 and parts[0].stat().st_size == 8000
    assert release_server.ranges == [None, "bytes=4000-"]
    # the server recovers: the next install continues from the kept partial file
    release_server.cuts = 0
    assert await install_latest(installer) == "2026.11.01"
    assert release_server.ranges[-1] == "bytes=8000-"
    assert_current(tmp_path, "2026.11.01")


async def test_server_ignoring_range_restarts_cleanly(
    tmp_path: Path, release_server: ReleaseServer
) -> None:
    release_server.add("db.zip", release_zip(tmp_path, "2026.10.01"), tag="v2026.10.01")
    release_server.cut_after, release_server.cuts = 3000, 1
    release_server.honour_range = False
    installer = make_installer(tmp_path, release_server, attempts=2)
    assert await install_latest(installer) == "2026.10.01"
    assert_current(tmp_path, "2026.10.01")


@pytest.mark.parametrize(
    ("member", "why"),
    [
        ("../escape.txt", "climbs out of the folder"),
        ("sub/../../escape.txt", "climbs out of the folder"),
        ("/etc/escape.txt", "absolute path"),
    ],
)
async def test_path_traversal_member_is_refused(
    tmp_path: Path, release_server: ReleaseServer, member: str, why: str
) -> None:
    folder = release_folder(tmp_path / "src", "2026.10.01")
    archive = zip_folder(folder, tmp_path / "evil.zip", extra={member: b"owned"})
    release_server.add("db.zip", archive, tag="v2026.10.01")
    installer = make_installer(tmp_path, release_server)
    with pytest.raises(FaceDbError, match=why):
        await install_latest(installer)
    assert not (tmp_path / "escape.txt").exists()
    assert not (tmp_path / "face-db" / "escape.txt").exists()
    assert installer.layout.read_state().current is None
    assert not leftovers(tmp_path)


async def test_symlink_member_is_refused(tmp_path: Path) -> None:
    folder = release_folder(tmp_path / "src", "2026.10.01")
    archive = with_symlink(zip_folder(folder, tmp_path / "evil.zip"), "link", "/etc/passwd")
    installer = make_installer(tmp_path, None)
    with pytest.raises(FaceDbError, match="symbolic link"):
        await installer.install(await installer.offer(str(archive)))
    assert not leftovers(tmp_path)


async def test_not_enough_space_stops_before_downloading(
    tmp_path: Path, release_server: ReleaseServer
) -> None:
    archive = release_zip(tmp_path, "2026.10.01")
    release_server.add("db.zip", archive, tag="v2026.10.01")
    probed: list[Path] = []

    def tiny_disk(folder: Path) -> int:
        probed.append(folder)
        return 1000

    installer = make_installer(tmp_path, release_server, free_space=tiny_disk)
    with pytest.raises(FaceDbError, match=r"not enough disk space .* need .* MB, 0.0 MB free"):
        await install_latest(installer)
    assert probed
    parts = list((tmp_path / "face-db" / "downloads").glob("*.part"))
    assert all(p.stat().st_size == 0 for p in parts)
    assert installer.layout.read_state().current is None


async def test_not_enough_space_to_unpack_a_local_zip(tmp_path: Path) -> None:
    archive = release_zip(tmp_path, "2026.10.01")
    installer = make_installer(tmp_path, None, free_space=lambda folder: 10)
    with pytest.raises(FaceDbError, match=r"not enough disk space .* the unpacked release"):
        await installer.install(await installer.offer(str(archive)))
    assert installer.layout.read_state().current is None


async def test_rollback_and_pruning(tmp_path: Path) -> None:
    installer = make_installer(tmp_path, None)
    versions = ["2026.09.01", "2026.10.01", "2026.11.01"]
    zips = {v: release_zip(tmp_path, v) for v in versions}
    with pytest.raises(FaceDbError, match="no previous release"):
        await installer.rollback()
    await installer.install(await installer.offer(str(zips["2026.09.01"])))
    await installer.install(await installer.offer(str(zips["2026.10.01"])))
    back = await installer.rollback()
    assert (back.version, back.previous) == ("2026.09.01", "2026.10.01")
    assert back.database.version == "2026.09.01"
    assert_current(tmp_path, "2026.09.01")
    installed = await installer.install(await installer.offer(str(zips["2026.11.01"])))
    assert (installed.previous, installed.pruned) == ("2026.09.01", ["2026.10.01"])
    assert installer.layout.installed() == ["2026.09.01", "2026.11.01"]
    assert_current(tmp_path, "2026.11.01")


async def test_rollback_refuses_a_damaged_previous_release(tmp_path: Path) -> None:
    installer = make_installer(tmp_path, None)
    for version in ("2026.09.01", "2026.10.01"):
        await installer.install(await installer.offer(str(release_zip(tmp_path, version))))
    (tmp_path / "face-db" / "releases" / "2026.09.01" / "faces.json").write_text("[")
    with pytest.raises(FaceDbError, match=r"faces\.json fails its checksum"):
        await installer.rollback()
    assert_current(tmp_path, "2026.10.01")


async def test_unpacked_folder_and_bare_zip_url_sources(
    tmp_path: Path, release_server: ReleaseServer
) -> None:
    installer = make_installer(tmp_path, None)
    folder = release_folder(tmp_path / "air-gapped", "2026.09.01")
    offer = await installer.offer(str(folder))
    assert offer.version == "2026.09.01" and not offer.is_remote
    await installer.install(offer)
    assert_current(tmp_path, "2026.09.01")
    url = release_server.add("plain.zip", release_zip(tmp_path, "2026.10.01"))
    offer = await installer.offer(url)
    assert offer.version is None  # only known once unpacked
    assert (await installer.install(offer)).version == "2026.10.01"
    assert_current(tmp_path, "2026.10.01")


async def test_a_flat_folder_keeps_working_until_an_install(tmp_path: Path) -> None:
    release_folder(tmp_path / "face-db", "2026.01.01")
    assert active_database_dir(tmp_path / "face-db") == tmp_path / "face-db"
    installer = make_installer(tmp_path, None)
    assert installer.status()["installed_version"] == "2026.01.01"
    await installer.install(await installer.offer(str(release_zip(tmp_path, "2026.10.01"))))
    assert_current(tmp_path, "2026.10.01")


async def test_source_problems_are_one_line(tmp_path: Path, release_server: ReleaseServer) -> None:
    installer = make_installer(tmp_path, release_server)
    with pytest.raises(FaceDbError, match=f"no release found in {REPO}"):
        await installer.offer()
    with pytest.raises(FaceDbError, match=r"no release v2020\.01\.01 found"):
        await installer.offer(version="2020.01.01")
    with pytest.raises(FaceDbError, match="does not exist"):
        await installer.offer(str(tmp_path / "nope.zip"))
    with pytest.raises(FaceDbError, match="not a valid version"):
        await installer.offer(version="../x")
    down = make_installer(tmp_path, None)
    with pytest.raises(FaceDbError, match="cannot ask GitHub"):
        await down.offer()
    not_zip = tmp_path / "junk.zip"
    not_zip.write_bytes(b"not a zip")
    with pytest.raises(FaceDbError, match="not a readable zip"):
        await installer.install(await installer.offer(str(not_zip)))


async def test_a_version_from_github_by_tag(tmp_path: Path, release_server: ReleaseServer) -> None:
    release_server.add("a.zip", release_zip(tmp_path, "2026.09.01"), tag="v2026.09.01")
    release_server.add("b.zip", release_zip(tmp_path, "2026.10.01"), tag="v2026.10.01")
    installer = make_installer(tmp_path, release_server)
    offer = await installer.offer(version="2026.09.01")
    assert (offer.version, offer.size) == ("2026.09.01", len(release_server.files["a.zip"]))
    assert (await installer.install(offer)).version == "2026.09.01"


def test_two_installers_never_run_at_once(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "face-db")
    with (
        layout.lock(),
        pytest.raises(FaceDbError, match="another install is running"),
        Layout(tmp_path / "face-db").lock(),
    ):
        pass


def test_config_defaults_point_at_the_public_releases() -> None:
    config = FaceDbConfig()
    assert config.source == "github:carrotwaxr/stash-sense-data"
    assert config.check_interval_hours == 0
    assert dataclasses.replace(config, source="x").source == "x"


async def test_a_crashed_try_leaves_nothing_behind(tmp_path: Path) -> None:
    crashed = tmp_path / "face-db" / "staging" / "0123456789ab"
    crashed.mkdir(parents=True)
    (crashed / "faces.json").write_text("[]")
    installer = make_installer(tmp_path, None)
    await installer.install(await installer.offer(str(release_zip(tmp_path, "2026.10.01"))))
    assert not leftovers(tmp_path)
