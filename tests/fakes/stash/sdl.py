"""Derive incompatible variants of the fake's SDL (to test startup schema checks)."""

from __future__ import annotations

import dataclasses
from typing import Any

from graphql import (
    DefinitionNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    ObjectTypeDefinitionNode,
    parse,
    print_ast,
)

from .resolvers import DEFAULT_SDL

__all__ = ["schema_without"]

_WITH_MEMBERS = (
    ObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    InputObjectTypeDefinitionNode,
    EnumTypeDefinitionNode,
)


def schema_without(field: str, *, sdl: str = DEFAULT_SDL) -> str:
    """Return ``sdl`` minus one member named ``"Type.member"``.

    The member may be an object/interface field, an input field or an enum value,
    e.g. ``schema_without("Scene.files")`` or ``schema_without("BulkUpdateIdMode.ADD")``.
    """
    type_name, _, member = field.partition(".")
    if not member:
        raise ValueError(f"expected 'Type.member', got {field!r}")
    document = parse(sdl)
    found = False
    definitions: list[DefinitionNode] = []
    for node in document.definitions:
        attr = "values" if isinstance(node, EnumTypeDefinitionNode) else "fields"
        if isinstance(node, _WITH_MEMBERS) and node.name.value == type_name:
            members = getattr(node, attr) or ()
            kept = tuple(m for m in members if m.name.value != member)
            found = found or len(kept) != len(members)
            changes: dict[str, Any] = {attr: kept}
            definitions.append(dataclasses.replace(node, **changes))
        else:
            definitions.append(node)
    if not found:
        raise KeyError(f"{field} is not in the SDL")
    return print_ast(DocumentNode(definitions=tuple(definitions)))
