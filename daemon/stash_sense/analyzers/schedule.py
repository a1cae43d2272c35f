"""Schedule strings: "interval:<n>h|m|s" or "cron:<5-field crontab>", parsed into triggers."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

_INTERVAL = re.compile(r"^interval:(\d{1,7})([hms])$")
_UNITS = {"h": 3600, "m": 60, "s": 1}
_MAX_SECONDS = 366 * 86_400


class ScheduleError(ValueError):
    """A schedule string that cannot be used."""


def parse_schedule(text: str) -> BaseTrigger:
    """Turn a schedule string into an APScheduler trigger, or raise `ScheduleError`."""
    if not isinstance(text, str):
        raise ScheduleError("schedule must be a string")
    kind, _, rest = text.strip().partition(":")
    if kind == "interval":
        match = _INTERVAL.match(text.strip())
        if match is None:
            raise ScheduleError(f"bad interval {text!r}: use e.g. interval:6h, interval:30m")
        seconds = int(match.group(1)) * _UNITS[match.group(2)]
        if not 1 <= seconds <= _MAX_SECONDS:
            raise ScheduleError(f"interval {text!r} must be between 1s and 366 days")
        return IntervalTrigger(seconds=seconds)
    if kind == "cron":
        fields = rest.split()
        if len(fields) != 5:
            raise ScheduleError(f"bad cron {text!r}: use five fields, e.g. cron:0 3 * * *")
        try:
            return CronTrigger.from_crontab(" ".join(fields))
        except ValueError as err:
            raise ScheduleError(f"bad cron {text!r}: {err}") from None
    raise ScheduleError(f"bad schedule {text!r}: use interval:<n>h|m|s or cron:<crontab>")


def interval_of(trigger: BaseTrigger) -> timedelta | None:
    """Return an interval trigger's period (None for cron)."""
    return trigger.interval if isinstance(trigger, IntervalTrigger) else None


def parse_overrides(entries: Iterable[str]) -> dict[str, str]:
    """Parse config entries "name=schedule" into a mapping, checking each schedule."""
    found: dict[str, str] = {}
    for entry in entries:
        name, sep, schedule = entry.partition("=")
        if not sep or not name.strip():
            raise ScheduleError(f"bad analyzers.schedules entry {entry!r}: use name=schedule")
        parse_schedule(schedule.strip())
        found[name.strip()] = schedule.strip()
    return found
