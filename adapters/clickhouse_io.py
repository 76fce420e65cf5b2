"""ClickHouse tables from neutral column types, and rows as ``INSERT … VALUES`` sqlglot trees.

Column types: a neutral (DuckDB-spelled) type becomes ClickHouse's, every column Nullable:
``TIMESTAMP`` is ``DateTime64(6, 'UTC')`` (microseconds, as DuckDB's; sqlglot would write
``DateTime``, whole seconds), ``DATE`` is ``Date32`` (years 1900–2299, where ``Date`` stops at
2149), the others as sqlglot spells them (``Nullable(String)``, ``Nullable(Decimal(18, 2))``).

Rows never enter SQL text: chdb reads them from a TabSeparated file (``\\N`` is NULL, a string's
backslash, tab and newline escaped; a float NaN or ±infinity stays one; a timestamp with its
microseconds, naive UTC) through the ``file`` table function, told every column's type.
"""

from __future__ import annotations

__all__ = ["column_type", "create_table", "insert_from_file", "table_ref", "write_tsv"]

import datetime as dt
import decimal
from collections.abc import Sequence
from typing import Any

from sqlglot import exp

_DIALECT = "clickhouse"
T = exp.DataType.Type


def column_type(neutral: str) -> exp.DataType:
    """The Nullable ClickHouse type of a neutral column type."""
    kind = exp.DataType.build(neutral, dialect="duckdb")
    if kind.is_type(T.TIMESTAMP, T.TIMESTAMPNTZ, T.TIMESTAMPTZ, T.DATETIME):
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


def _field(value: Any) -> str:
    """One TabSeparated field: ``\\N`` for NULL, a string with ClickHouse's escapes."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value.translate(_ESCAPES)
    if isinstance(value, float):
        return repr(value)  # nan, inf, -inf as ClickHouse reads them
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return value.isoformat(sep=" ", timespec="microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).translate(_ESCAPES)


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0", "\b": "\\b",
                          "\f": "\\f"})


def write_tsv(path: str, rows: Sequence[Sequence[Any]]) -> None:
    """The rows in ClickHouse's TabSeparated format (UTF-8)."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        for row in rows:
            f.write("\t".join(map(_field, row)))
            f.write("\n")


def insert_from_file(table: exp.Table, columns: Sequence[str], types: Sequence[str], path: str) -> str:
    """``INSERT INTO t (c, …) SELECT * FROM file('path', 'TabSeparated', 'c T, …')``: the rows
    never enter the SQL text; the file's structure is the columns' ClickHouse types."""
    structure = ", ".join(f"{exp.to_identifier(c, quoted=True).sql(_DIALECT)} {column_type(t).sql(_DIALECT)}"
                          for c, t in zip(columns, types))
    source = exp.Anonymous(this="file", expressions=[exp.Literal.string(path), exp.Literal.string("TabSeparated"),
                                                     exp.Literal.string(structure)])
    schema = exp.Schema(this=table.copy(), expressions=[exp.to_identifier(c, quoted=True) for c in columns])
    return exp.Insert(this=schema, expression=exp.select("*").from_(source)).sql(_DIALECT)
