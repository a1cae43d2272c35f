"""The GraphQL operations the daemon sends to Stash, loaded from `operations/*.graphql`."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

from graphql import DocumentNode, OperationDefinitionNode, OperationType, Source, parse

# Package data folder beside this module; one operation per file, named like the file.
_PACKAGE = "stash_sense.stash"
_FOLDER = "operations"
_SUFFIX = ".graphql"


@dataclass(frozen=True, slots=True)
class Operation:
    """One parsed operation document."""

    name: str
    kind: OperationType
    text: str
    document: DocumentNode

    @property
    def is_subscription(self) -> bool:
        """Tell whether the operation must go over the websocket."""
        return self.kind is OperationType.SUBSCRIPTION


def parse_operation(filename: str, text: str) -> Operation:
    """Parse one file; reject it unless it holds exactly one operation named like the file."""
    expected = filename.removesuffix(_SUFFIX)
    document = parse(Source(text, filename))
    definitions = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(definitions) != 1:
        raise ValueError(f"{filename}: expected one operation, found {len(definitions)}")
    definition = definitions[0]
    name = definition.name.value if definition.name else ""
    if name != expected:
        raise ValueError(f"{filename}: operation is named {name!r}, expected {expected!r}")
    return Operation(name=name, kind=definition.operation, text=text, document=document)


@functools.cache
def load_package(package: str) -> dict[str, Operation]:
    """Parse every operation in `package`'s `operations/` folder (cached per package)."""
    folder = resources.files(package).joinpath(_FOLDER)
    loaded: dict[str, Operation] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(_SUFFIX):
            operation = parse_operation(entry.name, entry.read_text(encoding="utf-8"))
            loaded[operation.name] = operation
    return loaded


def _load() -> dict[str, Operation]:
    return load_package(_PACKAGE)


def get(name: str) -> Operation:
    """Return the operation called `name`; raise KeyError for an unknown one."""
    try:
        return _load()[name]
    except KeyError:
        raise KeyError(f"unknown Stash operation {name!r}") from None


def all_operations() -> tuple[Operation, ...]:
    """Return every operation, sorted by name."""
    return tuple(_load().values())
