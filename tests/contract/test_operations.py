"""Every operation document we ship validates against the real upstream schema."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from graphql import GraphQLSchema, OperationDefinitionNode, parse, validate

from tests.contract.schemas import load_real_stash_schema, load_real_stashbox_schema

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "daemon" / "stash_sense"
# target: (operations folder, folder under ../shared, loader of the real schema)
TARGETS: dict[str, tuple[Path, str, Callable[[], GraphQLSchema | None]]] = {
    "stash": (PACKAGE / "stash" / "operations", "stash-schema", load_real_stash_schema),
    "stashbox": (
        PACKAGE / "stashbox" / "operations",
        "stashbox-schema",
        load_real_stashbox_schema,
    ),
}


def _real_schema(target: str) -> GraphQLSchema:
    _, sub, load = TARGETS[target]
    schema = load()
    if schema is None:
        pytest.skip(f"../shared/{sub} is not beside the checkout; cannot check the real schema")
    return schema


def _documents() -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    for target, (folder, _, _) in TARGETS.items():
        if folder.is_dir():
            found.extend((target, path) for path in sorted(folder.glob("*.graphql")))
    return found


DOCUMENTS = _documents()


def test_stash_operations_exist() -> None:
    assert any(target == "stash" for target, _ in DOCUMENTS)


@pytest.mark.parametrize(("target", "path"), DOCUMENTS, ids=[f"{t}/{p.name}" for t, p in DOCUMENTS])
def test_document_is_one_operation_named_like_its_file(target: str, path: Path) -> None:
    document = parse(path.read_text(encoding="utf-8"))
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    assert len(operations) == 1, f"{path.name} must hold exactly one operation"
    name = operations[0].name
    assert name is not None and name.value == path.stem


@pytest.mark.parametrize(("target", "path"), DOCUMENTS, ids=[f"{t}/{p.name}" for t, p in DOCUMENTS])
def test_document_validates_against_real_schema(target: str, path: Path) -> None:
    schema = _real_schema(target)
    # Each file must be self-contained: validated alone, with its own fragments.
    errors = validate(schema, parse(path.read_text(encoding="utf-8")))
    assert not errors, f"{path.name}: " + "; ".join(e.message for e in errors)


def test_loader_sees_every_stash_file() -> None:
    from stash_sense.stash.operations import all_operations

    folder = TARGETS["stash"][0]
    assert {op.name for op in all_operations()} == {p.stem for p in folder.glob("*.graphql")}
