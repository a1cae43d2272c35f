"""A fake stash-box server for tests: performers, scenes, fingerprint matching, faults."""

from ..stash.faults import Fault, Faults
from .catalogue import (
    Appearance,
    Catalogue,
    FingerprintRecord,
    Image,
    Link,
    Performer,
    Scene,
    Studio,
    parse_hash,
)
from .resolvers import DEFAULT_SDL, MAX_FINGERPRINT_GROUPS
from .server import FakeStashBox, RecordedCall

__all__ = [
    "DEFAULT_SDL",
    "MAX_FINGERPRINT_GROUPS",
    "Appearance",
    "Catalogue",
    "FakeStashBox",
    "Fault",
    "Faults",
    "FingerprintRecord",
    "Image",
    "Link",
    "Performer",
    "RecordedCall",
    "Scene",
    "Studio",
    "parse_hash",
]
