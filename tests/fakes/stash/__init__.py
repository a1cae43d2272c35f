"""A fake Stash server for tests and demos (GraphQL, websockets, hooks, jobs, stream)."""

from .faults import Fault, Faults
from .hooks import HookListener
from .jobs import Job
from .library import (
    Library,
    Performer,
    Scene,
    StashBoxConfig,
    StashIdRef,
    Studio,
    Tag,
    VideoFile,
)
from .resolvers import DEFAULT_SDL
from .sdl import schema_without
from .server import FakeStash, RecordedCall

__all__ = [
    "DEFAULT_SDL",
    "FakeStash",
    "Fault",
    "Faults",
    "HookListener",
    "Job",
    "Library",
    "Performer",
    "RecordedCall",
    "Scene",
    "StashBoxConfig",
    "StashIdRef",
    "Studio",
    "Tag",
    "VideoFile",
    "schema_without",
]
