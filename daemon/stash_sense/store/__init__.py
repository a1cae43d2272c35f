"""The SQLite store: one database file, one writer, numbered migrations."""

from stash_sense.store.database import Database, StoreError

__all__ = ["Database", "StoreError"]
