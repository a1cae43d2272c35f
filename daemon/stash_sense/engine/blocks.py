"""Frame slots: the shared-memory blocks that carry decoded frames, reused scene after scene.

The engine owns one block per frame slot. A scene takes a free slot before it is decoded; the
decoding process writes into that slot's block (or, when the scene is larger, into a new
block that replaces it), and the slot comes back free once the scene's faces are cut out.
Reusing blocks matters: fresh shared memory is zeroed page by page on first touch, which
cost as much as a third of decoding a small scene, and about 370 MB per 1080p scene. The
number of slots is therefore also the bound on the frame memory the engine holds.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from multiprocessing.shared_memory import SharedMemory

import numpy as np
import numpy.typing as npt

from stash_sense.engine.decode import DecodedScene
from stash_sense.faces.types import Frame

Prepared = tuple[npt.NDArray[np.uint8], float]  # the detector's letterboxed input and scale


class FrameBlock:
    """One frame slot and the shared block it holds (none until a scene needed one)."""

    def __init__(self) -> None:
        self.memory: SharedMemory | None = None

    @property
    def name(self) -> str | None:
        """The block's name, for a decoding process to write into."""
        return self.memory.name if self.memory is not None else None

    @property
    def size(self) -> int:
        """The block's size in bytes (0 without one)."""
        return self.memory.size if self.memory is not None else 0

    def adopt(self, name: str) -> SharedMemory:
        """Map the block a decoding process wrote into, freeing the slot's previous one."""
        if self.memory is not None and self.memory.name == name:
            return self.memory
        self.free()
        self.memory = SharedMemory(name=name)
        return self.memory

    def free(self) -> None:
        """Unmap and unlink the slot's block."""
        memory, self.memory = self.memory, None
        if memory is None:
            return
        # A view still referenced somewhere (e.g. by a traceback) keeps the mapping open;
        # unlinking still frees the memory once that reference goes.
        with contextlib.suppress(BufferError):
            memory.close()
        with contextlib.suppress(FileNotFoundError):
            memory.unlink()


class FrameBlocks:
    """The engine's frame slots."""

    def __init__(self, slots: int) -> None:
        self._all = [FrameBlock() for _ in range(slots)]
        self._free: queue.Queue[FrameBlock] = queue.Queue()
        for block in self._all:
            self._free.put(block)
        self._lock = threading.Lock()

    def take(self, timeout: float) -> FrameBlock | None:
        """Wait up to `timeout` seconds for a free slot."""
        try:
            return self._free.get(timeout=timeout)
        except queue.Empty:
            return None

    def give_back(self, block: FrameBlock) -> None:
        """Free a slot for the next scene."""
        self._free.put(block)

    @property
    def bytes(self) -> int:
        """Shared memory held by all slots."""
        return sum(block.size for block in self._all)

    def close(self) -> None:
        """Unlink every block (the engine has stopped)."""
        for block in self._all:
            block.free()


class AttachedFrames:
    """A decoded scene's frames and detector inputs: views on its slot's block."""

    def __init__(self, scene: DecodedScene, block: FrameBlock) -> None:
        self.frames: list[Frame] = []
        # The detector's inputs, by frame, when the decoding process prepared them.
        self.canvases: list[Prepared | None] = []
        self.size = scene.detection_size
        buffer: memoryview | bytes
        if scene.memory is not None:
            mapped = block.adopt(scene.memory).buf
            assert mapped is not None  # a mapped block has a buffer
            buffer = mapped
        elif scene.inline is not None:
            buffer = scene.inline  # no shared block could hold it (read-only views)
        else:
            return
        for slot in scene.frames:
            image = np.ndarray(slot.shape, np.uint8, buffer=buffer, offset=slot.offset)
            self.frames.append(Frame(slot.index, slot.timestamp, image))
            canvas = None
            if slot.canvas_offset >= 0:
                shape = (3, self.size, self.size)
                array = np.ndarray(shape, np.uint8, buffer=buffer, offset=slot.canvas_offset)
                canvas = (array, slot.det_scale)
            self.canvases.append(canvas)

    @property
    def nbytes(self) -> int:
        """Bytes of frames and detector inputs."""
        images = sum(frame.image.nbytes for frame in self.frames)
        return images + sum(c[0].nbytes for c in self.canvases if c is not None)

    def release(self) -> None:
        """Drop the views so the block can take the next scene."""
        self.frames = []
        self.canvases = []
