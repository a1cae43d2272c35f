"""Hardware video decode (NVDEC through PyAV's FFmpeg): the choice, the device probe, the open.

PyAV decodes on a device when `av.open(..., hwaccel=HWAccel(...))` is given: each stream keeps
FFmpeg's usual decoder (``h264``, ``hevc``...) and attaches the device to it when that decoder
has a hardware config for the device type; decoded frames are copied back to system memory, so
the sampler sees ordinary frames. FFmpeg's separate ``*_cuvid`` decoders are not used by that
path. A stream whose decoder has no such config (AV1 opens with ``libdav1d``) stays in software.

Creating the device costs a CUDA context; ``primary_ctx`` reuses the device's primary context,
the one ONNX Runtime's CUDA provider works in, instead of creating one per video.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass

import av.error
from av.codec import Codec
from av.codec.codec import UnknownCodecError
from av.codec.hwaccel import HWAccel, hwdevices_available
from av.container import InputContainer

from stash_sense.faces.types import VideoError

_LOGGER = logging.getLogger(__name__)

DECODE_CHOICES = ("auto", "cuda", "off")
SOFTWARE = "software"
# A decoder every build has, used only to find the device's hardware config while probing.
_PROBE_CODEC = "h264"
_DEVICE_OPTIONS: dict[str, dict[str, object]] = {"cuda": {"primary_ctx": "1"}}
_noted: set[str] = set()  # fallback reasons already logged by this process


@dataclass(frozen=True)
class HardwareDecode:
    """Decode on this device; plain data, so it can be handed to a worker process."""

    device_type: str = "cuda"
    device: int = 0

    def accel(self) -> HWAccel:
        """Build PyAV's settings: fall back to software inside FFmpeg if the stream needs it."""
        return HWAccel(
            self.device_type,
            device=str(self.device),
            allow_software_fallback=True,
            options=dict(_DEVICE_OPTIONS.get(self.device_type, {})),
        )


@dataclass(frozen=True)
class DecodeChoice:
    """How this process decodes video, and why (shown on /health)."""

    setting: str  # hardware_decode: auto, cuda, off
    mode: str  # "cuda" or "software"
    reason: str
    hwaccel: HardwareDecode | None = None  # what to pass to sample_frames


def choose_decoder(setting: str, device: int = 0) -> DecodeChoice:
    """Turn the hardware_decode setting into a choice, probing the device unless it is off."""
    if setting not in DECODE_CHOICES:
        raise ValueError(f"hardware_decode must be one of {DECODE_CHOICES}, got {setting!r}")
    if setting == "off":
        return DecodeChoice(setting, SOFTWARE, "hardware_decode is off")
    wanted = HardwareDecode("cuda", device)
    problem = device_problem(wanted)
    if problem is not None:
        # Asked for explicitly, a fallback deserves a warning; under auto it is expected.
        level = logging.WARNING if setting == "cuda" else logging.INFO
        _LOGGER.log(level, "Hardware decode unavailable (%s); decoding video in software", problem)
        return DecodeChoice(setting, SOFTWARE, problem)
    reason = f"cuda device {device} opens; codecs with a cuda decoder decode on it"
    _LOGGER.info("Hardware decode: %s", reason)
    return DecodeChoice(setting, "cuda", reason, wanted)


@functools.lru_cache(maxsize=8)
def device_problem(hardware: HardwareDecode) -> str | None:
    """Say why the device cannot decode here, or None when it opens (probed once per process)."""
    if hardware.device_type not in hwdevices_available():
        return f"this FFmpeg build has no {hardware.device_type} support"
    try:
        hardware.accel().create(Codec(_PROBE_CODEC, "r"))
    except NotImplementedError:
        return f"FFmpeg's {_PROBE_CODEC} decoder has no {hardware.device_type} config"
    except (av.error.FFmpegError, ValueError) as err:
        detail = getattr(err, "strerror", None) or str(err)
        return (
            f"cannot open {hardware.device_type} device {hardware.device} ({detail}): "
            "no GPU, or no NVIDIA driver library visible to this process"
        )
    return None


def has_hardware_decoder(codec: str, device_type: str = "cuda") -> bool:
    """Tell whether FFmpeg's decoder of this name can attach a device of this type."""
    try:
        configs = Codec(codec, "r").hardware_configs
    except UnknownCodecError:
        return False
    return any(c.device_type.name == device_type and c.is_supported for c in configs)


def open_decoding(
    open_container: Callable[[HWAccel | None], InputContainer],
    hardware: HardwareDecode | None,
) -> tuple[InputContainer, bool]:
    """Open with the device when it works, else in software; tell whether the device was used."""
    if hardware is None:
        return open_container(None), False
    problem = device_problem(hardware)
    if problem is None:
        try:
            return open_container(hardware.accel()), True
        except VideoError:
            # The device or the source failed; the software open below tells which.
            problem = f"{hardware.device_type} device {hardware.device} failed to open a video"
    note_fallback(problem)
    return open_container(None), False


def note_fallback(reason: str) -> None:
    """Log once per process that videos decode in software for this reason."""
    if reason in _noted:
        return
    _noted.add(reason)
    _LOGGER.info("Decoding in software: %s", reason)
