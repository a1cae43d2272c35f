"""The SQLite store: one database file, one writer, numbered migrations."""

from stash_sense.store.database import Database, StoreError
from stash_sense.store.health import StoreHealth, StoreProblem, classify, refusal

__all__ = ["Database", "StoreError", "StoreHealth", "StoreProblem", "classify", "refusal"]
