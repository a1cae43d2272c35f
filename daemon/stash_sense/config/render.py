"""Render configs back to TOML: the annotated example and the redacted effective config."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from stash_sense.config.model import Config

REDACTED = "***"


def render_example() -> str:
    """Render `config.example.toml`: every key with its default and a one-line comment."""
    lines = [
        "# Stash Sense configuration. Every key is shown with its default value.",
        "# Any key can be overridden by an environment variable",
        "# STASH_SENSE_<SECTION>__<KEY>, e.g. STASH_SENSE_STASH__API_KEY.",
    ]
    _render(Config(), (), lines, redact=False, with_docs=True)
    return "\n".join(lines) + "\n"


def redacted(config: Config) -> str:
    """Render the effective config as TOML with every secret replaced."""
    lines: list[str] = []
    _render(config, (), lines, redact=True, with_docs=False)
    return "\n".join(lines).lstrip("\n") + "\n"


def _render(
    obj: Any, trail: tuple[str, ...], lines: list[str], *, redact: bool, with_docs: bool
) -> None:
    """Append one section and its sub-sections."""
    sections = []
    if trail:
        lines.append("")
        if with_docs:
            doc = (obj.__doc__ or "").strip()
            lines.append(f"# {doc}")
        lines.append(f"[{'.'.join(trail)}]")
    for fld in dataclasses.fields(obj):
        value = getattr(obj, fld.name)
        if fld.metadata.get("section"):
            sections.append((fld.name, value))
            continue
        if with_docs:
            lines.append(f"# {fld.metadata['doc']}")
        if redact and fld.metadata.get("secret") and value:
            value = REDACTED
        lines.append(f"{fld.name} = {_toml_value(value)}")
    for name, value in sections:
        _render(value, (*trail, name), lines, redact=redact, with_docs=with_docs)


def _toml_value(value: Any) -> str:
    """Format a scalar or list of strings as TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value)
