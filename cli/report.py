"""How ``compute`` reports on stderr while it runs: progress, retries, warnings, errors.

* ``--log-format text`` (default): nothing for a quick run. Once a run has lasted
  ``PROGRESS_AFTER`` seconds (or from the start with ``--progress``), a bar redrawn in place
  on a terminal, plain ``csframe: …`` lines otherwise. Retries and warnings are always shown.
* ``--log-format json``: one JSON object per line for every event — each stage's start and
  end with its seconds, retries, warnings, the final ``run`` summary with the timings per
  stage, and errors.
* ``--quiet``: nothing but errors.

stdout is never touched: it carries the data.
"""

from __future__ import annotations

__all__ = ["Reporter", "PROGRESS_AFTER"]

import datetime as dt
import json
import sys
import threading
import time
from typing import Any, TextIO

from csframe.core.errors import CsframeError

PROGRESS_AFTER = 2.0
_BAR = 20


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Reporter:
    """An observer of a run (see :mod:`csframe.core.observe`) that writes to stderr."""

    def __init__(self, *, log_format: str = "text", quiet: bool = False, progress: bool = False,
                 stages: tuple[str, ...] = (), stream: TextIO | None = None, after: float = PROGRESS_AFTER) -> None:
        self.stream = stream or sys.stderr
        self.json = log_format == "json"
        self.quiet = quiet
        self.stages = stages
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.monotonic()
        self.lock = threading.Lock()
        self.current: str | None = None
        self.current_since = self.started
        self.done: dict[str, float] = {}
        self.showing = False
        self.bar_drawn = False
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        if not self.json and not quiet:
            if progress or after <= 0:
                self.showing = True
            else:
                t = threading.Timer(after, self._show)
                t.daemon = True
                t.start()
                self._threads.append(t)
            if self.tty:
                ticker = threading.Thread(target=self._tick, daemon=True)
                ticker.start()
                self._threads.append(ticker)

    # -- output ----------------------------------------------------------------------------
    def _write(self, text: str) -> None:
        if self.stream is None:  # stderr closed from the start (`2>&-`): nothing to say it to
            return
        try:
            self.stream.write(text)
            self.stream.flush()
        except (ValueError, OSError):  # the stream was closed under us
            pass

    def _json(self, level: str, event: str, **fields: Any) -> None:
        self._write(json.dumps({"ts": _now(), "level": level, "event": event, **fields}, default=str) + "\n")

    def _line(self, text: str) -> None:
        """A plain line; on a terminal the bar is cleared first and drawn again after."""
        if self.tty and self.bar_drawn:
            self._write("\r\x1b[K")
            self.bar_drawn = False
        self._write(text + "\n")
        if self.tty and self.showing and self.current:
            self._draw()

    def _draw(self) -> None:
        names = self.stages or tuple(self.done) + ((self.current,) if self.current else ())
        n = len(names) or 1
        finished = sum(1 for s in names if s in self.done)
        fill = int(_BAR * finished / n)
        elapsed = time.monotonic() - self.started
        label = self.current or "done"
        self._write(f"\r\x1b[Kcsframe [{'#' * fill}{'.' * (_BAR - fill)}] {finished}/{n} {label}  {elapsed:.1f} s")
        self.bar_drawn = True

    def _show(self) -> None:
        with self.lock:
            if self.showing or self._stop.is_set():
                return
            self.showing = True
            if self.tty:
                self._draw()
            elif self.current:
                done = ", ".join(f"{s} {t:.2f} s" for s, t in self.done.items())
                self._line(f"csframe: {self.current} … (running {time.monotonic() - self.current_since:.1f} s; "
                           f"done: {done or 'nothing yet'})")

    def _tick(self) -> None:
        while not self._stop.wait(0.25):
            with self.lock:
                if self.showing and self.current:
                    self._draw()

    # -- the observer --------------------------------------------------------------------
    def event(self, kind: str, **fields: Any) -> None:
        if kind == "warning":  # a run's warnings (core/runner.py), shown as the CLI's own
            self.warning(fields["message"])
            return
        with self.lock:
            if kind == "stage_start":
                self.current, self.current_since = fields["stage"], time.monotonic()
            elif kind == "stage_end":
                self.done[fields["stage"]] = fields["seconds"]
                self.current = None
            if self.json:
                if not self.quiet:
                    self._json("warning" if kind == "retry" else "info", kind, **fields)
                return
            if self.quiet:
                return
            if kind == "retry":
                self._line(f"csframe: {fields.get('stage', 'connect')} failed: {fields['error']}; "
                           f"retry {fields['attempt']}/{fields['retries']} in {fields['delay']:.2f} s")
            elif self.showing:
                if self.tty:
                    self._draw()
                elif kind == "stage_start":
                    self._line(f"csframe: {fields['stage']} …")
                elif kind == "stage_end":
                    extra = "".join(f", {k} {v}" for k, v in fields.items() if k not in ("stage", "seconds"))
                    self._line(f"csframe: {fields['stage']} done in {fields['seconds']:.2f} s{extra}")

    def stage(self, name: str, seconds: float) -> None:
        """A stage timed by the CLI itself (``load``)."""
        self.event("stage_start", stage=name)
        self.event("stage_end", stage=name, seconds=round(seconds, 6))

    def warning(self, message: str) -> None:
        with self.lock:
            if self.quiet:
                return
            if self.json:
                self._json("warning", "warning", message=message)
            else:
                self._line(message)

    def finish(self, result: Any, **fields: Any) -> None:
        """The end of a successful run: the JSON summary, or the last progress line."""
        self._close()
        timings = {**self.done, **{k: round(v, 6) for k, v in result.timings.items()}}
        total = round(time.monotonic() - self.started, 6)
        with self.lock:
            if self.json:
                if not self.quiet:
                    self._json("info", "run", status="ok", rows=len(result.rows), seconds=total,
                               timings=timings, **fields)
            elif self.showing and not self.quiet:
                written = (f", {fields['written']} written to {fields['target']} ({fields.get('engine')})"
                           if fields.get("target") else "")
                self._line(f"csframe: done in {total:.2f} s ({len(result.rows)} rows{written})")

    def fail(self, error: BaseException) -> bool:
        """Report an error; True when it was written here (JSON), False to let the CLI print it."""
        self._close()
        if not self.json:
            return False
        with self.lock:
            fields: dict[str, Any] = {"message": getattr(error, "message", str(error))}
            if isinstance(error, CsframeError):
                if error.hint:
                    fields["hint"] = error.hint
                fields["exit_code"] = error.exit_code
                fields["error_type"] = type(error).__name__
            else:
                fields["exit_code"] = 1
                fields["error_type"] = type(error).__name__
            self._json("error", "error", seconds=round(time.monotonic() - self.started, 6),
                       timings=dict(self.done), **fields)
        return True

    def _close(self) -> None:
        self._stop.set()
        for t in self._threads:
            if isinstance(t, threading.Timer):
                t.cancel()
        with self.lock:
            if self.tty and self.bar_drawn:
                self._write("\r\x1b[K")
                self.bar_drawn = False
