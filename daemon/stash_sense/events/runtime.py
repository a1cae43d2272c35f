"""The events domain's runtime objects, published by its start-up context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stash_sense.events.first_run import FirstRun
    from stash_sense.events.intake import EventIntake
    from stash_sense.events.reconcile import Reconciler


@dataclass(frozen=True)
class EventsRuntime:
    """The event intake, the reconciler and the first-run library count."""

    intake: EventIntake
    reconciler: Reconciler
    library: FirstRun
