"""The demo projects of the pipeline tests: on DuckDB (a file) and on PostgreSQL (a schema),
made by ``csframe init --demo``; :class:`Engine` reads their tables."""

from __future__ import annotations

import shutil
from pathlib import Path

import attrs

from tests.pipeline.commands import PG_ENV, cs, ok

DEMO = ("--demo", "--customers", "120", "--months", "24", "--end", "2025-01-01", "--seed", "3")
RANGE = ("--start", "2024-01-01", "--end", "2024-07-01")


@attrs.frozen
class Engine:
    """A project on one engine: where it is, the env it needs, how to read a table."""

    name: str
    path: Path
    env: dict
    dsn: str | None = None
    schema: str | None = None

    def table(self, name: str = "cs_metrics") -> str:
        return f"{self.schema}.{name}" if self.schema else name

    def query(self, sql: str) -> list[tuple]:
        if self.name == "duckdb":
            import duckdb

            con = duckdb.connect(str(self.path / "demo.duckdb"), read_only=True)
            try:
                return con.execute(sql).fetchall()
            finally:
                con.close()
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as con:
            cur = con.execute(sql)
            return cur.fetchall() if cur.description else []

    def rows(self, table: str = "cs_metrics") -> list[tuple]:
        """Every row of the target table, ordered by its key (types as the driver gives them)."""
        return self.query(f"SELECT metric, variant, grain, period_start, period_end, dimensions, value, unit, "
                          f"computed_at, fingerprint, csframe_version FROM {self.table(table)} "
                          "ORDER BY metric, variant, grain, period_start, dimensions")

    def copy(self, dest: Path) -> Engine:
        """A second project of the same engine in ``dest`` (the DuckDB file is copied)."""
        shutil.copytree(self.path, dest)
        return attrs.evolve(self, path=dest)


def make_duckdb(root: Path) -> Engine:
    path = root / "duck"
    ok(cs("init", path, *DEMO))
    return Engine("duckdb", path, {})


def make_postgres(root: Path, dsn: str, schema: str) -> Engine:
    path = root / "pg"
    ok(cs("init", path, *DEMO, "--adapter", "postgres", "--dsn", dsn, "--schema", schema, extra_env={PG_ENV: dsn}))
    return Engine("postgres", path, {PG_ENV: dsn}, dsn, schema)
