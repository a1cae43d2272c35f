"""Mark the daemon's own writes so they can be recognised when Stash reports them back.

Stash starts a fresh hook context for API-key requests, so every mutation the daemon
sends fires `Scene.Update.Post` again. Each daemon mutation carries a
`clientMutationId` with our prefix; Stash copies the whole input into the hook, so
the intake can drop those events while every edit made by a person still counts.
"""

from __future__ import annotations

import uuid
from typing import Any

OWN_PREFIX = "stash-sense:"


def new_mutation_id() -> str:
    """Return a fresh clientMutationId that marks a write as ours."""
    return f"{OWN_PREFIX}{uuid.uuid4().hex}"


def is_own_write(mutation_input: dict[str, Any] | None) -> bool:
    """Tell whether a hook's input came from one of our mutations."""
    if not mutation_input:
        return False
    marker = mutation_input.get("clientMutationId")
    return isinstance(marker, str) and marker.startswith(OWN_PREFIX)
