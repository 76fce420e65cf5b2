"""The click group, shared options, and the one place errors become exit codes."""

from __future__ import annotations

__all__ = ["cli", "main", "common", "open_session", "fail", "load_builtin_commands", "ClosedStdout", "stdout_closed"]

import functools
import io
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any

import click

from csframe.core.errors import CsframeError, OutputError, UsageError
from .stopping import catch_stop_signals, interrupted, received, stop_signal

_DEBUG_ENV = "CSFRAME_DEBUG"
REPORTER = "csframe.reporter"  # click context meta: the command's Reporter (report.py), if any


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
    from csframe.core.session import Session

    return Session.open(project_dir)


def window_option(fn: Callable) -> Callable:
    """``--window LENGTH`` as compute, sql and compare take it (parsed by csframe.core.windows
    when the run is requested, so every command gives the same errors)."""
    return click.option("--window", metavar="LENGTH",
                        help="Trailing windows: each row is the LENGTH (30d, 13w, 3m, 12m; whole periods of the grain) "
                             "ending at each period's end.")(fn)


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


def load_builtin_commands() -> dict[str, click.Command]:
    """Import the modules that register csframe's own commands; the group's commands then
    (before any plugin adds its own)."""
    from . import compute, init, inspect, check, diff  # noqa: F401 - registers the commands
    from . import scaffold  # noqa: F401 - csframe new-plugin
    from . import report_html  # noqa: F401 - csframe report

    return dict(cli.commands)


def _load_commands() -> None:
    load_builtin_commands()
    # plugins may add commands; a broken project must not break --help, so ignore errors here
    try:
        from csframe.core.plugin_sets import plugin_set  # loaded once: the command's session reuses them

        plugin_set().plugins().pm.hook.csframe_register_commands(cli=cli)
    except CsframeError:
        pass


class ClosedStdout(io.TextIOBase):
    """``sys.stdout`` of a csframe started with its stdout closed (``csframe … >&-``). Python
    leaves it None, and click.echo then drops what it is given without a word: ``list`` and
    ``sql`` exited 0 having written nothing, ``graph`` failed as a bug. Every write fails
    instead, exit 1 naming the output (cli.md)."""

    encoding = "utf-8"
    errors = "strict"

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        raise OutputError("cannot write the output: stdout is closed",
                          hint="Run csframe with its stdout open (or give --output PATH where the command takes "
                               "one). Nothing was written.")

    @property
    def buffer(self) -> Any:  # a binary write (a PNG to stdout) fails the same way
        self.write("")


def stdout_closed() -> bool:
    """Whether csframe was started with its stdout closed."""
    return sys.stdout is None or isinstance(sys.stdout, ClosedStdout)


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
    if sys.stdout is None:  # `csframe … >&-`
        sys.stdout = ClosedStdout()
    catch_stop_signals()
    try:
        _load_commands()
        cli.main(args=argv, prog_name="csframe")
    except OutputError as e:  # click's own output (--help, --version) to a closed stdout
        fail(e, os.environ.get(_DEBUG_ENV) == "1")
    except KeyboardInterrupt as e:  # before a command ran (loading plugins)
        click.echo(f"error: {interrupted(e).message}", err=True)
        sys.exit(interrupted(e).exit_code)
    except SystemExit as e:  # click's own "Aborted!" (exit 1) for a signal while it parsed the command line
        if received() is not None and e.code == 1:
            sys.exit(128 + received())
        raise
