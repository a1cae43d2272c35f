"""Configuration: typed, frozen settings read from TOML and the environment."""

from stash_sense.config.loader import DEFAULT_PATH, ConfigError, load_config
from stash_sense.config.model import (
    Config,
    EngineConfig,
    EventsConfig,
    FaceDbConfig,
    FacesConfig,
    LogConfig,
    PathsConfig,
    QueueConfig,
    ServerConfig,
    StashBoxConfig,
    StashConfig,
    StoreConfig,
    TaggingConfig,
)
from stash_sense.config.render import redacted, render_example

__all__ = [
    "DEFAULT_PATH",
    "Config",
    "ConfigError",
    "EngineConfig",
    "EventsConfig",
    "FaceDbConfig",
    "FacesConfig",
    "LogConfig",
    "PathsConfig",
    "QueueConfig",
    "ServerConfig",
    "StashBoxConfig",
    "StashConfig",
    "StoreConfig",
    "TaggingConfig",
    "load_config",
    "redacted",
    "render_example",
]
