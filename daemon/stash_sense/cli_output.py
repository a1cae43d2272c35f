"""How commands report a failure: one line on stderr, or a JSON object on stdout for --json."""

from __future__ import annotations

import json
import sys


def print_error(message: str, *, as_json: bool, **details: object) -> None:
    """Print `error: message` on stderr, or `{"error": message, ...}` on stdout."""
    if as_json:
        # Scripts parse stdout: the error must be the one JSON document there.
        print(json.dumps({"error": message, **details}))
    else:
        print(f"error: {message}", file=sys.stderr)


def column_width(values: list[str], header: str) -> int:
    """Return the width that fits the header and every value whole (ids are never cut)."""
    return max([len(header), *map(len, values)])
