"""The ``datafusion`` adapter: Apache DataFusion (in process) over a directory of Parquet files, one
file per table. Written only against csframe's public hooks (:mod:`csframe.core.adapter`).

Settings (``[adapter]``): ``name = "datafusion"``, ``directory = "warehouse"`` (relative to the
project directory). Write-back (``compute --target T``) replaces ``T.parquet`` whole: the new rows
are written to a temporary file, then renamed over the old one (atomic on POSIX); writers of one
directory take turns on an exclusive lock file. A writer killed before the rename leaves the
previous file (and a temporary one, removed by the next writer)."""

from __future__ import annotations

__all__ = ["DataFusionAdapter"]

import decimal
import fcntl
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

from csframe.core.errors import EngineUnavailableError, MetricFailedError, UsageError
from csframe.core.writeback import UNCOMMITTED, target_table, write_stage

from .dialect import TRANSFORMS

_LOCK = ".csframe-write.lock"


def _arrow_type(neutral: str) -> Any:
    import pyarrow as pa

    t = neutral.upper()
    if t.startswith("DECIMAL"):
        precision, scale = (int(x) for x in t[t.index("(") + 1:t.index(")")].split(","))
        return pa.decimal128(precision, scale)
    return {"VARCHAR": pa.string(), "TEXT": pa.string(), "TIMESTAMP": pa.timestamp("us"), "DATE": pa.date32(),
            "DOUBLE": pa.float64(), "BOOLEAN": pa.bool_(), "BIGINT": pa.int64(), "INTEGER": pa.int64()}[t]


def _value(v: Any) -> Any:
    return float(v) if isinstance(v, decimal.Decimal) else v


class DataFusionAdapter:
    NAME: ClassVar[str] = "datafusion"
    DIALECT: ClassVar[str] = "postgres"  # sqlglot has no DataFusion dialect; PostgreSQL's is closest
    TRANSFORMS: ClassVar[tuple[Callable[..., Any], ...]] = TRANSFORMS

    def __init__(self, settings: dict[str, Any], project_dir: Path) -> None:
        self.directory = Path(project_dir) / str(settings.get("directory", "warehouse"))
        self.ctx: Any = None

    # -- connection ---------------------------------------------------------------------------------
    def connect(self, write: bool = False) -> None:
        try:
            import datafusion
        except ImportError:
            raise EngineUnavailableError("datafusion is not installed",
                                         hint="pip install csframe-datafusion") from None
        if write:
            self.directory.mkdir(parents=True, exist_ok=True)
        if not self.directory.is_dir():
            raise EngineUnavailableError(f"datafusion: no directory {self.directory}",
                                         hint="Set [adapter] directory to the directory of the Parquet tables.")
        # small tables: one partition, no repartitioning (many times faster than the default)
        config = datafusion.SessionConfig().with_target_partitions(1).with_repartition_joins(False) \
            .with_repartition_aggregations(False).with_repartition_windows(False)
        self.ctx = datafusion.SessionContext(config)
        for f in sorted(self.directory.glob("*.parquet")):
            self.ctx.register_parquet(f.stem, str(f))

    def _require(self) -> Any:
        if self.ctx is None:
            self.connect()
        return self.ctx

    def execute(self, sql: str) -> list[tuple]:
        ctx = self._require()
        views: list[str] = []
        try:
            batches = ctx.sql(self._materialized(sql, views)).collect()
        except Exception as e:  # noqa: BLE001 - DataFusion raises plain exceptions
            raise MetricFailedError(f"datafusion failed to run the query: {str(e).strip()[:2000]}") from None
        finally:
            for name in views:
                ctx.deregister_table(name)
        return [tuple(_value(v) for v in row.values()) for b in batches for row in b.to_pylist()]

    def _materialized(self, sql: str, views: list[str]) -> str:
        """DataFusion inlines a CTE wherever it is read (csframe's query reads its steps many
        times: ten times slower): each top-level CTE is computed once, in order, and held in memory
        under its name for the rest; the query without its WITH is returned."""
        import sqlglot

        tree = sqlglot.parse_one(sql, read=self.DIALECT)
        with_ = tree.args.get("with_") or tree.args.get("with")
        if with_ is None or with_.args.get("recursive"):
            return sql
        for cte in with_.expressions:
            frame = self.ctx.sql(cte.this.sql(dialect=self.DIALECT)).cache()
            self.ctx.register_view(cte.alias, frame)
            views.append(cte.alias)
        tree.set("with_", None)
        tree.set("with", None)
        return tree.sql(dialect=self.DIALECT)

    def relation_columns(self, relation_sql: str) -> list[str]:
        ctx = self._require()
        try:
            return list(ctx.sql(f"SELECT * FROM ({relation_sql}) AS t LIMIT 0").schema().names)
        except Exception as e:  # noqa: BLE001
            raise MetricFailedError(f"datafusion: {str(e).strip().splitlines()[0]}") from None

    # -- loading ------------------------------------------------------------------------------------
    def load_tables(self, dataset: Any) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.directory.mkdir(parents=True, exist_ok=True)
        for table in dataset.tables:
            schema = pa.schema([(c.name, _arrow_type(c.type)) for c in table.columns])
            columns = list(zip(*table.rows)) if table.rows else [() for _ in table.columns]
            data = pa.table([pa.array(list(col), type=f.type) for col, f in zip(columns, schema)], schema=schema)
            tmp = self.directory / f".{table.name}.parquet.tmp"
            pq.write_table(data, tmp)
            os.replace(tmp, self.directory / f"{table.name}.parquet")
        self.connect()

    # -- write-back ---------------------------------------------------------------------------------
    def write_results(self, table: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]],
                      keys: Sequence[str]) -> int:
        import pyarrow as pa
        import pyarrow.parquet as pq

        parsed = target_table(table)
        if parsed.args.get("db") is not None:
            raise UsageError(f"--target {table!r}: datafusion tables have no schema",
                             hint="Write the table's name alone (a file in [adapter] directory).")
        name = parsed.name
        path = self.directory / f"{name}.parquet"
        schema = pa.schema([(n, _arrow_type(t)) for n, t in columns])
        key_at = [[n for n, _ in columns].index(k) for k in keys]
        with open(self.directory / _LOCK, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # writers of this directory take turns
            old: list[tuple] = []
            if path.exists():
                existing = pq.read_table(path)
                if existing.schema.names != schema.names:
                    raise UsageError(f"--target {table}: a table of another shape exists ({path})",
                                     hint="Write to another table, or remove the file.")
                old = [tuple(r.values()) for r in existing.to_pylist()]
            new_keys = {tuple(r[i] for i in key_at) for r in rows}
            kept = [r for r in old if tuple(r[i] for i in key_at) not in new_keys]
            out = kept + [tuple(r) for r in rows]
            data = pa.table([pa.array([r[i] for r in out], type=f.type) for i, f in enumerate(schema)], schema=schema)
            tmp = self.directory / f".{name}.parquet.{os.getpid()}.tmp"
            pq.write_table(data, tmp)
            write_stage(UNCOMMITTED)  # staged, nothing replaced yet
            os.replace(tmp, path)
        self.connect()
        return len(rows)

    # -- the test kit -------------------------------------------------------------------------------
    @classmethod
    def test_namespace(cls, tag: str, workdir: Path,
                       fixture: Callable[[str], Any]) -> tuple[dict[str, Any], Callable[[], None]]:
        """A directory of the test's own in its temporary directory."""
        directory = Path(workdir) / tag
        return {"name": "datafusion", "directory": str(directory)}, lambda: shutil.rmtree(directory, ignore_errors=True)

    def close(self) -> None:
        self.ctx = None

    def describe(self) -> str:
        return f"datafusion {self.directory}"
