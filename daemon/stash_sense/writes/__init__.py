"""The writes domain: every mutation the daemon sends to Stash, recorded and undoable."""

from stash_sense.writes.audit import AuditEntry, AuditLog, WriteChange
from stash_sense.writes.ids import OWN_PREFIX, is_own_write, new_mutation_id
from stash_sense.writes.interrupted import RESOLVE_INTERRUPTED, InterruptedWrites
from stash_sense.writes.writer import Mutation, StashWriter, UndoError

__all__ = [
    "OWN_PREFIX",
    "RESOLVE_INTERRUPTED",
    "AuditEntry",
    "AuditLog",
    "InterruptedWrites",
    "Mutation",
    "StashWriter",
    "UndoError",
    "WriteChange",
    "is_own_write",
    "new_mutation_id",
]
