"""One run of a plan, stage by stage: connect (with retries; with a target, the adapter's
pre-flight ``check_target`` right after, so a target that cannot be written fails before
anything is computed), check the sources, compile, execute, and write the rows to a target
table (where the adapter's write calls ``writeback.write_stage``, the plugins'
``csframe_write_stage`` hook is called) — timed, reported to an observer (with a ``warning``
event for each of the result's warnings), and held to the run's time limit.
:meth:`Session.run` and :meth:`Session.compute` go through here; the engine calls go
through an :class:`~csframe.core.execution.Execution` (adapter, time limit, retries)."""

from __future__ import annotations

__all__ = ["run_plan", "writer_of", "opener_of"]

import datetime as dt
from collections.abc import Sequence
from typing import Any

import attrs

from .deadline import Deadline
from .errors import DataContractError, MetricFailedError, RunTimeoutError, UsageError
from .fingerprint import calendar_text, fingerprints
from .left_out import notes, split_counts
from .observe import Stages
from .plan import Plan
from .result import Result
from .execution import Execution
from .retry import RetryPolicy
from .session import mapping_error
from .writeback import TARGET_COLUMNS, TARGET_KEY, stage_calls, target_grain, target_rows, target_table


def writer_of(adapter: Any, table: str, writers: Sequence[str] = ()) -> Any:
    """The adapter's ``write_results``, after checking ``table``; a usage error when the
    adapter cannot write (a third-party adapter without ``write_results``), naming the
    registered adapters that can (``writers``)."""
    target_table(table)
    write = getattr(adapter, "write_results", None)
    if write is None:
        raise UsageError(
            f"--target: the {getattr(adapter, 'NAME', type(adapter).__name__)} adapter cannot write result tables "
            "in this version of csframe (write-back is not implemented for it yet)",
            hint="Write a file with --format parquet --output PATH and load it"
                 + (f", or use an adapter that writes ({', '.join(writers)})." if writers else "."),
        )
    return write


def opener_of(adapter: Any, target: str | None) -> Any:
    """What the connect stage runs (and tries again on a transient failure): ``connect()``,
    then, for a run that writes ``target``, the adapter's optional pre-flight
    ``check_target(target, columns, keys)`` (a missing schema or a table of another shape is a
    usage error before anything is computed; the adapter may also make its connection ready to
    write, e.g. DuckDB reopens its file read-write)."""
    check = getattr(adapter, "check_target", None) if target is not None else None

    def open_() -> None:
        adapter.connect()
        if check is not None:
            check(target, TARGET_COLUMNS, TARGET_KEY)

    return open_


def _execution_of(session: Any, adapter: Any, plan: Plan, absent: Any, sql: str) -> Any:
    """What the execute stage runs (and tries again): the adapter's optional ``execute_tree`` of
    the query's tree (a fresh copy each try: the adapter may change it), else ``execute(sql)``."""
    run_tree = getattr(adapter, "execute_tree", None)
    if run_tree is None:
        return lambda: adapter.execute(sql)
    return lambda: run_tree(session.query_tree(plan, absent=absent))


def _stage(stages: Stages, deadline: Deadline, name: str):
    deadline.remaining()  # raises when the time is already up
    return stages.stage(name)


def run_plan(session: Any, plan: Plan, *, target: str | None = None, deadline: Deadline | None = None,
             stages: Stages | None = None, retries: RetryPolicy | None = None,
             computed_at: dt.datetime | None = None) -> Result:
    stages = stages or Stages()
    deadline = deadline or Deadline(None)
    retries = retries or RetryPolicy()
    adapter = session.adapter()
    writers = [n for n, (_, cls) in session.registry.adapters.items() if hasattr(cls, "write_results")]
    write = writer_of(adapter, target, writers) if target is not None else None
    ex = Execution(adapter, deadline, retries, open_=opener_of(adapter, target),
                   on_retry=lambda stage, n, wait, e: stages.emit("retry", stage=stage, attempt=n, retries=retries.retries,
                                                                  delay=round(wait, 3), error=e.message))
    again = ex.again
    current = "connect"
    try:
        ex.start()
        with _stage(stages, deadline, "connect"):
            ex.connect()
        current = "check"
        with _stage(stages, deadline, "check"):
            problems, absent = again(lambda: session.inspect_sources(plan.sources, plan.by), "check")
            if problems:
                raise mapping_error(problems)
            plan = again(lambda: session.dimension_names(plan), "check")  # --by as the source spells it
            checked = again(lambda: session.check_data(plan.sources, plan.parameters, absent), "check")
            bad = [p for p in checked if p.severity == "error"]
            if bad and not plan.lenient:
                raise DataContractError(
                    "the data breaks the contract:\n  " + "\n  ".join(map(str, bad)),
                    problems=tuple(bad), hint="Fix the rows named above, or pass --lenient to leave them out.")
        warnings = tuple(f"warning: {p}" for p in checked if p.severity == "warning")
        warnings += tuple(f"warning: left out {p.rows} row(s) of {p.source}: {p.message}" for p in bad)
        current = "compile"
        with _stage(stages, deadline, "compile"):
            compiled, sql = session.compile(plan, absent=absent)
            prints = fingerprints(session.registry, session.graph, plan.keys, plan.parameters, plan.closures,
                                  calendar_text(session.project.calendar, plan.grain))
        current = "execute"
        with _stage(stages, deadline, "execute") as info:
            try:
                rows = again(_execution_of(session, adapter, plan, absent, sql), "execute")
            except MetricFailedError as e:
                if isinstance(e, RunTimeoutError):
                    raise
                from .render import dialect_profile
                from .verify import explain_failure  # name the node and plugin whose SQL is wrong

                raise explain_failure(session.registry, compiled, dialect_profile(session.registry, adapter.NAME),
                                      adapter, e, adapter.NAME) from None
            info["rows"] = len(rows)
        keys = plan.keys
        if compiled.left_out:
            rows, counts = split_counts(rows)
            warnings += tuple(notes(session.registry, compiled.left_out, counts, plan.parameters))
        result = Result(
            compiled.columns, tuple(tuple(r) for r in rows),
            units={k: session.registry.unit(*k) for k in keys},
            warnings=warnings, sql=sql, grain=plan.grain.name,
            dimension_keys={k: (*plan.by, *((plan.dimensions[k],) if k in plan.dimensions else ())) for k in keys},
            fingerprints=prints,
            timings=stages.timings,
        )
        written = None
        if write is not None:
            current = "write"
            with _stage(stages, deadline, "write") as info:
                out = target_rows(result, computed_at, grain=target_grain(plan.grain, plan.window))
                hook = session.plugins.pm.hook.csframe_write_stage
                engine = getattr(adapter, "NAME", type(adapter).__name__)
                with stage_calls(lambda stage: hook(stage=stage, table=target, engine=engine)):
                    written = again(lambda: write(target, TARGET_COLUMNS, out, TARGET_KEY), "write")
                info["rows"] = written
                info["table"] = target
        for message in result.warnings:  # once the run has succeeded, as the CLI prints them
            stages.emit("warning", message=message)
        return attrs.evolve(result, timings=dict(stages.timings), written=written)
    except RunTimeoutError as e:
        if deadline.seconds is None:
            raise
        raise deadline.error(current) from e
    finally:
        ex.stop()
