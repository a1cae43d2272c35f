"""sample_frames on real videos encoded with PyAV: distinctness, timing, cost, rotation, errors."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from aiohttp import web

from stash_sense.faces.frames import sample_frames
from stash_sense.faces.types import SampledFrames, VideoError
from tests.faces.videos import (
    audio_only,
    encode_video,
    garbage,
    numbered_frame,
    read_index,
    square_frame,
    stamp_index,
    truncate,
    zero_byte,
)
from tests.helpers import free_port

FPS = 30


def numbered(fps: int = FPS) -> Callable[[float], np.ndarray]:
    """Return f(t) drawing frame number round(t*fps), so a picture tells its true time."""
    return lambda t: numbered_frame(round(t * fps))


def cells(result: SampledFrames, count: int, start: float = 0.05, end: float = 0.95) -> float:
    """Return the cell width of the default plan."""
    return (end - start) * result.duration / count


def assert_true_times(result: SampledFrames, fps: int = FPS) -> None:
    """Each frame's timestamp is the time of the picture it carries (read from its bar code)."""
    for frame in result.frames:
        assert read_index(frame.image) / fps == pytest.approx(frame.timestamp, abs=1e-3)


def assert_distinct(result: SampledFrames) -> None:
    times = [frame.timestamp for frame in result.frames]
    indexes = [frame.index for frame in result.frames]
    assert len(set(times)) == len(times)
    assert times == sorted(times)
    assert indexes == sorted(set(indexes))
    assert len({read_index(frame.image) for frame in result.frames}) == len(times)


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("videos")


@pytest.fixture(scope="module")
def long_gop(videos: Path) -> Path:
    """20 s at 30 fps with one keyframe every 250 frames: 3 keyframes for 60 targets."""
    return encode_video(videos / "long_gop.mp4", numbered(), duration=20, gop=250)


@pytest.fixture(scope="module")
def short_gop(videos: Path) -> Path:
    """60 s at 10 fps, a keyframe every second, with B-frames (dts differs from pts)."""
    return encode_video(
        videos / "short_gop.mp4", numbered(10), fps=10, duration=60, gop=10, bframes=2
    )


# -- plan, distinctness, cost --------------------------------------------------------------


def test_long_gop_returns_distinct_frames_near_their_targets(long_gop: Path) -> None:
    result = sample_frames(str(long_gop), count=60)

    assert len(result.frames) == 60
    assert [frame.index for frame in result.frames] == list(range(60))
    assert_distinct(result)
    assert_true_times(result)
    width = cells(result, 60)
    for frame in result.frames:
        start = 0.05 * result.duration + frame.index * width
        assert start - 1e-6 <= frame.timestamp < start + width  # inside its own cell
        assert abs(frame.timestamp - (start + width / 2)) <= width / 2
    # One forward pass, not a frame-accurate seek per target (which re-decodes each GOP).
    assert result.decoded <= 20 * FPS
    assert (result.width, result.height, result.codec) == (320, 240, "h264")
    assert result.duration == pytest.approx(20, abs=0.05)


def test_short_gop_cost_scales_with_count_not_length(short_gop: Path) -> None:
    for count in (10, 30):
        result = sample_frames(str(short_gop), count=count)
        assert len(result.frames) == count
        assert_distinct(result)
        assert_true_times(result, fps=10)
        # About one keyframe per sample: nowhere near the 600 frames of the clip.
        assert result.decoded <= 2 * count
        assert result.seeks <= count + 1


def test_keyframe_samples_stay_close_to_targets(short_gop: Path) -> None:
    result = sample_frames(str(short_gop), count=10)
    width = cells(result, 10)
    for frame in result.frames:
        target = 0.05 * result.duration + (frame.index + 0.5) * width
        assert abs(frame.timestamp - target) <= width / 2


def test_short_clip_returns_every_frame(videos: Path) -> None:
    clip = encode_video(videos / "short.mp4", numbered(), duration=1)  # 30 frames < 60
    result = sample_frames(str(clip), count=60)

    assert sorted(read_index(frame.image) for frame in result.frames) == list(range(30))
    assert_distinct(result)
    assert_true_times(result)
    assert result.decoded == 30


def test_single_sample_is_near_the_middle(long_gop: Path) -> None:
    result = sample_frames(str(long_gop), count=1)
    assert len(result.frames) == 1
    assert result.frames[0].timestamp == pytest.approx(10, abs=9 * 0.5)


def test_variable_frame_rate_uses_real_timestamps(videos: Path) -> None:
    rng = np.random.default_rng(7)
    steps = np.concatenate([np.full(150, 1 / 30), np.full(20, 0.5), rng.uniform(0.01, 0.2, 100)])
    times = np.concatenate([[0.0], np.cumsum(steps)[:-1]])
    clip = encode_video(
        videos / "vfr.mp4",
        [numbered_frame(i) for i in range(len(times))],
        timestamps=times.tolist(),
    )
    result = sample_frames(str(clip), count=60)

    assert len(result.frames) == 60  # slots of cells lost in the 0.5 s gaps are refilled
    assert_distinct(result)
    for frame in result.frames:
        assert frame.timestamp == pytest.approx(times[read_index(frame.image)], abs=1e-3)


def test_frame_threading_gives_the_same_frames(long_gop: Path) -> None:
    plain = sample_frames(str(long_gop), count=20)
    threaded = sample_frames(str(long_gop), count=20, thread_type="AUTO")
    assert [f.timestamp for f in plain.frames] == [f.timestamp for f in threaded.frames]


def test_bad_arguments_raise_value_error(long_gop: Path) -> None:
    with pytest.raises(ValueError, match="count"):
        sample_frames(str(long_gop), count=0)
    with pytest.raises(ValueError, match="fraction"):
        sample_frames(str(long_gop), start_fraction=0.9, end_fraction=0.1)


# -- pictures: rotation, aspect, codecs ----------------------------------------------------


@pytest.mark.parametrize("rotation", [-90, 90, 180])
def test_rotation_metadata_gives_upright_frames(videos: Path, rotation: int) -> None:
    # Asymmetric: a red square low on the left, a bar code along the top.
    upright = stamp_index(square_frame(16, 160, side=48, colour=(255, 0, 0)), 5)
    clip = encode_video(videos / f"rot{rotation}.mp4", [upright] * 6, rotation=rotation)
    result = sample_frames(str(clip), count=3)

    image = result.frames[0].image
    assert image.shape == (240, 320, 3)
    assert image.flags.c_contiguous
    assert (result.width, result.height) == (320, 240)
    assert float(np.abs(image.astype(int) - upright).mean()) < 2
    assert read_index(image) == 5


def test_non_square_pixels_are_stretched(videos: Path) -> None:
    clip = encode_video(
        videos / "anamorphic.mp4",
        [square_frame(100, 100)] * 4,
        sample_aspect_ratio=Fraction(4, 3),
    )
    result = sample_frames(str(clip), count=2)
    assert result.frames[0].image.shape == (240, 427, 3)


@pytest.mark.parametrize(
    ("codec", "suffix", "decoder"),
    [
        ("libx264", ".mp4", "h264"),
        ("libx265", ".mp4", "hevc"),
        ("libvpx-vp9", ".webm", "vp9"),
        ("libsvtav1", ".mkv", "libdav1d"),
    ],
)
def test_codecs_decode(videos: Path, codec: str, suffix: str, decoder: str) -> None:
    clip = encode_video(videos / f"{codec}{suffix}", numbered(), duration=2, codec=codec, gop=15)
    result = sample_frames(str(clip), count=12)

    assert result.codec == decoder
    assert len(result.frames) == 12
    assert_distinct(result)
    assert_true_times(result)


def test_colours_survive_the_encode(videos: Path) -> None:
    red = square_frame(100, 80, side=64, colour=(255, 0, 0))
    clip = encode_video(videos / "red.mp4", [red] * 4)
    image = sample_frames(str(clip), count=1).frames[0].image
    assert np.abs(image[90:130, 110:150].astype(int) - (255, 0, 0)).max() < 24
    assert np.abs(image[200:230, 250:300].astype(int) - 128).max() < 8


# -- damaged and wrong inputs --------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_truncated_file_returns_what_is_decodable(
    videos: Path, suffix: str, caplog: pytest.LogCaptureFixture
) -> None:
    clip = encode_video(videos / f"cut{suffix}", numbered(), duration=4, gop=30)
    truncate(clip, 0.5)
    with caplog.at_level(logging.WARNING, logger="stash_sense.faces.frames"):
        result = sample_frames(str(clip), count=60)

    assert 5 <= len(result.frames) < 60
    assert_distinct(result)
    assert_true_times(result)
    assert "truncated" in caplog.text


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: truncate(encode_video(d / "t.mp4", numbered(), duration=4), 0.1), "no frame"),
        (lambda d: truncate(encode_video(d / "t.mkv", numbered(), duration=4), 0.02), "header"),
        (lambda d: zero_byte(d / "empty.mp4"), "empty (0 bytes)"),
        (lambda d: audio_only(d / "song.m4a"), "no video stream (audio only)"),
        (lambda d: garbage(d / "junk.mp4"), "not a readable video"),
        (lambda d: d / "missing.mp4", "does not exist"),
        (lambda d: d, "is a folder"),
    ],
    ids=["truncated-early", "truncated-header", "zero-byte", "audio", "garbage", "missing", "dir"],
)
def test_unreadable_inputs_raise_one_clear_line(
    tmp_path: Path, make: Callable[[Path], Path], message: str
) -> None:
    path = make(tmp_path)
    with pytest.raises(VideoError) as caught:
        sample_frames(str(path), count=10)
    text = str(caught.value)
    assert message in text
    assert str(path) in text
    assert "\n" not in text
    assert caught.value.__cause__ is None  # no FFmpeg error (naming the source) chained


def test_unsupported_codec(videos: Path, tmp_path: Path) -> None:
    clip = encode_video(videos / "for-unknown.mkv", numbered(), duration=1)
    data = clip.read_bytes()
    assert data.count(b"V_MPEG4/ISO/AVC") == 1
    unknown = tmp_path / "unknown.mkv"
    unknown.write_bytes(data.replace(b"V_MPEG4/ISO/AVC", b"V_QUUXCODEC/ABC"))  # same length
    with pytest.raises(VideoError, match="unsupported video codec"):
        sample_frames(str(unknown))


def test_label_names_the_source_in_errors(tmp_path: Path) -> None:
    with pytest.raises(VideoError, match=r"^scene 12 \(x\): file does not exist$"):
        sample_frames(str(tmp_path / "x.mp4"), label="scene 12 (x)")


# -- HTTP ----------------------------------------------------------------------------------

KEY = "s3cr3t-key"


async def serve(path: Path) -> tuple[web.AppRunner, str, list[dict[str, str]]]:
    """Serve path like Stash's stream endpoint (ApiKey header or ?apikey=), on loopback."""
    requests: list[dict[str, str]] = []
    data = await asyncio.to_thread(path.read_bytes)

    async def stream(request: web.Request) -> web.StreamResponse:
        requests.append(dict(request.headers))
        if KEY not in (request.headers.get("ApiKey"), request.query.get("apikey")):
            raise web.HTTPUnauthorized()
        return web.FileResponse(path)  # honours Range requests, as Stash does

    async def hang(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(30)
        return web.Response()

    async def stall(request: web.Request) -> web.StreamResponse:
        # Headers and a third of the body, then nothing: a stream stuck mid-way.
        response = web.StreamResponse(headers={"Content-Length": str(len(data))})
        await response.prepare(request)
        await response.write(data[: len(data) // 3])
        await asyncio.sleep(30)
        return response

    app = web.Application()
    app.router.add_get("/scene/{id}/stream", stream)
    app.router.add_get("/hang", hang)
    app.router.add_get("/stall", stall)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}", requests


async def test_stream_with_api_key_header(short_gop: Path) -> None:
    runner, base, requests = await serve(short_gop)
    try:
        result = await asyncio.to_thread(
            sample_frames, f"{base}/scene/3/stream", count=10, http_headers={"ApiKey": KEY}
        )
    finally:
        await runner.cleanup()
    assert len(result.frames) == 10
    assert_true_times(result, fps=10)
    assert requests
    assert all(headers.get("ApiKey") == KEY for headers in requests)


async def test_stream_with_api_key_in_url(short_gop: Path) -> None:
    runner, base, _ = await serve(short_gop)
    try:
        result = await asyncio.to_thread(
            sample_frames, f"{base}/scene/3/stream?apikey={KEY}", count=5
        )
    finally:
        await runner.cleanup()
    assert len(result.frames) == 5


async def test_stream_unauthorized_hides_the_key(short_gop: Path) -> None:
    runner, base, _ = await serve(short_gop)
    try:
        with pytest.raises(VideoError) as caught:
            await asyncio.to_thread(sample_frames, f"{base}/scene/3/stream?apikey=wrong-{KEY}")
    finally:
        await runner.cleanup()
    text = str(caught.value)
    assert "401" in text
    assert KEY not in text
    assert "apikey=***" in text


async def test_stream_not_found(short_gop: Path) -> None:
    runner, base, _ = await serve(short_gop)
    try:
        with pytest.raises(VideoError, match="404"):
            await asyncio.to_thread(sample_frames, f"{base}/nothing", label="the stream of scene 3")
    finally:
        await runner.cleanup()


async def test_stream_timeout_is_bounded(short_gop: Path) -> None:
    runner, base, _ = await serve(short_gop)
    began = time.monotonic()
    try:
        with pytest.raises(VideoError, match="timed out"):
            await asyncio.to_thread(sample_frames, f"{base}/hang?apikey={KEY}", timeout_s=0.5)
    finally:
        await runner.cleanup()
    assert time.monotonic() - began < 5


async def test_stream_stalling_mid_way_fails_instead_of_returning_part(long_gop: Path) -> None:
    runner, base, _ = await serve(long_gop)
    began = time.monotonic()
    try:
        with pytest.raises(VideoError, match="timed out"):
            await asyncio.to_thread(sample_frames, f"{base}/stall", timeout_s=0.5)
    finally:
        await runner.cleanup()
    assert time.monotonic() - began < 5


def test_stream_connection_refused() -> None:
    with pytest.raises(VideoError, match="connection refused"):
        sample_frames(f"http://127.0.0.1:{free_port()}/scene/1/stream?apikey={KEY}", timeout_s=2)
