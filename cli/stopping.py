"""How a command stops: SIGINT, SIGTERM and SIGHUP raise :class:`Interrupted` where the main
thread is (every ``finally`` and rollback on the way runs; exit 128 + the signal's number,
cli.md), and :func:`held_to` holds a block to the run's time limit with SIGALRM, for what no
engine stops. Only the command line installs these handlers; the library never does."""

from __future__ import annotations

__all__ = ["STOP_SIGNALS", "Interrupted", "catch_stop_signals", "held_to", "interrupted", "received", "stop_signal"]

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

from csframe.core.errors import RunInterrupted, RunTimeoutError

STOP_SIGNALS: tuple[int, ...] = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))


class Interrupted(KeyboardInterrupt):
    """A stop signal the command received (raised where the main thread is, like SIGINT's
    KeyboardInterrupt, so every ``finally`` and rollback on the way runs). A command may set
    ``detail``: what the run had written when it stopped."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


_RECEIVED: list[int] = []  # the stop signal this process received, if any


def _stop(signum: int, frame: Any) -> None:
    _RECEIVED.append(signum)
    for s in STOP_SIGNALS:  # a second signal must not cut the clean-up short (SIGKILL still does)
        signal.signal(s, signal.SIG_IGN)
    raise Interrupted(signum)


def catch_stop_signals() -> None:
    """SIGINT, SIGTERM and SIGHUP stop a command as Ctrl-C does (cli.md), but for a signal
    the caller had ignored (``nohup``: SIGHUP; a background job of a script: SIGINT)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for s in STOP_SIGNALS:
        if signal.getsignal(s) != signal.SIG_IGN:
            signal.signal(s, _stop)


@contextlib.contextmanager
def held_to(deadline: Any, stage: str, grace: float = 0.0) -> Iterator[None]:
    """Stop the block with the run's time-limit error (``stage`` named) once ``deadline`` is
    past (plus ``grace`` seconds): a SIGALRM raises it where the main thread is — a write to a
    pipe nobody reads, a wait no engine bounds. Adapters stop their own statements at the
    deadline itself; ``grace`` lets them. Without a limit (or off the main thread) it does nothing."""
    left = deadline.remaining()  # raises when no time is left
    if left is None or not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    expired: list[bool] = []

    def expire(signum: int, frame: Any) -> None:
        expired.append(True)
        raise deadline.error(stage)

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, left + grace)
    try:
        yield
    except Exception as e:
        if expired and not isinstance(e, RunTimeoutError):  # an engine's own error for the interruption
            raise deadline.error(stage) from e
        raise
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def stop_signal(error: BaseException) -> int | None:
    """The stop signal behind ``error``: the one it is, or any this process received (an
    engine may turn the interruption into an error of its own: DuckDB's "Query
    interrupted"); None when no signal stopped the run."""
    if isinstance(error, KeyboardInterrupt):
        return getattr(error, "signum", signal.SIGINT)
    return received()


def interrupted(error: BaseException) -> RunInterrupted:
    """The error of a command stopped by a signal: its name, and what was written."""
    signum = stop_signal(error) or signal.SIGINT
    detail = getattr(error, "detail", None) or "the command stopped"
    return RunInterrupted(f"interrupted by {signal.Signals(signum).name}: {detail}", signum=signum)


def received() -> int | None:
    """The stop signal this process received, if any."""
    return _RECEIVED[0] if _RECEIVED else None
