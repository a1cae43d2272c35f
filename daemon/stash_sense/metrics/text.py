"""The Prometheus text exposition format (version 0.0.4), written by hand.

Families are written whole, in the order they are added, each with its HELP and
TYPE lines, even when they have no samples yet, so a scraper sees a stable set.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

from stash_sense.metrics.histogram import HistogramSnapshot

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
Labels = Mapping[str, str]
_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


class Exposition:
    """Collect metric families and render them as one text document."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._names: set[str] = set()

    def gauge(self, name: str, help_text: str, samples: Iterable[tuple[Labels, float]]) -> None:
        """Add a gauge family."""
        self._family(name, help_text, "gauge")
        for labels, value in samples:
            self._sample(name, labels, value)

    def counter(self, name: str, help_text: str, samples: Iterable[tuple[Labels, float]]) -> None:
        """Add a counter family; its name ends in `_total`."""
        if not name.endswith("_total"):
            raise ValueError(f"counter {name!r} must end in _total")
        self._family(name, help_text, "counter")
        for labels, value in samples:
            self._sample(name, labels, value)

    def histogram(
        self, name: str, help_text: str, samples: Iterable[tuple[Labels, HistogramSnapshot]]
    ) -> None:
        """Add a histogram family: cumulative buckets, then sum and count, per label set."""
        self._family(name, help_text, "histogram")
        for labels, snap in samples:
            if "le" in labels:
                raise ValueError(f"histogram {name!r}: 'le' is reserved")
            for bound, n in zip((*snap.bounds, math.inf), snap.cumulative, strict=True):
                self._sample(f"{name}_bucket", {**labels, "le": format_value(bound)}, n)
            self._sample(f"{name}_sum", labels, snap.total)
            self._sample(f"{name}_count", labels, snap.count)

    def text(self) -> str:
        """Return the document; it ends with a newline."""
        return "".join(line + "\n" for line in self._lines)

    def _family(self, name: str, help_text: str, kind: str) -> None:
        """Write the HELP and TYPE lines of a new family."""
        if not _NAME.fullmatch(name):
            raise ValueError(f"invalid metric name {name!r}")
        if name in self._names:
            raise ValueError(f"metric {name!r} added twice")
        self._names.add(name)
        help_escaped = help_text.replace("\\", "\\\\").replace("\n", "\\n")
        self._lines.append(f"# HELP {name} {help_escaped}")
        self._lines.append(f"# TYPE {name} {kind}")

    def _sample(self, name: str, labels: Labels, value: float) -> None:
        """Write one sample line."""
        if labels:
            for key in labels:
                if not _LABEL.fullmatch(key) or key.startswith("__"):
                    raise ValueError(f"invalid label name {key!r} on {name}")
            inner = ",".join(f'{k}="{escape_label(v)}"' for k, v in labels.items())
            self._lines.append(f"{name}{{{inner}}} {format_value(value)}")
        else:
            self._lines.append(f"{name} {format_value(value)}")


def escape_label(value: str) -> str:
    """Escape a label value: backslash, double quote and line feed."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def format_value(value: float) -> str:
    """Format a sample value as the format wants it (integers plainly, +Inf, NaN)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))
