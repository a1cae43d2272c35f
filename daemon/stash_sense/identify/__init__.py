"""Identify the performers of a scene: the `identify_scene` job and backfill."""

from stash_sense.identify.job import (
    IDENTIFY_SCENE,
    IdentifySceneArgs,
    SceneIdentifier,
    identify_key,
)

__all__ = ["IDENTIFY_SCENE", "IdentifySceneArgs", "SceneIdentifier", "identify_key"]
