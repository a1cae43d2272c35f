"""Plugin hook payloads built the way Stash builds them, and their dispatch."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
)

__all__ = ["HookDispatcher", "HookListener", "ServerConnection", "go_json"]

log = logging.getLogger(__name__)

HookListener = Callable[[dict[str, Any]], Awaitable[None]]

# Inputs Stash binds to hand-written structs in pkg/models: their JSON tags have no
# omitempty, so every field is present (null when unset). Other inputs are gqlgen
# generated models whose nullable fields carry omitempty. Field lists are the Go
# structs' (so fields the fake's schema lacks still appear, as null).
_HAND_WRITTEN: dict[str, tuple[str, ...]] = {
    "SceneUpdateInput": (
        "clientMutationId",
        "id",
        "title",
        "code",
        "details",
        "director",
        "url",
        "urls",
        "date",
        "rating100",
        "o_counter",
        "organized",
        "studio_id",
        "gallery_ids",
        "performer_ids",
        "movies",
        "groups",
        "tag_ids",
        "cover_image",
        "stash_ids",
        "resume_time",
        "play_duration",
        "play_count",
        "primary_file_id",
    ),
    "SceneDestroyInput": ("id", "delete_file", "delete_generated"),
    "ScenesDestroyInput": ("ids", "delete_file", "delete_generated"),
    # StashIDInput is rebound to models.StashID, whose updated_at is a time.Time.
    "StashIDInput": ("stash_id", "endpoint", "updated_at"),
}
_GO_ZERO_TIME = "0001-01-01T00:00:00Z"


def go_json(value: Any, gql_type: GraphQLInputType) -> Any:
    """Encode a coerced GraphQL input value as Go's encoding/json would marshal it."""
    if isinstance(gql_type, GraphQLNonNull):
        return go_json(value, gql_type.of_type)
    if value is None:
        return None
    if isinstance(gql_type, GraphQLList):
        return [go_json(v, gql_type.of_type) for v in value]
    if isinstance(gql_type, GraphQLInputObjectType):
        return _go_object(value, gql_type)
    if isinstance(gql_type, GraphQLEnumType | GraphQLScalarType):
        return value
    raise TypeError(f"unexpected input type {gql_type}")  # pragma: no cover


def _go_object(value: dict[str, Any], gql_type: GraphQLInputObjectType) -> dict[str, Any]:
    fields = gql_type.fields
    hand_written = _HAND_WRITTEN.get(gql_type.name)
    if hand_written is not None:
        out = {
            name: go_json(value.get(name), fields[name].type) if name in fields else None
            for name in hand_written
        }
        if gql_type.name == "StashIDInput" and out["updated_at"] is None:
            out["updated_at"] = _GO_ZERO_TIME
        return out
    out = {}
    for name, field in fields.items():
        item = value.get(name)
        required = isinstance(field.type, GraphQLNonNull)
        # omitempty drops nil pointers and empty slices, but never non-null fields.
        if not required and (item is None or (isinstance(item, list) and not item)):
            continue
        out[name] = go_json(item, field.type)
    return out


@dataclass
class ServerConnection:
    """``server_connection`` of the plugin input (Go field names, no json tags)."""

    port: int
    session_cookie: str
    dir: str = "/root/.stash"
    plugin_dir: str = "/root/.stash/plugins/stash-sense"
    scheme: str = "http"
    host: str = "0.0.0.0"  # the value Stash reports; nothing binds to it

    def to_json(self) -> dict[str, Any]:
        """Return the JSON object Stash writes (Go 1.24 http.Cookie fields)."""
        return {
            "Scheme": self.scheme,
            "Host": self.host,
            "Port": self.port,
            "SessionCookie": {
                "Name": "session",
                "Value": self.session_cookie,
                "Quoted": False,
                "Path": "",
                "Domain": "",
                "Expires": _GO_ZERO_TIME,
                "RawExpires": "",
                "MaxAge": 0,
                "Secure": False,
                "HttpOnly": False,
                "SameSite": 0,
                "Partitioned": False,
                "Raw": "",
                "Unparsed": None,
            },
            "Dir": self.dir,
            "PluginDir": self.plugin_dir,
        }


class HookDispatcher:
    """Await every listener in turn with the full plugin input, like executePostHooks."""

    def __init__(self, connection: Callable[[], ServerConnection]) -> None:
        """Create a dispatcher; ``connection`` supplies the current server connection."""
        self._connection = connection
        self.listeners: list[HookListener] = []
        self.enabled = True
        self.fired: list[dict[str, Any]] = []
        self.errors: list[BaseException] = []

    def payload(
        self,
        hook_type: str,
        object_id: int,
        hook_input: Any = None,
        input_fields: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """Build the plugin input JSON for one hook event."""
        context: dict[str, Any] = {}
        # HookContext tags: id and inputFields are omitempty, input is always present.
        if object_id:
            context["id"] = object_id
        context["type"] = hook_type
        context["input"] = hook_input
        if input_fields:
            context["inputFields"] = list(input_fields)
        return {"server_connection": self._connection().to_json(), "args": {"hookContext": context}}

    async def fire(
        self,
        hook_type: str,
        object_id: int,
        hook_input: Any = None,
        input_fields: Sequence[str] | None = None,
    ) -> None:
        """Run the listeners one after another; a failing listener is logged, not raised."""
        if not self.enabled:
            return
        payload = self.payload(hook_type, object_id, hook_input, input_fields)
        self.fired.append(payload)
        for listener in list(self.listeners):
            try:
                await listener(payload)
            except Exception as exc:  # Stash logs a failing plugin and carries on
                log.warning("hook listener failed for %s: %r", hook_type, exc)
                self.errors.append(exc)
