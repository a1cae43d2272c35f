"""Choosing between a local file (through path mappings) and Stash's stream."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stash_sense.faces.source import (
    VideoSource,
    is_url,
    map_path,
    parse_path_mappings,
    redact_url,
    resolve_source,
)
from stash_sense.faces.types import VideoError

STREAM = "http://stash:9999/scene/7/stream?apikey=abc.def-123"


@pytest.fixture
def media(tmp_path: Path) -> Path:
    """A local copy of Stash's /data tree with one video."""
    (tmp_path / "videos").mkdir()
    (tmp_path / "videos" / "a b.mp4").write_bytes(b"\0" * 16)
    return tmp_path


def test_parse_path_mappings() -> None:
    assert parse_path_mappings(["/data/=/mnt/media/", " /x = /y "]) == [
        ("/data/", "/mnt/media/"),
        ("/x", "/y"),
    ]
    assert parse_path_mappings([]) == []


@pytest.mark.parametrize("bad", ["/data/", "=/mnt/", "/data/=", "  =  "])
def test_parse_path_mappings_rejects_malformed(bad: str) -> None:
    with pytest.raises(ValueError, match="<stash prefix>=<local prefix>"):
        parse_path_mappings([bad])


@pytest.mark.parametrize(
    ("mapping", "path", "expected"),
    [
        (("/data/", "/mnt/media/"), "/data/videos/a.mp4", "/mnt/media/videos/a.mp4"),
        (("/data", "/mnt/media"), "/data/videos/a.mp4", "/mnt/media/videos/a.mp4"),
        (("/data/", "/mnt/media"), "/data/videos/a.mp4", "/mnt/media/videos/a.mp4"),
        (("/data", "/mnt/media/"), "/data/videos/a.mp4", "/mnt/media/videos/a.mp4"),
        (("/data", "/mnt/media"), "/database/a.mp4", None),  # whole path components only
        (("/data", "/mnt/media"), "/other/a.mp4", None),
        (("D:\\Videos\\", "/mnt/videos/"), "D:\\Videos\\sub\\a.mp4", "/mnt/videos/sub/a.mp4"),
    ],
)
def test_map_path(mapping: tuple[str, str], path: str, expected: str | None) -> None:
    assert map_path(path, [mapping]) == expected


def test_first_matching_mapping_wins() -> None:
    mappings = [("/data/videos/", "/fast/"), ("/data/", "/slow/")]
    assert map_path("/data/videos/a.mp4", mappings) == "/fast/a.mp4"
    assert map_path("/data/photos/b.mp4", mappings) == "/slow/photos/b.mp4"


def test_mapped_readable_file_is_local(media: Path) -> None:
    source = resolve_source("/data/videos/a b.mp4", STREAM, [f"/data/={media}/"], scene_id=7)
    assert source == VideoSource(
        location=f"{media}/videos/a b.mp4",
        is_local=True,
        description=f"scene 7 ({media}/videos/a b.mp4)",
    )


def test_missing_mapped_file_falls_back_to_the_stream(media: Path) -> None:
    source = resolve_source("/data/videos/gone.mp4", STREAM, [f"/data/={media}/"], scene_id=7)
    assert not source.is_local
    assert source.location == STREAM  # the key stays in the location FFmpeg opens...
    assert "abc.def-123" not in source.description  # ...and never in what is logged
    assert source.description == (
        "the stream of scene 7 (http://stash:9999/scene/7/stream?apikey=***)"
    )


def test_mapping_to_a_missing_folder_falls_back_to_the_stream(tmp_path: Path) -> None:
    source = resolve_source("/data/a.mp4", STREAM, [f"/data/={tmp_path}/nowhere/"], scene_id=7)
    assert not source.is_local


def test_first_match_is_final_even_if_its_file_is_missing(media: Path) -> None:
    mappings = [f"/data/=/nonexistent-{os.getpid()}/", f"/data/={media}/"]
    assert not resolve_source("/data/videos/a b.mp4", STREAM, mappings).is_local


def test_unmapped_path_is_used_as_is_when_readable(media: Path) -> None:
    path = str(media / "videos" / "a b.mp4")
    source = resolve_source(path, STREAM, ["/elsewhere/=/mnt/"], scene_id=7)
    assert source.is_local
    assert source.location == path


def test_a_folder_is_not_a_local_file(media: Path) -> None:
    assert not resolve_source(str(media / "videos"), STREAM, []).is_local


def test_no_local_file_and_no_stream_is_an_error(media: Path) -> None:
    with pytest.raises(VideoError, match=r"^scene 7: file not readable locally and no stream URL$"):
        resolve_source("/data/videos/gone.mp4", None, [f"/data/={media}/"], scene_id=7)
    with pytest.raises(VideoError, match="no stream URL"):
        resolve_source("", "", [])


def test_bad_mapping_is_reported_even_when_streaming() -> None:
    with pytest.raises(ValueError, match="path mapping"):
        resolve_source("/data/a.mp4", STREAM, ["nonsense"])


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (STREAM, "http://stash:9999/scene/7/stream?apikey=***"),
        ("https://h/s?x=1&ApiKey=k&y=2", "https://h/s?x=1&ApiKey=***&y=2"),
        ("http://user:pw@h:1/s", "http://user:***@h:1/s"),
        ("http://user@h/s?token=t#frag", "http://user@h/s?token=***"),
        ("http://h/s", "http://h/s"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_is_url() -> None:
    assert is_url("http://x/y")
    assert is_url("HTTPS://x/y")
    assert not is_url("/data/http://x")
    assert not is_url("C:\\videos\\a.mp4")
