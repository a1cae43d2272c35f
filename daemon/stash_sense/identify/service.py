"""Load the face models and database once, off the event loop, and run identifications."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from stash_sense.config import Config, EngineConfig, FacesConfig
from stash_sense.config.paths import FACE_DB_VERIFIED, data_dir
from stash_sense.engine.engine import Engine
from stash_sense.engine.scene import SceneRequest
from stash_sense.engine.sizing import EngineSizing, pipelined
from stash_sense.facedb.layout import active_database_dir
from stash_sense.faces.database import FaceDatabase, PerformerInfo
from stash_sense.faces.pipeline import MODEL_FILES, FaceModels, FacePipeline
from stash_sense.faces.result import SceneResult
from stash_sense.faces.runtime import CUDA, TENSORRT
from stash_sense.faces.types import FaceError
from stash_sense.identify.stats import IdentifyStats
from stash_sense.metrics.stages import StageSample

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")
RETRY_LOAD_SECONDS = 60.0  # after a failed load, try again at most this often


class FacesUnavailable(FaceError):
    """The models or the face database are missing or could not be loaded; the message says why."""


@dataclass
class FacesStatus:
    """What /health shows about face identification."""

    ready: bool = False
    loading: bool = False
    error: str | None = None
    database: dict[str, Any] | None = None
    models_version: str | None = None
    providers: dict[str, list[str]] = field(default_factory=dict)
    warm_up_ms: dict[str, float] = field(default_factory=dict)  # per model; empty: no warm-up
    # hardware_decode setting, the decoder in use ("cuda" or "software") and why
    decode: dict[str, str] | None = None
    # how identifications run: mode, and once the engine started its sizes
    engine: dict[str, Any] = field(default_factory=dict)


class FaceService:
    """Own the pipeline: load lazily, retry failed loads, run work in an executor."""

    def __init__(
        self,
        config: FacesConfig,
        *,
        cache_file: Path,
        workers: int = 1,
        engine: EngineConfig | None = None,
    ) -> None:
        self.config = config
        # None: every identification runs on its own, stage after stage, in the executor.
        # (`build_face_service` resolves `mode = "auto"` before it gets here.)
        self.engine_config = engine if engine is not None and engine.mode != "sequential" else None
        self._engine: Engine | None = None
        mode = "pipelined" if self.engine_config is not None else "sequential"
        self.models_dir = Path(config.models_dir).expanduser().resolve()
        self.database_dir = Path(config.database_dir).expanduser().resolve()
        self.cache_file = cache_file
        # One thread per concurrent identification: ONNX Runtime and PyAV release the
        # GIL, and sessions are used by one thread at a time.
        self._executor = ThreadPoolExecutor(max(workers, 1), thread_name_prefix="faces")
        self._pipeline: FacePipeline | None = None
        self._lock = asyncio.Lock()
        self._failed_at = 0.0
        self.status = FacesStatus(engine={"mode": mode, "started": False})
        self.stats = IdentifyStats()

    def performer_info(self, universal_id: str) -> PerformerInfo | None:
        """Return what the loaded face database says about a performer (None if not loaded)."""
        if self._pipeline is None:
            return None
        return self._pipeline.database.performers.get(universal_id)

    async def pipeline(self) -> FacePipeline:
        """Return the loaded pipeline, loading it first (raises FacesUnavailable)."""
        if self._pipeline is not None:
            return self._pipeline
        async with self._lock:
            if self._pipeline is None:
                if self.status.error and time.monotonic() - self._failed_at < RETRY_LOAD_SECONDS:
                    raise FacesUnavailable(self.status.error)
                self._pipeline = await self._load()
            pipeline = self._pipeline
        if pipeline is None:
            raise FacesUnavailable(self.status.error or "face identification is not loaded")
        return pipeline

    def reference_image(self, universal_id: str | None, local_id: str | None) -> str | None:
        """Stash's own image of the library performer, else the face database's image URL."""
        if local_id:
            # A path on Stash's origin: the plugin page loads it from there, with its session.
            return f"/performer/{local_id}/image"
        info = self.performer_info(universal_id) if universal_id else None
        return info.image_url if info is not None and info.image_url else None

    async def load(self) -> bool:
        """Try to load now (at start-up); return whether it worked."""
        try:
            await self.pipeline()
        except FacesUnavailable:
            return False
        return True

    async def _load(self, database: FaceDatabase | None = None) -> FacePipeline | None:
        """Load models (and the database unless given) in the executor; record the outcome."""
        self.status.loading = True
        loop = asyncio.get_running_loop()
        try:
            pipeline = await loop.run_in_executor(self._executor, lambda: self._load_sync(database))
        except (FaceError, OSError) as err:
            self.status.error = str(err)
            self._failed_at = time.monotonic()
            _LOGGER.error("Face identification unavailable: %s", err)
            return None
        else:
            self.status.error = None
            self.status.ready = True
            self.status.database = pipeline.database.summary()
            self.status.models_version = pipeline.models.version
            self.status.providers = pipeline.models.runtime.providers_report()
            self.status.warm_up_ms = dict(pipeline.models.warm_up_ms)
            decoder = pipeline.models.decoder
            self.status.decode = {
                "setting": decoder.setting,
                "mode": decoder.mode,
                "reason": decoder.reason,
            }
            _LOGGER.info(
                "Face identification ready: database %s, providers %s",
                pipeline.database.version,
                self.status.providers,
            )
            return pipeline
        finally:
            self.status.loading = False

    def _load_sync(self, database: FaceDatabase | None = None) -> FacePipeline:
        """Load everything not given (blocking; runs in the executor)."""
        missing = [n for n in MODEL_FILES if not (self.models_dir / n).is_file()]
        if missing:
            raise FacesUnavailable(
                f"model files missing in {self.models_dir}: {', '.join(missing)}"
            )
        models = FaceModels.load(
            self.models_dir, self.config, shared=self.engine_config is not None
        )
        if database is None:
            database = FaceDatabase.load(
                active_database_dir(self.database_dir),
                verify=self.config.verify_checksums,
                ef=self.config.query_ef,
                cache_file=self.cache_file,
            )
        return FacePipeline(models, database, self.config)

    async def swap_database(self, database: FaceDatabase) -> None:
        """Serve a newly loaded release; identifications already running keep the old one."""
        async with self._lock:
            current = self._pipeline
            if current is None:
                # nothing served yet: load the models around the new release now
                self._pipeline = await self._load(database)
                return
            self._pipeline = FacePipeline(current.models, database, self.config)
            self.status.database = database.summary()
        _LOGGER.info("Face database %s is now in use", database.version)

    async def identify(
        self,
        source: str,
        *,
        description: str,
        http_headers: Mapping[str, str] | None = None,
        tagged: Collection[str] = (),
        cancelled: Callable[[], bool] = lambda: False,
        pipeline: FacePipeline | None = None,
        on_stage: Callable[[str], None] = lambda message: None,
    ) -> SceneResult:
        """Identify one video on `pipeline` if given (a job's snapshot), in the engine if on.

        `on_stage` is called from another thread after each engine stage; it must not block.
        """
        if pipeline is None:
            pipeline = await self.pipeline()
        if self.engine_config is not None:
            request = SceneRequest(
                pipeline,
                source,
                description,
                http_headers=http_headers,
                tagged=tuple(tagged),
                cancelled=cancelled,
                on_stage=on_stage,
            )
            future = self._engine_for(pipeline).submit(request)
            try:
                result = await asyncio.wrap_future(future)
            except asyncio.CancelledError:
                request.abandoned.set()  # dropped at its next stage; frees its frames
                raise
            self.stats.record(result)
            return result
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(
            self._executor,
            lambda: pipeline.identify(
                source,
                description=description,
                http_headers=http_headers,
                tagged=tagged,
                cancelled=cancelled,
            ),
        )
        self.stats.record(result)
        return result

    async def run(self, work: Callable[[FacePipeline], T]) -> T:
        """Run other work on the loaded pipeline in the executor (e.g. an evaluation)."""
        pipeline = await self.pipeline()
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, lambda: work(pipeline)
        )

    def _engine_for(self, pipeline: FacePipeline) -> Engine:
        """Start the engine on first use, sized for the provider the models run on."""
        if self._engine is None:
            assert self.engine_config is not None
            providers = pipeline.models.runtime.providers_report()
            gpu = any(CUDA in p or TENSORRT in p for p in providers.values())
            sizing = EngineSizing.resolve(self.engine_config, self.config, gpu=gpu)
            self._engine = Engine(sizing, search_process=self.engine_config.search_process)
            self.status.engine = {"mode": "pipelined", "started": True, **asdict(sizing)}
            _LOGGER.info(
                "Identification engine started: %d decoding processes, %d scenes at once, "
                "detector batch %d, embedder batch %d",
                sizing.decode_workers,
                sizing.scenes_in_flight,
                sizing.detect_batch,
                sizing.embed_batch,
            )
        return self._engine

    def stage_samples(self) -> list[StageSample]:
        """The engine's per-stage totals (empty until the engine has started)."""
        return self._engine.stage_samples() if self._engine is not None else []

    @property
    def engine(self) -> Engine | None:
        """The running engine, if identifications go through it and one has started."""
        return self._engine

    def close(self) -> None:
        """Stop the engine and the executor (running work finishes first; blocking)."""
        if self._engine is not None:
            self._engine.close()
        self._executor.shutdown(wait=True, cancel_futures=True)


def build_face_service(config: Config, *, one_scene: bool = False) -> FaceService:
    """Build the face service that the daemon and the `identify` command share.

    `one_scene`: identify a single scene now (the command), where starting the engine's
    decoding processes would only add to the wait.
    """
    return FaceService(
        config.faces,
        cache_file=data_dir(config) / FACE_DB_VERIFIED,
        workers=config.queue.concurrency.gpu,
        engine=config.engine if pipelined(config) and not one_scene else None,
    )
