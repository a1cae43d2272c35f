"""Which analyzers exist: every concrete `Analyzer` defined in this package, by name."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterable, Iterator
from typing import Any

from stash_sense.analyzers.base import Analyzer, AnalyzerServices
from stash_sense.review import ReviewKind

# Infrastructure modules hold no analyzers; skipping them keeps discovery cheap.
_NOT_ANALYZERS = frozenset(
    {"base", "command", "registry", "runner", "scheduler", "schedule", "service", "state", "writes"}
)


class UnknownAnalyzer(KeyError):
    """No analyzer has that name."""

    def __str__(self) -> str:
        return f"no analyzer named {self.args[0]!r}"


def analyzer_classes() -> list[type[Analyzer]]:
    """Find the analyzers of this package: a new module here needs no registration."""
    found: dict[str, type[Analyzer]] = {}
    package = importlib.import_module(__package__ or "stash_sense.analyzers")
    for info in pkgutil.iter_modules(package.__path__):
        if info.name in _NOT_ANALYZERS or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, Analyzer)
                # Defined here, or in a module of this subpackage (analyzers/upstream/).
                and (cls.__module__ + ".").startswith(module.__name__ + ".")
                and not inspect.isabstract(cls)
            ):
                if cls.name in found and found[cls.name] is not cls:
                    raise ValueError(f"two analyzers are named {cls.name!r}")
                found[cls.name] = cls
    return [found[name] for name in sorted(found)]


class AnalyzerRegistry:
    """The analyzers of this daemon, instantiated with their services."""

    def __init__(self, analyzers: Iterable[Analyzer]) -> None:
        self._analyzers: dict[str, Analyzer] = {}
        for analyzer in analyzers:
            if analyzer.name in self._analyzers:
                raise ValueError(f"analyzer {analyzer.name!r} is registered twice")
            self._analyzers[analyzer.name] = analyzer

    @classmethod
    def build(
        cls, services: AnalyzerServices, classes: Iterable[type[Analyzer]] | None = None
    ) -> AnalyzerRegistry:
        """Instantiate the given (by default the discovered) analyzer classes."""
        chosen = analyzer_classes() if classes is None else classes
        return cls(c.create(services) for c in chosen)

    def get(self, name: str) -> Analyzer:
        """Return one analyzer or raise `UnknownAnalyzer`."""
        try:
            return self._analyzers[name]
        except KeyError:
            raise UnknownAnalyzer(name) from None

    def __contains__(self, name: object) -> bool:
        return name in self._analyzers

    def __iter__(self) -> Iterator[Analyzer]:
        return iter(self._analyzers.values())

    def names(self) -> list[str]:
        """Return the names, sorted."""
        return sorted(self._analyzers)

    def review_kinds(self) -> list[ReviewKind[Any]]:
        """Return the review kinds of every analyzer (each kind once)."""
        kinds: dict[str, ReviewKind[Any]] = {}
        for analyzer in self:
            for kind in analyzer.review_kinds():
                kinds.setdefault(kind.name, kind)
        return list(kinds.values())
