"""Evaluation as low-priority jobs: one to sample the truth, one per scene; cancel stops all."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from stash_sense.evaluate.service import EvaluationService
from stash_sense.evaluate.store import CANCELLED, FAILED, RUNNING, SAMPLING
from stash_sense.faces.pipeline import Cancelled
from stash_sense.identify.service import FacesUnavailable
from stash_sense.queue import (
    Job,
    JobCancelled,
    JobContext,
    JobQueue,
    JobType,
    PermanentJobError,
    Priority,
    Resource,
)
from stash_sense.queue.workers import Request
from stash_sense.stash.errors import StashError

_LOGGER = logging.getLogger(__name__)
SAMPLE = "evaluate_sample"
SCENE = "evaluate_scene"
STASH = "stash"


@dataclass(frozen=True)
class SampleArgs:
    """Arguments of `evaluate_sample`."""

    evaluation_id: int


@dataclass(frozen=True)
class SceneArgs:
    """Arguments of `evaluate_scene`."""

    evaluation_id: int
    scene_id: int


def sample_key(evaluation_id: int) -> str:
    """Return the idempotency key of a run's sampling job."""
    return f"{SAMPLE}:{evaluation_id}"


def scene_key(evaluation_id: int, scene_id: int) -> str:
    """Return the idempotency key of one scene's evaluation job."""
    return f"{SCENE}:{evaluation_id}:{scene_id}"


class EvaluationJobs:
    """Start, run and cancel evaluations in the daemon's job queue."""

    def __init__(self, service: EvaluationService, queue: JobQueue) -> None:
        self.service = service
        self._queue = queue

    async def start(
        self, *, scenes: int, seed: int, matchers: list[str], sweep: bool
    ) -> tuple[int, Job]:
        """Record a run and queue its sampling job."""
        evaluation_id = await self.service.create(
            scenes=scenes, seed=seed, matchers=matchers, sweep=sweep
        )
        enqueued = await self._queue.enqueue(
            self.sample_type(), SampleArgs(evaluation_id), idempotency_key=sample_key(evaluation_id)
        )
        return evaluation_id, enqueued.job

    async def cancel(self, evaluation_id: int) -> dict[str, object] | None:
        """Cancel a live run: its queued jobs go, a running scene stops at its next stage."""
        evaluation = await self.service.store.get(evaluation_id)
        if evaluation is None or evaluation.state not in (SAMPLING, RUNNING):
            return None
        scenes = await self.service.store.scenes(evaluation_id)
        keys = [sample_key(evaluation_id), *(scene_key(evaluation_id, s.scene_id) for s in scenes)]
        await self._queue.cancel_by_keys(keys)
        return await self.service.conclude(evaluation_id, CANCELLED)

    async def run_sample(self, context: JobContext, args: SampleArgs) -> None:
        """Sample the truth and queue one low-priority job per usable scene."""
        try:
            usable = await self.service.sample(args.evaluation_id)
        except FacesUnavailable as err:
            await self.service.store.fail(args.evaluation_id, f"faces unavailable: {err}")
            raise PermanentJobError(f"face identification unavailable: {err}") from None
        except StashError as err:
            # Retried like any Stash call; the run fails with the job's last attempt.
            if _last_attempt(context):
                await self.service.store.fail(args.evaluation_id, str(err))
            raise
        scene_type = self.scene_type()
        await self._queue.enqueue_many(
            [
                Request(
                    scene_type,
                    SceneArgs(args.evaluation_id, scene_id),
                    idempotency_key=scene_key(args.evaluation_id, scene_id),
                )
                for scene_id in usable
            ]
        )
        await context.progress(1, 1, f"{len(usable)} scenes to evaluate")
        await self.service.finish_if_done(args.evaluation_id)

    async def run_scene(self, context: JobContext, args: SceneArgs) -> None:
        """Evaluate one scene, then conclude the run when it was the last."""
        try:
            await self.service.score(
                args.evaluation_id, args.scene_id, lambda: context.cancel_requested
            )
        except Cancelled:
            # Cancelled alone (not with its run): the run concludes without this scene.
            await self.service.store.mark_scene(
                args.evaluation_id, args.scene_id, CANCELLED, "cancelled"
            )
            raise JobCancelled(f"evaluation of scene {args.scene_id} cancelled") from None
        except FacesUnavailable as err:
            await self.service.store.mark_scene(args.evaluation_id, args.scene_id, FAILED, str(err))
            raise PermanentJobError(f"face identification unavailable: {err}") from None
        except StashError as err:
            if _last_attempt(context):
                await self.service.store.mark_scene(
                    args.evaluation_id, args.scene_id, FAILED, str(err)
                )
            raise
        finally:
            await self.service.finish_if_done(args.evaluation_id)
        await context.progress(1, 1, f"scene {args.scene_id} evaluated")

    def sample_type(self) -> JobType[SampleArgs]:
        """Describe the sampling job."""
        return JobType(
            name=SAMPLE,
            args_type=SampleArgs,
            handler=self.run_sample,
            resource=Resource.IO,
            priority=Priority.LOW,
            requires=frozenset({STASH}),
        )

    def scene_type(self) -> JobType[SceneArgs]:
        """Describe the per-scene job."""
        return JobType(
            name=SCENE,
            args_type=SceneArgs,
            handler=self.run_scene,
            resource=Resource.GPU,
            priority=Priority.LOW,
            requires=frozenset({STASH}),
        )


def _last_attempt(context: JobContext) -> bool:
    """Tell whether a failure now ends the job (no retry follows)."""
    return context.job.attempts >= context.job.max_attempts
