"""Sample distinct, upright RGB frames from a video at the lowest decode cost.

Plan. The window [start_fraction, end_fraction] of the duration is cut into N equal cells and
target i is the centre of cell i. A target accepts any frame inside its cell, so returned
frames are distinct by construction (cells do not overlap; equal pts are de-duplicated too)
and stay evenly spread. If the window holds fewer frames than N, it widens to the whole
video; each cell is then shorter than a frame interval, so every frame gets its own cell and
a short clip returns all its frames. A cell left empty by a variable-frame-rate gap hands its
slot to an extra frame of the next cell when decoding passes one anyway. ``Frame.index`` is
the cell (slot) number; ``Frame.timestamp`` is the frame's real pts, never index arithmetic.

Cost. Decoding must start at a keyframe. For each cell in order we compare, in frames to
decode, going on forward from where the decoder stands (no seek) with seeking: to a keyframe
inside the cell (cost one frame, and an I-frame is the best-quality picture there is), or to
the last keyframe before the cell and decoding up to it. Keyframe positions come from the
container index (MP4 lists every sample, Matroska its cues, which one seek to the start loads;
looked up with ``av_index_search_timestamp``, no scan), shifted from dts to pts, plus those
seen while decoding. Without an index (MPEG-TS) the GOP is learned while decoding and we seek
when the gap to the next cell is longer than the longest GOP seen. Within a cell reached by
decoding forward we stop at its first frame, unless the next cell is also reached forward;
then going on to the frame nearest the target is free. Three more savings:

- a keyframe taken alone is drained out of the decoder at once, instead of feeding it the
  B-frame reorder delay's worth of packets that the next seek would throw away;
- packets before the current cell are fed with ``skip_frame=NONREF``: nothing depends on a
  non-reference frame and it is never returned, so it is not decoded (half of x264's frames);
- only returned frames are converted to RGB (1-2 ms per 720p frame, more than a P-frame).

One rule covers both regimes of the PyAV measurements below: a GOP
shorter than the spacing gives one seek and about one decoded frame per sample (cost scales
with N, not the length); a GOP longer than the spacing becomes one forward pass over the
window that converts only the frames nearest the targets. Measured here (2 cores, busy host,
best of 5 runs, two sessions), N=60 over 5-95 % of 60-s 1280x720 30-fps x264 veryfast clips
with B-frames (wall time, frames decoded):

============  ===========================  ===================  =========================
GOP           sample_frames                decode all, convert  seek exactly per target
============  ===========================  ===================  =========================
250 frames    1.15-1.17 s, 1 115, 9 seeks  1.48-1.54 s, 1 800  6.4-6.6 s, 7 590, 60 seeks
30 frames     0.58-0.66 s, 84, 60 seeks    1.41-1.84 s, 1 800  1.22-1.34 s, 990, 60 seeks
============  ===========================  ===================  =========================

``decoded`` counts the frames the decoder worked on: every packet fed normally, plus those
fed in skip mode that turned out to be reference frames. ``thread_type`` is the decoder's
threading: SLICE (default) beat AUTO here in both regimes (1.5-1.6 s and 1.0-1.1 s with
AUTO), because frame threads add delay after every seek; re-measure AUTO on many cores.

Rotation. The display matrix (``VideoFrame.rotation``, counter-clockwise degrees) is applied,
so phone videos come out upright. Non-square pixels are resized to square ones.

Hardware decode (``hwaccel``, see ``hwdecode.py``) changes only where packets are decoded: the
frames are copied back to system memory and converted to the same RGB arrays; a device that does
not open, or a codec without a hardware decoder, decodes in software with one log line.

Errors are ``VideoError`` with one line naming the source by its label or redacted URL (never
the API key; FFmpeg's own messages name the URL, so they are never chained or logged). A
truncated or damaged file yields the frames that decode, with a warning; a network failure or
timeout part-way raises instead (it is transient: better retried than half identified).
"""

from __future__ import annotations

import bisect
import logging
import math
import os
import stat
from collections import deque
from collections.abc import Iterator, Mapping
from fractions import Fraction
from typing import Literal, NamedTuple

import av
import av.error
import numpy as np
from av.codec.hwaccel import HWAccel
from av.container import InputContainer
from av.index import IndexEntries
from av.packet import Packet
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from stash_sense.faces.hwdecode import SOFTWARE, HardwareDecode, note_fallback, open_decoding
from stash_sense.faces.source import is_url, redact_url
from stash_sense.faces.types import Frame, Image, SampledFrames, VideoError

__all__ = ["ThreadType", "sample_frames"]

_LOGGER = logging.getLogger(__name__)

ThreadType = Literal["SLICE", "FRAME", "AUTO", "NONE"]

# A seek (demuxer reposition, decoder flush, for a stream a new HTTP range request) weighed as
# this many decoded frames when choosing between seeking and decoding forward.
_SEEK_COST = 3.0
# Give up on a run after this many damaged packets in a row: the data is garbage.
_MAX_BAD_PACKETS = 50
_AV_TIME_BASE = 1_000_000


def sample_frames(
    source: str,
    *,
    count: int = 60,
    start_fraction: float = 0.05,
    end_fraction: float = 0.95,
    http_headers: Mapping[str, str] | None = None,
    timeout_s: float = 30,
    thread_type: ThreadType = "SLICE",
    label: str | None = None,
    hwaccel: HardwareDecode | None = None,
) -> SampledFrames:
    """Decode up to count distinct frames spread over the window of a local file or http(s) URL."""
    if count < 1:
        raise ValueError("count must be at least 1")
    if not 0 <= start_fraction <= end_fraction <= 1:
        raise ValueError("need 0 <= start_fraction <= end_fraction <= 1")
    remote = is_url(source)
    # The name used in errors and logs: never the raw URL, which may carry ?apikey=.
    name = label or (f"the stream at {redact_url(source)}" if remote else source)
    if not remote:
        _check_local_file(source, name)
    container, on_device = open_decoding(
        lambda accel: _open(
            source, remote=remote, headers=http_headers, timeout_s=timeout_s, name=name, accel=accel
        ),
        hwaccel,
    )
    try:
        sampler = _Sampler(container, name, thread_type, timeout_s)
        if hwaccel is not None and on_device:
            # FFmpeg attaches the device only when the stream's decoder has a config for it.
            if sampler.stream.codec_context.is_hwaccel:
                sampler.decoder = hwaccel.device_type
            else:
                note_fallback(f"no {hwaccel.device_type} decoder for codec {sampler.codec}")
        return sampler.sample(count, start_fraction, end_fraction)
    except av.error.FFmpegError as exc:
        raise VideoError(_describe_error(exc, name, timeout_s)) from None
    finally:
        container.close()


def _check_local_file(path: str, name: str) -> None:
    # FFmpeg's own messages for these cases are vaguer ("Invalid data found").
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise VideoError(f"{name}: file does not exist") from None
    except PermissionError:
        raise VideoError(f"{name}: cannot read the file (permission denied)") from None
    except OSError as exc:
        raise VideoError(f"{name}: cannot read the file ({exc.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        raise VideoError(f"{name}: is a folder, not a video file")
    if info.st_size == 0:
        raise VideoError(f"{name}: the file is empty (0 bytes)")


def _open(
    source: str,
    *,
    remote: bool,
    headers: Mapping[str, str] | None,
    timeout_s: float,
    name: str,
    accel: HWAccel | None = None,
) -> InputContainer:
    options: dict[str, str] = {}
    if remote:
        # FFmpeg's socket timeouts, in microseconds; PyAV's interrupt timeout below also covers
        # a server that accepts the connection but never answers.
        micros = str(max(1, round(timeout_s * 1_000_000)))
        options["timeout"] = micros
        options["rw_timeout"] = micros
        if headers:
            options["headers"] = "".join(f"{key}: {value}\r\n" for key, value in headers.items())
    try:
        return av.open(
            source, mode="r", options=options, timeout=(timeout_s, timeout_s), hwaccel=accel
        )
    except av.error.FFmpegError as exc:
        message = _describe_error(exc, name, timeout_s)
        if not remote and isinstance(exc, av.error.OSError | av.error.EOFError):
            # A local file that exists but fails while its header is parsed.
            message = f"{name}: cannot read the header ({exc.strerror}); truncated or corrupt file"
        raise VideoError(message) from None


def _describe_error(exc: av.error.FFmpegError, name: str, timeout_s: float) -> str:
    # Built from the error class only: str(exc) names the file, i.e. possibly the keyed URL.
    if isinstance(exc, av.error.HTTPUnauthorizedError):
        return f"{name}: access refused (HTTP 401 Unauthorized); check the Stash API key"
    if isinstance(exc, av.error.HTTPForbiddenError):
        return f"{name}: access refused (HTTP 403 Forbidden); check the Stash API key"
    if isinstance(exc, av.error.HTTPNotFoundError):
        return f"{name}: not found (HTTP 404)"
    if isinstance(exc, av.error.HTTPClientError):
        return f"{name}: request rejected (HTTP 4xx client error)"
    if isinstance(exc, av.error.HTTPServerError):
        return f"{name}: server error (HTTP 5xx)"
    if isinstance(exc, av.error.TimeoutError | av.error.ExitError):
        return f"{name}: timed out (no data for {timeout_s:g} s)"
    if isinstance(exc, av.error.ConnectionRefusedError):
        return f"{name}: connection refused"
    if isinstance(exc, av.error.FileNotFoundError):
        return f"{name}: file does not exist"
    if isinstance(exc, av.error.PermissionError):
        return f"{name}: cannot read the file (permission denied)"
    if isinstance(exc, av.error.DecoderNotFoundError):
        return f"{name}: unsupported video codec (no decoder for it)"
    if isinstance(exc, av.error.InvalidDataError):
        return f"{name}: not a readable video (unknown format or corrupt header)"
    reason = exc.strerror or type(exc).__name__
    return f"{name}: cannot read the video ({reason})"


# Failures of the source rather than of the data: reported as such, not as a corrupt video.
_ACCESS_ERRORS = (
    av.error.HTTPError,
    av.error.HTTPClientError,
    av.error.TimeoutError,
    av.error.ExitError,
    av.error.ConnectionRefusedError,
    av.error.ConnectionResetError,
    av.error.PermissionError,
)


def _pick_video_stream(container: InputContainer, name: str) -> VideoStream:
    streams = [
        stream
        for stream in container.streams.video
        # Cover art is a one-picture "video" stream in MP4/Matroska; never sample it.
        if not stream.disposition & av.stream.Disposition.attached_pic
    ]
    if not streams:
        if container.streams.audio:
            raise VideoError(f"{name}: no video stream (audio only)")
        raise VideoError(f"{name}: no video stream (is the header truncated or corrupt?)")
    return streams[0]


class _Plan(NamedTuple):
    seek: bool
    to: float = 0.0  # seek time, seconds from the start
    keyframe: bool = False  # the seek lands on a keyframe inside the cell


_FORWARD = _Plan(seek=False)


class _Sampler:
    """Decoder state and the seek-or-decode-forward policy for one open container."""

    def __init__(
        self, container: InputContainer, name: str, thread_type: ThreadType, timeout_s: float
    ) -> None:
        self.container = container
        self.name = name
        self.timeout_s = timeout_s
        self.stream = _pick_video_stream(container, name)
        context = self.stream.codec_context
        if context is None:
            raise VideoError(f"{name}: unsupported video codec (no decoder for it)")
        context.thread_type = thread_type
        context.thread_count = 0  # one thread per core
        self.codec = context.name
        self.decoder = SOFTWARE  # or the device type, once sample_frames sees it attached
        self.time_base: Fraction = self.stream.time_base or Fraction(1, _AV_TIME_BASE)
        self.origin = self.stream.start_time if self.stream.start_time is not None else 0

        self.decoded = 0
        self.seeks = 0
        self.seekable = True
        self.failure: av.error.FFmpegError | None = None
        self.aborted = False
        self.bad_packets = 0
        self.last_bad = 0
        self._packets: Iterator[Packet[VideoStream]] | None = self.container.demux(self.stream)
        self._queue: deque[VideoFrame] = deque()
        self.last: VideoFrame | None = None  # most recent decoded frame, not converted
        self.needed_pts = -(2**62)  # frames before this pts are not wanted
        self._skipping = False
        self._skippable: set[int] = set()  # pts fed in skip mode, not yet seen decoded
        self.pos = 0.0  # its time; the file start before anything is decoded
        self.live = True  # the decoder can go on forward from pos
        self.max_seen = -math.inf
        self.eof_at: float | None = None  # time of the last frame, once the end was reached
        self.fps = 30.0  # refined once the duration is known
        self.duration = math.inf
        self._synthetic_pts = 0.0
        self.keyframes: list[float] = []  # seen while decoding, sorted
        self.max_gap = 0.0  # longest keyframe interval seen
        self.index_shift = 0  # ticks to add to index times to get pts
        self.index = self._load_index()

    def _load_index(self) -> IndexEntries | None:
        if len(self.stream.index_entries) < 2:
            # Matroska reads its cues only on the first seek; one seek to the start loads them.
            if not self._seek(0.0):
                return None
            self.pos = 0.0  # at the start, as before the seek
            if len(self.stream.index_entries) < 2:
                return None
        index = self.stream.index_entries
        # MP4 indexes keyframes by dts, which runs ahead of pts by the B-frame delay; the first
        # sample is presented at the stream start, so their difference is that delay.
        shift = self.origin - index[0].timestamp
        if 0 < shift * self.time_base < 1:
            self.index_shift = shift
        return index

    # -- time and keyframes -------------------------------------------------------------

    def _seconds(self, pts: int) -> float:
        return float((pts - self.origin) * self.time_base)

    def _pts(self, seconds: float) -> int:
        return math.floor(seconds / self.time_base) + self.origin

    def _frame_time(self, frame: VideoFrame) -> float:
        if frame.pts is not None:
            return self._seconds(frame.pts)
        # No timestamps at all (rare AVI/raw streams): count frames at the nominal rate.
        self._synthetic_pts += 1 / self.fps
        return self._synthetic_pts

    def _learn_keyframe(self, time: float) -> None:
        at = bisect.bisect_left(self.keyframes, time)
        if at < len(self.keyframes) and self.keyframes[at] == time:
            return
        if at > 0 and self.last is not None and self.live:
            # Contiguous decoding since the previous keyframe: a true GOP length.
            self.max_gap = max(self.max_gap, time - self.keyframes[at - 1])
        self.keyframes.insert(at, time)

    def _keyframe_before(self, time: float) -> float | None:
        found: list[float] = []
        if self.index is not None:
            at = self.index.search_timestamp(self._pts(time) - self.index_shift, backward=True)
            if at >= 0:
                found.append(self._seconds(self.index[at].timestamp + self.index_shift))
        at = bisect.bisect_right(self.keyframes, time) - 1
        if at >= 0:
            found.append(self.keyframes[at])
        return max(found) if found else None

    def _keyframe_after(self, time: float) -> float | None:
        found: list[float] = []
        if self.index is not None:
            at = self.index.search_timestamp(self._pts(time) - self.index_shift, backward=False)
            if at >= 0:
                found.append(self._seconds(self.index[at].timestamp + self.index_shift))
        at = bisect.bisect_left(self.keyframes, time)
        if at < len(self.keyframes):
            found.append(self.keyframes[at])
        return min(found) if found else None

    def _gop_guess(self) -> float:
        # Without an index: the GOP is at least the longest keyframe-free stretch decoded.
        stretch = 0.0
        if self.live and self.keyframes:
            before = bisect.bisect_right(self.keyframes, self.pos) - 1
            if before >= 0:
                stretch = self.pos - self.keyframes[before]
        return max(self.max_gap, stretch)

    # -- decoding -----------------------------------------------------------------------

    def _next(self) -> VideoFrame | None:
        """Decode the next frame of the current run; None at its end (EOF, damage)."""
        while not self._queue:
            if self._packets is None:
                return None
            try:
                packet = next(self._packets)
            except StopIteration:
                self.eof_at = self.pos if self.last is not None else self.max_seen
                self._end_run()
                return None
            except av.error.FFmpegError as exc:
                self._fail(exc)
                return None
            self._feed_mode(packet)
            try:
                frames = packet.decode()
                self.last_bad = 0
            except av.error.FFmpegError:
                # A damaged packet: skip it; the decoder recovers at the next keyframe.
                self.bad_packets += 1
                self.last_bad += 1
                if self.last_bad >= _MAX_BAD_PACKETS:
                    self._end_run()
                    return None
                continue
            for frame in frames:
                if frame.pts in self._skippable:
                    # Fed in skip mode but a reference frame, so it was decoded after all.
                    self._skippable.discard(frame.pts)
                    self.decoded += 1
            self._queue.extend(frames)
        frame = self._queue.popleft()
        time = self._frame_time(frame)
        if frame.key_frame:
            self._learn_keyframe(time)
        self.last, self.pos = frame, time
        self.max_seen = max(self.max_seen, time)
        return frame

    def _feed_mode(self, packet: Packet[VideoStream]) -> None:
        """Let the decoder skip non-reference frames that come before the cell being sought."""
        # Nothing depends on a non-reference frame and frames before the cell are never
        # returned, so these need no decoding at all (about half of x264's frames).
        if not packet.size:
            return
        pts = packet.pts
        skip = pts is not None and pts < self.needed_pts
        if skip != self._skipping:
            self.stream.codec_context.skip_frame = "NONREF" if skip else "DEFAULT"
            self._skipping = skip
        if pts is not None and skip:
            self._skippable.add(pts)
        else:
            self.decoded += 1

    def _keyframe_only(self) -> tuple[VideoFrame, float] | None:
        """Decode only the keyframe a seek landed on; None if the run starts otherwise."""
        # The decoder holds a frame back until it has seen the next few packets (B-frame
        # reordering). Draining it right after the keyframe returns that frame without
        # decoding the packets behind it, which would be thrown away by the next seek.
        if self._packets is None:
            return None
        try:
            packet = next(self._packets)
        except StopIteration:
            self.eof_at = self.max_seen
            self._end_run()
            return None
        except av.error.FFmpegError as exc:
            self._fail(exc)
            return None
        self._feed_mode(packet)  # a keyframe is a reference frame: never skipped
        try:
            frames = packet.decode()
            if not packet.is_keyframe:
                self._queue.extend(frames)  # not a clean landing: go on decoding normally
                return None
            frames += self.stream.codec_context.decode(None)
        except av.error.FFmpegError:
            self.bad_packets += 1
            self._end_run()
            return None
        self._end_run()  # drained: the decoder needs a seek (flush) before decoding again
        if not frames:
            return None
        frame = frames[0]
        time = self._frame_time(frame)
        self._learn_keyframe(time)
        self.max_seen = max(self.max_seen, time)
        return frame, time

    def _end_run(self) -> None:
        self._packets = None
        self._queue.clear()
        self._skippable.clear()
        self.live = False

    def _fail(self, exc: av.error.FFmpegError) -> None:
        self.failure = exc
        self._end_run()
        if isinstance(exc, _ACCESS_ERRORS):
            # The source itself failed (network, timeout): more seeks would only wait again.
            self.aborted = True

    def _seek(self, time: float) -> bool:
        try:
            self.container.seek(self._pts(time), stream=self.stream, backward=True)
        except av.error.FFmpegError as exc:
            if self.seeks == 0 and not isinstance(exc, _ACCESS_ERRORS):
                # The source cannot seek (a pipe, a server without ranges): decode forward only.
                self.seekable = False
                return False
            self._fail(exc)
            return False
        self.seeks += 1
        self._queue.clear()
        self._skippable.clear()
        self._packets = self.container.demux(self.stream)
        self.last = None
        self.live = True
        self.pos = -math.inf
        return True

    # -- planning -----------------------------------------------------------------------

    def _seek_target(
        self, start: float, end: float, target: float, pos: float
    ) -> tuple[float, float, bool] | None:
        """Return (cost in frames, seek time, lands in the cell) for the best seek, if any."""
        inside = [
            k
            for k in (self._keyframe_before(target), self._keyframe_after(target))
            if k is not None and start <= k < end and k > pos
        ]
        if inside:
            key = min(inside, key=lambda k: abs(k - target))
            # Seeking lands on the last keyframe whose pts is at or before the seek time: seek
            # just before the next keyframe (or the cell end), so that an error in the
            # dts-to-pts shift cannot make us land one GOP early.
            tick = float(self.time_base)
            upper = min(end, self.duration)
            after = self._keyframe_after(key + 1.5 * tick)
            if after is not None:
                upper = min(upper, after)
            return _SEEK_COST + 1, upper - tick / 2, True
        before = self._keyframe_before(start)
        if before is not None and before > pos:
            return _SEEK_COST + (start - before) * self.fps + 1, start, False
        if self.index is None and start - pos > self._gop_guess():
            # Unknown ground: a keyframe is likely within one learned GOP before the cell.
            return _SEEK_COST + self._gop_guess() / 2 * self.fps + 1, start, False
        return None

    def _plan(self, start: float, end: float, target: float, pos: float, *, live: bool) -> _Plan:
        """Choose between decoding forward from pos (the decoder's position) and seeking."""
        if not self.seekable:
            return _FORWARD
        if not live:
            seek = self._seek_target(start, end, target, -math.inf)
            return _Plan(True, seek[1], seek[2]) if seek else _Plan(True, start, False)
        forward = max(0.0, start - pos) * self.fps + 1
        seek = self._seek_target(start, end, target, pos)
        if seek is None or seek[0] >= forward:
            return _FORWARD
        return _Plan(True, seek[1], seek[2])

    # -- sampling -----------------------------------------------------------------------

    def _duration(self) -> float | None:
        stream, container = self.stream, self.container
        if stream.duration and stream.duration > 0:
            return float(stream.duration * self.time_base)
        if container.duration and container.duration > 0:
            return container.duration / _AV_TIME_BASE
        return None

    def _scan_duration(self) -> float:
        """Demux (no decoding) the whole stream to find its length and keyframes, then rewind."""
        end = 0.0
        for packet in self.container.demux(self.stream):
            if packet.pts is None:
                continue
            time = self._seconds(packet.pts)
            end = max(end, time + float((packet.duration or 0) * self.time_base))
            if packet.is_keyframe:
                bisect.insort(self.keyframes, time)
        try:
            self.container.seek(self.origin, stream=self.stream, backward=True)
        except av.error.FFmpegError:
            raise VideoError(
                f"{self.name}: the duration is unknown and the video cannot be rewound"
            ) from None
        self.seeks += 1
        self._queue.clear()
        self._packets = self.container.demux(self.stream)
        self.last, self.pos, self.live = None, 0.0, True
        return end

    def _rate(self, duration: float) -> float:
        for rate in (self.stream.average_rate, self.stream.guessed_rate, self.stream.base_rate):
            if rate and 0 < rate < 1000:
                return float(rate)
        if self.stream.frames and duration > 0:
            return self.stream.frames / duration
        return 30.0

    def sample(self, count: int, start_fraction: float, end_fraction: float) -> SampledFrames:
        """Decode the frames of the plan; raise VideoError when none could be decoded."""
        duration = self._duration()
        if duration is None:
            duration = self._scan_duration()
        self.fps = self._rate(duration)
        self.duration = duration

        start, end = duration * start_fraction, duration * end_fraction
        if (end - start) * self.fps < count:
            # Too few frames in the window for N distinct ones: use the whole video.
            start, end = 0.0, duration
        width = (end - start) / count
        cells = [(start + i * width, start + (i + 1) * width) for i in range(count)]
        # Let the last cell run to the end of the stream: a frame exactly at `end` belongs there.
        if cells:
            cells[-1] = (cells[-1][0], math.inf if end >= duration else cells[-1][1])

        images: list[tuple[float, Image]] = []
        slots: list[int] = []  # plan positions that got a frame
        used: set[float] = set()
        empty: list[int] = []  # cells left without a frame so far
        for i, (cell_start, cell_end) in enumerate(cells):
            if self.aborted:
                break
            target = cell_start + width / 2
            if i + 1 < count:
                next_start, next_end = cells[i + 1]
                # Where the decoder would stand after taking the frame nearest this target.
                next_forward = not self._plan(
                    next_start, next_end, next_start + width / 2, target, live=True
                ).seek
            else:
                next_forward = False
            chosen = self._take(cell_start, cell_end, target, used, nearest=next_forward)
            if chosen is None:
                empty.append(i)
                continue
            taken = [chosen]
            used.add(chosen[1])
            # Earlier cells were empty (a variable frame rate gap): take more frames from this
            # one for their slots, so the count stays as high as the video allows.
            while len(taken) <= len(empty):
                extra = self._take_extra(cell_end, used)
                if extra is None:
                    break
                taken.append(extra)
                used.add(extra[1])
            slots.extend([*empty[len(empty) - len(taken) + 1 :], i])
            del empty[len(empty) - len(taken) + 1 :]
            for frame, time in taken:
                images.append((time, self._image(frame)))

        # Pair slots and frames in order, so indexes rise with time even after refills.
        images.sort(key=lambda item: item[0])
        frames = [
            Frame(index=slot, timestamp=max(0.0, time), image=image)
            for slot, (time, image) in zip(sorted(slots), images, strict=True)
        ]
        return self._result(frames, duration, count, cells)

    def _take(
        self, start: float, end: float, target: float, used: set[float], *, nearest: bool
    ) -> tuple[VideoFrame, float] | None:
        """Return the frame (and its time) to use for one cell, decoding as little as possible."""
        best: tuple[VideoFrame, float] | None = None  # a frame in the cell before the target
        self.needed_pts = self._pts(start)
        if self.live and self.last is not None and self.pos >= start:
            # Decoding already went into (or past) this cell while finishing the previous one.
            if self.pos >= end:
                return None
            if self.pos not in used:
                if self.pos >= target or not nearest:
                    return self.last, self.pos
                best = self.last, self.pos
        elif self.eof_at is not None and start > self.eof_at:
            return None  # past the last frame of the video
        else:
            plan = self._plan(start, end, target, self.pos, live=self.live)
            if plan.seek and self._seek(plan.to) and plan.keyframe and not nearest:
                landed = self._keyframe_only()
                if landed is not None:
                    if start <= landed[1] < end and landed[1] not in used:
                        return landed
                    if landed[1] >= end:
                        return None
                    self._seek(start)  # landed before the cell: decode forward into it
        while True:
            frame = self._next()
            if frame is None:
                return best
            time = self.pos
            if time < start or time in used:
                continue
            if time >= end:
                return best
            if time >= target or not nearest:
                if best is not None and target - best[1] <= time - target:
                    return best  # `frame` stays as self.last for the next cell
                return frame, time
            best = frame, time

    def _take_extra(self, end: float, used: set[float]) -> tuple[VideoFrame, float] | None:
        """Return the next unused frame before end by decoding on; None rather than seek."""
        if not self.live:
            return None
        if self.last is not None and self.pos not in used:
            return (self.last, self.pos) if self.pos < end else None
        while (frame := self._next()) is not None:
            if self.pos >= end:
                return None  # stays as self.last for the next cell
            if self.pos not in used:
                return frame, self.pos
        return None

    def _image(self, frame: VideoFrame) -> Image:
        sar = self.stream.sample_aspect_ratio
        if sar and sar > 0 and sar != 1:
            # Anamorphic video: stretch to square pixels so faces keep their proportions.
            width = max(2, round(frame.width * sar))
            image: Image = np.asarray(
                frame.reformat(width=width, height=frame.height, format="rgb24").to_ndarray(),
                dtype=np.uint8,
            )
        else:
            image = np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
        quarter_turns = round(frame.rotation / 90) % 4
        if quarter_turns:
            # np.rot90 turns counter-clockwise, the same sense as VideoFrame.rotation.
            image = np.ascontiguousarray(np.rot90(image, k=quarter_turns))
        return image

    def _result(
        self, frames: list[Frame], duration: float, count: int, cells: list[tuple[float, float]]
    ) -> SampledFrames:
        failure = self.failure
        if failure is not None and self.aborted:
            # A network failure or timeout is transient: fail (and let the job retry) rather
            # than identify from part of the frames.
            raise VideoError(_describe_error(failure, self.name, self.timeout_s))
        if not frames:
            reason = f": {failure.strerror}" if failure is not None and failure.strerror else ""
            raise VideoError(
                f"{self.name}: no frame could be decoded (truncated or corrupt video{reason})"
            )
        damaged = self.failure is not None or self.bad_packets > 0
        # A normal end is within a couple of frames of the duration; a truncated file ends early.
        ended_early = self.eof_at is not None and self.eof_at < duration - 2 / self.fps - 0.5
        if damaged or ended_early:
            _LOGGER.warning(
                "%s: damaged or truncated (frames end at %.1f s of %.1f s); using %d of %d frames",
                self.name,
                max(0.0, self.max_seen),
                duration,
                len(frames),
                count,
            )
        height, width = frames[0].image.shape[:2]
        return SampledFrames(
            frames=frames,
            duration=duration,
            width=width,
            height=height,
            codec=self.codec,
            decoded=self.decoded,
            seeks=self.seeks,
            decoder=self.decoder,
        )
