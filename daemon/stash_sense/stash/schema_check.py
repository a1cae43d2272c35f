"""Check our operations against the schema a running Stash reports."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

from graphql import (
    GraphQLSchema,
    IntrospectionQuery,
    build_client_schema,
    get_introspection_query,
    parse,
    validate,
)

from .operations import Operation, all_operations

# Descriptions are not needed for validation and make up much of the answer.
INTROSPECTION_DOCUMENT = parse(get_introspection_query(descriptions=False))
INTROSPECTION_NAME = "IntrospectionQuery"


def schema_from_introspection(data: Mapping[str, Any]) -> GraphQLSchema:
    """Build a client schema from an introspection answer's `data`."""
    return build_client_schema(cast(IntrospectionQuery, dict(data)))


def operation_problems(schema: GraphQLSchema, operation: Operation) -> list[str]:
    """Return `Name: error` for each validation error of one operation."""
    return [f"{operation.name}: {error.message}" for error in validate(schema, operation.document)]


def check_operations(
    schema: GraphQLSchema, operations: Iterable[Operation] | None = None
) -> list[str]:
    """Validate operations (all by default) and return the problems; empty means compatible."""
    problems: list[str] = []
    for operation in all_operations() if operations is None else operations:
        problems.extend(operation_problems(schema, operation))
    return problems
