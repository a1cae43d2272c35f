"""Run an evaluation: sample ground truth, score scenes, report, and apply a calibration.

Shared by the daemon's jobs and the `evaluate` command; neither path writes to Stash, saves an
identification, tags or files review items.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from stash_sense.config import Config
from stash_sense.evaluate import truth
from stash_sense.evaluate.calibration import AutoThreshold
from stash_sense.evaluate.report import build_report
from stash_sense.evaluate.scoring import Variant, all_matchers, score_scene, variants
from stash_sense.evaluate.store import (
    CANCELLED,
    FAILED,
    FINISHED,
    PENDING,
    RUNNING,
    SKIPPED,
    Calibration,
    EvaluationStore,
)
from stash_sense.faces.database import split_universal_id
from stash_sense.faces.pipeline import FacePipeline
from stash_sense.faces.source import resolve_source
from stash_sense.faces.types import VideoError
from stash_sense.stash.client import StashClient
from stash_sense.tagging.resolver import parse_domain_overrides

T = TypeVar("T")


class Faces(Protocol):
    """The loaded face pipeline and a way to run blocking work on it."""

    async def pipeline(self) -> FacePipeline:
        """Return the loaded pipeline."""
        ...

    async def run(self, work: Callable[[FacePipeline], T]) -> T:
        """Run blocking work on the pipeline off the event loop."""
        ...


class NoRecommendation(Exception):
    """The evaluation found no threshold that reaches the target precision."""


class EvaluationService:
    """Evaluate identification on the library's tagged scenes."""

    def __init__(
        self,
        config: Config,
        store: EvaluationStore,
        stash: StashClient,
        faces: Faces,
        threshold: AutoThreshold,
    ) -> None:
        self.config = config
        self.store = store
        self._stash = stash
        self._faces = faces
        self.threshold = threshold

    async def create(
        self, *, scenes: int, seed: int, matchers: Sequence[str] = (), sweep: bool = False
    ) -> int:
        """Record a new run with its settings (raises ValueError for an unknown matcher)."""
        faces, tagging = self.config.faces, self.config.tagging
        names = list(matchers) or all_matchers()
        chosen = variants(faces, names, sweep=sweep)
        main = faces.matcher if faces.matcher in names else names[0]
        settings = {
            "scenes": scenes,
            "seed": seed,
            "matchers": names,
            "matcher": main,
            "sweep": sweep,
            "target_precision": tagging.target_precision,
            "auto_min_frames": tagging.auto_min_frames,
            "min_confidence": faces.min_confidence,
            "max_distance": faces.max_distance,
            "variants": [v.to_json() for v in chosen],
        }
        return await self.store.create(settings)

    async def sample(self, evaluation_id: int) -> list[int]:
        """Pick the scenes and their truth; return the usable scene ids, in order."""
        evaluation = await self.store.get(evaluation_id)
        assert evaluation is not None
        pipeline = await self._faces.pipeline()
        domains = {split_universal_id(uid)[0] for uid in pipeline.database.performers}
        by_url = truth.endpoint_domains(
            parse_domain_overrides(self.config.stashbox.endpoint_domains)
        )
        picked = await truth.sample(
            self._stash,
            count=int(evaluation.settings["scenes"]),
            seed=int(evaluation.settings["seed"]),
            domains=domains,
            by_url=by_url,
            page_size=self.config.events.reconcile_page_size,
        )
        await self.store.add_scenes(evaluation_id, picked)
        return [c.scene_id for c in picked if c.reason is None]

    async def score(
        self, evaluation_id: int, scene_id: int, cancelled: Callable[[], bool] = lambda: False
    ) -> None:
        """Evaluate one pending scene; a scene that cannot be read is marked, not retried."""
        evaluation = await self.store.get(evaluation_id)
        if evaluation is None or evaluation.state != RUNNING:
            return
        rows = {s.scene_id: s for s in await self.store.scenes(evaluation_id)}
        row = rows.get(scene_id)
        if row is None or row.state != PENDING:
            return
        scene = await self._stash.find_scene(scene_id)
        if scene is None or scene.primary_file is None:
            reason = truth.GONE if scene is None else truth.NO_FILE
            await self.store.mark_scene(evaluation_id, scene_id, SKIPPED, reason)
            return
        try:
            source = resolve_source(
                scene.primary_file.path,
                scene.paths.stream,
                self.config.faces.path_mappings,
                scene_id=scene_id,
            )
        except VideoError as err:
            await self.store.mark_scene(evaluation_id, scene_id, FAILED, str(err))
            return
        api_key = self.config.stash.api_key
        headers = {"ApiKey": api_key} if api_key and not source.is_local else None
        chosen = _variants_of(evaluation.settings)
        try:
            scores = await self._faces.run(
                lambda pipeline: score_scene(
                    pipeline,
                    source.location,
                    row.truth,
                    chosen,
                    http_headers=headers,
                    cancelled=cancelled,
                )
            )
        except VideoError as err:
            await self.store.mark_scene(evaluation_id, scene_id, FAILED, str(err))
            return
        await self.store.save_scene(evaluation_id, scene_id, scores)

    async def finish_if_done(self, evaluation_id: int) -> dict[str, Any] | None:
        """Store the report once no scene is pending; return it then."""
        evaluation = await self.store.get(evaluation_id)
        if evaluation is None or evaluation.state != RUNNING:
            return None
        if any(s.state == PENDING for s in await self.store.scenes(evaluation_id)):
            return None
        return await self.conclude(evaluation_id, FINISHED)

    async def conclude(self, evaluation_id: int, state: str) -> dict[str, Any]:
        """Build, store and return the report of a run that ends now (finished or cancelled)."""
        if state == CANCELLED:
            await self.store.cancel_pending(evaluation_id)
        report = await self.report(evaluation_id)
        await self.store.finish(evaluation_id, state, {**report, "state": state})
        return {**report, "state": state}

    async def report(self, evaluation_id: int) -> dict[str, Any]:
        """Return the report over what is stored now (a running run gives a partial one)."""
        evaluation = await self.store.get(evaluation_id)
        if evaluation is None:
            raise KeyError(evaluation_id)
        threshold = await self.threshold.current()
        return await build_report(self.store, evaluation, auto_threshold=threshold.value)

    async def apply(self, evaluation_id: int) -> Calibration:
        """Record a run's recommendation as the calibrated threshold."""
        evaluation = await self.store.get(evaluation_id)
        if evaluation is None:
            raise KeyError(evaluation_id)
        report = evaluation.report or await self.report(evaluation_id)
        recommendation = report["recommendation"]
        if recommendation is None:
            target = report["settings"]["target_precision"]
            raise NoRecommendation(
                f"evaluation {evaluation_id} found no threshold with precision >= {target:.2f} "
                f"for matcher {report['matcher']}; nothing recorded"
            )
        return await self.store.record_calibration(
            evaluation_id,
            matcher=report["matcher"],
            threshold=recommendation["threshold"],
            target_precision=report["settings"]["target_precision"],
            precision=recommendation["precision"],
            recall=recommendation["recall"],
            report=report,
        )


def _variants_of(settings: dict[str, Any]) -> list[Variant]:
    """Rebuild the run's variants from its stored settings."""
    return [Variant(**v) for v in settings["variants"]]
