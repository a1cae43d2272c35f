"""The fake Stash's SDL must be a strict subset of Stash's real schema."""

from __future__ import annotations

import pytest
from graphql import GraphQLSchema

from tests.contract.schemas import check_subset, load_real_stash_schema, shared_dir
from tests.fakes.stash import DEFAULT_SDL, schema_without


@pytest.fixture(scope="module")
def real_schema() -> GraphQLSchema:
    """Return Stash's real schema, or skip when ../shared is not beside the checkout."""
    schema = load_real_stash_schema()
    if schema is None:
        pytest.skip(
            f"Stash's real schema not found (looked for {shared_dir() or '../shared'}"
            "/stash-schema beside the repository)"
        )
    return schema


def test_fake_sdl_is_a_strict_subset(real_schema: GraphQLSchema) -> None:
    """Every type, field, argument, enum value and input field matches the real schema."""
    problems = check_subset(DEFAULT_SDL, real_schema)
    assert not problems, "fake schema differs from Stash's:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("original", "planted", "expected"),
    [
        # wrong output type
        (
            "  duration: Float!\n  video_codec",
            "  duration: Int!\n  video_codec",
            "VideoFile.duration: type Int! differs from real Float!",
        ),
        # a field Stash does not have
        (
            "type Scene {\n  id: ID!",
            "type Scene {\n  id: ID!\n  face_count: Int",
            "Scene.face_count: field does not exist",
        ),
        # an enum value Stash does not have
        (
            "enum BulkUpdateIdMode {\n  SET",
            "enum BulkUpdateIdMode {\n  TOGGLE\n  SET",
            "BulkUpdateIdMode.TOGGLE: enum value does not exist",
        ),
        # a nullable input field made required
        (
            "input FindFilterType {\n  q: String",
            "input FindFilterType {\n  q: String!",
            "FindFilterType.q: type String! differs from real String",
        ),
        # an argument with the wrong type
        (
            "findScene(id: ID, checksum: String)",
            "findScene(id: Int, checksum: String)",
            "Query.findScene(id:): type Int differs from real ID",
        ),
        # a type the real schema lacks
        ("scalar Int64", "scalar Int64\n\nscalar Duration", "Duration: type does not exist"),
        # the same name with another kind
        (
            "type Fingerprint {\n  type: String!\n  value: String!\n}",
            "input Fingerprint {\n  type: String!\n  value: String!\n}\n"
            "type FingerprintOut {\n  type: String!\n}",
            "Fingerprint: is input object here but object in the real schema",
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


def test_checker_catches_missing_required_input_field(real_schema: GraphQLSchema) -> None:
    """Dropping a required input field (StashIDInput.endpoint) is reported."""
    problems = check_subset(schema_without("StashIDInput.endpoint"), real_schema)
    assert any("StashIDInput.endpoint: required real input field" in p for p in problems)


def test_checker_catches_missing_required_argument(real_schema: GraphQLSchema) -> None:
    """Dropping a required argument (configurePlugin's plugin_id) is reported."""
    sdl = DEFAULT_SDL.replace(
        "configurePlugin(plugin_id: ID!, input: Map!)", "configurePlugin(input: Map!)"
    )
    problems = check_subset(sdl, real_schema)
    assert any(
        "Mutation.configurePlugin(plugin_id:): required real argument" in p for p in problems
    ), problems


def test_schema_without_removes_one_field_and_stays_a_subset(real_schema: GraphQLSchema) -> None:
    """An incompatible-Stash SDL made by schema_without is still a valid subset."""
    sdl = schema_without("Scene.files")
    assert "files: [VideoFile!]!" not in sdl.split("type Scene {")[1].split("}")[0]
    assert check_subset(sdl, real_schema) == []
