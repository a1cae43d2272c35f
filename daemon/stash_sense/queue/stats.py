"""What jobs did since the daemon started: run times per type, outcomes, retries.

Kept in memory and fed by the job store as it records each outcome, so nothing a
scraper reads costs a query; the counters start from zero at every start, which
Prometheus' rate() expects of counters.
"""

from __future__ import annotations

from collections import Counter

from stash_sense.metrics.histogram import Histogram, HistogramSnapshot
from stash_sense.queue.models import Job

# Seconds: from quick Stash lookups to a long identification or analyzer run.
DURATION_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)


class JobStats:
    """Run time of every job that ended in this process, by type; outcomes and retries."""

    def __init__(self) -> None:
        self._durations: dict[str, Histogram] = {}
        self.ended: Counter[tuple[str, str]] = Counter()  # (type, final state)
        self.retries: Counter[str] = Counter()  # by type

    def record_end(self, job: Job) -> None:
        """Count a job that reached a final state, with its last attempt's run time."""
        self.ended[(job.type, job.state.value)] += 1
        if job.started_at is not None and job.finished_at is not None:
            histogram = self._durations.get(job.type)
            if histogram is None:
                histogram = self._durations[job.type] = Histogram(DURATION_BUCKETS)
            # Clocks may step back between start and end; a run never takes negative time.
            histogram.observe(max(job.finished_at - job.started_at, 0.0))

    def record_retry(self, job: Job) -> None:
        """Count a failed attempt that will be tried again."""
        self.retries[job.type] += 1

    def durations(self) -> dict[str, HistogramSnapshot]:
        """Return each type's run-time histogram."""
        return {name: h.snapshot() for name, h in sorted(self._durations.items())}
