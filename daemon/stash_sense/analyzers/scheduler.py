"""Fire analyzer runs on their schedules; the job queue, not the scheduler, runs the work.

APScheduler 3 with its in-memory store: schedules are rebuilt from the config and
the overrides in our database at every start, and "when did it last run" lives in
`analyzer_state`, so nothing needs a persistent scheduler store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger

from stash_sense.analyzers.registry import AnalyzerRegistry
from stash_sense.analyzers.schedule import interval_of, parse_overrides, parse_schedule
from stash_sense.analyzers.state import AnalyzerState, AnalyzerStateStore
from stash_sense.config.model import AnalyzersConfig

_LOGGER = logging.getLogger(__name__)
# Overdue analyzers start this far apart, not all in the same instant.
_CATCH_UP_STAGGER = timedelta(seconds=5)
# A fire that could not be queued (the store refused it) is retried this often, growing.
RETRY_FIRST_SECONDS = 1.0
RETRY_MAX_SECONDS = 60.0

Fire = Callable[[str], Awaitable[object]]


@dataclass(frozen=True)
class Schedule:
    """An analyzer's effective schedule and where it comes from."""

    schedule: str
    enabled: bool
    source: Literal["default", "config", "api"]


class AnalyzerScheduler:
    """One APScheduler job per enabled analyzer; each fire calls `fire(name)`."""

    def __init__(
        self,
        registry: AnalyzerRegistry,
        states: AnalyzerStateStore,
        config: AnalyzersConfig,
        fire: Fire,
    ) -> None:
        self._registry = registry
        self._states = states
        self._config = config
        self._fire = fire
        self._configured = parse_overrides(config.schedules)
        unknown = sorted(set(self._configured) - set(registry.names()))
        unknown += sorted(set(config.disabled) - set(registry.names()) - set(unknown))
        for name in unknown:
            _LOGGER.warning("analyzers config names an unknown analyzer %r", name)
        self._overrides: dict[str, AnalyzerState] = {}
        self._unfired: set[str] = set()
        self._retry: asyncio.Task[None] | None = None
        self.retry_first_seconds = RETRY_FIRST_SECONDS
        self._scheduler = AsyncIOScheduler(
            job_defaults={
                # APScheduler's default grace of 1 s silently drops a run that fires
                # late because the loop was busy or the machine slept.
                "misfire_grace_time": config.misfire_grace_seconds,
                # Several missed fires become one run.
                "coalesce": True,
                "max_instances": 1,
            }
        )

    async def start(self, *, paused: bool = False) -> None:
        """Read the overrides and last runs, schedule every enabled analyzer, start."""
        rows = await self._states.all()
        self._overrides = rows
        self._scheduler.start(paused=paused)
        # Overdue analyzers wait for start-up (recovery, the first reconcile) to settle.
        delay = timedelta(seconds=self._config.start_delay_seconds)
        now = datetime.now().astimezone() + delay
        overdue = 0
        for name in self._registry.names():
            state = rows.get(name, AnalyzerState(name))
            if self._place(name, state.last_run_at, now + overdue * _CATCH_UP_STAGGER):
                overdue += 1

    def shutdown(self) -> None:
        """Stop firing (queued runs stay queued)."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        if self._retry is not None:
            self._retry.cancel()

    def effective(self, name: str) -> Schedule:
        """Return the schedule in force for an analyzer (API override, config, default)."""
        analyzer = self._registry.get(name)
        row = self._overrides.get(name)
        schedule = self._configured.get(name, analyzer.default_schedule)
        enabled = name not in self._config.disabled
        source: Literal["default", "config", "api"] = (
            "config" if name in self._configured or name in self._config.disabled else "default"
        )
        if row is not None and row.schedule is not None:
            schedule, source = row.schedule, "api"
        if row is not None and row.enabled is not None:
            enabled, source = row.enabled, "api"
        return Schedule(schedule, enabled, source)

    def next_run(self, name: str) -> datetime | None:
        """Return when an analyzer fires next (None when disabled)."""
        job = self._scheduler.get_job(name)
        return None if job is None else job.next_run_time

    async def set_schedule(self, name: str, schedule: str, enabled: bool) -> Schedule:
        """Persist a schedule override and reschedule at once."""
        self._registry.get(name)
        parse_schedule(schedule)
        await self._states.set_schedule(name, schedule, enabled)
        row = await self._states.get(name)
        self._overrides[name] = row
        # A new schedule counts from now, not from the last run.
        self._place(name, None, None)
        return self.effective(name)

    def _place(self, name: str, last_run_at: float | None, catch_up: datetime | None) -> bool:
        """(Re)schedule one analyzer; return whether it is overdue and fires at `catch_up`."""
        if self._scheduler.get_job(name) is not None:
            self._scheduler.remove_job(name)
        effective = self.effective(name)
        if not effective.enabled:
            return False
        trigger = parse_schedule(effective.schedule)
        first = None if catch_up is None else _first_fire(trigger, last_run_at, catch_up)
        self._scheduler.add_job(
            self._fire_job,
            trigger,
            args=[name],
            id=name,
            name=f"analyzer {name}",
            replace_existing=True,
            **({"next_run_time": first} if first is not None else {}),
        )
        return first is not None and catch_up is not None and first <= catch_up

    async def _fire_job(self, name: str) -> None:
        """Queue a run; one that cannot be queued now is retried until it is."""
        try:
            await self._fire(name)
        except Exception as err:
            _LOGGER.error(
                "Could not queue a scheduled run of analyzer %s (%s); retrying until it is",
                name,
                err,
            )
            self._unfired.add(name)
            if self._retry is None or self._retry.done():
                self._retry = asyncio.create_task(self._retry_unfired(), name="analyzer-refire")

    async def _retry_unfired(self) -> None:
        """Queue the runs whose fire failed, with a growing delay, until none is left."""
        delay = self.retry_first_seconds
        while self._unfired:
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_SECONDS)
            for name in sorted(self._unfired):
                with contextlib.suppress(Exception):
                    await self._fire(name)
                    self._unfired.discard(name)
                    _LOGGER.info("Queued the delayed scheduled run of analyzer %s", name)


def _first_fire(trigger: BaseTrigger, last_run_at: float | None, at: datetime) -> datetime | None:
    """Return when to fire first: `at` if a fire was due since the last run, else by schedule.

    Counting from the last run, not from start-up: otherwise an interval restarts at
    every daemon start, and a weekly analyzer of a daemon restarted every few days
    would never run. None lets the trigger decide (a cron not yet due).
    """
    if last_run_at is None:
        return at
    last = datetime.fromtimestamp(last_run_at).astimezone()
    interval = interval_of(trigger)
    due = last + interval if interval is not None else trigger.get_next_fire_time(None, last)
    if due is None:
        return None
    if due <= at:
        return at
    return due if interval is not None else None
