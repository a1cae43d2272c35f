"""Exceptions that handlers raise to steer the queue."""


class PermanentJobError(Exception):
    """Fail the job at once: retrying cannot help (bad input, missing file)."""


class JobCancelled(Exception):
    """Stop the job because a cancellation was requested."""


class UnknownJobType(Exception):
    """No handler is registered for a job type."""
