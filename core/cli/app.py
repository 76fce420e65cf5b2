"""The click group, shared options, and the one place errors become exit codes."""

from __future__ import annotations

__all__ = ["cli", "main", "common", "open_session", "fail", "Interrupted", "STOP_SIGNALS", "held_to", "stop_signal"]

import contextlib
import functools
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import click

from ..errors import CsframeError, OutputError, RunInterrupted, RunTimeoutError, UsageError

_DEBUG_ENV = "CSFRAME_DEBUG"
REPORTER = "csframe.reporter"  # click context meta: the command's Reporter (report.py), if any


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


def _catch_stop_signals() -> None:
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
    return _RECEIVED[0] if _RECEIVED else None


def interrupted(error: BaseException) -> RunInterrupted:
    """The error of a command stopped by a signal: its name, and what was written."""
    signum = stop_signal(error) or signal.SIGINT
    detail = getattr(error, "detail", None) or "the command stopped"
    return RunInterrupted(f"interrupted by {signal.Signals(signum).name}: {detail}", signum=signum)


def fail(error: BaseException, debug: bool) -> None:
    """Print an error in one or two lines (a traceback with --debug) and exit with its code."""
    if debug:
        traceback.print_exception(error, file=sys.stderr)
    ctx = click.get_current_context(silent=True)
    reporter = ctx.meta.get(REPORTER) if ctx is not None else None
    if reporter is not None and reporter.fail(error):  # --log-format json: the error as one JSON line
        sys.exit(getattr(error, "exit_code", 1))
    if isinstance(error, CsframeError):
        click.echo(f"error: {error.message}", err=True)
        if error.hint:
            click.echo(f"  {error.hint}", err=True)
        sys.exit(error.exit_code)
    click.echo(f"error: unexpected {type(error).__name__}: {error}", err=True)
    click.echo("  This is a bug in csframe or a plugin; run again with --debug for the traceback.", err=True)
    sys.exit(1)


def common(fn: Callable) -> Callable:
    """--project and --debug on every command; CsframeError → message and exit code."""

    @click.option("--project", "project_dir", type=click.Path(file_okay=False), default=None,
                  help="Directory holding csframe.toml (default: the current directory).")
    @click.option("--debug", is_flag=True, help="Show a Python traceback on errors.")
    @functools.wraps(fn)
    def wrapper(*args: Any, project_dir: str | None, debug: bool, **kwargs: Any) -> Any:
        debug = debug or os.environ.get(_DEBUG_ENV) == "1"
        try:
            return fn(*args, project_dir=project_dir, **kwargs)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt as e:  # SIGINT, SIGTERM, SIGHUP: exit 128 + its number
            fail(interrupted(e), debug)
        except BrokenPipeError:  # `csframe list | head`: the reader left (compute says so itself: compute.py)
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, sys.stdout.fileno())  # what is left in stdout's buffer goes nowhere, not to a traceback
            os.close(null)
            fail(OutputError("cannot write the output: stdout: the reader closed it (broken pipe)",
                             hint="Whatever reads csframe's stdout closed it before the end."), debug)
        except Exception as e:  # noqa: BLE001 - the single place errors become exit codes
            fail(interrupted(e) if stop_signal(e) is not None else e, debug)

    return wrapper


def open_session(project_dir: str | None):
    from ..session import Session

    return Session.open(project_dir)


def parse_params(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for v in values:
        name, sep, value = v.partition("=")
        if not sep or not name:
            raise UsageError(f"--param {v!r}: write it as name=value")
        out[name.strip()] = value.strip()
    return out


def _wants_json_log(argv: list[str]) -> bool:
    """Whether the command line asks for ``--log-format json`` (read before click parses it)."""
    for i, arg in enumerate(argv):
        if arg == "--log-format=json" or (arg == "--log-format" and argv[i + 1:i + 2] == ["json"]):
            return True
    return False


class Group(click.Group):
    """Usage errors exit with code 2 (click's default too), in one line; with ``--log-format
    json``, as one JSON line like every other error of that run."""

    def main(self, args: list[str] | None = None, prog_name: str | None = None, **kwargs: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        if kwargs.get("standalone_mode", True) is False or not _wants_json_log(argv):
            return super().main(args=argv, prog_name=prog_name or "csframe", **kwargs)
        kwargs.pop("standalone_mode", None)
        try:
            code = super().main(args=argv, prog_name=prog_name or "csframe", standalone_mode=False, **kwargs)
        except click.ClickException as e:
            from .report import Reporter

            Reporter(log_format="json").fail(UsageError(e.format_message()))
            sys.exit(e.exit_code)
        except click.exceptions.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="csframe", prog_name="csframe")
def cli() -> None:
    """csframe: customer-success metrics defined as code, computed the same on every engine."""


def _load_commands() -> None:
    from . import compute, init, inspect, check, diff  # noqa: F401 - registers the commands
    from . import scaffold  # noqa: F401 - csframe new-plugin

    # plugins may add commands; a broken project must not break --help, so ignore errors here
    try:
        from ..plugin_manager import load_plugins

        plugins = load_plugins()
        plugins.pm.hook.csframe_register_commands(cli=cli)
    except CsframeError:
        pass


def _occupy_closed_std_fds() -> None:
    """A standard stream closed at start (``csframe … >&-``) stays None in ``sys``; its file
    descriptor is taken by /dev/null, so that no file csframe opens later (a database, a
    temporary file) gets that number and receives what is meant for the stream."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)


def main(argv: list[str] | None = None) -> None:
    _occupy_closed_std_fds()
    _catch_stop_signals()
    try:
        _load_commands()
        cli.main(args=argv, prog_name="csframe")
    except KeyboardInterrupt as e:  # before a command ran (loading plugins)
        click.echo(f"error: {interrupted(e).message}", err=True)
        sys.exit(interrupted(e).exit_code)
    except SystemExit as e:  # click's own "Aborted!" (exit 1) for a signal while it parsed the command line
        if _RECEIVED and e.code == 1:
            sys.exit(128 + _RECEIVED[0])
        raise
