"""A strict reader of the Prometheus text format 0.0.4, for checking what /metrics sends."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_HELP = re.compile(rf"# HELP ({_NAME}) (.*)")
_TYPE = re.compile(rf"# TYPE ({_NAME}) (counter|gauge|histogram|summary|untyped)")
_VALUE = r"[-+]?(?:[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|Inf|NaN)"
_PAIR = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
_SAMPLE = re.compile(rf"({_NAME})(?:\{{((?:{_PAIR})(?:,{_PAIR})*)?\}})? ({_VALUE})")
_PAIRS = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
_UNESCAPE = re.compile(r"\\([\\\"n])")
_SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("", "_sum", "_count")}


@dataclass
class Family:
    """One metric family as read: its help, type and samples."""

    name: str
    help: str
    type: str = ""
    samples: list[tuple[str, dict[str, str], float]] = field(default_factory=list)


def parse(text: str) -> dict[str, Family]:
    """Read a whole exposition; raise AssertionError on anything the format does not allow."""
    assert text.endswith("\n"), "the document must end with a line feed"
    families: dict[str, Family] = {}
    current: Family | None = None
    for number, line in enumerate(text[:-1].split("\n"), 1):
        if m := _HELP.fullmatch(line):
            assert m[1] not in families, f"line {number}: family {m[1]} repeated"
            current = families[m[1]] = Family(m[1], _unescape_help(m[2]))
        elif m := _TYPE.fullmatch(line):
            assert current is not None and current.name == m[1] and not current.type, (
                f"line {number}: TYPE without its HELP just before: {line!r}"
            )
            current.type = m[2]
        elif m := _SAMPLE.fullmatch(line):
            assert current is not None and current.type, f"line {number}: sample outside a family"
            suffixes = _SUFFIXES.get(current.type, ("",))
            assert any(m[1] == current.name + s for s in suffixes), (
                f"line {number}: {m[1]} does not belong to {current.name} ({current.type})"
            )
            labels = {k: _UNESCAPE.sub(_unescape_one, v) for k, v in _PAIRS.findall(m[2] or "")}
            current.samples.append((m[1], labels, _number(m[3])))
        else:
            raise AssertionError(f"line {number}: not in the text format: {line!r}")
    for family in families.values():
        assert family.type, f"{family.name} has no TYPE"
        if family.type == "counter":
            assert family.name.endswith("_total"), family.name
        if family.type == "histogram":
            _check_histogram(family)
    return families


def value(families: dict[str, Family], name: str, **labels: str) -> float:
    """Return the one sample `name` with exactly these labels."""
    family = families[_family_of(families, name)]
    found = [v for n, lab, v in family.samples if n == name and lab == labels]
    assert len(found) == 1, f"{name}{labels}: {len(found)} samples in {family.samples}"
    return found[0]


def _family_of(families: dict[str, Family], name: str) -> str:
    """Find the family a sample name belongs to."""
    if name in families:
        return name
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and name.removesuffix(suffix) in families:
            return name.removesuffix(suffix)
    raise KeyError(name)


def _check_histogram(family: Family) -> None:
    """Buckets ascend and are cumulative, end in +Inf, and +Inf equals the count."""
    series: dict[tuple[tuple[str, str], ...], list[tuple[float, float]]] = {}
    counts: dict[tuple[tuple[str, str], ...], float] = {}
    for name, labels, v in family.samples:
        rest = tuple(sorted((k, x) for k, x in labels.items() if k != "le"))
        if name.endswith("_bucket"):
            series.setdefault(rest, []).append((_number(labels["le"]), v))
        elif name.endswith("_count"):
            counts[rest] = v
    for key, buckets in series.items():
        bounds = [b for b, _ in buckets]
        assert bounds == sorted(bounds) and bounds[-1] == math.inf, (family.name, bounds)
        values = [n for _, n in buckets]
        assert values == sorted(values), (family.name, key, values)
        assert values[-1] == counts[key], (family.name, key)


def _number(text: str) -> float:
    """Read a sample value or bucket bound."""
    return float(text.replace("Inf", "inf"))


def _unescape_one(m: re.Match[str]) -> str:
    return "\n" if m[1] == "n" else m[1]


def _unescape_help(text: str) -> str:
    return re.sub(r"\\([\\n])", lambda m: "\n" if m[1] == "n" else "\\", text)
