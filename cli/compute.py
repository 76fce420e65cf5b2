"""``csframe compute``: metrics for a range of periods, as a long result table — and,
with ``--target``, into a table of the engine (write-back)."""

from __future__ import annotations

import errno
import sys
import time

import click

from csframe.core.errors import OutputError, RunTimeoutError, UsageError, did_you_mean
from csframe.core.periods import GRAINS
from .app import REPORTER, cli, common, open_session, parse_params, stdout_closed, window_option
from .stopping import Interrupted, held_to, stop_signal


_GRACE_S = 2.0  # past the time limit, before the command stops a run its engine has not stopped


def _writer(session, fmt: str, output: str | None):
    """The registered writer of ``fmt``, checked before anything is computed: a binary
    format (``writer.binary``, e.g. parquet) needs --output; ``writer.check()`` may say that
    a library it needs is missing."""
    formats = session.registry.output_formats
    if fmt not in formats:
        raise UsageError(f"unknown format {fmt!r}.{did_you_mean(fmt, formats)}", hint=f"Formats: {', '.join(formats)}.")
    writer = formats[fmt][1]
    if getattr(writer, "binary", False) and output in (None, "-"):
        raise UsageError(f"--format {fmt} writes a binary file: give --output PATH")
    check = getattr(writer, "check", None)
    if check is not None:
        check()
    if output not in (None, "-"):
        import os

        directory = os.path.dirname(os.path.abspath(output))
        if os.path.isdir(output):
            raise UsageError(f"--output {output} is a directory", hint="Name a file.")
        if not os.path.isdir(directory):
            raise UsageError(f"--output {output}: directory {directory} does not exist", hint="Create it first.")
    return writer


def _with_units(writer):
    """``writer`` writing the result with its ``unit`` column (``--with-units``)."""
    def write(result, stream) -> None:
        writer(result.with_unit_column(), stream)

    write.binary = getattr(writer, "binary", False)  # type: ignore[attr-defined]
    return write


class Output:
    """Where the result goes: stdout, or a file written whole. The file is made ready before
    anything is computed (:meth:`open`: a temporary file beside it, or the special file itself,
    so that a place csframe cannot write fails first, exit 2; a closed stdout fails first too,
    exit 1), and :meth:`write` fills it and renames it into place: nothing is written half-way.
    An existing file keeps its permissions; a symlink stays one, and its target gets the
    result (renamed into place beside the target). A failure to write (a full disk, a reader
    that closed the pipe) is an :class:`OutputError` naming the output."""

    def __init__(self, writer, output: str | None) -> None:
        self.writer, self.output = writer, output
        self.binary = getattr(writer, "binary", False)
        self.file = None
        self.tmp: str | None = None
        self.dest = output  # the file renamed over: the output, or the file its symlink points to

    @property
    def name(self) -> str:
        return "stdout" if self.output in (None, "-") else str(self.output)

    def open(self) -> Output:
        import os
        import tempfile

        out = self.output
        if out in (None, "-"):
            if stdout_closed():  # `csframe … >&-`: fail before anything is computed
                raise OutputError("cannot write the output: stdout is closed",
                                  hint="Give --output PATH, or run csframe with its stdout open. Nothing was computed "
                                       "or written.")
            return self
        mode = "wb" if self.binary else "w"
        try:
            if os.path.exists(out) and not os.path.isfile(out):  # /dev/null, a FIFO: write to it, never replace it
                self.file = open(out, mode) if self.binary else open(out, mode, encoding="utf-8", newline="")
            else:
                self.dest = os.path.realpath(out) if os.path.islink(out) else out
                if os.path.islink(self.dest):  # realpath stops at a loop of symlinks
                    raise UsageError(f"--output {out}: a loop of symbolic links", hint="Name a file.")
                fd, self.tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(self.dest)), prefix=".csframe-",
                                                suffix=".tmp")
                self.file = os.fdopen(fd, mode) if self.binary else os.fdopen(fd, mode, encoding="utf-8", newline="")
        except OSError as e:
            raise UsageError(f"--output {out}: cannot write there ({e.strerror or e})",
                             hint="Name a file in a directory you can write to.") from None
        return self

    def write(self, result) -> None:
        import os

        try:
            if self.file is None:
                self.writer(result, sys.stdout)
                sys.stdout.flush()
                return
            with self.file as f:
                self.writer(result, f)
            if self.tmp is not None:
                os.chmod(self.tmp, self._mode(self.dest))
                os.replace(self.tmp, self.dest)
                self.tmp = None
        except OSError as e:
            if self.file is None:  # what is left in stdout's buffer goes nowhere, not to a traceback at exit
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, sys.stdout.fileno())
                os.close(null)
            reason = "the reader closed it (broken pipe)" if isinstance(e, BrokenPipeError) else (e.strerror or str(e))
            if self.file is None:
                todo = "Whatever reads csframe's stdout closed it: give --output PATH, or keep the reader open."
            elif e.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
                todo = "Free some space, or name another --output."
            else:
                todo = "Name another --output."
            raise OutputError(f"cannot write the output: {self.name}: {reason}", hint=todo) from None
        finally:
            self.discard()

    @staticmethod
    def _mode(path: str) -> int:
        """The permissions of the file at ``path``, if one is there; else a new file's, as
        open() would have made it (not mkstemp's 0600)."""
        import os
        import stat

        try:
            return stat.S_IMODE(os.stat(path).st_mode)
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            return 0o666 & ~umask

    def discard(self) -> None:
        """Leave no temporary file behind (a failed run writes nothing)."""
        import os

        if self.file is not None and not self.file.closed:
            try:
                self.file.close()
            except OSError:  # its buffer could not be written out (a full disk): it is thrown away anyway
                pass
        if self.tmp is not None and os.path.exists(self.tmp):
            os.unlink(self.tmp)
        self.tmp = None


def _what_was_written(target: str | None, committed: bool) -> str:
    """For a run stopped half-way: what it wrote (nothing, or the target table's rows)."""
    if target is None:
        return "nothing was written"
    if not committed:
        return f"nothing was written; {target} holds what it held before (a write begun was rolled back)"
    return f"the rows were written to {target}; the output was not"


@cli.command()
@click.option("--metric", "-m", "metrics", multiple=True, metavar="NAME[:VARIANT]", help="A metric to compute (repeat).")
@click.option("--all", "all_", is_flag=True, help="Every metric the project can compute.")
@click.option("--grain", default="month", show_default=True, metavar="|".join(GRAINS) + "|NAME",
              help="A period length, or a grain of the project's calendar source (docs/calendars.md).")
@click.option("--start", metavar="YYYY-MM-DD", help="First period (rounded down). Default: 12 periods before --end.")
@click.option("--end", metavar="YYYY-MM-DD", help="Periods start before this. Default: the current period's first day.")
@click.option("--by", multiple=True, metavar="DIMENSION",
              help="Split by a customers column, or by cohort (repeat, or separate with commas).")
@window_option
@click.option("--format", "fmt", default="table", show_default=True, help="table, csv, json, jsonl or parquet.")
@click.option("--vs", type=click.Choice(["previous", "year"]),
              help="Add compared_value (the previous period's, or a year earlier's) and change (relative).")
@click.option("--pivot", metavar="cohort",
              help="With --by cohort and one metric: the cohort triangle (a row per cohort, a column per age 0, 1 …).")
@click.option("--output", "-o", metavar="PATH", help="Write here instead of stdout ('-' = stdout; parquet needs a PATH).")
@click.option("--with-units", is_flag=True,
              help="csv, json, jsonl, parquet: add a unit column (the table always shows units).")
@click.option("--target", metavar="TABLE", help="Also replace the run's rows in this table of the engine (created if absent).")
@click.option("--lenient", is_flag=True, help="Leave out rows that break the data contract, with a warning.")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="Set a metric parameter (repeat).")
@click.option("--timeout", type=float, metavar="SECONDS", help="Stop the run after this long (exit 1).")
@click.option("--retries", type=click.IntRange(min=0), default=3, show_default=True, metavar="N",
              help="Tries again after a transient connection failure, with backoff.")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="stderr as text, or one JSON object per line with the timings per stage.")
@click.option("--progress", is_flag=True, help="Show progress from the start (default: once a run takes 2 s).")
@click.option("--quiet", "-q", is_flag=True, help="Nothing on stderr but errors.")
@click.option("--dry-run", is_flag=True, help="Report the bytes each query would process (BigQuery) and run nothing.")
@common
def compute(project_dir, metrics, all_, grain, start, end, by, window, fmt, vs, pivot, output, with_units, target, lenient, params,
            timeout, retries, log_format, progress, quiet, dry_run):
    """Compute metrics and write a long-format result table."""
    from csframe.core.observe import STAGES
    from .report import Reporter

    from csframe.core.deadline import Deadline

    deadline = Deadline.of(timeout)  # --timeout holds the whole command: load to output
    stages = tuple(s for s in STAGES if target is not None or s != "write")
    reporter = Reporter(log_format=log_format, quiet=quiet, progress=progress, stages=stages)
    click.get_current_context().meta[REPORTER] = reporter
    if bool(metrics) == bool(all_):
        raise UsageError("name metrics with --metric NAME[:VARIANT] or use --all (not both)")
    by = tuple(d.strip() for b in by for d in b.split(",") if d.strip())  # --by cohort,segment = --by cohort --by segment
    reporter.event("stage_start", stage="load")
    started = time.perf_counter()
    with open_session(project_dir) as session:
        reporter.event("stage_end", stage="load", seconds=round(time.perf_counter() - started, 6))
        writer = _writer(session, fmt, output)  # a bad format fails before anything is computed or written
        writer = _with_units(writer) if with_units else writer
        if all_:
            keys, missing = session.all_keys()
            if by:
                dropped = [k for k in keys if session.graph.unsplittable_sources(k)]
                for k in dropped:
                    reporter.warning(f"warning: {k[0]} is left out: its sources have no customer, so --by cannot split it")
                keys = [k for k in keys if k not in dropped]
            # the cohort metrics mean something only with --by cohort: --all leaves them out otherwise
            keys = [k for k in keys if not set(session.graph.needs_by(k)) - {d.lower() for d in by}]
            if window:
                from csframe.core.windows import unwindowed_steps

                dropped = [k for k in keys if unwindowed_steps(session.registry, session.graph.resolve(k).nodes)]
                for k in dropped:
                    reporter.warning(f"warning: {k[0]} is left out: it is not defined on trailing windows (--window)")
                keys = [k for k in keys if k not in dropped]
            for k, lacks in missing.items():
                reporter.warning(f"unavailable: {k[0]} (needs {', '.join(lacks)})")
        else:
            keys = session.keys(metrics)
        if pivot is not None:
            from csframe.core.cohort_triangle import check_pivot

            check_pivot(pivot, keys, by, with_units)
            if vs is not None:
                raise UsageError("--pivot cohort shows values, not comparisons: leave out --vs")
        if dry_run:
            plan = session.plan(session.request(keys, grain=grain, start=start, end=end, by=by, lenient=lenient, vs=vs,
                                                window=window),
                                parse_params(params))
            total = 0
            for what, n in session.dry_run(plan):
                total += n
                click.echo(f"{n:>16,} bytes  {what}")
            click.echo(f"{total:>16,} bytes  in all (nothing was run)")
            return
        sink = Output(writer, output).open()  # a file csframe cannot write fails before anything is computed
        result = None
        try:
            with held_to(deadline, "the run", grace=_GRACE_S):  # in case what the engine does is not stopped
                result = session.compute(keys, grain=grain, start=start, end=end, by=by, lenient=lenient, window=window,
                                         params=parse_params(params), target=target, deadline=deadline,
                                         observer=reporter, retries=retries, vs=vs)  # its warnings come as events
            if pivot is not None:
                from csframe.core.cohort_triangle import cohort_triangle

                result = cohort_triangle(result, session.grain(grain))
            with held_to(deadline, "output"):
                sink.write(result)
        except BaseException as e:
            if stop_signal(e) is not None:  # a stop signal (app.py), or an engine's error it caused
                stopped = Interrupted(stop_signal(e))
                # the write stage's end (it has committed) is known before compute() returns a result:
                # a signal in between must not say "nothing was written"
                stopped.detail = _what_was_written(target, result is not None or "write" in reporter.done)
                raise stopped from e
            if isinstance(e, RunTimeoutError) and result is not None and target is not None:
                e.hint = f"The rows were written to {target} ({result.written} rows); the output was not. {e.hint}"
            elif isinstance(e, OutputError):  # what the run wrote, then what to do
                e.hint = (f"The rows were written to {target} ({result.written} rows); only the output is missing."
                          if target is not None else "Nothing was written.") + f" {e.hint}"
            raise
        finally:
            sink.discard()
        engine = session.project.adapter["name"]  # Session.open sets the default adapter's name
        reporter.finish(result, target=target, written=result.written, engine=engine)
        if target is not None and not quiet and log_format == "text" and not reporter.showing:
            # (a run that showed progress ends with its "done" line, which says the same)
            click.echo(f"csframe: wrote {result.written:,} rows to {target} ({engine})", err=True)
