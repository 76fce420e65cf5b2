"""Run a ``csframe`` command inside the test process, as the console script would run it.

A ``csframe`` process costs about 0.35 s of start-up (Python, imports, plugins) before its
command does anything; the suite runs several hundred. :func:`run` calls the console script's
own function, ``csframe.cli:main``, with the command's arguments, environment and working
directory, its stdin empty and its stdout and stderr captured as bytes, and answers a
:class:`subprocess.CompletedProcess` like ``subprocess.run(..., capture_output=True,
text=True)`` would: the exit code ``sys.exit`` gave, the text decoded as the child would have
written it, and an exception that escaped ``main`` printed as Python prints it (a
``Traceback``), exit 1.

What the command changed in the process is put back: the environment, the working
directory, the signal handlers it installed (SIGINT, SIGTERM, SIGHUP, SIGALRM), and the
commands plugins added to the click group.

A command still gets a process of its own when its environment differs in what only a new
interpreter reads (:func:`needs_a_process`: ``PYTHON*``, ``TMPDIR``, ``TZ``, the locale,
``HOME``), when it is run from a thread other than the main one (the streams, the working
directory and the signal handlers are the process's). What needs a process by nature (a signal sent to it, a closed stream, a
file-size limit) is started with ``subprocess`` by its tests, as before.
tests/unit/test_in_process.py checks that both ways give the same exit code, stdout and stderr.
"""

from __future__ import annotations

__all__ = ["csframe", "needs_a_process", "run"]

import io
import os
import signal
import subprocess
import sys
import threading
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path

# what a running interpreter has already read: only a new process honours a change of these
_PROCESS_ONLY_PREFIXES = ("PYTHON", "LC_")
_PROCESS_ONLY = {"TMPDIR", "TZ", "LANG", "LANGUAGE", "HOME"}
_SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP", "SIGALRM") if hasattr(signal, n))


def needs_a_process(env: Mapping[str, str]) -> bool:
    """True when ``env`` differs from this process's environment in what only a new process
    reads (the import path, the temporary directory, the time zone, the locale)."""
    for key in set(env) | set(os.environ):
        if key in _PROCESS_ONLY or key.startswith(_PROCESS_ONLY_PREFIXES):
            if env.get(key) != os.environ.get(key):
                return True
    return False


def _decode(data: bytes) -> str:
    """What ``subprocess.run(text=True)`` gives for these bytes: the locale's encoding (UTF-8
    here), newlines translated."""
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline=None).read()


class _Pipe(io.BytesIO):
    """The bytes a command wrote; kept when the command closes its stream."""

    def close(self) -> None:
        pass


def _stream(buffer: io.BytesIO, errors: str) -> io.TextIOWrapper:
    """A text stream like a child's stdout (strict) or stderr (backslashreplace) on a pipe:
    UTF-8, block-buffered, no terminal."""
    return io.TextIOWrapper(buffer, encoding="utf-8", errors=errors, write_through=False)


def run(argv: Sequence[str], env: Mapping[str, str], cwd: str | Path | None = None) -> subprocess.CompletedProcess:
    """``argv[0]`` is the console script (its name is all that is read); the command runs in
    this process, in its main thread, with exactly ``env`` as its environment."""
    from csframe.cli import main
    from csframe.cli.app import cli, load_builtin_commands

    args = [str(a) for a in argv[1:]]
    saved_env = dict(os.environ)
    saved_cwd = os.getcwd()
    saved_streams = (sys.stdin, sys.stdout, sys.stderr)
    saved_signals = {s: signal.getsignal(s) for s in _SIGNALS}
    saved_commands = load_builtin_commands()  # what a new process has before plugins add theirs
    out, err = _Pipe(), _Pipe()
    stdout, stderr = _stream(out, "strict"), _stream(err, "backslashreplace")
    code: int = 0
    try:
        for key in set(os.environ) - set(env):
            del os.environ[key]
        os.environ.update(env)
        if cwd is not None:
            os.chdir(cwd)
        sys.stdin = io.TextIOWrapper(io.BytesIO(b""), encoding="utf-8")
        sys.stdout, sys.stderr = stdout, stderr
        try:
            main(args)
        except SystemExit as e:
            if e.code is None:
                code = 0
            elif isinstance(e.code, int):
                code = e.code
            else:  # sys.exit("message"): Python prints it and exits 1
                print(e.code, file=sys.stderr)
                code = 1
        except Exception:  # noqa: BLE001 - what escaped main: the interpreter's own report
            traceback.print_exc(file=sys.stderr)
            code = 1
        for stream in (stdout, stderr):
            try:
                stream.flush()
            except ValueError:  # closed by the command
                pass
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        for s, handler in saved_signals.items():
            if signal.getsignal(s) is not handler:
                signal.signal(s, handler if handler is not None else signal.SIG_DFL)
        cli.commands.clear()
        cli.commands.update(saved_commands)
    return subprocess.CompletedProcess(list(argv), code, _decode(out.getvalue()), _decode(err.getvalue()))


def csframe(argv: Sequence[str], env: Mapping[str, str], cwd: str | Path | None = None,
            timeout: float | None = None) -> subprocess.CompletedProcess:
    """The suite's way to run a command: in this process, unless the environment
    (:func:`needs_a_process`) or a thread other than the main one asks for a new one; ``timeout``
    bounds only a process."""
    if not needs_a_process(env) and threading.current_thread() is threading.main_thread():
        return run(argv, env, cwd)
    return subprocess.run(list(map(str, argv)), capture_output=True, text=True, env=dict(env),
                          cwd=str(cwd) if cwd else None, timeout=timeout)
