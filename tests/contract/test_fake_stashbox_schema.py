"""The fake stash-box's SDL must be a strict subset of stash-box's real schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import GraphQLSchema, parse, validate

from tests.contract.schemas import check_subset, load_real_stashbox_schema, shared_dir
from tests.fakes.stashbox import DEFAULT_SDL
from tests.fakes.stashbox.resolvers import build_fake_schema

OPERATIONS = (
    Path(__file__).resolve().parents[2] / "daemon" / "stash_sense" / "stashbox" / "operations"
)


@pytest.fixture(scope="module")
def real_schema() -> GraphQLSchema:
    """Return stash-box's real schema, or skip when ../shared is not beside the checkout."""
    schema = load_real_stashbox_schema()
    if schema is None:
        pytest.skip(
            f"stash-box's real schema not found (looked for {shared_dir() or '../shared'}"
            "/stashbox-schema beside the repository)"
        )
    return schema


def test_fake_sdl_is_a_strict_subset(real_schema: GraphQLSchema) -> None:
    """Every type, field, argument, enum value and input field matches the real schema."""
    problems = check_subset(DEFAULT_SDL, real_schema)
    assert not problems, "fake schema differs from stash-box's:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("original", "planted", "expected"),
    [
        # wrong output type
        ("  duration: Int\n  code", "  duration: Float\n  code", "Scene.duration: type Float"),
        # a field stash-box does not have
        (
            "type Performer {\n  id: ID!",
            "type Performer {\n  id: ID!\n  face_count: Int",
            "Performer.face_count: field does not exist",
        ),
        # an enum value stash-box does not have
        (
            "enum FingerprintAlgorithm {\n  MD5",
            "enum FingerprintAlgorithm {\n  SHA1\n  MD5",
            "FingerprintAlgorithm.SHA1: enum value does not exist",
        ),
        # a required argument dropped for one stash-box does not have
        (
            "findPerformer(id: ID!)",
            "findPerformer(name: String)",
            "Query.findPerformer(id:): required real argument ID! is missing",
        ),
        # a nested list made nullable
        (
            "fingerprints: [[FingerprintQueryInput!]!]!",
            "fingerprints: [[FingerprintQueryInput!]]!",
            "Query.findScenesBySceneFingerprints(fingerprints:): type",
        ),
    ],
)
def test_checker_catches_planted_mismatch(
    real_schema: GraphQLSchema, original: str, planted: str, expected: str
) -> None:
    """The checker names the type/field of each planted difference."""
    assert original in DEFAULT_SDL, "the planted edit no longer applies to schema.graphql"
    problems = check_subset(DEFAULT_SDL.replace(original, planted, 1), real_schema)
    assert any(expected in p for p in problems), problems


def test_client_operations_run_on_the_fake() -> None:
    """Every stash-box operation the client ships also validates against the fake's SDL."""
    schema = build_fake_schema()
    paths = sorted(OPERATIONS.glob("*.graphql"))
    assert paths
    for path in paths:
        errors = validate(schema, parse(path.read_text(encoding="utf-8")))
        assert not errors, f"{path.name}: " + "; ".join(e.message for e in errors)
