"""Client for stash-box endpoints (StashDB and others): lookups by id and fingerprint."""

from ..stash.models import Fingerprint
from .client import (
    DEFAULT_REQUESTS_PER_MINUTE,
    MAX_FINGERPRINT_GROUPS,
    StashBoxClient,
    all_operations,
)
from .endpoints import DisabledEndpoints, domain_of, normalize_endpoint
from .errors import (
    StashBoxAuthError,
    StashBoxError,
    StashBoxQueryError,
    StashBoxUnavailable,
)
from .models import (
    StashBoxAppearance,
    StashBoxFingerprint,
    StashBoxImage,
    StashBoxPerformer,
    StashBoxScene,
    StashBoxStudio,
    StashBoxUrl,
    canonical_hash,
    fingerprint_query,
    phash_hex,
)
from .pool import StashBoxPool

__all__ = [
    "DEFAULT_REQUESTS_PER_MINUTE",
    "MAX_FINGERPRINT_GROUPS",
    "DisabledEndpoints",
    "Fingerprint",
    "StashBoxAppearance",
    "StashBoxAuthError",
    "StashBoxClient",
    "StashBoxError",
    "StashBoxFingerprint",
    "StashBoxImage",
    "StashBoxPerformer",
    "StashBoxPool",
    "StashBoxQueryError",
    "StashBoxScene",
    "StashBoxStudio",
    "StashBoxUnavailable",
    "StashBoxUrl",
    "all_operations",
    "canonical_hash",
    "domain_of",
    "fingerprint_query",
    "normalize_endpoint",
    "phash_hex",
]
