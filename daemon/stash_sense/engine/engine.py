"""The pipelined engine: stages that overlap across scenes, joined by queues.

    submit ─► feeder ─► decoding processes ─► detect ─► embed ─► finish ─► result
                 (frame slots)                (batches of frames)  (batches of faces)

- feeder: takes a frame slot (a bound on the scenes holding frames, hence on memory) and
  sends the scene to the decoding processes.
- detect: gathers frames from every decoded scene up to the detector batch, detects, keeps
  and aligns faces (per-frame cap), then frees the scene's frames and applies the
  per-scene cap.
- embed: gathers faces across scenes up to the embedder batch.
- finish: searches the face database for every scene ready (one query per index for all of
  them; in a search process of its own when enabled, see `search.py`), then clusters,
  matches and describes each scene (`FacePipeline.conclude`).

Each stage is one thread: ONNX Runtime, OpenCV and the shared-memory copies release the
GIL, so the stages overlap each other and the decoding processes. A scene is dropped at the
next stage it reaches once its caller cancels it; an error fails the scenes of the batch it
happened in, never the engine. The queue in front of the engine stays the durable record:
a scene lost in a crash is a job that runs again after restart.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

import numpy as np

from stash_sense.engine.blocks import AttachedFrames, FrameBlocks, Prepared
from stash_sense.engine.decode import DecodedScene, DecodePool
from stash_sense.engine.meter import StageMeter
from stash_sense.engine.scene import Scene, SceneRequest
from stash_sense.engine.search import SearchProcess
from stash_sense.engine.sizing import EngineSizing
from stash_sense.faces.detector import letterbox_canvas
from stash_sense.faces.pipeline import Cancelled, face_matches
from stash_sense.faces.result import SceneResult
from stash_sense.faces.types import FaceError, Frame, VideoError
from stash_sense.metrics.stages import StageSample

_LOGGER = logging.getLogger(__name__)
_SLOT_POLL_SECONDS = 0.2  # how often a feeder waiting for a frame slot checks for shutdown
MAX_SCENES_PER_SEARCH = 32
_T = TypeVar("_T")


class EngineClosed(FaceError):
    """The engine stopped before the scene was identified."""


_Decoded = tuple[Scene, "Future[DecodedScene]"]


class Engine:
    """Identify many scenes at once, keeping every stage busy."""

    def __init__(self, sizing: EngineSizing, *, search_process: bool = False) -> None:
        self.sizing = sizing
        self._decoders = DecodePool(sizing.decode_workers)
        self.searcher = SearchProcess() if search_process else None
        self._warmed: object = None  # the release the search process was last asked to load
        self._blocks = FrameBlocks(sizing.frame_slots)
        self._incoming: queue.Queue[Scene | None] = queue.Queue()
        self._decoded: queue.Queue[_Decoded | None] = queue.Queue()
        self._to_embed: queue.Queue[Scene | None] = queue.Queue()
        self._to_finish: queue.Queue[Scene | None] = queue.Queue()
        self._meters = {
            name: StageMeter(name) for name in ("decode", "detect", "embed", "search", "match")
        }
        self._live: set[Scene] = set()
        self._live_lock = threading.Lock()
        self._closing = threading.Event()
        self.frames_peak_bytes = 0  # most frame bytes mapped at once (memory bound check)
        self._frames_bytes = 0
        # Stage-private work lists: only the detect (resp. embed) thread touches its own.
        self._detect_pending: deque[tuple[Scene, tuple[Frame, Prepared]]] = deque()
        self._embed_pending: deque[tuple[Scene, int]] = deque()
        self._threads = [
            threading.Thread(target=self._loop, args=(step,), name=f"engine-{name}", daemon=True)
            for name, step in (
                ("feed", self._feed),
                ("detect", self._detect),
                ("embed", self._embed),
                ("finish", self._finish),
            )
        ]
        for thread in self._threads:
            thread.start()

    # -- the caller's side -----------------------------------------------------------

    def submit(self, request: SceneRequest) -> Future[SceneResult]:
        """Queue one scene; the future holds its result or its error."""
        scene = Scene(request)
        if self._closing.is_set():
            scene.done.set_exception(EngineClosed("the identification engine is stopping"))
            return scene.done
        with self._live_lock:
            self._live.add(scene)
        self._incoming.put(scene)
        return scene.done

    def stage_samples(self) -> list[StageSample]:
        """Each stage's totals and the work waiting for it."""
        waiting = {
            "decode": self._incoming.qsize(),
            "detect": self._decoded.qsize(),
            "embed": self._to_embed.qsize(),
            "search": self._to_finish.qsize(),
            "match": 0,
        }
        return [meter.sample(waiting[name]) for name, meter in self._meters.items()]

    def decoder_pids(self) -> list[int]:
        """Process ids of the decoding workers."""
        return self._decoders.worker_pids()

    @property
    def frames_bytes(self) -> int:
        """Bytes of frames mapped now."""
        with self._live_lock:
            return self._frames_bytes

    @property
    def shared_bytes(self) -> int:
        """Shared memory held by the frame slots."""
        return self._blocks.bytes

    @property
    def live_scenes(self) -> int:
        """Scenes submitted and not finished."""
        with self._live_lock:
            return len(self._live)

    def close(self) -> None:
        """Stop the stages; scenes not finished fail with EngineClosed."""
        if self._closing.is_set():
            return
        self._closing.set()
        for q in (self._incoming, self._decoded, self._to_embed, self._to_finish):
            q.put(None)
        for thread in self._threads:
            thread.join()
        self._decoders.close()
        if self.searcher is not None:
            self.searcher.close()
        # A decode that finished during shutdown may have made a new block: track it to free it.
        while True:
            try:
                item = self._decoded.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                _adopt_result(*item)
        with self._live_lock:
            left = list(self._live)
        for scene in left:
            self._fail(scene, EngineClosed("the identification engine stopped"))
        self._blocks.close()

    # -- bookkeeping -------------------------------------------------------------

    def _loop(self, step: Callable[[], bool]) -> None:
        """Run a stage until it sees the end of its queue; never let an error end it."""
        while True:
            try:
                if not step():
                    return
            except Exception:  # a bug in a stage must not stop the engine; scenes fail alone
                _LOGGER.exception("Engine stage failed")

    def _succeed(self, scene: Scene, result: SceneResult) -> None:
        """Hand the result over and forget the scene."""
        self._forget(scene)
        if not scene.done.done():
            scene.done.set_result(result)

    def _fail(self, scene: Scene, error: BaseException) -> None:
        """Fail a scene once, freeing what it holds."""
        self._forget(scene)
        if not scene.done.done():
            scene.done.set_exception(error)

    def _fail_all(self, scenes: Iterable[Scene], error: BaseException) -> None:
        """Fail every scene of a batch that failed as a whole."""
        for scene in scenes:
            self._fail(scene, error)

    def _forget(self, scene: Scene) -> None:
        """Release a finished scene's frames and slot."""
        self._drop_frames(scene)
        with self._live_lock:
            self._live.discard(scene)

    def _drop_frames(self, scene: Scene) -> None:
        """Drop a scene's frames and give its frame slot back."""
        if scene.frames is not None:
            with self._live_lock:
                self._frames_bytes -= scene.frames.nbytes
            scene.release_frames()
        block, scene.block = scene.block, None
        if block is not None:
            self._blocks.give_back(block)

    def _stopped(self, scene: Scene) -> bool:
        """Fail a scene its caller no longer wants; tell whether it is out of the engine."""
        if scene.finished:
            return True
        if scene.request.stop_requested():
            self._fail(scene, Cancelled("identification cancelled"))
            return True
        return False

    # -- feed: frame slots and decoding processes ---------------------------------

    def _feed(self) -> bool:
        """Send the next scene to the decoding processes once a frame slot is free."""
        scene = self._incoming.get()
        if scene is None:
            return False
        block = None
        while block is None:
            if self._closing.is_set():
                return False
            if self._stopped(scene):
                return True
            block = self._blocks.take(timeout=_SLOT_POLL_SECONDS)
        scene.block = block
        if self._stopped(scene):
            return True
        self._warm_search(scene)
        request = scene.request.decode_request(block)
        try:
            future = self._decoders.submit(request, isolated=scene.crashed)
        except (BrokenProcessPool, RuntimeError):
            self._decoders.replace_broken()
            future = self._decoders.submit(request, isolated=scene.crashed)
        future.add_done_callback(lambda done: self._decoded.put((scene, done)))
        return True

    def _warm_search(self, scene: Scene) -> None:
        """Have the search process load a scene's release while its frames decode."""
        database = scene.request.pipeline.database
        if self.searcher is not None and database is not self._warmed:
            self._warmed = database
            self.searcher.warm(scene.request.pipeline)

    # -- detect: batches of frames across scenes ---------------------------------------

    def _detect(self) -> bool:
        """Detect faces in the next batch of frames, gathered across decoded scenes."""
        pending = self._detect_pending
        limit = self.sizing.detect_batch
        if not _gather(self._decoded, not pending, lambda: len(pending) >= limit, self._admit):
            return False
        batch = _take(pending, limit, self._stopped)
        if not batch:
            return True
        detector = batch[0][0].request.pipeline.models.detector
        began = time.perf_counter()
        try:
            with self._meters["detect"].measure(len(batch)):
                found = detector.detect_prepared([prepared for _, (_, prepared) in batch])
        except Exception as err:  # the batch's scenes fail; the next batch may be fine
            self._fail_all({s for s, _ in batch}, err)
            return True
        share = (time.perf_counter() - began) / len(batch)
        for (scene, (frame, _)), detections in zip(batch, found, strict=True):
            if scene.finished:
                continue
            detected, kept = scene.request.pipeline.keep_faces(frame, detections)
            scene.detected += detected
            scene.faces.extend(kept)
            scene.add_time("detect", share)
            scene.frames_left -= 1
            if scene.frames_left == 0:
                self._detected(scene)
        return True

    def _admit(self, item: _Decoded) -> None:
        """Take a scene's decoded frames into the detector's batch, or fail it."""
        scene, future = item
        try:
            decoded = future.result()
        except BrokenProcessPool:
            self._decoder_died(scene)
            return
        except Exception as err:  # VideoError and anything else the decoder raised
            self._fail(scene, err)
            return
        self._meters["decode"].add(decoded.seconds, len(decoded.frames))
        assert scene.block is not None  # taken by the feeder
        scene.frames = AttachedFrames(decoded, scene.block)
        if self._stopped(scene):
            return
        scene.add_time("frames", decoded.seconds)
        scene.duration = decoded.duration
        scene.frames_sampled = len(decoded.frames)
        with self._live_lock:
            self._frames_bytes += scene.frames.nbytes
            self.frames_peak_bytes = max(self.frames_peak_bytes, self._frames_bytes)
        scene.request.on_stage(f"sampled {len(decoded.frames)} frames")
        if not scene.frames.frames:
            self._detected(scene)
            return
        frames = scene.frames
        scene.frames_left = len(frames.frames)
        size = scene.request.pipeline.models.detector.input_size
        for frame, canvas in zip(frames.frames, frames.canvases, strict=True):
            ready = canvas if canvas is not None and frames.size == size else None
            prepared = ready or letterbox_canvas(frame.image, size)
            self._detect_pending.append((scene, (frame, prepared)))

    def _decoder_died(self, scene: Scene) -> None:
        """Decode again alone after a worker crash; a second crash fails the scene."""
        self._drop_frames(scene)
        self._decoders.replace_broken()
        if scene.crashed or self._closing.is_set():
            self._fail(
                scene,
                VideoError(f"{scene.request.description}: the frame decoder crashed on this video"),
            )
            return
        scene.crashed = True
        self._incoming.put(scene)

    def _detected(self, scene: Scene) -> None:
        """Free the frames, cap the faces, and send the scene on to embedding."""
        self._drop_frames(scene)
        scene.faces_found(scene.request.pipeline.cap_faces(scene.faces))
        scene.request.on_stage(f"found {len(scene.faces)} faces")
        self._to_embed.put(scene)

    # -- embed: batches of faces across scenes -------------------------------------

    def _embed(self) -> bool:
        """Embed the next batch of faces, gathered across scenes."""
        pending = self._embed_pending
        limit = self.sizing.embed_batch
        if not _gather(
            self._to_embed, not pending, lambda: len(pending) >= limit, self._queue_faces
        ):
            return False
        batch = _take(pending, limit, self._stopped)
        if not batch:
            return True
        embedder = batch[0][0].request.pipeline.models.embedder
        began = time.perf_counter()
        try:
            with self._meters["embed"].measure(len(batch)):
                facenet, arcface = embedder.embed(
                    [scene.faces[i].aligned for scene, i in batch],
                    batch_size=self.sizing.embed_batch,
                )
        except Exception as err:
            self._fail_all({s for s, _ in batch}, err)
            return True
        share = (time.perf_counter() - began) / len(batch)
        for row, (scene, i) in enumerate(batch):
            if scene.finished:
                continue
            scene.facenet[i] = facenet[row]
            scene.arcface[i] = arcface[row]
            scene.add_time("embed", share)
            scene.embedded += 1
            if scene.embedded == len(scene.faces):
                self._to_finish.put(scene)
        return True

    def _queue_faces(self, scene: Scene) -> None:
        """Line a scene's faces up for embedding (a scene without faces goes straight on)."""
        if self._stopped(scene):
            return
        if not scene.faces:
            self._to_finish.put(scene)
            return
        scene.timings.setdefault("embed", 0.0)
        self._embed_pending.extend((scene, i) for i in range(len(scene.faces)))

    # -- finish: search, match, describe ------------------------------------------------

    def _finish(self) -> bool:
        """Search the database for every ready scene at once, then match each."""
        ready: list[Scene] = []
        if not _gather(
            self._to_finish, True, lambda: len(ready) >= MAX_SCENES_PER_SEARCH, ready.append
        ):
            return False
        scenes = [s for s in ready if not self._stopped(s)]
        # Scenes started on different face-database releases search their own.
        by_database: dict[int, list[Scene]] = {}
        for scene in scenes:
            by_database.setdefault(id(scene.request.pipeline.database), []).append(scene)
        for group in by_database.values():
            self._search(group)
        for scene in scenes:
            if not scene.finished:
                self._conclude(scene)
        return True

    def _search(self, scenes: list[Scene]) -> None:
        """One batched query per index for the faces of all `scenes`."""
        pipeline = scenes[0].request.pipeline
        faces = sum(len(s.faces) for s in scenes)
        began = time.perf_counter()
        try:
            with self._meters["search"].measure(len(scenes)):
                facenet = np.concatenate([s.facenet for s in scenes])
                arcface = np.concatenate([s.arcface for s in scenes])
                if self.searcher is not None:
                    found = self.searcher.candidates(pipeline, facenet, arcface)
                else:
                    found = pipeline.candidates(facenet, arcface)
        except Exception as err:
            self._fail_all(scenes, err)
            return
        seconds = time.perf_counter() - began
        start = 0
        for scene in scenes:
            count = len(scene.faces)
            scene.matches = face_matches(scene.faces, found[start : start + count])
            scene.add_time("search", seconds * count / faces if faces else seconds / len(scenes))
            start += count

    def _conclude(self, scene: Scene) -> None:
        """Cluster, match and describe one scene; hand over the result."""
        request = scene.request
        try:
            with self._meters["match"].measure(1):
                result = request.pipeline.conclude(
                    scene.collected(), description=request.description, tagged=request.tagged
                )
        except Exception as err:
            self._fail(scene, err)
            return
        request.on_stage(f"{len(result.persons)} persons")
        self._succeed(scene, result)


def _gather(
    source: queue.Queue[_T | None],
    wait: bool,
    enough: Callable[[], bool],
    take: Callable[[_T], object],
) -> bool:
    """Feed a stage from its queue: wait for one item if `wait`, then only what is there.

    Returns False on the end marker met while waiting; met later, it is put back, so it is
    seen again once the work in hand is done.
    """
    if wait:
        item = source.get()
        if item is None:
            return False
        take(item)
    while not enough():
        try:
            item = source.get_nowait()
        except queue.Empty:
            break
        if item is None:
            source.put(None)
            break
        take(item)
    return True


def _take(
    pending: deque[tuple[Scene, _T]], limit: int, gone: Callable[[Scene], bool]
) -> list[tuple[Scene, _T]]:
    """Pop up to `limit` items of scenes still wanted, all on the same models."""
    batch: list[tuple[Scene, _T]] = []
    models = None
    while pending and len(batch) < limit:
        scene = pending[0][0]
        if gone(scene):
            pending.popleft()
            continue
        current = scene.request.pipeline.models
        if models is None:
            models = current
        elif current is not models:
            break  # another model set (a restart's pipeline): its own batch
        batch.append(pending.popleft())
    return batch


def _adopt_result(scene: Scene, future: Future[DecodedScene]) -> None:
    """Give the scene's slot the block a decode nobody will read wrote into (to be freed)."""
    if future.cancelled() or future.exception() is not None or scene.block is None:
        return
    name = future.result().memory
    if name is not None:
        scene.block.adopt(name)
