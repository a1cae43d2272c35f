"""Decode frames in worker processes and hand them over in shared memory.

PyAV releases the GIL only in parts of decoding, so frames are sampled in a pool of
processes. A 1080p scene is about 370 MB of RGB frames; pickling that through a pipe would
cost the main process more than the inference it feeds, so each worker writes its frames
(and the detector's letterboxed inputs) into the shared-memory block of the scene's frame
slot (`blocks.py`) and returns only their layout. Only when /dev/shm has no room do the
frames travel through the pipe. Workers exit when the daemon is gone, even after SIGKILL.

Workers are started with the forkserver method: the daemon is multi-threaded (event loop,
ONNX Runtime) and forking it would copy locks held by other threads.

A worker that dies (FFmpeg crashing on a hostile file) breaks the whole pool; the pool is
replaced and the scenes it held are decoded again, each alone in a one-process pool, so a
second crash names the file that caused it and fails that scene only.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing.shared_memory import SharedMemory

import numpy as np
import numpy.typing as npt

from stash_sense.faces.detector import letterbox_canvas
from stash_sense.faces.frames import sample_frames
from stash_sense.faces.hwdecode import HardwareDecode

_LOGGER = logging.getLogger(__name__)
OWNER_POLL_SECONDS = 1.0  # how often a worker checks that the daemon still runs
SHM_DIR = "/dev/shm"  # noqa: S108 - only asked for its free space
BLOCK_GROWTH = 1.25  # a new block's size over the scene that needed it
SHM_HEADROOM = 2.0  # create a block only with this multiple of its size free


@dataclass(frozen=True)
class DecodeRequest:
    """What a worker needs to sample one video (plain data: it crosses a process boundary)."""

    source: str
    count: int
    start_fraction: float
    end_fraction: float
    http_headers: Mapping[str, str] | None = None
    label: str | None = None
    hwaccel: HardwareDecode | None = None  # None: decode in software
    detection_size: int = 0  # also prepare the detector's letterboxed input (0: do not)
    block: str | None = None  # the frame slot's shared block to write into, if it has one
    block_size: int = 0


@dataclass(frozen=True)
class FrameSlot:
    """Where one frame lies in the shared block."""

    index: int
    timestamp: float
    shape: tuple[int, int, int]
    offset: int
    canvas_offset: int = -1  # the detector's input, (3, S, S) uint8; -1: not prepared
    det_scale: float = 1.0


@dataclass(frozen=True)
class DecodedScene:
    """A worker's answer: where the frames are, and their layout."""

    memory: str | None  # the shared block holding them; None: inline, or no frame at all
    size: int  # the block's size
    frames: tuple[FrameSlot, ...]
    duration: float
    decoded: int  # frames the decoder worked on (cost)
    seconds: float  # wall time spent decoding in the worker
    detection_size: int = 0
    inline: bytes | None = None  # the frames themselves, when no shared block could hold them


def decode_scene(request: DecodeRequest) -> DecodedScene:
    """Sample a video's frames into the request's shared block (runs in a worker process)."""
    began = time.perf_counter()
    sampled = sample_frames(
        request.source,
        count=request.count,
        start_fraction=request.start_fraction,
        end_fraction=request.end_fraction,
        http_headers=request.http_headers,
        label=request.label,
        hwaccel=request.hwaccel,
    )
    size = request.detection_size
    # Resizing for the detector here spreads it over the decoding processes.
    canvases = [letterbox_canvas(frame.image, size) if size else None for frame in sampled.frames]
    slots: list[FrameSlot] = []
    arrays: list[tuple[int, npt.NDArray[np.uint8]]] = []
    offset = 0
    for frame, prepared in zip(sampled.frames, canvases, strict=True):
        image_offset, offset = offset, offset + frame.image.nbytes
        arrays.append((image_offset, frame.image))
        canvas_offset, det_scale = -1, 1.0
        if prepared is not None:
            canvas_offset, offset, det_scale = offset, offset + prepared[0].nbytes, prepared[1]
            arrays.append((canvas_offset, prepared[0]))
        shape = (frame.image.shape[0], frame.image.shape[1], 3)
        slots.append(
            FrameSlot(frame.index, frame.timestamp, shape, image_offset, canvas_offset, det_scale)
        )
    name, block_size, inline = _store(request, offset, arrays)
    return DecodedScene(
        name,
        block_size,
        tuple(slots),
        sampled.duration,
        sampled.decoded,
        time.perf_counter() - began,
        size,
        inline,
    )


def _store(
    request: DecodeRequest, total: int, arrays: list[tuple[int, npt.NDArray[np.uint8]]]
) -> tuple[str | None, int, bytes | None]:
    """Copy the arrays into the slot's block, a new larger one, or (no room) a bytes object."""
    if total == 0:
        return None, 0, None
    if request.block is not None and request.block_size >= total:
        block, size = SharedMemory(name=request.block), request.block_size
    elif shm_room() >= total * SHM_HEADROOM:
        # Room to grow: the next scene of this slot may be a little larger.
        size = int(total * BLOCK_GROWTH)
        block = SharedMemory(create=True, size=size)
    else:
        buffer = bytearray(total)
        for offset, array in arrays:
            np.ndarray(array.shape, np.uint8, buffer=buffer, offset=offset)[...] = array
        _warn_inline_once(total)
        return None, 0, bytes(buffer)
    try:
        for offset, array in arrays:
            view = np.ndarray(array.shape, np.uint8, buffer=block.buf, offset=offset)
            view[...] = array
            del view  # a live view would keep the mapping from closing
    except BaseException:
        block.close()
        if block.name != request.block:
            block.unlink()
        raise
    # This process's mapping only: the block belongs to the engine.
    block.close()
    return block.name, size, None


def shm_room() -> int:
    """Bytes free for shared memory (/dev/shm; Docker gives containers 64 MB by default)."""
    try:
        stat = os.statvfs(SHM_DIR)
    except OSError:
        return 0
    return stat.f_bavail * stat.f_frsize


_warned: set[str] = set()  # per worker process


def _warn_inline_once(total: int) -> None:
    """Say once per worker that frames go through the pipe, and how to avoid it."""
    if "inline" not in _warned:
        _warned.add("inline")
        _LOGGER.warning(
            "Shared memory (%s) has %d MB free, a scene needs %d MB: frames are copied through "
            "a pipe instead, which is slower. Give the container more (docker run --shm-size=8g, "
            "compose shm_size)",
            SHM_DIR,
            shm_room() // 1_048_576,
            total // 1_048_576 + 1,
        )


class DecodePool:
    """Worker processes that decode scenes; replaced when one dies."""

    def __init__(self, workers: int) -> None:
        self.workers = max(workers, 1)
        self._lock = threading.Lock()
        self._pool = self._new_pool(self.workers)
        self._isolated: ProcessPoolExecutor | None = None
        self.crashes = 0

    def _new_pool(self, workers: int) -> ProcessPoolExecutor:
        """Start a pool of `workers` decoding processes."""
        return worker_pool(workers)

    def submit(self, request: DecodeRequest, *, isolated: bool = False) -> Future[DecodedScene]:
        """Queue a scene for decoding; `isolated` runs it alone (after a worker crash)."""
        with self._lock:
            if isolated:
                if self._isolated is None:
                    self._isolated = self._new_pool(1)
                return self._isolated.submit(decode_scene, request)
            return self._pool.submit(decode_scene, request)

    def replace_broken(self) -> None:
        """Start fresh pools in place of broken ones (a worker process died)."""
        with self._lock:
            if broken(self._pool):
                self.crashes += 1
                _LOGGER.warning("A frame-decoding process died; starting new ones")
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool(self.workers)
            if self._isolated is not None and broken(self._isolated):
                self._isolated.shutdown(wait=False, cancel_futures=True)
                self._isolated = None

    def worker_pids(self) -> list[int]:
        """Process ids of the live decoding workers (for tests and diagnostics)."""
        with self._lock:
            processes = getattr(self._pool, "_processes", None) or {}
            return [p.pid for p in processes.values() if p.pid is not None]

    def close(self) -> None:
        """Stop the workers; queued scenes are dropped, running ones finish."""
        with self._lock:
            pools = [self._pool] + ([self._isolated] if self._isolated else [])
        for pool in pools:
            pool.shutdown(wait=True, cancel_futures=True)


def exit_with_owner(owner: int) -> None:
    """Make this worker exit once the daemon that started it is gone (even SIGKILLed).

    A worker blocks reading its task queue, whose write end it also holds, so it would never
    notice; and the fork server, not the daemon, is its parent.
    """

    def watch() -> None:
        while _alive(owner):
            time.sleep(OWNER_POLL_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="owner-watch", daemon=True).start()


def _alive(pid: int) -> bool:
    """Tell whether a process exists and is not a zombie (a killed one not yet reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            state = stat.read().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return True  # no /proc here: existing is all we can tell
    return state not in ("Z", "X")


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of engine processes (forkserver: the daemon is multi-threaded) that exit with it."""
    context = multiprocessing.get_context("forkserver")
    # Imported once in the fork server, so each worker starts in milliseconds.
    context.set_forkserver_preload(["stash_sense.engine.decode"])
    return ProcessPoolExecutor(
        workers, mp_context=context, initializer=exit_with_owner, initargs=(os.getpid(),)
    )


def broken(pool: ProcessPoolExecutor) -> bool:
    """Tell whether a pool lost a worker and refuses work."""
    return bool(getattr(pool, "_broken", False))
