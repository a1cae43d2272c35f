"""The pipelined engine on a backlog of real videos, with real models and a real release."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy.typing as npt
import pytest

from stash_sense.engine.decode import BLOCK_GROWTH
from stash_sense.engine.engine import EngineClosed
from stash_sense.faces.pipeline import Cancelled
from stash_sense.faces.result import SceneResult
from stash_sense.faces.runtime import ModelSession
from stash_sense.faces.types import VideoError
from stash_sense.identify.service import FaceService
from tests.engine.kit import backlog_videos, face_service, faces_config, named
from tests.faces.kit import ALICE, BOB, Kit
from tests.faces.models import CountingSession, build_detector
from tests.faces.videos import garbage, zero_byte
from tests.helpers import eventually


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory, face_kit: Kit) -> dict[str, Path]:
    return backlog_videos(tmp_path_factory.mktemp("backlog"), face_kit)


def shared_blocks() -> set[str]:
    """Names of the shared-memory blocks that exist now."""
    return {name for name in os.listdir("/dev/shm") if name.startswith("psm_")}


async def identify_all(
    service: FaceService, sources: list[Path], **kwargs: object
) -> list[SceneResult | BaseException]:
    return await asyncio.gather(
        *(
            service.identify(str(source), description=f"scene {i}", **kwargs)  # type: ignore[arg-type]
            for i, source in enumerate(sources)
        ),
        return_exceptions=True,
    )


def ok(results: list[SceneResult | BaseException]) -> list[SceneResult]:
    assert all(isinstance(r, SceneResult) for r in results), results
    return [r for r in results if isinstance(r, SceneResult)]


async def test_a_backlog_gives_the_same_persons_as_one_scene_at_a_time(
    face_kit: Kit, videos: dict[str, Path], tmp_path: Path
) -> None:
    backlog = list(videos.values()) * 2
    runs: dict[str, list[SceneResult]] = {}
    for mode in ("sequential", "pipelined"):
        with face_service(face_kit, tmp_path / "verified.json", mode=mode) as service:
            assert await service.load()
            runs[mode] = ok(await identify_all(service, backlog))
            assert (service.engine is not None) == (mode == "pipelined")
            if service.engine is not None:
                searcher = service.engine.searcher
                # searched in the search process, never in the daemon's
                assert searcher is not None and searcher.pid() is not None
                assert searcher.fallbacks == 0
    for one, many in zip(runs["sequential"], runs["pipelined"], strict=True):
        assert named(many) == named(one)
        assert (many.frames_sampled, many.faces_detected, many.faces_kept) == (
            one.frames_sampled,
            one.faces_detected,
            one.faces_kept,
        )
        for a, b in zip(one.persons, many.persons, strict=True):
            assert (a.frame_count, a.face_count, a.reason) == (
                b.frame_count,
                b.face_count,
                b.reason,
            )
            if a.best and b.best:
                assert b.best.confidence == pytest.approx(a.best.confidence, abs=1e-3)
            assert [e.timestamp for e in a.evidence] == [e.timestamp for e in b.evidence]
            assert all(e.crop_jpeg for e in b.evidence)
        assert set(many.timings_ms) >= {"frames", "detect", "search", "match", "total"}
    by_name = dict(zip(videos, runs["pipelined"], strict=False))
    assert named(by_name["both"]) == sorted([ALICE, BOB])
    assert named(by_name["alice"]) == [ALICE]
    assert named(by_name["bob"]) == [BOB]
    assert named(by_name["nobody"]) == []


async def test_stages_report_in_order_and_are_counted(
    face_kit: Kit, videos: dict[str, Path], tmp_path: Path
) -> None:
    messages: list[str] = []
    with face_service(face_kit, tmp_path / "verified.json", mode="pipelined") as service:
        assert await service.load()
        await service.identify(str(videos["both"]), description="both", on_stage=messages.append)
        samples = {s.stage: s for s in service.stage_samples()}
    assert [m.split()[0] for m in messages] == ["sampled", "found", "2"]
    assert messages[0] == "sampled 12 frames"
    assert samples["decode"].items == 12 and samples["detect"].items == 12
    assert samples["embed"].items == 12  # one face per frame
    assert samples["search"].items == 1 and samples["match"].items == 1
    assert all(s.busy_seconds > 0 for s in samples.values())


async def test_cancelling_one_scene_mid_batch_leaves_the_others(
    face_kit: Kit, videos: dict[str, Path], tmp_path: Path
) -> None:
    before = shared_blocks()
    target = 3
    stop = threading.Event()
    backlog = [videos["both"], videos["alice"], videos["bob"], videos["both"], videos["alice"]]

    def on_stage(index: int) -> Callable[[str], None]:
        def report(message: str) -> None:
            # Cancel once the scene's frames are in the engine, waiting for the detector.
            if index == target and message.startswith("sampled"):
                stop.set()

        return report

    with face_service(face_kit, tmp_path / "verified.json", mode="pipelined") as service:
        assert await service.load()
        results = await asyncio.gather(
            *(
                service.identify(
                    str(source),
                    description=f"scene {i}",
                    cancelled=(stop.is_set if i == target else lambda: False),
                    on_stage=on_stage(i),
                )
                for i, source in enumerate(backlog)
            ),
            return_exceptions=True,
        )
        engine = service.engine
        assert engine is not None
        assert engine.live_scenes == 0 and engine.frames_bytes == 0
    assert stop.is_set()
    assert isinstance(results[target], Cancelled)
    others = [r for i, r in enumerate(results) if i != target]
    assert [named(r) for r in ok(others)] == [sorted([ALICE, BOB]), [ALICE], [BOB], [ALICE]]
    assert shared_blocks() <= before


async def test_a_corrupt_video_among_good_ones_fails_alone(
    face_kit: Kit, videos: dict[str, Path], tmp_path: Path
) -> None:
    bad = garbage(tmp_path / "garbage.mp4")
    empty = zero_byte(tmp_path / "empty.mp4")
    backlog = [videos["both"], bad, videos["bob"], empty, videos["alice"]]
    with face_service(face_kit, tmp_path / "verified.json", mode="pipelined") as service:
        assert await service.load()
        results = await identify_all(service, backlog)
    assert isinstance(results[1], VideoError) and "scene 1" in str(results[1])
    assert isinstance(results[3], VideoError) and "scene 3" in str(results[3])
    good = ok([results[0], results[2], results[4]])
    assert [named(r) for r in good] == [sorted([ALICE, BOB]), [BOB], [ALICE]]


async def test_a_decoding_process_that_dies_costs_no_scene(
    face_kit: Kit, videos: dict[str, Path], tmp_path: Path
) -> None:
    backlog = list(videos.values()) * 2
    with face_service(face_kit, tmp_path / "verified.json", mode="pipelined") as service:
        assert await service.load()
        running = asyncio.ensure_future(identify_all(service, backlog))
        engine = service.engine
        while engine is None or not engine.decoder_pids():
            await asyncio.sleep(0.005)
            engine = service.engine
        for pid in engine.decoder_pids():
            os.kill(pid, signal.SIGKILL)
        results = ok(await running)
        assert engine._decoders.crashes >= 1
    assert [named(r) for r in results] == [named(r) for r in results[: len(videos)]] * 2
    assert named(results[0]) == sorted([ALICE, BOB])


async def test_memory_stays_bounded_on_a_long_backlog(
    face_kit: Kit, videos: dict[str, Path], tmp_path: Path
) -> None:
    before = shared_blocks()
    scenes = [videos["both"], videos["alice"], videos["bob"]]
    with face_service(
        face_kit, tmp_path / "verified.json", mode="pipelined", decode_workers=1
    ) as service:
        assert await service.load()
        ok(await identify_all(service, scenes * 3))  # warm: arenas and caches at full size
        engine = service.engine
        assert engine is not None
        slots = engine.sizing.frame_slots
        warm_rss = _rss_bytes()
        peaks = []
        for _ in range(4):
            ok(await identify_all(service, scenes * 8))
            peaks.append(engine.frames_peak_bytes)
        grown = _rss_bytes() - warm_rss
        shared = engine.shared_bytes
    # 12 frames of 320x240 RGB, each with the detector's 320x320 input
    scene_bytes = 12 * (320 * 240 * 3 + 3 * 320 * 320)
    # 96 more scenes passed through; at most `slots` of them ever held frames at once.
    assert max(peaks) <= slots * scene_bytes
    assert max(peaks) >= scene_bytes  # the measure measures something
    # the slots' shared blocks, reused scene after scene: one per slot, a quarter spare
    assert scene_bytes <= shared <= slots * scene_bytes * BLOCK_GROWTH
    assert grown < 96 * scene_bytes / 4, f"RSS grew by {grown / 1e6:.1f} MB"
    assert shared_blocks() <= before


async def test_closing_with_scenes_in_flight_fails_them_cleanly(
    face_kit: Kit, videos: dict[str, Path], tmp_path: Path
) -> None:
    before = shared_blocks()
    with face_service(face_kit, tmp_path / "verified.json", mode="pipelined") as service:
        assert await service.load()
        running = asyncio.ensure_future(identify_all(service, list(videos.values()) * 3))

        async def started() -> bool:
            return service.engine is not None and service.engine.frames_bytes > 0

        await eventually(started, timeout=30)
        await asyncio.to_thread(service.close)
        results = await running
    assert any(isinstance(r, EngineClosed) for r in results)
    assert all(isinstance(r, (SceneResult, EngineClosed)) for r in results)
    assert shared_blocks() <= before
    late = await identify_all(service, [videos["bob"]])
    assert isinstance(late[0], EngineClosed)


def _rss_bytes() -> int:
    """Resident memory of this process now."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.fixture(scope="module")
def batched_models(tmp_path_factory: pytest.TempPathFactory, face_kit: Kit) -> Path:
    """The kit's models with a detector that takes a batch of frames."""
    directory = tmp_path_factory.mktemp("batched-models")
    for name in ("facenet512.onnx", "arcface.onnx"):
        shutil.copy(face_kit.models_dir / name, directory / name)
    build_detector(directory / "det_500m.onnx", batched=True)
    return directory


class GatedSession(CountingSession):
    """Counts calls; the first waits until `open` is set (scenes pile up meanwhile)."""

    def __init__(self, inner: ModelSession) -> None:
        super().__init__(inner)
        self.open = threading.Event()

    def run(
        self,
        inputs: Mapping[str, npt.NDArray[Any]] | npt.NDArray[Any],
        output_names: Sequence[str] | None = None,
    ) -> list[npt.NDArray[Any]]:
        assert self.open.wait(30)
        return super().run(inputs, output_names)


async def test_frames_of_several_scenes_share_detector_calls(
    face_kit: Kit, videos: dict[str, Path], batched_models: Path, tmp_path: Path
) -> None:
    backlog = list(videos.values()) * 2
    faces = faces_config(face_kit, models_dir=str(batched_models))
    runs: dict[str, list[SceneResult]] = {}
    for mode in ("sequential", "pipelined"):
        with face_service(
            face_kit, tmp_path / "verified.json", mode=mode, faces=faces, detect_batch=8
        ) as service:
            detector = (await service.pipeline()).models.detector
            assert detector.batched
            gated = GatedSession(detector.session)
            detector.session = gated
            if mode == "sequential":
                gated.open.set()
            running = asyncio.ensure_future(identify_all(service, backlog))
            if mode == "pipelined":

                async def piled_up() -> bool:
                    engine = service.engine
                    return engine is not None and engine.stage_samples()[1].queued >= 1

                # The detector holds its first batch until another scene is decoded.
                await eventually(piled_up, timeout=30)
                gated.open.set()
            runs[mode] = ok(await running)
            calls = [shape[0] for shape in gated.calls]
    frames = sum(r.frames_sampled for r in runs["pipelined"])
    assert sum(calls) == frames and max(calls) == 8
    # 12 frames a scene: batches within one scene would take exactly 2 calls per scene.
    assert all(r.frames_sampled == 12 for r in runs["pipelined"])
    assert len(calls) < 2 * len(backlog), calls
    for one, many in zip(runs["sequential"], runs["pipelined"], strict=True):
        assert named(many) == named(one)
        assert many.faces_kept == one.faces_kept


async def test_a_search_process_that_dies_is_replaced(
    face_kit: Kit, videos: dict[str, Path], tmp_path: Path
) -> None:
    with face_service(face_kit, tmp_path / "verified.json", mode="pipelined") as service:
        assert await service.load()
        first = ok(await identify_all(service, [videos["both"]]))
        engine = service.engine
        assert engine is not None and engine.searcher is not None
        pid = engine.searcher.pid()
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        results = ok(await identify_all(service, list(videos.values())))
        assert engine.searcher.pid() not in (None, pid)  # a new process took over
    assert named(first[0]) == named(results[0]) == sorted([ALICE, BOB])
    assert [named(r) for r in results[2:4]] == [[ALICE], [BOB]]


async def test_without_its_release_folder_the_search_runs_in_the_daemon(
    face_kit: Kit, videos: dict[str, Path], tmp_path: Path
) -> None:
    release = tmp_path / "release"
    shutil.copytree(face_kit.database_dir, release)
    faces = faces_config(face_kit, database_dir=str(release))
    with face_service(
        face_kit, tmp_path / "verified.json", mode="pipelined", faces=faces
    ) as service:
        assert await service.load()
        shutil.rmtree(release)  # pruned after the daemon loaded it, before any search
        results = ok(await identify_all(service, [videos["both"], videos["bob"]]))
        engine = service.engine
        assert engine is not None and engine.searcher is not None
        assert engine.searcher.fallbacks >= 1
    assert [named(r) for r in results] == [sorted([ALICE, BOB]), [BOB]]
