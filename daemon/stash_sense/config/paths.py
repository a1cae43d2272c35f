"""Where the daemon and the commands keep their files inside the data dir."""

from __future__ import annotations

from pathlib import Path

from stash_sense.config.model import Config

DB_FILE = "stash_sense.db"
FACE_DB_VERIFIED = "face-db-verified.json"
CROPS_DIR = "crops"


def data_dir(config: Config) -> Path:
    """Return the absolute data dir."""
    return Path(config.paths.data_dir).expanduser().resolve()


def database_file(config: Config) -> Path:
    """Return the path of the daemon's SQLite database."""
    return data_dir(config) / DB_FILE
