"""Search the face database in a process of its own.

Voyager holds the GIL while it queries, and fusing the candidates is Python: searching
in the daemon's process would stop the other stages from starting detector and embedder
calls for as long as it runs (at the full release and `query_ef` 400, about 5 ms of query
per face). The search process loads the same release from its folder once (the daemon
verified it already) and answers batches of faces; it reloads when a scene comes with
another release. If it cannot (the folder was pruned) or dies, the scene is searched in
the daemon's process, on the release the scene started with: never a lost scene.

It costs a second copy of the indices in memory (about 1.6 GiB for the public release).
"""

from __future__ import annotations

import logging
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stash_sense.engine.decode import broken, worker_pool
from stash_sense.faces.database import FaceDatabase
from stash_sense.faces.pipeline import FacePipeline
from stash_sense.faces.search import search_faces
from stash_sense.faces.types import Candidate, Vectors

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class SearchRequest:
    """A batch of embedded faces and how to search them (plain data for the process)."""

    directory: str
    version: str
    ef: int
    facenet: Vectors
    arcface: Vectors
    k: int
    facenet_weight: float
    max_distance: float
    max_results: int


_loaded: dict[tuple[str, str, int], FaceDatabase] = {}  # in the search process: one release


def _database(directory: str, version: str, ef: int) -> FaceDatabase:
    """The release the request names, loading it (and dropping the previous) when new."""
    key = (directory, version, ef)
    database = _loaded.get(key)
    if database is None:
        _loaded.clear()
        database = FaceDatabase.load(Path(directory), verify="never", ef=ef)
        if database.version != version:
            raise RuntimeError(f"{directory} now holds release {database.version}, not {version}")
        _loaded[key] = database
    return database


def search_batch(request: SearchRequest) -> list[list[Candidate]]:
    """Search one batch (runs in the search process)."""
    database = _database(request.directory, request.version, request.ef)
    return search_faces(
        database,
        request.facenet,
        request.arcface,
        k=request.k,
        facenet_weight=request.facenet_weight,
        max_distance=request.max_distance,
        max_results=request.max_results,
    )


def preload(directory: str, version: str, ef: int) -> int:
    """Load a release ahead of the first search (runs in the search process)."""
    return _database(directory, version, ef).face_count


class SearchProcess:
    """One process that searches the face database for the engine."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self.fallbacks = 0  # batches searched in the daemon's process instead

    def _executor(self) -> ProcessPoolExecutor:
        """The search process, started (again) when needed."""
        if self._pool is None or broken(self._pool):
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = worker_pool(1)
        return self._pool

    def warm(self, pipeline: FacePipeline) -> None:
        """Start loading the pipeline's release in the search process now (may start it)."""
        database = pipeline.database
        self._executor().submit(preload, str(database.directory), database.version, database.ef)

    def candidates(
        self, pipeline: FacePipeline, facenet: Vectors, arcface: Vectors
    ) -> list[list[Candidate]]:
        """Search in the search process; in this one if that fails (blocking)."""
        config, database = pipeline.config, pipeline.database
        request = SearchRequest(
            str(database.directory),
            database.version,
            database.ef,
            np.ascontiguousarray(facenet, dtype=np.float32),
            np.ascontiguousarray(arcface, dtype=np.float32),
            config.query_k,
            config.facenet_weight,
            config.max_distance,
            pipeline.max_results,
        )
        try:
            return self._executor().submit(search_batch, request).result()
        except Exception as err:  # a dead process, a pruned folder: search here instead
            self.fallbacks += 1
            _LOGGER.warning("Searching in the daemon's process instead (%s)", err)
            return pipeline.candidates(facenet, arcface)

    def pid(self) -> int | None:
        """The search process's id, once started."""
        processes = getattr(self._pool, "_processes", None) or {}
        return next((p.pid for p in processes.values()), None)

    def close(self) -> None:
        """Stop the search process."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
