"""Build small test videos with PyAV (there is no ffmpeg binary).

API (all sizes are ``(width, height)``; images are H x W x 3 RGB uint8):

- ``GREY``: the neutral mid-grey background, (128, 128, 128).
- ``canvas(size=(320, 240), colour=GREY) -> image``: a plain background.
- ``draw_square(image, x, y, side=64, colour=(255, 0, 0)) -> image``: fill a solid square whose
  top-left corner is (x, y), in place (clipped to the image), and return the image.
- ``square_frame(x, y, *, side=64, colour=(255, 0, 0), size=(320, 240)) -> image``: one coloured
  square on a grey canvas (the synthetic "face" other tests use).
- ``stamp_index(image, n) -> image`` / ``read_index(image) -> int``: write a frame number as a
  16-bit black/white bar code along the top 16 px rows and read it back after a lossy encode,
  so a test can check which source frame a decoded picture really is.
- ``numbered_frame(n, size=(320, 240)) -> image``: a grey frame carrying ``stamp_index(n)``.
- ``encode_video(path, frames, *, fps=30, codec="libx264", gop=None, size=(320, 240),
  rotation=0, pix_fmt="yuv420p", crf=18, duration=None, timestamps=None,
  sample_aspect_ratio=None, bframes=0) -> Path``:
  ``frames`` is an iterable of images or a callable ``f(t_seconds) -> image`` (then give
  ``duration`` or ``timestamps``). ``timestamps`` (seconds, increasing) makes a variable frame
  rate stream; otherwise frames are spaced 1/fps. ``gop`` is the keyframe interval in frames
  (scene-cut keyframes are off, so keyframes fall exactly every ``gop`` frames).
  ``rotation`` is the display rotation in degrees counter-clockwise, as PyAV's
  ``VideoFrame.rotation`` reports it (-90 is a phone filmed upright): the given frames are
  what a player shows, so they are stored rotated the other way with a display matrix that
  undoes it. ``codec``: "libx264", "libx265", "libvpx-vp9", "libsvtav1"; the container follows
  the suffix (.mp4 gets faststart, so a truncated copy still opens; .mkv, .webm).
  ``sample_aspect_ratio`` (a Fraction) makes non-square pixels (anamorphic video).
  ``bframes`` (x264/x265 only) adds B-frames, so dts and pts differ as in real files.
  Encoding uses the fastest presets: about 0.1 s for 2 s of 320x240.
- ``truncate(path, fraction) -> Path``: keep the first ``fraction`` of the bytes.
- ``audio_only(path, seconds=1.0) -> Path``: an AAC-in-MP4 file with no video stream.
- ``zero_byte(path) -> Path``, ``garbage(path, size=4096) -> Path``: an empty file, random bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]
Colour = tuple[int, int, int]

GREY: Colour = (128, 128, 128)
_BITS = 16
_BAR = 16  # px: width and height of one bar-code cell


def canvas(size: tuple[int, int] = (320, 240), colour: Colour = GREY) -> Image:
    """Return a plain image of the given size and colour."""
    width, height = size
    image = np.empty((height, width, 3), dtype=np.uint8)
    image[:] = colour
    return image


def draw_square(
    image: Image, x: int, y: int, side: int = 64, colour: Colour = (255, 0, 0)
) -> Image:
    """Fill a solid square with its top-left corner at (x, y), in place, and return the image."""
    height, width = image.shape[:2]
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(width, x + side), min(height, y + side)
    if x1 > x0 and y1 > y0:
        image[y0:y1, x0:x1] = colour
    return image


def square_frame(
    x: int,
    y: int,
    *,
    side: int = 64,
    colour: Colour = (255, 0, 0),
    size: tuple[int, int] = (320, 240),
) -> Image:
    """Return a grey canvas with one coloured square on it."""
    return draw_square(canvas(size), x, y, side, colour)


def stamp_index(image: Image, n: int) -> Image:
    """Write n as a black/white bar code over the top rows, in place, and return the image."""
    if image.shape[1] < _BITS * _BAR or not 0 <= n < 2**_BITS:
        raise ValueError("image too narrow for the bar code, or n out of range")
    for bit in range(_BITS):
        value = 255 if (n >> bit) & 1 else 0
        image[:_BAR, bit * _BAR : (bit + 1) * _BAR] = value
    return image


def read_index(image: Image) -> int:
    """Read the number written by stamp_index from a decoded picture."""
    n = 0
    for bit in range(_BITS):
        # Sample the cell's centre: the edges bleed after chroma subsampling and compression.
        cell = image[4 : _BAR - 4, bit * _BAR + 4 : (bit + 1) * _BAR - 4]
        if float(cell.mean()) > 127:
            n |= 1 << bit
    return n


def numbered_frame(n: int, size: tuple[int, int] = (320, 240)) -> Image:
    """Return a grey frame that carries its number as a bar code."""
    return stamp_index(canvas(size), n)


def _keyint(gop: int | None) -> str:
    return f":keyint={gop}:min-keyint={gop}" if gop else ""


_CODEC_OPTIONS: dict[str, Callable[[int, int | None, int], dict[str, str]]] = {
    "libx264": lambda crf, gop, bframes: {
        "crf": str(crf),
        "preset": "ultrafast",
        "x264-params": f"scenecut=0:bframes={bframes}" + _keyint(gop),
    },
    "libx265": lambda crf, gop, bframes: {
        "crf": str(crf),
        "preset": "ultrafast",
        "x265-params": f"log-level=error:scenecut=0:bframes={bframes}" + _keyint(gop),
    },
    "libvpx-vp9": lambda crf, gop, bframes: {
        "crf": str(crf),
        "b": "0",
        "deadline": "realtime",
        "cpu-used": "8",
        "row-mt": "1",
    },
    "libsvtav1": lambda crf, gop, bframes: {
        "crf": str(crf + 10),  # AV1's scale is 0-63; +10 keeps it visually close to x264's crf
        "preset": "12",
        "svtav1-params": "scd=0" + (f":keyint={gop}" if gop else ""),
    },
}


def _source_frames(
    frames: Iterable[Image] | Callable[[float], Image],
    times: Sequence[float] | None,
) -> Iterator[Image]:
    if callable(frames):
        if times is None:
            raise ValueError("a frame callable needs duration or timestamps")
        return (frames(t) for t in times)
    return iter(frames)


def encode_video(
    path: str | Path,
    frames: Iterable[Image] | Callable[[float], Image],
    *,
    fps: int = 30,
    codec: str = "libx264",
    gop: int | None = None,
    size: tuple[int, int] = (320, 240),
    rotation: int = 0,
    pix_fmt: str = "yuv420p",
    crf: int = 18,
    duration: float | None = None,
    timestamps: Sequence[float] | None = None,
    sample_aspect_ratio: Fraction | None = None,
    bframes: int = 0,
) -> Path:
    """Encode frames (or f(t)) into a small video file and return its path."""
    path = Path(path)
    if codec not in _CODEC_OPTIONS:
        raise ValueError(f"unsupported test codec {codec!r}")
    if rotation % 90:
        raise ValueError("rotation must be a multiple of 90")
    quarter_turns = (rotation // 90) % 4
    width, height = size
    stored_w, stored_h = (height, width) if quarter_turns % 2 else (width, height)

    # VFR needs a fine time base; a constant rate uses 1/fps so pts are frame numbers.
    time_base = Fraction(1, 90_000) if timestamps is not None else Fraction(1, fps)
    times: Sequence[float] | None = timestamps
    if times is None and duration is not None:
        times = [i / fps for i in range(round(duration * fps))]

    options = {"movflags": "+faststart"} if path.suffix.lower() in {".mp4", ".mov", ".m4v"} else {}
    with av.open(str(path), mode="w", options=options) as container:
        stream = container.add_stream(
            codec, rate=fps, options=_CODEC_OPTIONS[codec](crf, gop, bframes)
        )
        assert isinstance(stream, av.video.stream.VideoStream)
        stream.width, stream.height = stored_w, stored_h
        stream.pix_fmt = pix_fmt
        stream.time_base = time_base
        stream.codec_context.time_base = time_base
        if gop:
            stream.codec_context.gop_size = gop
        if sample_aspect_ratio is not None:
            stream.codec_context.sample_aspect_ratio = sample_aspect_ratio
        if quarter_turns:
            stream.set_display_rotation(rotation)
        for i, image in enumerate(_source_frames(frames, times)):
            if image.shape[:2] != (height, width):
                raise ValueError(f"frame {i} is {image.shape[1]}x{image.shape[0]}, not {size}")
            # The player turns the picture by `rotation` (counter-clockwise) before showing it,
            # so store it turned the other way.
            stored = np.ascontiguousarray(np.rot90(image, k=-quarter_turns))
            frame = av.VideoFrame.from_ndarray(stored, format="rgb24")
            if times is not None:
                frame.pts = round(times[i] / time_base)
            else:
                frame.pts = i
            frame.time_base = time_base
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def truncate(path: str | Path, fraction: float) -> Path:
    """Cut a file down to the first fraction of its bytes, in place."""
    path = Path(path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def audio_only(path: str | Path, seconds: float = 1.0) -> Path:
    """Write an MP4 file with one AAC audio stream and no video."""
    path = Path(path)
    rate = 44_100
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("aac", rate=rate)
        assert isinstance(stream, av.audio.stream.AudioStream)
        samples_per_frame = 1024
        t = 0
        total = int(seconds * rate)
        while t < total:
            n = np.arange(t, t + samples_per_frame)
            tone = (0.2 * np.sin(2 * np.pi * 440 * n / rate)).astype(np.float32)
            frame = av.AudioFrame.from_ndarray(tone[None, :], format="fltp", layout="mono")
            frame.sample_rate = rate
            frame.pts = t
            container.mux(stream.encode(frame))
            t += samples_per_frame
        container.mux(stream.encode(None))
    return path


def zero_byte(path: str | Path) -> Path:
    """Create an empty file."""
    path = Path(path)
    path.write_bytes(b"")
    return path


def garbage(path: str | Path, size: int = 4096) -> Path:
    """Fill a file with random bytes that no demuxer recognises."""
    path = Path(path)
    rng = np.random.default_rng(1234)
    path.write_bytes(b"NOTAVIDEO" + rng.integers(0, 256, size, dtype=np.uint8).tobytes())
    return path
