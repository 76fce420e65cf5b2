"""Bulk-load tables of Python rows into DuckDB (the demo data of ``csframe init --demo``).

``write_dataset`` creates each table with its declared neutral column types and loads its rows
through a temporary CSV file and DuckDB's own CSV reader, told every column type explicitly: a
few seconds per million rows, almost all of it turning values into text, where ``executemany`` or
binding whole columns as list parameters takes minutes.
Values are written so that they come back exactly: every string quoted (so no string reads as
NULL, and an empty string stays empty), NULL as the unquoted ``None``, numbers, booleans, dates
and timestamps by ``str`` (floats by their shortest round-trip repr, timestamps in ISO form with
microseconds); aware datetimes are converted to naive UTC (a TIMESTAMP is naive UTC in csframe).

Any object with the shape of ``csframe.plugins.demo.Dataset`` will do (``tables``, each with
``name``, ``columns`` of ``name`` and ``type``, and ``rows``); this module does not import the
plugin, since adapters and plugins meet only in core. Nor does it import duckdb at run time: the
connection is the caller's.

The CSV files live in a directory ``csframe-load-<pid>-…`` of the temporary directory, removed
when the load ends, however it ends — but for a process killed outright (SIGKILL, a crash):
the next load removes the directories of processes that no longer run (:func:`_sweep`).
"""

from __future__ import annotations

import datetime as _dt
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Protocol

from sqlglot import exp

if TYPE_CHECKING:
    import duckdb

__all__ = ["write_dataset"]

_CHUNK_ROWS = 100_000  # rows serialised at a time, to bound memory on large tables
_DIALECT = "duckdb"
_DEFAULT_MAX_LINE_SIZE = 2_097_152


class _ColumnLike(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def type(self) -> str: ...


class _TableLike(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def columns(self) -> Sequence[_ColumnLike]: ...

    @property
    def rows(self) -> Sequence[Sequence[Any]]: ...


class _DatasetLike(Protocol):
    @property
    def tables(self) -> Iterable[_TableLike]: ...


# ---------------------------------------------------------------------------------------------
# values -> CSV fields
#
# A column is turned into text at once, with ``map(str, ...)`` where that is exact, so that the
# work stays in C: ``str`` of a naive datetime, date, Decimal, float, int or bool is text DuckDB
# casts back to the same value, and ``str(None)`` is ``None``, the reader's NULL string. Strings
# are always quoted, and a quoted field is never NULL (``allow_quoted_nulls`` is off), so no
# string value can be mistaken for NULL, and the empty string stays empty.

_NULL = str(None)
_DATE_WIDTH = len("2000-01-01")


def _varchar(values: Sequence[Any]) -> list[str]:
    if None not in values:
        try:
            joined = "".join(values)
        except TypeError:  # not all str
            joined = '"'
        if '"' not in joined:
            return list(map('"{}"'.format, values))
    return [_NULL if v is None else '"' + str(v).replace('"', '""') + '"' for v in values]


def _plain(values: Sequence[Any]) -> list[str]:
    return list(map(str, values))


def _utc_text(v: _dt.datetime | _dt.date) -> str:
    if isinstance(v, _dt.datetime) and v.tzinfo is not None:
        v = v.astimezone(_dt.UTC).replace(tzinfo=None)
    return str(v)


def _timestamp(values: Sequence[Any]) -> list[str]:
    texts = list(map(str, values))
    joined = "".join(texts)
    # a naive datetime or a date has two dashes and no plus; an aware one has a "+HH:MM" or "-HH:MM"
    if "+" in joined or joined.count("-") > 2 * (len(values) - values.count(None)):
        return [_NULL if v is None else _utc_text(v) for v in values]
    return texts


def _date(values: Sequence[Any]) -> list[str]:
    texts = list(map(str, values))
    if texts and max(map(len, texts)) > _DATE_WIDTH:  # datetimes in a DATE column: their date
        return [_NULL if v is None else str(v.date() if isinstance(v, _dt.datetime) else v) for v in values]
    return texts


def _serializer(type_: str) -> Callable[[Sequence[Any]], list[str]]:
    kind = exp.DataType.build(type_, dialect=_DIALECT)
    if kind.is_type(*exp.DataType.TEXT_TYPES):
        return _varchar
    if kind.is_type(exp.DataType.Type.DATE):
        return _date
    if kind.is_type(*exp.DataType.TEMPORAL_TYPES):
        return _timestamp
    if kind.is_type(
        exp.DataType.Type.BOOLEAN, exp.DataType.Type.DECIMAL, *exp.DataType.INTEGER_TYPES, *exp.DataType.REAL_TYPES
    ):
        return _plain
    raise ValueError(f"write_dataset cannot load columns of type {type_!r}")


def _write_csv(path: str, table: _TableLike) -> int:
    """Write the rows of ``table`` to ``path``; returns the longest line's length in characters."""
    serializers = [_serializer(column.type) for column in table.columns]
    width = len(serializers)
    rows = table.rows
    longest = 0
    with open(path, "w", encoding="utf-8", newline="") as f:
        for start in range(0, len(rows), _CHUNK_ROWS):
            chunk = rows[start : start + _CHUNK_ROWS]
            widths = set(map(len, chunk))
            if widths != {width}:
                bad = next(row for row in chunk if len(row) != width)
                raise ValueError(f"table {table.name!r}: a row has {len(bad)} values for {width} columns: {bad!r}")
            # one column at a time, by itemgetter: zip(*chunk) would build an iterator per row
            columns = [serialize(list(map(itemgetter(j), chunk))) for j, serialize in enumerate(serializers)]
            lines = list(map(",".join, zip(*columns)))
            longest = max(longest, *map(len, lines))
            f.write("\n".join(lines))
            f.write("\n")
    return longest


# ---------------------------------------------------------------------------------------------
# SQL, built as trees


def _identifier(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def _table(name: str) -> exp.Table:
    return exp.Table(this=_identifier(name))


def _create_sql(table: _TableLike, replace: bool) -> str:
    schema = exp.Schema(
        this=_table(table.name),
        expressions=[
            exp.ColumnDef(this=_identifier(c.name), kind=exp.DataType.build(c.type, dialect=_DIALECT))
            for c in table.columns
        ],
    )
    return exp.Create(this=schema, kind="TABLE", replace=replace).sql(dialect=_DIALECT)


def _option(name: str, value: exp.Expression) -> exp.EQ:
    return exp.EQ(this=exp.column(name), expression=value)


def _load_sql(table: _TableLike, path: str, longest: int) -> str:
    types = exp.Struct(
        expressions=[
            exp.PropertyEQ(
                this=_identifier(c.name),
                expression=exp.Literal.string(exp.DataType.build(c.type, dialect=_DIALECT).sql(dialect=_DIALECT)),
            )
            for c in table.columns
        ]
    )
    read = exp.ReadCSV(
        this=exp.Literal.string(path),
        expressions=[
            _option("columns", types),
            _option("header", exp.false()),
            _option("auto_detect", exp.false()),
            _option("delim", exp.Literal.string(",")),
            _option("quote", exp.Literal.string('"')),
            _option("escape", exp.Literal.string('"')),
            _option("nullstr", exp.Literal.string(_NULL)),
            _option("allow_quoted_nulls", exp.false()),
            # a UTF-8 character takes at most 4 bytes; DuckDB's default limit is 2 MB
            _option("max_line_size", exp.Literal.number(max(_DEFAULT_MAX_LINE_SIZE, 4 * longest + 2))),
        ],
    )
    select = exp.select(*(exp.column(_identifier(c.name)) for c in table.columns)).from_(exp.Table(this=read))
    return exp.insert(select, _table(table.name)).sql(dialect=_DIALECT)


# ---------------------------------------------------------------------------------------------
# the entry point


def _in_transaction(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the caller has a transaction open on ``con``.

    In auto-commit mode every statement is a transaction of its own, so two statements see two
    ids; inside an open transaction they see the same one. (Probing with BEGIN would not do: a
    failed statement aborts the caller's transaction.)
    """
    probe = "SELECT txid_current()"
    first = con.execute(probe).fetchone()
    second = con.execute(probe).fetchone()
    return first == second


_LOAD_PREFIX = "csframe-load-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it runs, as another user
        return True
    return True


def _sweep(directory: str) -> None:
    """Remove the load directories (``csframe-load-<pid>-…``) in ``directory`` that a process
    left when it was killed outright: this user's, of a process that no longer runs."""
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        pid, dash, _ = name[len(_LOAD_PREFIX):].partition("-")
        if not (name.startswith(_LOAD_PREFIX) and dash and pid.isdigit()) or int(pid) == os.getpid():
            continue
        path = os.path.join(directory, name)
        try:
            if os.lstat(path).st_uid != os.getuid() or _alive(int(pid)):
                continue
        except OSError:
            continue
        shutil.rmtree(path, ignore_errors=True)


def write_dataset(con: duckdb.DuckDBPyConnection, dataset: _DatasetLike, *, replace: bool = True) -> None:
    """Create every table of ``dataset`` in ``con`` and load its rows.

    With ``replace`` (the default) an existing table of the same name is replaced; without it, an
    existing table is an error (duckdb's ``CatalogException``) and nothing is written. The whole
    dataset is written in one transaction, so a failure leaves the database as it was. When the
    caller already has a transaction open on ``con``, the tables are written inside it and the
    caller commits or rolls back (a failure here aborts that transaction, as any failed statement
    does in DuckDB).
    """
    tables = list(dataset.tables)
    own_transaction = not _in_transaction(con)
    if own_transaction:
        con.execute("BEGIN TRANSACTION")
    try:
        _sweep(tempfile.gettempdir())
        with tempfile.TemporaryDirectory(prefix=f"{_LOAD_PREFIX}{os.getpid()}-") as folder:
            for number, table in enumerate(tables):
                con.execute(_create_sql(table, replace))
                if not table.rows:
                    continue
                path = os.path.join(folder, f"table-{number}.csv")
                longest = _write_csv(path, table)
                con.execute(_load_sql(table, path, longest))
                os.remove(path)
        if own_transaction:
            con.execute("COMMIT")
    except BaseException:
        if own_transaction:
            con.execute("ROLLBACK")
        raise
