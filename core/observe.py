"""What a run reports while it goes: stages started and finished with their timings,
connection retries, warnings. The library only *emits* these events to an observer;
the CLI decides how they are shown (a bar, plain lines, JSON) — or a notebook, an
orchestrator's logger (:class:`LoggingObserver`).

Stages of ``compute``: ``load`` (project file and plugins; timed by the caller that opens
the session), ``plan``, ``connect``, ``check`` (the sources against the data contract),
``compile``, ``execute``, ``write`` (``--target`` only).
"""

from __future__ import annotations

__all__ = ["Observer", "NullObserver", "LoggingObserver", "Stages", "STAGES"]

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

STAGES = ("load", "plan", "connect", "check", "compile", "execute", "write")


class Observer(Protocol):
    """Receives a run's events. ``kind`` is one of ``stage_start`` (stage), ``stage_end``
    (stage, seconds and what the stage counted, e.g. rows), ``retry`` (attempt, retries,
    delay, error), ``warning`` (message)."""

    def event(self, kind: str, **fields: Any) -> None: ...


class NullObserver:
    def event(self, kind: str, **fields: Any) -> None:
        pass


class LoggingObserver:
    """Forwards events to the ``csframe`` logger (for Airflow and other orchestrators)."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or logging.getLogger("csframe")

    def event(self, kind: str, **fields: Any) -> None:
        level = logging.WARNING if kind in ("warning", "retry") else logging.INFO
        text = " ".join(f"{k}={v}" for k, v in fields.items())
        self.logger.log(level, "%s %s", kind, text, extra={"csframe_event": kind, **{f"csframe_{k}": v for k, v in fields.items()}})


class Stages:
    """Times the stages of one run and tells the observer when each starts and ends."""

    def __init__(self, observer: Observer | None = None) -> None:
        self.observer = observer or NullObserver()
        self.timings: dict[str, float] = {}

    def emit(self, kind: str, **fields: Any) -> None:
        self.observer.event(kind, **fields)

    @contextmanager
    def stage(self, name: str) -> Iterator[dict[str, Any]]:
        """``with stages.stage("execute") as info: ...; info["rows"] = n``."""
        info: dict[str, Any] = {}
        self.emit("stage_start", stage=name)
        started = time.perf_counter()
        try:
            yield info
        finally:
            seconds = time.perf_counter() - started
            self.timings[name] = self.timings.get(name, 0.0) + seconds
        self.emit("stage_end", stage=name, seconds=round(seconds, 6), **info)
