"""A run's time limit (``--timeout``): a point on the monotonic clock that every stage and
every engine call checks, and that adapters turn into their own way of stopping a query
(DuckDB: ``interrupt()`` from a timer; PostgreSQL: ``statement_timeout``)."""

from __future__ import annotations

__all__ = ["Deadline", "MAX_SECONDS"]

import time

import attrs

from .errors import RunTimeoutError, UsageError

MAX_SECONDS = 366 * 86400.0  # a longer limit is no limit; timers and engines refuse huge ones


@attrs.frozen
class Deadline:
    """``seconds`` from ``started`` (``time.monotonic()``); None means no limit."""

    seconds: float | None
    started: float = attrs.field(factory=time.monotonic)

    @classmethod
    def of(cls, seconds: float | None) -> Deadline:
        if seconds is not None and not 0 < seconds <= MAX_SECONDS:  # NaN fails both
            raise UsageError(f"--timeout {seconds!r}: must be a positive number of seconds, at most {MAX_SECONDS:g} "
                             "(a year)", hint="Leave --timeout out for no limit.")
        return cls(None if seconds is None else float(seconds))

    def remaining(self) -> float | None:
        """Seconds left (None: no limit); raises :class:`RunTimeoutError` when none are."""
        if self.seconds is None:
            return None
        left = self.seconds - (time.monotonic() - self.started)
        if left <= 0:
            raise self.error()
        return left

    def error(self, during: str | None = None) -> RunTimeoutError:
        where = f" (stopped during {during})" if during else ""
        return RunTimeoutError(
            f"the run took longer than its time limit of {self.seconds:g} s{where}",
            hint="Raise --timeout, or compute fewer metrics or periods per run.",
        )
