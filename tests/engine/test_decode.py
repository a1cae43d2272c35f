"""Decoding into frame slots: shared blocks reused, grown, or (no room) frames sent inline."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from stash_sense.engine import decode
from stash_sense.engine.blocks import AttachedFrames, FrameBlock
from stash_sense.engine.decode import DecodeRequest, _alive, decode_scene
from stash_sense.faces.detector import letterbox_canvas
from stash_sense.faces.frames import sample_frames
from tests.faces.kit import Kit


def request(video: Path, block: FrameBlock, count: int = 6) -> DecodeRequest:
    return DecodeRequest(
        str(video), count, 0.05, 0.95, detection_size=320, block=block.name, block_size=block.size
    )


def test_a_slot_keeps_its_block_and_grows_it_for_a_larger_scene(face_kit: Kit) -> None:
    block = FrameBlock()
    try:
        first = decode_scene(request(face_kit.video, block))
        assert first.memory is not None and first.inline is None
        frames = AttachedFrames(first, block)
        name = block.name
        expected = sample_frames(str(face_kit.video), count=6)
        for got, want in zip(frames.frames, expected.frames, strict=True):
            assert got.timestamp == want.timestamp
            assert np.array_equal(got.image, want.image)
        for prepared, want in zip(frames.canvases, expected.frames, strict=True):
            assert prepared is not None
            ref_canvas, ref_scale = letterbox_canvas(want.image, 320)
            assert prepared[1] == ref_scale and np.array_equal(prepared[0], ref_canvas)
        frames.release()

        again = decode_scene(request(face_kit.video, block))
        assert again.memory == name  # written into the slot's block, no new memory
        AttachedFrames(again, block).release()
        assert block.name == name

        larger = decode_scene(request(face_kit.video, block, count=12))
        assert larger.memory != name and larger.size > first.size
        AttachedFrames(larger, block).release()
        assert block.name == larger.memory
        assert not Path(f"/dev/shm/{name}").exists()  # the smaller block was freed
    finally:
        block.free()
    assert block.name is None


def test_without_room_in_shared_memory_the_frames_come_inline(
    face_kit: Kit, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(decode, "shm_room", lambda: 0)
    block = FrameBlock()
    decoded = decode_scene(request(face_kit.video, block))
    assert decoded.memory is None and decoded.inline is not None
    frames = AttachedFrames(decoded, block)
    expected = sample_frames(str(face_kit.video), count=6)
    assert [f.timestamp for f in frames.frames] == [f.timestamp for f in expected.frames]
    assert all(
        np.array_equal(a.image, b.image)
        for a, b in zip(frames.frames, expected.frames, strict=True)
    )
    assert block.name is None


def test_a_worker_sees_its_owner_die_even_as_an_unreaped_zombie() -> None:
    assert _alive(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    while True:  # exited but not waited for: a zombie
        state = Path(f"/proc/{child.pid}/stat").read_text().rpartition(")")[2].split()[0]
        if state == "Z":
            break
    assert not _alive(child.pid)
    child.wait()
    assert not _alive(child.pid)
