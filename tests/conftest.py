"""Fixtures shared by every test package."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.daemons import start_daemon
from tests.faces.kit import Kit, build_kit
from tests.fakes.stash.fixtures import fake_stash, fake_stash_factory
from tests.fakes.stashbox.fixtures import fake_stashbox, fake_stashbox_factory

__all__ = [
    "face_kit",
    "fake_stash",
    "fake_stash_factory",
    "fake_stashbox",
    "fake_stashbox_factory",
    "start_daemon",
]


@pytest.fixture(scope="session")
def face_kit(tmp_path_factory: pytest.TempPathFactory) -> Kit:
    """Build synthetic models, a face-database release and a two-performer video once."""
    return build_kit(Path(tmp_path_factory.mktemp("face-kit")))
