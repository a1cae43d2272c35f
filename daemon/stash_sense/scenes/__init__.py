"""What the daemon knows about Stash scenes: asked for, identified, deleted."""

from stash_sense.scenes.ledger import SceneLedger, SceneRecord, file_key

__all__ = ["SceneLedger", "SceneRecord", "file_key"]
