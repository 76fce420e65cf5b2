"""A bounded retry with exponential backoff, for transient connection errors
(:class:`~csframe.core.errors.EngineUnavailableError` with ``transient``): a server that
restarts, a refused connection, a DuckDB file another process is writing."""

from __future__ import annotations

__all__ = ["RetryPolicy", "retry"]

import random
import time
from collections.abc import Callable
from typing import TypeVar

import attrs

from .deadline import Deadline
from .errors import EngineUnavailableError, UsageError

T = TypeVar("T")


@attrs.frozen
class RetryPolicy:
    """``retries`` tries after the first; the n-th waits ``base * 2**(n-1)`` seconds
    (at most ``cap``), ±10 % jitter so that competing processes spread out."""

    retries: int = 3
    base: float = 0.25
    cap: float = 5.0

    def __attrs_post_init__(self) -> None:
        if self.retries < 0:
            raise UsageError(f"--retries {self.retries}: must be 0 or more")

    def delay(self, attempt: int) -> float:
        d = min(self.cap, self.base * 2 ** (attempt - 1))
        return d * random.uniform(0.9, 1.1)


def retry(fn: Callable[[], T], policy: RetryPolicy, *, deadline: Deadline | None = None,
          on_retry: Callable[[int, float, EngineUnavailableError], None] | None = None,
          sleep: Callable[[float], None] = time.sleep) -> T:
    """Call ``fn``; on a transient :class:`EngineUnavailableError` wait and call again, at
    most ``policy.retries`` times, never past ``deadline``. Other errors pass through."""
    attempt = 0
    while True:
        try:
            return fn()
        except EngineUnavailableError as e:
            attempt += 1
            if not e.transient or attempt > policy.retries:
                if e.transient and policy.retries:
                    e.message = f"{e.message} (gave up after {policy.retries} retries)"
                raise
            wait = policy.delay(attempt)
            left = deadline.remaining() if deadline is not None else None
            if left is not None and wait >= left:
                raise deadline.error("connect") from e
            if on_retry is not None:
                on_retry(attempt, wait, e)
            sleep(wait)
