"""DuckDB: writing a run's rows to a target table, and holding statements to a run's time limit.

``write_results`` replaces the run's keys in one transaction: create the table if absent,
load the rows into a staging table (:func:`duckdb_io.write_dataset`, inside the
transaction), delete the target's rows whose key a new row has, insert the new rows, drop
the staging table, commit. Until the commit nothing is visible and nothing reaches the
file's WAL, so a process killed half-way leaves the previous rows as they were.

A DuckDB file has one writing process at a time: a second process cannot open it while
the first holds it, and fails at connect with a transient error the session retries
(``--retries``), so concurrent runs are serialised whole.
"""

from __future__ import annotations

__all__ = ["write_results", "limited"]

import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import attrs
from sqlglot import exp

from csframe.core.errors import MetricFailedError, RunTimeoutError, UsageError
from csframe.core.writeback import create_table, delete_matching, insert_from, pause_for_tests, target_table

from .duckdb_io import write_dataset

_DIALECT = "duckdb"


@contextmanager
def limited(con: Any, deadline: Any) -> Iterator[None]:
    """Run the enclosed statement under ``deadline``: ``con.interrupt()`` from a timer when
    the time is up, turned into :class:`RunTimeoutError`."""
    import duckdb

    left = deadline.remaining() if deadline is not None else None  # raises when already up
    timer = None
    if left is not None:
        timer = threading.Timer(left, con.interrupt)
        timer.daemon = True
        timer.start()
    try:
        yield
    except duckdb.InterruptException:
        raise RunTimeoutError("duckdb stopped the statement: the run's time limit was reached") from None
    finally:
        if timer is not None:
            timer.cancel()


@attrs.frozen
class _Column:
    name: str
    type: str


@attrs.frozen
class _Table:
    name: str
    columns: tuple[_Column, ...]
    rows: Sequence[Sequence[Any]]


@attrs.frozen
class _Dataset:
    tables: tuple[_Table, ...]


def _check_columns(con: Any, table: exp.Table, columns: Sequence[tuple[str, str]], name: str) -> None:
    have = {d[0].lower() for d in con.execute(exp.select(exp.Star()).from_(table.copy()).limit(0).sql(_DIALECT)).description}
    missing = [c for c, _ in columns if c.lower() not in have]
    if missing:
        raise UsageError(f"--target {name}: the table exists but is not a csframe result table "
                         f"(no column {', '.join(missing)})", hint="Name another table, or drop this one.")


def write_results(con: Any, name: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]],
                  keys: Sequence[str], deadline: Any = None) -> int:
    import duckdb

    table = target_table(name)
    staging_name = f"csframe_staging_{uuid.uuid4().hex[:12]}"
    staging = exp.Table(this=exp.to_identifier(staging_name, quoted=True))
    con.execute("BEGIN TRANSACTION")
    try:
        with limited(con, deadline):
            con.execute(create_table(table, columns, keys).sql(_DIALECT))
        _check_columns(con, table, columns, name)
        with limited(con, deadline):
            write_dataset(con, _Dataset((_Table(staging_name, tuple(_Column(n, t) for n, t in columns), rows),)),
                          replace=False)
        with limited(con, deadline):
            con.execute(delete_matching(table, staging, keys).sql(_DIALECT))
        pause_for_tests()
        with limited(con, deadline):
            con.execute(insert_from(table, staging, columns).sql(_DIALECT))
        con.execute(exp.Drop(tables=[staging.copy()], kind="TABLE").sql(_DIALECT))
        con.execute("COMMIT")
    except BaseException as e:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:
            pass
        if isinstance(e, duckdb.Error):
            raise MetricFailedError(f"duckdb could not write {name}: {str(e).splitlines()[0]}",
                                    hint="Nothing was written; the table holds what it held before.") from None
        raise
    return len(rows)
