"""Every write to Stash goes through the writes package (checked on the source, via ast)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import stash_sense
from stash_sense.analyzers.upstream import spec as upstream_spec

PACKAGE = Path(stash_sense.__file__).parent
OPERATIONS = PACKAGE / "stash" / "operations"
# Where mutations may be sent from: the writes domain, and the client that defines them.
ALLOWED = ("writes", "stash")


def _mutation_operations() -> set[str]:
    """Return the names of the Stash operation documents that are mutations."""
    found = set()
    for path in OPERATIONS.glob("*.graphql"):
        lines = [ln for ln in path.read_text().splitlines() if not ln.lstrip().startswith("#")]
        if "\n".join(lines).lstrip().startswith("mutation"):
            found.add(path.stem)
    return found


def _operation_names(node: ast.expr) -> list[str] | re.Pattern[str] | None:
    """Return what an operation-name argument can be: names, a pattern, or None (not one)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        # Formatted parts of operation names are entity titles ("Studio", "Tag").
        parts = [
            re.escape(v.value) if isinstance(v, ast.Constant) else "[A-Z][a-z]+"
            for v in node.values
        ]
        return re.compile("".join(parts))
    if isinstance(node, ast.Attribute) and isinstance(
        getattr(upstream_spec.EntitySpec, node.attr, None), property
    ):
        specs = [
            upstream_spec.PERFORMER,
            upstream_spec.STUDIO,
            upstream_spec.TAG,
            upstream_spec.SCENE,
        ]
        return [getattr(s, node.attr) for s in specs]
    return None


def _client_mutation_methods(mutations: set[str]) -> set[str]:
    """Return the StashClient methods that send a mutation, directly or through another."""
    tree = ast.parse((PACKAGE / "stash" / "client.py").read_text())
    calls: dict[str, set[str]] = {}
    sends: set[str] = set()
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.AsyncFunctionDef | ast.FunctionDef):
            continue
        for call in ast.walk(fn):
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute):
                calls.setdefault(fn.name, set()).add(call.func.attr)
                names = _operation_names(call.args[0]) if call.args else None
                sent = set(names) if isinstance(names, list) else set()
                if call.func.attr == "execute" and mutations & sent:
                    sends.add(fn.name)
    grew = True
    while grew:
        more = {name for name, called in calls.items() if called & sends} - sends
        sends |= more
        grew = bool(more)
    return sends


def _sends(path: Path, mutations: set[str], methods: set[str]) -> list[str]:
    """Return the calls in a module that send a mutation to Stash."""
    found = []
    for call in ast.walk(ast.parse(path.read_text())):
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
            continue
        where = f"{path.relative_to(PACKAGE)}:{call.lineno}"
        if call.func.attr in methods:
            found.append(f"{where} {call.func.attr}()")
        if call.func.attr != "execute" or not call.args:
            continue
        names = _operation_names(call.args[0])
        if isinstance(names, re.Pattern):
            hits = sorted(m for m in mutations if names.fullmatch(m))
        else:
            hits = sorted(mutations & set(names or ()))
        if hits:
            found.append(f"{where} execute({', '.join(hits)})")
    return found


def test_only_the_writes_package_sends_mutations() -> None:
    mutations = _mutation_operations()
    methods = _client_mutation_methods(mutations)
    assert {"bulk_update_scenes", "create_performer", "ensure_tag"} <= methods
    outside: list[str] = []
    inside: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        top = path.relative_to(PACKAGE).parts[0]
        sends = _sends(path, mutations, methods)
        if top == "writes":
            inside += sends
        elif top not in ALLOWED:
            outside += sends
    assert outside == []
    # The check sees the writes that are there: the writes package sends them.
    assert any("create_performer()" in s for s in inside)
    assert any("ensure_tag()" in s for s in inside)
    assert any("StudioCreate" in s and "TagCreate" in s for s in inside)
