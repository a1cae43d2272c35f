"""Strict conversion of JSON data into a kind's payload dataclass and back."""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping
from enum import Enum
from typing import Any, TypeVar

from stash_sense.review.errors import InvalidPayload

T = TypeVar("T")


def load_payload(cls: type[T], data: Any) -> T:
    """Build `cls` from decoded JSON; unknown, missing or mistyped fields raise."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    return typing.cast(T, _convert(cls, data, "payload"))


def dump_payload(value: Any) -> dict[str, Any]:
    """Turn a payload dataclass into plain JSON data."""
    if not dataclasses.is_dataclass(value) or isinstance(value, type):
        raise TypeError(f"{value!r} is not a dataclass instance")
    return typing.cast(dict[str, Any], _plain(value))


def _plain(value: Any) -> Any:
    """Convert dataclasses, enums and containers to JSON data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _convert(tp: Any, data: Any, where: str) -> Any:
    """Check `data` against the type `tp` and return the typed value."""
    if tp is Any:
        return data
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return _convert_union(typing.get_args(tp), data, where)
    if origin is typing.Literal:
        if data in typing.get_args(tp) and type(data) in {type(a) for a in typing.get_args(tp)}:
            return data
        raise InvalidPayload(f"{where} must be one of {list(typing.get_args(tp))!r}")
    if origin is list:
        (item_tp,) = typing.get_args(tp) or (Any,)
        if not isinstance(data, list):
            raise InvalidPayload(f"{where} must be a list")
        return [_convert(item_tp, v, f"{where}[{i}]") for i, v in enumerate(data)]
    if origin is dict:
        key_tp, value_tp = typing.get_args(tp) or (str, Any)
        if key_tp is not str:
            raise TypeError(f"{where}: only dict[str, ...] payload fields are supported")
        if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
            raise InvalidPayload(f"{where} must be an object")
        return {k: _convert(value_tp, v, f"{where}.{k}") for k, v in data.items()}
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _convert_dataclass(tp, data, where)
    if isinstance(tp, type) and issubclass(tp, Enum):
        try:
            return tp(data)
        except ValueError:
            allowed = [m.value for m in tp]
            raise InvalidPayload(f"{where} must be one of {allowed!r}") from None
    return _convert_scalar(tp, data, where)


def _convert_union(options: tuple[Any, ...], data: Any, where: str) -> Any:
    """Accept the first member of a union that fits."""
    if data is None and type(None) in options:
        return None
    reasons = []
    for option in options:
        if option is type(None):
            continue
        try:
            return _convert(option, data, where)
        except InvalidPayload as err:
            reasons.append(str(err))
    raise InvalidPayload(" or ".join(reasons) if reasons else f"{where} must be null")


def _convert_dataclass(cls: type[Any], data: Any, where: str) -> Any:
    """Build a dataclass from an object with exactly its fields."""
    if not isinstance(data, Mapping):
        raise InvalidPayload(f"{where} must be an object")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise InvalidPayload(f"{where} has unknown fields: {', '.join(map(str, unknown))}")
    values: dict[str, Any] = {}
    for name, spec in fields.items():
        if name in data:
            values[name] = _convert(hints[name], data[name], f"{where}.{name}")
        elif spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
            raise InvalidPayload(f"{where} misses the field {name}")
    try:
        return cls(**values)
    except (TypeError, ValueError) as err:
        # __post_init__ checks of the payload class surface as payload errors.
        raise InvalidPayload(f"{where}: {err}") from None


def _convert_scalar(tp: Any, data: Any, where: str) -> Any:
    """Check a JSON scalar; bool is never an int and numbers are finite."""
    if tp is type(None):
        if data is None:
            return None
        raise InvalidPayload(f"{where} must be null")
    if tp is bool:
        if isinstance(data, bool):
            return data
        raise InvalidPayload(f"{where} must be a boolean")
    if tp is int:
        if isinstance(data, int) and not isinstance(data, bool):
            return data
        raise InvalidPayload(f"{where} must be an integer")
    if tp is float:
        if isinstance(data, int | float) and not isinstance(data, bool) and math.isfinite(data):
            return float(data)
        raise InvalidPayload(f"{where} must be a finite number")
    if tp is str:
        if isinstance(data, str):
            return data
        raise InvalidPayload(f"{where} must be a string")
    raise TypeError(f"{where}: payload fields of type {tp!r} are not supported")
