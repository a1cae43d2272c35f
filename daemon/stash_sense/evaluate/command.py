"""The `evaluate` command: evaluate in this process, store the report where the daemon reads it."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from dataclasses import dataclass
from typing import Any

from stash_sense.cli_output import print_error
from stash_sense.config import Config
from stash_sense.config.paths import database_file
from stash_sense.evaluate.calibration import AutoThreshold
from stash_sense.evaluate.report import render_table
from stash_sense.evaluate.service import EvaluationService, NoRecommendation
from stash_sense.evaluate.store import CANCELLED, FINISHED, EvaluationStore
from stash_sense.faces.pipeline import Cancelled
from stash_sense.faces.types import FaceError
from stash_sense.identify.service import build_face_service
from stash_sense.stash.client import StashClient
from stash_sense.stash.errors import StashError
from stash_sense.store import Database, StoreError


@dataclass(frozen=True)
class EvaluateOptions:
    """What the command line asked for."""

    scenes: int
    seed: int
    matcher: str | None
    sweep: bool
    apply: bool
    as_json: bool


async def evaluate_command(config: Config, options: EvaluateOptions) -> int:
    """Evaluate identification on tagged scenes; print the report; optionally apply it."""
    # The same face service as the daemon's: same loading, checks and executor.
    faces = build_face_service(config)
    try:
        await faces.pipeline()
    except (FaceError, OSError) as err:
        await asyncio.to_thread(faces.close)
        print_error(str(err), as_json=options.as_json)
        return 1
    db = Database(database_file(config), busy_timeout_ms=config.store.busy_timeout_ms)
    try:
        await db.open()
    except StoreError as err:
        await asyncio.to_thread(faces.close)
        print_error(str(err), as_json=options.as_json)
        return 1
    try:
        async with StashClient(config.stash) as stash:
            store = EvaluationStore(db)
            threshold = AutoThreshold(config.tagging, config.faces.matcher, store)
            service = EvaluationService(config, store, stash, faces, threshold)
            return await _run(service, options)
    except StashError as err:
        print_error(str(err), as_json=options.as_json)
        return 1
    finally:
        await asyncio.to_thread(faces.close)
        await db.close(checkpoint=False)


async def _run(service: EvaluationService, options: EvaluateOptions) -> int:
    """Sample, score each scene with a progress bar, conclude, print and apply."""
    try:
        evaluation_id = await service.create(
            scenes=options.scenes,
            seed=options.seed,
            matchers=[options.matcher] if options.matcher else [],
            sweep=options.sweep,
        )
    except ValueError as err:
        print_error(str(err), as_json=options.as_json)
        return 2
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, stop.set)
    try:
        usable = await service.sample(evaluation_id)
        state, done = FINISHED, 0
        for done, scene_id in enumerate(usable):
            _progress(done, len(usable), f"scene {scene_id}")
            if stop.is_set():
                state = CANCELLED
                break
            try:
                await service.score(evaluation_id, scene_id, stop.is_set)
            except Cancelled:
                state = CANCELLED
                break
        _progress(len(usable) if state == FINISHED else done, len(usable), state)
        print(file=sys.stderr)
    finally:
        loop.remove_signal_handler(signal.SIGINT)
    report = await service.conclude(evaluation_id, state)
    calibration = None
    if state != CANCELLED and options.apply:
        try:
            calibration = await service.apply(evaluation_id)
        except NoRecommendation as err:
            # With --json, stdout stays one document: the report carrying the error.
            if options.as_json:
                _print_report({**report, "error": str(err)}, as_json=True)
            else:
                _print_report(report, as_json=False)
                print_error(str(err), as_json=False)
            return 1
    _print_report(report, as_json=options.as_json)
    if state == CANCELLED:
        return 130
    if calibration is not None:
        print(
            f"Calibrated threshold {calibration.threshold:.4f} recorded "
            f"(calibration {calibration.id}, matcher {calibration.matcher})",
            file=sys.stderr,
        )
    return 0


def _print_report(report: dict[str, Any], *, as_json: bool) -> None:
    """Print the report as JSON or as a table."""
    print(json.dumps(report, indent=2) if as_json else render_table(report))


def _progress(done: int, total: int, message: str) -> None:
    """Draw a one-line progress bar on stderr."""
    width = 30
    filled = int(width * done / total) if total else width
    bar = "#" * filled + "-" * (width - filled)
    print(f"\r[{bar}] {done}/{total} {message:<24}", end="", file=sys.stderr, flush=True)
