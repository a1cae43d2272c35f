"""Load the upstream Stash / stash-box schemas and compare or validate against them."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLError,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    OperationDefinitionNode,
    build_schema,
    is_required_argument,
    is_required_input_field,
    parse,
    specified_rules,
    validate,
    visit,
)
from graphql.language import Visitor
from graphql.validation import NoUnusedFragmentsRule

__all__ = [
    "check_subset",
    "load_operation_documents",
    "load_real_stash_schema",
    "load_real_stashbox_schema",
    "read_schema_dir",
    "shared_dir",
    "validate_operations",
]


def shared_dir() -> Path | None:
    """Return the ``shared`` folder beside the checkout, or None when it is absent."""
    # tests/contract/schemas.py -> parents[2] is the repository root; shared/ sits beside it.
    candidate = Path(__file__).resolve().parents[2].parent / "shared"
    return candidate if candidate.is_dir() else None


def read_schema_dir(folder: Path) -> str:
    """Concatenate every ``*.graphql`` file under ``folder`` (sorted, recursive)."""
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*.graphql")))


# stash-box writes Go-style `= False` defaults, which gqlgen reads as false but
# graphql-core rejects as an enum literal when it validates the schema.
_GO_BOOLEAN_DEFAULT = re.compile(r"(=\s*)(False|True)\b")


@functools.cache
def _load(sub: str) -> GraphQLSchema | None:
    base = shared_dir()
    if base is None or not (base / sub).is_dir():
        return None
    sdl = _GO_BOOLEAN_DEFAULT.sub(lambda m: m[1] + m[2].lower(), read_schema_dir(base / sub))
    return build_schema(sdl)


def load_real_stash_schema() -> GraphQLSchema | None:
    """Build Stash's real schema from ``shared/stash-schema``; None if it is not there."""
    return _load("stash-schema")


def load_real_stashbox_schema() -> GraphQLSchema | None:
    """Build stash-box's real schema from ``shared/stashbox-schema``; None if absent."""
    return _load("stashbox-schema")


# ---------------------------------------------------------------- subset check


def _kind(t: GraphQLNamedType) -> str:
    for cls, name in (
        (GraphQLObjectType, "object"),
        (GraphQLInterfaceType, "interface"),
        (GraphQLUnionType, "union"),
        (GraphQLEnumType, "enum"),
        (GraphQLInputObjectType, "input object"),
        (GraphQLScalarType, "scalar"),
    ):
        if isinstance(t, cls):
            return name
    return type(t).__name__  # pragma: no cover - graphql-core has no other named kinds


def _default(value: GraphQLArgument | GraphQLInputField) -> object:
    # Undefined is a singleton that compares unequal to None, which is what we want.
    return value.default_value


def _check_args(
    where: str,
    sub: Mapping[str, GraphQLArgument],
    real: Mapping[str, GraphQLArgument],
) -> list[str]:
    errors: list[str] = []
    for name, arg in sub.items():
        real_arg = real.get(name)
        if real_arg is None:
            errors.append(f"{where}({name}:): argument does not exist in the real schema")
            continue
        if str(arg.type) != str(real_arg.type):
            errors.append(f"{where}({name}:): type {arg.type} differs from real {real_arg.type}")
        if _default(arg) != _default(real_arg):
            errors.append(
                f"{where}({name}:): default {_default(arg)!r} differs from real "
                f"{_default(real_arg)!r}"
            )
    for name, real_arg in real.items():
        if name not in sub and is_required_argument(real_arg):
            errors.append(f"{where}({name}:): required real argument {real_arg.type} is missing")
    return errors


def _check_fields(
    type_name: str,
    sub: GraphQLObjectType | GraphQLInterfaceType,
    real: GraphQLObjectType | GraphQLInterfaceType,
) -> list[str]:
    errors: list[str] = []
    for fname, field in sub.fields.items():
        real_field = real.fields.get(fname)
        where = f"{type_name}.{fname}"
        if real_field is None:
            errors.append(f"{where}: field does not exist in the real schema")
            continue
        if str(field.type) != str(real_field.type):
            errors.append(f"{where}: type {field.type} differs from real {real_field.type}")
        errors.extend(_check_args(where, field.args, real_field.args))
    real_ifaces = {i.name for i in real.interfaces}
    for iface in sub.interfaces:
        if iface.name not in real_ifaces:
            errors.append(f"{type_name}: implements {iface.name}, the real type does not")
    return errors


def _check_input(
    type_name: str, sub: GraphQLInputObjectType, real: GraphQLInputObjectType
) -> list[str]:
    errors: list[str] = []
    for fname, field in sub.fields.items():
        real_field = real.fields.get(fname)
        where = f"{type_name}.{fname}"
        if real_field is None:
            errors.append(f"{where}: input field does not exist in the real schema")
            continue
        if str(field.type) != str(real_field.type):
            errors.append(f"{where}: type {field.type} differs from real {real_field.type}")
        if _default(field) != _default(real_field):
            errors.append(
                f"{where}: default {_default(field)!r} differs from real {_default(real_field)!r}"
            )
    for fname, real_field in real.fields.items():
        if fname not in sub.fields and is_required_input_field(real_field):
            errors.append(
                f"{type_name}.{fname}: required real input field {real_field.type} is missing"
            )
    return errors


def _check_type(name: str, sub: GraphQLNamedType, real: GraphQLNamedType) -> list[str]:
    if _kind(sub) != _kind(real):
        return [f"{name}: is {_kind(sub)} here but {_kind(real)} in the real schema"]
    if isinstance(sub, GraphQLObjectType | GraphQLInterfaceType):
        assert isinstance(real, GraphQLObjectType | GraphQLInterfaceType)
        return _check_fields(name, sub, real)
    if isinstance(sub, GraphQLInputObjectType):
        assert isinstance(real, GraphQLInputObjectType)
        return _check_input(name, sub, real)
    if isinstance(sub, GraphQLEnumType):
        assert isinstance(real, GraphQLEnumType)
        return [
            f"{name}.{value}: enum value does not exist in the real schema"
            for value in sub.values
            if value not in real.values
        ]
    if isinstance(sub, GraphQLUnionType):
        assert isinstance(real, GraphQLUnionType)
        real_members = {t.name for t in real.types}
        return [
            f"{name}: member {t.name} is not a member of the real union"
            for t in sub.types
            if t.name not in real_members
        ]
    return []


def check_subset(subset_sdl: str, real: GraphQLSchema) -> list[str]:
    """List every way ``subset_sdl`` is not a strict subset of ``real`` (empty = subset)."""
    try:
        sub = build_schema(subset_sdl)
    except (GraphQLError, TypeError) as exc:
        return [f"subset SDL does not build: {exc}"]
    errors: list[str] = []
    for op in ("query", "mutation", "subscription"):
        sub_root = getattr(sub, f"{op}_type")
        real_root = getattr(real, f"{op}_type")
        if sub_root is not None and (real_root is None or sub_root.name != real_root.name):
            errors.append(f"schema {op} root: {sub_root.name} differs from the real schema")
    for name, sub_type in sub.type_map.items():
        if name.startswith("__"):
            continue
        real_type = real.type_map.get(name)
        if real_type is None:
            errors.append(f"{name}: type does not exist in the real schema")
            continue
        errors.extend(_check_type(name, sub_type, real_type))
    for directive in sub.directives:
        if real.get_directive(directive.name) is None:
            errors.append(f"@{directive.name}: directive does not exist in the real schema")
    return errors


# ---------------------------------------------------------------- operation documents


def load_operation_documents(folder: Path) -> dict[Path, DocumentNode]:
    """Parse every ``*.graphql`` file under ``folder`` (recursive, sorted)."""
    return {p: parse(p.read_text(encoding="utf-8")) for p in sorted(folder.rglob("*.graphql"))}


class _SpreadCollector(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_args: object) -> None:
        self.names.add(node.name.value)


def _spread_names(nodes: Iterable[object]) -> set[str]:
    collector = _SpreadCollector()
    for node in nodes:
        visit(node, collector)  # type: ignore[arg-type]  # nodes are AST nodes
    return collector.names


def _with_fragments(
    doc: DocumentNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> DocumentNode:
    """Append fragment definitions from sibling files that ``doc`` spreads."""
    defined = {d.name.value for d in doc.definitions if isinstance(d, FragmentDefinitionNode)}
    extra: list[FragmentDefinitionNode] = []
    pending = _spread_names(doc.definitions) - defined
    while pending:
        name = pending.pop()
        frag = fragments.get(name)
        if frag is None or name in defined:
            continue  # unknown fragments are left for validation to report
        defined.add(name)
        extra.append(frag)
        pending |= _spread_names([frag]) - defined
    if not extra:
        return doc
    return DocumentNode(definitions=(*doc.definitions, *extra))


def validate_operations(schema: GraphQLSchema, folder: Path) -> list[str]:
    """Validate each operation file in ``folder`` against ``schema``; list the problems.

    Fragments may live in other files of the folder: they are appended where spread.
    A file holding only fragments is checked without the unused-fragment rule.
    """
    docs = load_operation_documents(folder)
    fragments = {
        d.name.value: d
        for doc in docs.values()
        for d in doc.definitions
        if isinstance(d, FragmentDefinitionNode)
    }
    problems: list[str] = []
    for path, doc in docs.items():
        has_operation = any(isinstance(d, OperationDefinitionNode) for d in doc.definitions)
        rules = (
            specified_rules
            if has_operation
            else tuple(r for r in specified_rules if r is not NoUnusedFragmentsRule)
        )
        for error in validate(schema, _with_fragments(doc, fragments), rules):
            problems.append(f"{path.name}: {error.message}")
    return problems
