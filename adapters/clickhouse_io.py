"""ClickHouse tables from neutral column types, and rows as ``INSERT … VALUES`` sqlglot trees.

Column types: a neutral (DuckDB-spelled) type becomes ClickHouse's, every column Nullable:
``TIMESTAMP`` is ``DateTime64(6, 'UTC')`` (microseconds, as DuckDB's; sqlglot would write
``DateTime``, whole seconds), ``DATE`` is ``Date32`` (years 1900–2299, where ``Date`` stops at
2149), the others as sqlglot spells them (``Nullable(String)``, ``Nullable(Decimal(18, 2))``).

Values are literals of the tree (sqlglot escapes strings for ClickHouse, a backslash too), never
text formatted into SQL; a float NaN or ±infinity stays one (``exp.convert`` would make it NULL),
a timestamp is written with its microseconds and parsed in UTC.
"""

from __future__ import annotations

__all__ = ["column_type", "create_table", "insert_statements", "table_ref"]

import datetime as dt
import decimal
import math
from collections.abc import Iterator, Sequence
from typing import Any

from sqlglot import exp

_DIALECT = "clickhouse"
_CHUNK_ROWS = 20_000
T = exp.DataType.Type


def column_type(neutral: str) -> exp.DataType:
    """The Nullable ClickHouse type of a neutral column type."""
    kind = exp.DataType.build(neutral, dialect="duckdb")
    if kind.is_type(T.TIMESTAMP, T.TIMESTAMPTZ, T.DATETIME):
        inner = exp.DataType.build("DateTime64(6, 'UTC')", dialect=_DIALECT)
    elif kind.is_type(T.DATE):
        inner = exp.DataType.build("Date32", dialect=_DIALECT)
    else:
        inner = kind
    inner = inner.copy()
    inner.set("nullable", True)
    return inner


def table_ref(name: str, database: str | None = None) -> exp.Table:
    return exp.Table(this=exp.to_identifier(name, quoted=True),
                     db=exp.to_identifier(database, quoted=True) if database else None)


def create_table(table: exp.Table, columns: Sequence[tuple[str, str]], *, replace: bool = False,
                 order_by: Sequence[str] = ()) -> str:
    """``CREATE TABLE t (c Nullable(T), …) ENGINE = MergeTree ORDER BY tuple()``."""
    cols = ", ".join(f"{exp.to_identifier(n, quoted=True).sql(_DIALECT)} {column_type(t).sql(_DIALECT)}"
                     for n, t in columns)
    verb = "CREATE OR REPLACE TABLE" if replace else "CREATE TABLE"
    return f"{verb} {table.sql(_DIALECT)} ({cols}) ENGINE = MergeTree ORDER BY tuple()"


def _literal(value: Any) -> exp.Expression:
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, float):
        if math.isnan(value):
            return exp.Literal.number("nan")
        if math.isinf(value):
            return exp.Literal.number("inf" if value > 0 else "-inf")
        return exp.Literal.number(repr(value))
    if isinstance(value, (int, decimal.Decimal)):
        return exp.Literal.number(str(value))
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return exp.Literal.string(value.isoformat(sep=" ", timespec="microseconds"))
    if isinstance(value, dt.date):
        return exp.Literal.string(value.isoformat())
    return exp.Literal.string(str(value))


def insert_statements(table: str | exp.Table, columns: Sequence[str], types: Sequence[str],
                      rows: Sequence[Sequence[Any]]) -> Iterator[str]:
    """``INSERT INTO t (c, …) VALUES (…), …`` in chunks of rows, the values as literals."""
    target = table if isinstance(table, exp.Table) else exp.to_table(table, dialect=_DIALECT)
    schema = exp.Schema(this=target, expressions=[exp.to_identifier(c, quoted=True) for c in columns])
    for start in range(0, len(rows), _CHUNK_ROWS):
        values = exp.Values(expressions=[exp.Tuple(expressions=[_literal(v) for v in row])
                                         for row in rows[start:start + _CHUNK_ROWS]])
        yield exp.Insert(this=schema.copy(), expression=values).sql(_DIALECT)
