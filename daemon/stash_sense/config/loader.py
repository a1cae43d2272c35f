"""Read the config file and environment into a validated `Config`."""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from stash_sense.config.model import Config

DEFAULT_PATH = Path("config.toml")
ENV_PREFIX = "STASH_SENSE_"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class ConfigError(Exception):
    """The configuration is invalid; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def load_config(
    path: Path | None = None, env: Mapping[str, str] | None = None
) -> tuple[Config, Path | None]:
    """Load the config: defaults, then the TOML file, then environment overrides.

    Return the config and the file it came from (None when only defaults and env apply).
    An explicit `path` must exist; without one, `./config.toml` is used when present.
    """
    env = os.environ if env is None else env
    problems: list[str] = []
    raw: dict[str, Any] = {}
    source: Path | None = None
    if path is not None or DEFAULT_PATH.exists():
        source = path if path is not None else DEFAULT_PATH
        try:
            raw = tomllib.loads(source.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError([f"{source}: file not found"]) from None
        except (OSError, UnicodeDecodeError) as err:
            raise ConfigError([f"{source}: cannot read: {err}"]) from None
        except tomllib.TOMLDecodeError as err:
            raise ConfigError([f"{source}: invalid TOML: {err}"]) from None
    origin = str(source) if source else "defaults"
    if source is not None:
        _resolve_paths(Config, raw, source.resolve().parent)
    _apply_env(raw, env, problems)
    config = _build(Config, raw, (), origin, problems)
    if problems:
        raise ConfigError(problems)
    return config, source


def _apply_env(raw: dict[str, Any], env: Mapping[str, str], problems: list[str]) -> None:
    """Overlay `STASH_SENSE_<SECTION>__<KEY>` variables onto the raw TOML tree."""
    for name in sorted(env):
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        parts = name[len(ENV_PREFIX) :].lower().split("__")
        node = raw
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                problems.append(f"environment {name}: {'.'.join(parts[:-1])} is not a section")
                break
            node = child
        else:
            node[parts[-1]] = _EnvValue(name, env[name])


def _resolve_paths(cls: type[Any], raw: dict[str, Any], base: Path) -> None:
    """Make the file's relative paths relative to the file's folder, not the shell's."""
    hints = typing.get_type_hints(cls)
    for fld in dataclasses.fields(cls):
        value = raw.get(fld.name)
        if fld.metadata.get("section") and isinstance(value, dict):
            _resolve_paths(hints[fld.name], value, base)
        elif fld.metadata.get("path") and isinstance(value, str) and _is_relative_path(value):
            raw[fld.name] = str(base / value)


def _is_relative_path(text: str) -> bool:
    """Tell whether a path-like value is a relative local path (not a URL, github: or ~)."""
    if not text or "://" in text or text.startswith(("github:", "~")):
        return False
    return not Path(text).is_absolute()


@dataclasses.dataclass(frozen=True)
class _EnvValue:
    """A raw string from the environment, converted once its target type is known."""

    variable: str
    text: str


def _build(
    cls: type[Any], raw: Any, trail: tuple[str, ...], origin: str, problems: list[str]
) -> Any:
    """Construct dataclass `cls` from `raw`, recording every problem instead of stopping."""
    where = ".".join(trail)
    if not isinstance(raw, dict):
        problems.append(f"{origin}: {where}: must be a table")
        return cls()
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in raw:
        if key not in fields:
            for source, name in _leaves(raw[key], (*trail, key), origin):
                problems.append(f"{source}: {name}: unknown key")
    values: dict[str, Any] = {}
    for name, fld in fields.items():
        if name not in raw:
            continue
        key_trail = (*trail, name)
        hint = hints[name]
        if fld.metadata.get("section"):
            values[name] = _build(hint, raw[name], key_trail, origin, problems)
            continue
        value = _coerce(hint, raw[name], ".".join(key_trail), origin, problems)
        if value is _INVALID:
            continue
        if _check_limits(
            fld, value, ".".join(key_trail), raw=raw[name], origin=origin, problems=problems
        ):
            values[name] = value
    return cls(**values)


_INVALID = object()


def _leaves(value: Any, trail: tuple[str, ...], origin: str) -> list[tuple[str, str]]:
    """Name where an unknown key came from: environment variables under it, else the file."""
    if isinstance(value, _EnvValue):
        return [(f"environment {value.variable}", ".".join(trail))]
    if isinstance(value, dict):
        found = [leaf for k, v in value.items() for leaf in _leaves(v, (*trail, k), origin)]
        env_only = [leaf for leaf in found if leaf[0].startswith("environment ")]
        if found and len(env_only) == len(found):
            return env_only
    return [(origin, ".".join(trail))]


def _coerce(hint: Any, value: Any, key: str, origin: str, problems: list[str]) -> Any:
    """Return `value` as type `hint`, or record a problem and return `_INVALID`."""
    if isinstance(value, _EnvValue):
        where = f"environment {value.variable}"
        parsed = _parse_env(hint, value.text)
        if parsed is _INVALID:
            problems.append(f"{where}: {key}: expected {_type_name(hint)}, got {value.text!r}")
        return parsed
    ok = _matches(hint, value)
    if ok and _numeric(hint) and isinstance(value, int | float):
        return float(value)
    if ok and typing.get_origin(hint) is list:
        return list(value)
    if ok:
        return value
    problems.append(
        f"{origin}: {key}: expected {_type_name(hint)}, got {type(value).__name__} {value!r}"
    )
    return _INVALID


def _matches(hint: Any, value: Any) -> bool:
    """Tell whether a TOML value has the declared type (bools are not numbers)."""
    if isinstance(hint, types.UnionType):
        return any(_matches(option, value) for option in typing.get_args(hint))
    if isinstance(value, bool):
        return hint is bool
    if hint is float:
        return isinstance(value, int | float)
    if typing.get_origin(hint) is list:
        (item,) = typing.get_args(hint)
        return isinstance(value, list) and all(_matches(item, v) for v in value)
    return isinstance(hint, type) and isinstance(value, hint)


def _numeric(hint: Any) -> bool:
    """Tell whether a hint is float, alone or in a union (e.g. a number or "calibrated")."""
    return hint is float or (isinstance(hint, types.UnionType) and float in typing.get_args(hint))


def _parse_env(hint: Any, text: str) -> Any:
    """Parse an environment string as `hint`."""
    if isinstance(hint, types.UnionType):
        for option in typing.get_args(hint):
            parsed = _parse_env(option, text)
            if parsed is not _INVALID:
                return parsed
        return _INVALID
    try:
        if hint is bool:
            low = text.strip().lower()
            return True if low in _TRUE else False if low in _FALSE else _INVALID
        if hint is int:
            return int(text)
        if hint is float:
            return float(text)
        if hint is str:
            return text
        if typing.get_origin(hint) is list:
            if text.strip().startswith("["):
                items = json.loads(text)
                return items if _matches(hint, items) else _INVALID
            return [part.strip() for part in text.split(",") if part.strip()]
    except ValueError:
        return _INVALID
    return _INVALID


def _check_limits(
    fld: dataclasses.Field[Any],
    value: Any,
    key: str,
    *,
    raw: Any,
    origin: str,
    problems: list[str],
) -> bool:
    """Check min/max/choices from the field metadata."""
    where = f"environment {raw.variable}" if isinstance(raw, _EnvValue) else origin
    meta = fld.metadata
    lo, hi, choices = meta.get("min"), meta.get("max"), meta.get("choices")
    if isinstance(value, int | float):
        # A number-or-word setting: limits bind the number, choices the word.
        choices = None
    else:
        lo = hi = None
    if lo is not None and value < lo:
        problems.append(f"{where}: {key}: must be at least {lo}, got {value}")
        return False
    if hi is not None and value > hi:
        problems.append(f"{where}: {key}: must be at most {hi}, got {value}")
        return False
    if choices is not None and isinstance(value, list):
        # A list setting with choices: every entry must be one of them.
        unknown = [v for v in value if v not in choices]
        if unknown:
            problems.append(
                f"{where}: {key}: unknown entries {', '.join(map(repr, unknown))};"
                f" choose from {', '.join(choices)}"
            )
            return False
    elif choices is not None and value not in choices:
        problems.append(f"{where}: {key}: must be one of {', '.join(choices)}, got {value!r}")
        return False
    step = meta.get("multiple_of")
    if step and isinstance(value, int) and value % step:
        problems.append(f"{where}: {key}: must be a multiple of {step}, got {value}")
        return False
    if meta.get("url"):
        # An empty string stays allowed where it is the default ("derive it").
        values = value if isinstance(value, list) else [value]
        bad = [v for v in values if not _is_url(v) and not (v == "" == fld.default)]
        if bad:
            problems.append(f"{where}: {key}: must be an http(s):// URL, got {bad[0]!r}")
            return False
    return True


def _is_url(text: str) -> bool:
    """Tell whether text is an absolute http(s) URL with a host."""
    parts = urlsplit(text)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _type_name(hint: Any) -> str:
    """Name a type the way a TOML user thinks of it."""
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
    if isinstance(hint, types.UnionType):
        return " or ".join(_type_name(option) for option in typing.get_args(hint))
    if typing.get_origin(hint) is list:
        return "a list of strings"
    return names.get(hint, str(hint))
