"""Every operation document the Stash client ships must also run against the fake."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.contract.schemas import validate_operations
from tests.fakes.stash.resolvers import build_fake_schema

OPERATIONS = Path(__file__).resolve().parents[2] / "daemon" / "stash_sense" / "stash" / "operations"


def test_fake_schema_accepts_every_operation() -> None:
    """Validate each ``*.graphql`` in the client's operations folder against the fake."""
    if not OPERATIONS.is_dir() or not any(OPERATIONS.rglob("*.graphql")):
        pytest.skip(f"no operation documents in {OPERATIONS} yet")
    problems = validate_operations(build_fake_schema(), OPERATIONS)
    assert not problems, "the fake Stash cannot run these operations:\n" + "\n".join(problems)
