"""Client for Stash's GraphQL API: operations, limits, retries, schema check."""

from .client import BulkMode, StashClient
from .connection import API_KEY_HEADER, StashConnection, endpoints
from .errors import (
    StashAuthError,
    StashError,
    StashIncompatible,
    StashQueryError,
    StashUnavailable,
)
from .models import (
    Fingerprint,
    JobEvent,
    PerformerRef,
    Scene,
    SceneFileSummary,
    SceneLinks,
    ScenePaths,
    ScenesPage,
    SceneSummary,
    StashBox,
    StashId,
    TagRef,
    VideoFile,
)
from .operations import Operation, all_operations

__all__ = [
    "API_KEY_HEADER",
    "BulkMode",
    "Fingerprint",
    "JobEvent",
    "Operation",
    "PerformerRef",
    "Scene",
    "SceneFileSummary",
    "SceneLinks",
    "ScenePaths",
    "SceneSummary",
    "ScenesPage",
    "StashAuthError",
    "StashBox",
    "StashClient",
    "StashConnection",
    "StashError",
    "StashId",
    "StashIncompatible",
    "StashQueryError",
    "StashUnavailable",
    "TagRef",
    "VideoFile",
    "all_operations",
    "endpoints",
]
