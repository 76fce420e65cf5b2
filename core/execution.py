"""The one owner of talking to an engine during a command: an :class:`Execution` holds the
adapter, the run's time limit (:class:`~csframe.core.deadline.Deadline`) and its retry
policy, and has the connect / reconnect / retry loop once. :mod:`csframe.core.runner`
(``compute``, ``run``) and :mod:`csframe.core.diffing` (``diff --against TABLE``) go
through it.

    with Execution(adapter, deadline, policy, on_retry=...) as ex:  # the adapter holds the deadline
        ex.connect()                          # connect, retried on a transient failure
        rows = ex.again(lambda: adapter.execute(sql), "execute")  # reconnect and repeat once lost
"""

from __future__ import annotations

__all__ = ["Execution", "OnRetry"]

from collections.abc import Callable
from typing import Any, TypeVar

import attrs

from .deadline import Deadline
from .errors import EngineUnavailableError
from .retry import RetryPolicy, retry

T = TypeVar("T")

OnRetry = Callable[[str, int, float, EngineUnavailableError], None]
"""Told of each retry: ``(stage, attempt, wait in seconds, the error)``."""


@attrs.define
class Execution:
    """``adapter`` held to ``deadline`` (its optional ``set_deadline`` is called on entering
    and cleared on leaving), connected by ``open_`` (default ``adapter.connect``), retried by
    ``policy``; ``on_retry`` is told of each retry."""

    adapter: Any
    deadline: Deadline = attrs.field(factory=lambda: Deadline(None))
    policy: RetryPolicy = attrs.field(factory=RetryPolicy)
    on_retry: OnRetry | None = None
    open_: Callable[[], None] | None = None

    def start(self) -> None:
        """Hand the adapter the time limit (its optional ``set_deadline``)."""
        set_deadline = getattr(self.adapter, "set_deadline", None)
        if set_deadline is not None:
            set_deadline(self.deadline)

    def stop(self) -> None:
        """Take the time limit back from the adapter."""
        set_deadline = getattr(self.adapter, "set_deadline", None)
        if set_deadline is not None:
            set_deadline(None)

    def __enter__(self) -> Execution:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _open(self) -> None:
        (self.open_ or self.adapter.connect)()

    def _told(self, stage: str) -> Callable[[int, float, EngineUnavailableError], None] | None:
        if self.on_retry is None:
            return None
        tell = self.on_retry
        return lambda n, wait, e: tell(stage, n, wait, e)

    def connect(self) -> None:
        """Open the connection, trying again on a transient failure (within the policy and
        the time limit)."""
        retry(self._open, self.policy, deadline=self.deadline, on_retry=self._told("connect"))

    def again(self, fn: Callable[[], T], stage: str) -> T:
        """``fn()``; when the engine's connection is lost on the way (a transient
        EngineUnavailableError: a server restarting, a connection terminated), open it again
        and call ``fn`` again, within the policy and the time limit. Every stage may be
        repeated: the checks and the query only read, and a write whose connection was lost
        never committed."""
        tries = 0

        def attempt() -> T:
            nonlocal tries
            tries += 1
            if tries > 1:
                self._open()
            return fn()

        return retry(attempt, self.policy, deadline=self.deadline, on_retry=self._told(stage))
