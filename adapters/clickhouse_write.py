"""ClickHouse: writing a run's rows to a target table (``compute --target``).

ClickHouse has no multi-statement transactions, so the replacement is built beside the target
and swapped in by one statement:

1. the target is created if absent (MergeTree ordered by the key; ``value`` Nullable);
2. the new rows go into a staging table ``<target>__csframe_new_<id>``;
3. a second staging table ``<target>__csframe_next_<id>``, of the target's structure, receives
   the target's rows whose key no new row has, then the new rows;
4. ``EXCHANGE TABLES next AND target`` swaps the two names atomically (an Atomic database, the
   default since ClickHouse 20.10 and chdb's); the old rows, now under the staging name, are
   dropped with the other staging table.

A failure (or a killed process) before step 4 leaves the target as it was (and a staging table
behind, named for it); after it, the new table is complete. Two runs writing at once: on chdb they
take turns (one process holds a data directory; its writers share a lock). On a server they are
not serialised — each swaps in the target it read plus its own rows, so the later swap can drop
the rows the earlier one added for other keys (docs/clickhouse.md).
"""

from __future__ import annotations

__all__ = ["check_target", "write_results", "existing_columns"]

import uuid
from collections.abc import Sequence
from typing import Any

from sqlglot import exp

from csframe.core.errors import MetricFailedError, UsageError
from csframe.core.writeback import ExistingColumn, UNCOMMITTED, check_shape, missing_schema, target_table, write_stage

from .clickhouse_client import ClickHouseError
from .clickhouse_io import column_type

_DIALECT = "clickhouse"
_NULLABLE = {"value"}


def _family(kind: str) -> str | None:
    from .clickhouse_dialect import plain_type

    kind = plain_type(kind)
    if kind in ("String",) or kind.startswith("FixedString"):
        return "text"
    if kind in ("Date", "Date32"):
        return "date"
    if kind in ("Float64", "Float32"):
        return "floating"
    if kind.startswith("DateTime"):
        return "timestamp"
    return None


def _q(e: exp.Expression) -> str:
    return e.sql(_DIALECT)


def _string(value: str) -> str:
    return exp.Literal.string(value).sql(_DIALECT)


def _database_of(adapter: Any, table: exp.Table) -> str | None:
    return table.db or adapter.database


def existing_columns(adapter: Any, table: exp.Table) -> list[ExistingColumn] | None:
    """The columns of ``table`` (system.columns), or None when there is no such table."""
    database = _database_of(adapter, table)
    db = exp.Literal.string(database) if database else exp.func("currentDatabase")
    query = (exp.select("name", "type", "default_kind").from_(exp.table_("columns", db="system"))
             .where(exp.and_(exp.column("database").eq(db), exp.column("table").eq(exp.Literal.string(table.name))))
             .order_by("position"))
    rows, _ = adapter._require().query(_q(query))
    if not rows:
        return None
    return [ExistingColumn(name=str(n).lower(), type=str(t), family=_family(str(t)),
                           nullable=str(t).startswith("Nullable("), filled=bool(default))
            for n, t, default in rows]


def _require_database(adapter: Any, table: exp.Table, name: str) -> None:
    if not table.db:
        return
    query = exp.select(exp.Count(this=exp.Star())).from_(exp.table_("databases", db="system")).where(
        exp.column("name").eq(exp.Literal.string(table.db)))
    rows, _ = adapter._require().query(_q(query))
    if not rows[0][0]:
        raise missing_schema(name, f"database {table.db}", f"CREATE DATABASE {table.db}")


def check_target(adapter: Any, name: str, columns: Sequence[tuple[str, str]]) -> None:
    """Refuse (exit 2) a target that cannot be written: its database missing, or an existing
    table of another shape. Nothing is created."""
    table = target_table(name)
    if table.catalog:
        raise UsageError(f"--target {name}: clickhouse names a table DATABASE.TABLE (no catalog)",
                         hint="Write --target TABLE or --target DATABASE.TABLE.")
    try:
        _require_database(adapter, table, name)
        existing = existing_columns(adapter, table)
    except ClickHouseError as e:
        raise MetricFailedError(f"clickhouse could not read {name}: {e}") from None
    if existing is not None:
        check_shape(name, existing, columns)


def _create(table: exp.Table, columns: Sequence[tuple[str, str]], keys: Sequence[str], exists: bool) -> str:
    defs = []
    for n, t in columns:
        kind = column_type(t)
        if n not in _NULLABLE:  # NOT NULL: the session's data_type_default_nullable makes columns Nullable
            kind.set("nullable", False)
        null = "" if n in _NULLABLE else " NOT NULL"
        defs.append(f"{exp.to_identifier(n, quoted=True).sql(_DIALECT)} {kind.sql(_DIALECT)}{null}")
    order = ", ".join(exp.to_identifier(k, quoted=True).sql(_DIALECT) for k in keys)
    verb = "CREATE TABLE IF NOT EXISTS" if exists else "CREATE TABLE"
    return f"{verb} {_q(table)} ({', '.join(defs)}) ENGINE = MergeTree ORDER BY ({order})"


def write_results(adapter: Any, name: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]],
                  keys: Sequence[str]) -> int:
    """Replace the rows of ``keys`` in ``name`` (created if absent): staging tables, then one
    EXCHANGE TABLES; the number of rows written. On chdb the writers of this process take turns
    (:meth:`ChdbClient.writing`; no other process can open its data directory meanwhile): one that
    read the target before another swapped it in would otherwise drop the other's rows."""
    client = adapter._require()
    with client.writing():
        return _write(client, adapter, name, columns, rows, keys)


def _write(client: Any, adapter: Any, name: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]],
           keys: Sequence[str]) -> int:
    table = target_table(name)
    tag = uuid.uuid4().hex[:12]

    def beside(suffix: str) -> exp.Table:
        return exp.Table(this=exp.to_identifier(f"{table.name}__csframe_{suffix}_{tag}", quoted=True),
                         db=table.args.get("db"))

    new, nxt = beside("new"), beside("next")
    names = [exp.to_identifier(n, quoted=True) for n, _ in columns]
    key_tuple = exp.Tuple(expressions=[exp.column(exp.to_identifier(k, quoted=True)) for k in keys])
    try:
        try:
            _require_database(adapter, table, name)
            client.command(_create(table, columns, keys, exists=True))
            check_shape(name, existing_columns(adapter, table) or [], columns)
            client.command(_create(new, columns, keys, exists=False))
            client.insert(new, [n for n, _ in columns], [t for _, t in columns], rows)
            client.command(f"CREATE TABLE {_q(nxt)} AS {_q(table)}")
            kept = (exp.select(*[exp.column(n.copy()) for n in names]).from_(table.copy())
                    .where(exp.Not(this=exp.In(this=key_tuple, query=exp.Subquery(
                        this=exp.select(*key_tuple.expressions).from_(new.copy()))))))
            client.command(_q(exp.Insert(this=exp.Schema(this=nxt.copy(), expressions=[n.copy() for n in names]),
                                         expression=kept)))
            client.command(_q(exp.Insert(this=exp.Schema(this=nxt.copy(), expressions=[n.copy() for n in names]),
                                         expression=exp.select(*[exp.column(n.copy()) for n in names]).from_(new.copy()))))
            write_stage(UNCOMMITTED)
            client.command(f"EXCHANGE TABLES {_q(nxt)} AND {_q(table)}")
        except ClickHouseError as e:
            raise MetricFailedError(f"clickhouse could not write {name}: {e}",
                                    hint="Nothing was written; the table holds what it held before.") from None
    finally:
        for staging in (new, nxt):
            try:
                client.command(f"DROP TABLE IF EXISTS {_q(staging)}")
            except ClickHouseError:
                pass
    return len(rows)
