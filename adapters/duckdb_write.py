"""DuckDB: writing a run's rows to a target table, and holding statements to a run's time limit.

``write_results`` replaces the run's keys in one transaction: create the table if absent,
load the rows into a staging table (:func:`duckdb_io.write_dataset`, inside the
transaction), delete the target's rows whose key a new row has, insert the new rows, drop
the staging table, commit. Until the commit nothing is visible and nothing reaches the
file's WAL, so a process killed half-way leaves the previous rows as they were.

``check_target`` is the pre-flight the run calls before computing anything (and
``write_results`` checks again inside its transaction): the target's schema must exist, and
an existing table must have the documented columns of the right type families
(:func:`csframe.core.writeback.check_shape`), read with ``DESCRIBE``.

A DuckDB file has one writing process at a time: a second process cannot open it while
the first holds it, and fails at connect with a transient error the session retries
(``--retries``), so concurrent runs of several processes are serialised whole. Within one
process, connections share the database and its optimistic transactions: two writers of the
same keys (threads of the Python API) conflict ("Conflict on tuple deletion!", "Catalog
write-write conflict on create"), and the loser's transaction is rolled back. Such a conflict
is transient: :func:`write_results` runs the whole transaction again
(:func:`csframe.core.writeback.retry_conflicts`, :data:`CONFLICT_RETRIES`, within the run's
time limit), as the BigQuery adapter sends a MERGE again.
"""

from __future__ import annotations

__all__ = ["CONFLICT_RETRIES", "check_target", "existing_columns", "is_conflict", "limited", "write_results"]

import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import attrs
from sqlglot import exp

from csframe.core.errors import MetricFailedError, RunTimeoutError
from csframe.core.retry import RetryPolicy
from csframe.core.writeback import (
    ExistingColumn,
    check_shape,
    create_table,
    delete_matching,
    insert_from,
    missing_schema,
    retry_conflicts,
    target_table,
    UNCOMMITTED,
    write_stage,
)

from .duckdb_io import write_dataset

_DIALECT = "duckdb"
CONFLICT_RETRIES = RetryPolicy(retries=8, base=0.05, cap=2.0)  # ~0.05, 0.1, 0.2, … 2 s: about 7 s in all
_CONFLICT_TEXT = ("conflict", "failed to commit")
_FAMILIES = {"VARCHAR": "text", "DATE": "date", "DOUBLE": "floating", "FLOAT": "floating",
             "TIMESTAMP": "timestamp", "TIMESTAMP WITH TIME ZONE": "timestamp",  # connections are in UTC
             "TIMESTAMP_S": "timestamp", "TIMESTAMP_MS": "timestamp", "TIMESTAMP_NS": "timestamp"}


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


class _WriteConflict(MetricFailedError):
    """A transaction DuckDB rolled back because another connection of this process changed
    the same rows or created the same table first."""


def is_conflict(error: BaseException) -> bool:
    """Whether duckdb refused a statement or a commit because of a concurrent transaction."""
    import duckdb

    return isinstance(error, duckdb.TransactionException) and any(t in str(error).lower() for t in _CONFLICT_TEXT)


def _first_line(error: BaseException) -> str:
    return str(error).splitlines()[0].replace("\0", ".") if str(error) else type(error).__name__


def _literal_lower(value: str) -> exp.Expression:
    return exp.func("lower", exp.Literal.string(value))


def _schema_exists(con: Any, table: exp.Table) -> bool:
    """Whether the schema ``table`` names exists: ``SCHEMA.TABLE`` may also be
    ``DATABASE.TABLE`` (an attached database, its default schema main)."""
    if not table.db:
        return True
    catalog, schema = exp.func("lower", exp.column("catalog_name")), exp.func("lower", exp.column("schema_name"))
    if table.catalog:
        cond = exp.and_(catalog.eq(_literal_lower(table.catalog)), schema.eq(_literal_lower(table.db)))
    else:
        cond = exp.or_(
            exp.and_(catalog.eq(exp.func("lower", exp.func("current_database"))), schema.eq(_literal_lower(table.db))),
            exp.and_(catalog.eq(_literal_lower(table.db)), schema.eq(exp.Literal.string("main"))))
    query = exp.select(exp.Count(this=exp.Star())).from_(exp.table_("schemata", db="information_schema")).where(cond)
    return con.execute(query.sql(_DIALECT)).fetchone()[0] > 0


def _require_schema(con: Any, table: exp.Table, name: str) -> None:
    if not _schema_exists(con, table):
        where = f"{table.catalog}.{table.db}" if table.catalog else table.db
        raise missing_schema(name, f"schema {where}", f"CREATE SCHEMA {where}")


def existing_columns(con: Any, table: exp.Table) -> list[ExistingColumn] | None:
    """The columns of ``table`` (``DESCRIBE``), or None when there is no such table."""
    import duckdb

    try:
        described = con.execute(exp.Describe(this=table.copy()).sql(_DIALECT)).fetchall()
    except duckdb.CatalogException:
        return None
    # DESCRIBE: column_name, column_type, null ('YES'/'NO'), key, default, extra
    return [ExistingColumn(name=str(n).lower(), type=str(t), family=_FAMILIES.get(str(t).upper()),
                           nullable=null != "NO", filled=default is not None)
            for n, t, null, _key, default, *_ in described]


def check_target(con: Any, name: str, columns: Sequence[tuple[str, str]], deadline: Any = None) -> None:
    """Refuse (exit 2) a target ``name`` that cannot be written: its schema missing, or an
    existing table of another shape. Nothing is created."""
    import duckdb

    table = target_table(name)
    try:
        with limited(con, deadline):
            _require_schema(con, table, name)
            existing = existing_columns(con, table)
    except duckdb.Error as e:
        raise MetricFailedError(f"duckdb could not read {name}: {_first_line(e)}") from None
    if existing is not None:
        check_shape(name, existing, columns)


def write_results(con: Any, name: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]],
                  keys: Sequence[str], deadline: Any = None, policy: RetryPolicy = CONFLICT_RETRIES) -> int:
    """Replace the rows of ``keys`` in ``name`` (created if absent) in one transaction, run
    again while it loses to a concurrent writer of this process; the number of rows written."""
    table = target_table(name)
    retry_conflicts(lambda: _write_once(con, table, name, columns, rows, keys, deadline),
                    lambda e: isinstance(e, _WriteConflict), policy, deadline)
    return len(rows)


def _write_once(con: Any, table: exp.Table, name: str, columns: Sequence[tuple[str, str]],
                rows: Sequence[Sequence[Any]], keys: Sequence[str], deadline: Any) -> None:
    import duckdb

    staging_name = f"csframe_staging_{uuid.uuid4().hex[:12]}"
    staging = exp.Table(this=exp.to_identifier(staging_name, quoted=True))
    con.execute("BEGIN TRANSACTION")
    try:
        with limited(con, deadline):
            _require_schema(con, table, name)  # checked before the run too; it may have gone since
            con.execute(create_table(table, columns, keys).sql(_DIALECT))
            existing = existing_columns(con, table)
        check_shape(name, existing or [], columns)
        with limited(con, deadline):
            write_dataset(con, _Dataset((_Table(staging_name, tuple(_Column(n, t) for n, t in columns), rows),)),
                          replace=False)
        with limited(con, deadline):
            con.execute(delete_matching(table, staging, keys).sql(_DIALECT))
        write_stage(UNCOMMITTED)
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
            error = _WriteConflict if is_conflict(e) else MetricFailedError
            raise error(f"duckdb could not write {name}: {_first_line(e)}",
                        hint="Nothing was written; the table holds what it held before.") from None
        raise
