"""Fault injection for the fake: latency, HTTP errors and dropped connections."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

__all__ = ["Fault", "Faults"]


@dataclass
class Fault:
    """One active fault, limited by a deadline and/or a remaining request count."""

    kind: str  # "latency" | "http_error" | "drop"
    until: float | None = None
    remaining: int | None = None
    seconds: float = 0.0
    status: int = 503
    body: str = ""
    operation: str | None = None  # only requests of this GraphQL operation, else all

    def applies_to(self, operation: str | None) -> bool:
        """Return whether the fault targets a request of `operation`."""
        return self.operation is None or self.operation == operation

    def active(self, now: float) -> bool:
        """Return whether the fault still applies."""
        if self.until is not None and now >= self.until:
            return False
        return self.remaining is None or self.remaining > 0

    def consume(self) -> None:
        """Count one request against the fault's budget."""
        if self.remaining is not None:
            self.remaining -= 1


@dataclass
class Faults:
    """The set of faults applied to every incoming request (all routes)."""

    active: list[Fault] = field(default_factory=list)
    # Kind of every fault actually injected, in order, so tests can count retries.
    injected: list[str] = field(default_factory=list)

    def _add(self, fault: Fault, duration_s: float | None, count: int | None) -> Fault:
        if duration_s is None and count is None:
            raise ValueError("give duration_s and/or count, or the fault would never end")
        fault.until = time.monotonic() + duration_s if duration_s is not None else None
        fault.remaining = count
        self.active.append(fault)
        return fault

    def latency(
        self,
        seconds: float,
        duration_s: float | None = None,
        count: int | None = None,
        operation: str | None = None,
    ) -> Fault:
        """Delay each request by ``seconds`` for ``duration_s`` and/or ``count`` requests."""
        return self._add(Fault("latency", seconds=seconds, operation=operation), duration_s, count)

    def http_error(
        self,
        status: int = 503,
        duration_s: float | None = None,
        count: int | None = None,
        body: str = "",
        operation: str | None = None,
    ) -> Fault:
        """Answer with ``status`` instead of handling the request."""
        return self._add(
            Fault("http_error", status=status, body=body, operation=operation), duration_s, count
        )

    def drop(
        self,
        duration_s: float | None = None,
        count: int | None = None,
        operation: str | None = None,
    ) -> Fault:
        """Close the TCP connection without sending any response."""
        return self._add(Fault("drop", operation=operation), duration_s, count)

    def clear(self) -> None:
        """Remove every fault."""
        self.active.clear()

    def take(self, operation: str | None = None) -> list[Fault]:
        """Return the faults that apply to the current request, consuming their budget."""
        now = time.monotonic()
        self.active = [f for f in self.active if f.active(now)]
        applied = [f for f in self.active if f.applies_to(operation)]
        for fault in applied:
            fault.consume()
            self.injected.append(fault.kind)
        return applied
