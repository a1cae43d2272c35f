"""A fake stash-box server for tests: performers, scenes, fingerprint matching, faults."""

from ..stash.faults import Fault, Faults
from .catalogue import (
    Appearance,
    BodyModification,
    Catalogue,
    FingerprintRecord,
    Image,
    Link,
    Performer,
    Scene,
    Studio,
    Tag,
    parse_hash,
)
from .resolvers import DEFAULT_SDL, MAX_FINGERPRINT_GROUPS
from .server import FakeStashBox, RecordedCall

__all__ = [
    "DEFAULT_SDL",
    "MAX_FINGERPRINT_GROUPS",
    "Appearance",
    "BodyModification",
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
    "Tag",
    "parse_hash",
]
