"""Job types and the registry that maps a type name to its handler."""

from __future__ import annotations

import asyncio
import dataclasses
import types
import typing
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from stash_sense.queue.errors import JobCancelled, PermanentJobError, UnknownJobType
from stash_sense.queue.models import Job, Priority, Resource


class ProgressSink(Protocol):
    """Where a context sends progress (the queue persists it)."""

    async def __call__(
        self, job_id: int, done: int, total: int | None, message: str | None
    ) -> None:
        """Record progress of a job."""


@dataclass
class JobContext:
    """What a running handler may use: its job, progress reporting, cancellation."""

    job: Job
    _report: ProgressSink
    _cancel: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def cancel_requested(self) -> bool:
        """Tell whether someone asked this job to stop."""
        return self._cancel.is_set()

    def request_cancel(self) -> None:
        """Ask the handler to stop at its next check."""
        self._cancel.set()

    def check_cancelled(self) -> None:
        """Raise `JobCancelled` if a cancellation was requested; call between steps."""
        if self._cancel.is_set():
            raise JobCancelled(f"job {self.job.id} was cancelled")

    async def progress(
        self, done: int, total: int | None = None, message: str | None = None
    ) -> None:
        """Report progress (done of total, with an optional message)."""
        await self._report(self.job.id, done, total, message)


ArgsT = TypeVar("ArgsT")
Handler = Callable[[JobContext, ArgsT], Awaitable[None]]


@dataclass(frozen=True)
class JobType(Generic[ArgsT]):
    """A kind of job: its name, arguments type, handler and scheduling defaults.

    `args_type` is a dataclass; job arguments are stored as its JSON fields.
    `requires` names capabilities (e.g. "stash") that must be up before the job is
    picked; jobs wait in the queue, not in a retry loop, while one is down.
    """

    name: str
    args_type: type[ArgsT]
    handler: Handler[ArgsT]
    resource: Resource = Resource.CPU
    priority: int = Priority.NORMAL
    max_attempts: int | None = None
    timeout_seconds: float | None = None
    requires: frozenset[str] = frozenset()

    def encode_args(self, args: ArgsT) -> dict[str, Any]:
        """Turn arguments into their JSON form."""
        if not isinstance(args, self.args_type):
            raise TypeError(
                f"{self.name} takes {self.args_type.__name__}, got {type(args).__name__}"
            )
        return dataclasses.asdict(args)  # type: ignore[call-overload, no-any-return]

    def decode_args(self, data: Mapping[str, Any]) -> ArgsT:
        """Rebuild arguments from JSON; bad arguments are a permanent failure."""
        try:
            args = self.args_type(**data)
        except TypeError as err:
            raise PermanentJobError(f"bad arguments for {self.name}: {err}") from err
        for name, hint in typing.get_type_hints(self.args_type).items():
            if not _is_instance(getattr(args, name), hint):
                raise PermanentJobError(
                    f"bad arguments for {self.name}: {name} must be {_name(hint)}"
                )
        return args


def _is_instance(value: Any, hint: Any) -> bool:
    """Check a decoded JSON value against a field's type hint (bools are not numbers)."""
    if hint is Any:
        return True
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        return any(_is_instance(value, option) for option in typing.get_args(hint))
    if origin is not None:
        return isinstance(value, origin)
    if hint is type(None):
        return value is None
    return not isinstance(hint, type) or isinstance(value, hint)


def _name(hint: Any) -> str:
    """Name a type hint for an error message."""
    return getattr(hint, "__name__", str(hint))


class JobRegistry:
    """The job types this daemon can run."""

    def __init__(self) -> None:
        self._types: dict[str, JobType[Any]] = {}

    def register(self, job_type: JobType[Any]) -> None:
        """Add a job type; names are unique."""
        if job_type.name in self._types:
            raise ValueError(f"job type {job_type.name!r} is already registered")
        self._types[job_type.name] = job_type

    def get(self, name: str) -> JobType[Any]:
        """Return the job type called `name`."""
        try:
            return self._types[name]
        except KeyError:
            raise UnknownJobType(f"no handler is registered for job type {name!r}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __iter__(self) -> Iterator[JobType[Any]]:
        return iter(self._types.values())
