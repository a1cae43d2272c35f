"""Hardware decode: the device probe, the choice, and sample_frames falling back to software."""

from __future__ import annotations

import logging
import pickle
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from stash_sense.faces import hwdecode
from stash_sense.faces.frames import sample_frames
from stash_sense.faces.hwdecode import (
    DecodeChoice,
    HardwareDecode,
    choose_decoder,
    device_problem,
    has_hardware_decoder,
)
from stash_sense.faces.types import SampledFrames
from tests.faces.videos import encode_video, numbered_frame

CUDA_PROBLEM = device_problem(HardwareDecode("cuda", 0))
needs_no_cuda = pytest.mark.skipif(
    CUDA_PROBLEM is None, reason="a CUDA device opens here; this checks the fallback"
)
needs_cuda = pytest.mark.skipif(CUDA_PROBLEM is not None, reason=f"no CUDA: {CUDA_PROBLEM}")


@pytest.fixture(autouse=True)
def fresh_process_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Forget which fallbacks were logged and what was probed, as a new process would."""
    monkeypatch.setattr(hwdecode, "_noted", set())
    device_problem.cache_clear()
    yield
    device_problem.cache_clear()


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hw") / "clip.mp4"
    return encode_video(path, lambda t: numbered_frame(round(t * 30)), duration=4, gop=30)


def assert_same_frames(a: SampledFrames, b: SampledFrames) -> None:
    assert [f.timestamp for f in a.frames] == [f.timestamp for f in b.frames]
    assert [f.index for f in a.frames] == [f.index for f in b.frames]
    for x, y in zip(a.frames, b.frames, strict=True):
        assert x.image.dtype == y.image.dtype == np.uint8
        assert x.image.shape == y.image.shape
        assert np.array_equal(x.image, y.image)


@needs_no_cuda
def test_probe_says_software_here_and_why(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="stash_sense.faces.hwdecode"):
        choice = choose_decoder("auto")
    assert choice.mode == "software" and choice.hwaccel is None
    assert choice.setting == "auto"
    assert choice.reason == CUDA_PROBLEM
    assert "cuda" in choice.reason
    [record] = caplog.records
    assert record.levelno == logging.INFO
    assert record.getMessage() == (
        f"Hardware decode unavailable ({choice.reason}); decoding video in software"
    )


@needs_no_cuda
def test_asking_for_cuda_without_it_warns_and_falls_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="stash_sense.faces.hwdecode"):
        choice = choose_decoder("cuda", device=0)
    assert (choice.setting, choice.mode, choice.hwaccel) == ("cuda", "software", None)
    assert choice.reason.startswith("cannot open cuda device 0 (") or "no cuda" in choice.reason
    assert [r.levelno for r in caplog.records] == [logging.WARNING]


def test_off_never_probes() -> None:
    choice = choose_decoder("off", device=3)
    assert choice == DecodeChoice("off", "software", "hardware_decode is off")
    info = device_problem.cache_info()
    assert (info.hits, info.misses) == (0, 0)


def test_the_device_is_probed_once_per_process() -> None:
    choose_decoder("auto")
    choose_decoder("cuda")
    info = device_problem.cache_info()
    assert (info.hits, info.misses) == (1, 1)


def test_unknown_setting_is_rejected() -> None:
    with pytest.raises(ValueError, match="hardware_decode"):
        choose_decoder("nvdec")


def test_choice_and_settings_travel_to_worker_processes() -> None:
    hardware = HardwareDecode("cuda", 1)
    choice = DecodeChoice("cuda", "cuda", "probed", hardware)
    assert pickle.loads(pickle.dumps(hardware)) == hardware
    assert pickle.loads(pickle.dumps(choice)) == choice


def test_which_codecs_have_a_cuda_decoder() -> None:
    # Facts of the PyAV wheel's FFmpeg: its usual decoders carry NVDEC configs, but AV1 opens
    # with libdav1d, which has none, so AV1 always decodes in software.
    assert has_hardware_decoder("h264") and has_hardware_decoder("hevc")
    assert not has_hardware_decoder("libdav1d")
    assert not has_hardware_decoder("no-such-decoder")


@needs_no_cuda
def test_sampling_with_cuda_here_falls_back_to_identical_frames(
    clip: Path, caplog: pytest.LogCaptureFixture
) -> None:
    software = sample_frames(str(clip), count=12)
    with caplog.at_level(logging.INFO, logger="stash_sense.faces.hwdecode"):
        fallback = sample_frames(str(clip), count=12, hwaccel=HardwareDecode("cuda", 0))
        again = sample_frames(str(clip), count=12, hwaccel=HardwareDecode("cuda", 0))
    assert software.decoder == fallback.decoder == again.decoder == "software"
    assert_same_frames(software, fallback)
    assert_same_frames(software, again)
    assert (fallback.decoded, fallback.seeks) == (software.decoded, software.seeks)
    # One line for the reason, not one per video.
    assert [r.getMessage() for r in caplog.records] == [f"Decoding in software: {CUDA_PROBLEM}"]


@needs_cuda
def test_cuda_decode_gives_the_same_rgb_frames(clip: Path) -> None:
    software = sample_frames(str(clip), count=12)
    hardware = sample_frames(str(clip), count=12, hwaccel=HardwareDecode("cuda", 0))
    assert hardware.decoder == "cuda"
    assert [f.timestamp for f in hardware.frames] == [f.timestamp for f in software.frames]
    for hw, sw in zip(hardware.frames, software.frames, strict=True):
        assert hw.image.dtype == np.uint8 and hw.image.shape == sw.image.shape
        # NVDEC output converts from NV12 rather than planar YUV: allow rounding only.
        assert np.abs(hw.image.astype(int) - sw.image.astype(int)).max() <= 2
