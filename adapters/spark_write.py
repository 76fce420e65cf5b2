"""Spark: loading a dataset and writing a run's rows (``compute --target``) to the warehouse's
Parquet tables (:mod:`.spark_tables`).

``write_results`` holds the table's writer lock, reads the current version, keeps its rows whose
key no new row has, adds the new rows, writes all of it as a NEW version (Spark's Parquet
writer commits a directory), and only then swaps the table's ``CURRENT`` pointer (one
``os.replace``). So a failure or a killed process anywhere before the swap leaves the table as
it was (an orphan version directory at most, removed by the next write); a second run of the
same keys replaces the same rows (no duplicates); writers of one table, in any process on the
machine, take turns (``fcntl.flock``). Not promised: a reader that registered the table before
a swap keeps reading the version it registered (it sees the new rows when it connects again);
two machines sharing the warehouse over a network file system without working ``flock`` are
not serialised.
"""

from __future__ import annotations

__all__ = ["spark_type", "spark_schema", "spark_rows", "load_dataset", "check_target", "write_results"]

import datetime as dt
import decimal
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlglot import exp

from csframe.core.errors import MetricFailedError, UsageError
from csframe.core.writeback import (
    UNCOMMITTED,
    ExistingColumn,
    check_shape,
    missing_schema,
    target_table,
    write_stage,
)

from .spark_tables import current_version, new_version, register, replace, table_dir, writer_lock

_FAMILIES = {"string": "text", "date": "date", "double": "floating", "float": "floating",
             "timestamp": "timestamp", "timestamp_ntz": "timestamp"}
_NOTHING_WRITTEN = "Nothing was written; the table holds what it held before."


def spark_type(neutral: str) -> str:
    """A neutral column type (``VARCHAR``, ``DECIMAL(18,2)``…) as Spark SQL spells it."""
    return exp.DataType.build(neutral).sql("spark")


def spark_schema(columns: Sequence[tuple[str, str]]) -> Any:
    """A pyspark StructType of (name, neutral type) columns, every one nullable."""
    from pyspark.sql.types import StructField, StructType, _parse_datatype_string

    return StructType([StructField(name, _parse_datatype_string(spark_type(kind)), True) for name, kind in columns])


def _converter(neutral: str) -> Any:
    kind = exp.DataType.build(neutral)
    T = exp.DataType.Type
    if kind.is_type(T.TIMESTAMP, T.TIMESTAMPTZ):
        # pyspark reads a naive datetime in the Python process's zone: csframe's are UTC
        return lambda v: v.replace(tzinfo=dt.timezone.utc) if isinstance(v, dt.datetime) and v.tzinfo is None else v
    if kind.is_type(T.DOUBLE, T.FLOAT):
        return lambda v: float(v) if isinstance(v, (int, decimal.Decimal)) and not isinstance(v, bool) else v
    if kind.is_type(T.DECIMAL):
        return lambda v: decimal.Decimal(repr(v)) if isinstance(v, (int, float)) and not isinstance(v, bool) else v
    if kind.is_type(*exp.DataType.INTEGER_TYPES):
        return lambda v: int(v) if isinstance(v, decimal.Decimal) else v
    return None


def spark_rows(columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]]) -> list[tuple]:
    """``rows`` with each value as pyspark takes it for the column's type."""
    convert = [_converter(kind) for _, kind in columns]
    if not any(convert):
        return [tuple(r) for r in rows]
    return [tuple(v if c is None or v is None else c(v) for c, v in zip(convert, r)) for r in rows]


def _frame(session: Any, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]]) -> Any:
    return session.createDataFrame(spark_rows(columns, rows), spark_schema(columns), verifySchema=False)


def _need_warehouse(adapter: Any, what: str) -> Path:
    if adapter.warehouse is None:
        raise UsageError(f"spark: {what} needs [adapter] warehouse (a directory of csframe's tables)",
                         hint='Add warehouse = "spark-warehouse" to [adapter] in csframe.toml.')
    return adapter.warehouse


def _write_version(directory: Path, frame: Any) -> Path:
    version = new_version(directory)
    frame.coalesce(1).write.mode("errorifexists").parquet(str(version))
    return version


_ARROW = {"VARCHAR": "string", "TEXT": "string", "DOUBLE": "float64", "FLOAT": "float32", "BIGINT": "int64",
          "INT": "int32", "SMALLINT": "int16", "BOOLEAN": "bool_", "DATE": "date32"}


def _arrow_type(neutral: str) -> Any:
    import pyarrow as pa

    kind = exp.DataType.build(neutral)
    T = exp.DataType.Type
    if kind.is_type(T.TIMESTAMP, T.TIMESTAMPTZ):
        return pa.timestamp("us", tz="UTC")  # Spark reads it as a TIMESTAMP (an instant)
    if kind.is_type(T.DECIMAL):
        precision, scale = (int(p.name) for p in kind.expressions) if kind.expressions else (38, 9)
        return pa.decimal128(precision, scale)
    name = _ARROW.get(kind.this.name)
    return getattr(pa, name)() if name else None


def _write_arrow(directory: Path, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]]) -> Path | None:
    """A new version written with pyarrow (no Spark job: loading is the test kit's and the demo's
    hot path), or None when pyarrow is missing or a column type is not one it maps."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return None
    types = [_arrow_type(kind) for _, kind in columns]
    if any(t is None for t in types):
        return None
    values = spark_rows(columns, rows)
    arrays = [pa.array([r[i] for r in values], type=t) for i, t in enumerate(types)]
    version = new_version(directory)
    version.mkdir()
    pq.write_table(pa.Table.from_arrays(arrays, names=[n for n, _ in columns]), version / "part-00000.parquet")
    return version


def load_dataset(adapter: Any, dataset: Any) -> None:
    """Each table of ``dataset`` written to the warehouse as a new version (replacing the table's
    rows) and registered in the adapter's database."""
    from .spark import spark_error

    warehouse = _need_warehouse(adapter, "loading tables")
    session = adapter._require()
    for table in dataset.tables:
        columns = [(c.name, c.type) for c in table.columns]
        directory = table_dir(warehouse, adapter.database, table.name)
        try:
            with writer_lock(directory):
                version = _write_arrow(directory, columns, table.rows) or \
                    _write_version(directory, _frame(session, columns, table.rows))
                replace(directory, version)
            register(session, adapter.database, table.name, version)
        except Exception as e:  # noqa: BLE001
            raise MetricFailedError(f"spark could not load table {table.name}: {spark_error(e)}") from None
    session.catalog.setCurrentDatabase(adapter.database)


def _where(adapter: Any, name: str) -> tuple[Path, str, str]:
    """(the table's directory, its database, its name) of ``--target name``."""
    table = target_table(name)
    if table.catalog:
        raise UsageError(f"--target {name}: spark's local warehouse has no catalogs",
                         hint="Write TABLE or DATABASE.TABLE.")
    warehouse = _need_warehouse(adapter, "--target")
    database = table.db or adapter.database
    if database != adapter.database and not (warehouse / database).is_dir():
        raise missing_schema(name, f"database {database}", f"mkdir {warehouse / database}")
    return table_dir(warehouse, database, table.name), database, table.name


def _existing(session: Any, directory: Path) -> list[ExistingColumn] | None:
    version = current_version(directory)
    if version is None:
        return None
    schema = session.read.parquet(str(version)).schema
    return [ExistingColumn(name=f.name.lower(), type=f.dataType.simpleString(),
                           family=_FAMILIES.get(f.dataType.simpleString()), nullable=f.nullable)
            for f in schema.fields]


def check_target(adapter: Any, name: str, columns: Sequence[tuple[str, str]]) -> None:
    """Refuse (exit 2) a target that cannot be written: no warehouse, a database that does not
    exist, or an existing table of another shape. Nothing is created."""
    from .spark import spark_error

    directory, _, _ = _where(adapter, name)
    try:
        existing = _existing(adapter._require(), directory)
    except Exception as e:  # noqa: BLE001
        raise MetricFailedError(f"spark could not read {name}: {spark_error(e)}") from None
    if existing is not None:
        check_shape(name, existing, columns, spark_type)


def write_results(adapter: Any, name: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]],
                  keys: Sequence[str]) -> int:
    """Replace the rows of ``keys`` in ``name`` (created if absent): a new version with the old
    rows of other keys and the new rows, swapped in whole; the number of rows written."""
    from .spark import spark_error

    directory, database, table = _where(adapter, name)
    session = adapter._require()
    adapter._limit()  # the run's time may be up already
    try:
        with writer_lock(directory):
            existing = _existing(session, directory)
            if existing is not None:
                check_shape(name, existing, columns, spark_type)
            names = [n for n, _ in columns]
            new = _frame(session, columns, rows)
            old = current_version(directory)
            if old is not None:
                kept = session.read.parquet(str(old)).select(*names).join(new.select(*keys), on=list(keys),
                                                                          how="left_anti")
                new = kept.unionByName(new)
            version = _write_version(directory, new)
            write_stage(UNCOMMITTED)
            replace(directory, version)
        register(session, database, table, version)
    except (UsageError, MetricFailedError):
        raise
    except Exception as e:  # noqa: BLE001 - Spark's, the file system's
        raise MetricFailedError(f"spark could not write {name}: {spark_error(e)}", hint=_NOTHING_WRITTEN) from None
    return len(rows)
