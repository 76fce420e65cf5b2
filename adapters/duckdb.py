"""The DuckDB adapter: the embedded default engine.

``[adapter] database`` is a file path relative to the project directory, or
``:memory:``. The driver is imported inside ``connect()``.
"""

from __future__ import annotations

__all__ = ["DuckDBAdapter", "csframe_register_adapters"]

from pathlib import Path
from typing import Any

from sqlglot import exp

from csframe.core.errors import EngineUnavailableError, MetricFailedError, ProjectError
from csframe.core.hookspecs import hookimpl


def _materialize_shared_ctes(tree: exp.Expression) -> exp.Expression:
    """Ask DuckDB to compute once every CTE that several steps read."""
    if not isinstance(tree, exp.Query) or not tree.args.get("with_"):
        return tree
    counts: dict[str, int] = {}
    for table in tree.find_all(exp.Table):
        counts[table.name] = counts.get(table.name, 0) + 1
    for cte in tree.args["with_"].expressions:
        if counts.get(cte.alias_or_name, 0) > 1:
            cte.set("materialized", True)
    return tree


class DuckDBAdapter:
    """Runs csframe's query in an embedded DuckDB database."""

    NAME = "duckdb"
    DIALECT = "duckdb"
    TRANSFORMS = (_materialize_shared_ctes,)

    def __init__(self, settings: dict[str, Any], project_dir: Path) -> None:
        unknown = set(settings) - {"name", "database", "read_only", "threads"}
        if unknown:
            raise ProjectError(f"adapter: unknown key(s) for duckdb: {', '.join(sorted(unknown))}",
                               hint="duckdb takes: database, read_only, threads.")
        database = str(settings.get("database", ":memory:"))
        self.database = database if database == ":memory:" else str((project_dir / database).resolve())
        self.read_only = bool(settings.get("read_only", False))
        self.threads = settings.get("threads")
        self.con = None
        self.deadline = None  # the run's time limit (csframe.core.deadline.Deadline), while it runs

    def describe(self) -> str:
        return f"duckdb database {self.database}"

    def connect(self, *, write: bool = False) -> None:
        import duckdb

        if self.database != ":memory:" and not write and not Path(self.database).exists():
            raise EngineUnavailableError(
                f"duckdb database {self.database} does not exist",
                hint="Check [adapter] database in csframe.toml, or run `csframe init --demo`.",
            )
        try:
            read_only = self.read_only and not write and self.database != ":memory:"
            self.con = duckdb.connect(self.database, read_only=read_only)
            self.con.execute("SET TimeZone = 'UTC'")
            if self.threads:
                self.con.execute(f"SET threads = {int(self.threads)}")
        except duckdb.Error as e:
            if "Could not set lock" in str(e):  # another process has the file open: may pass
                raise EngineUnavailableError(
                    f"duckdb database {self.database} is in use by another process",
                    hint="DuckDB lets one process open a file for writing; wait for the other run "
                         "(--retries N waits longer).", transient=True) from None
            raise EngineUnavailableError(f"cannot open duckdb database {self.database}: {e}") from None

    def set_deadline(self, deadline: Any) -> None:
        """Hold every statement to ``deadline`` (None: no limit) until it is cleared."""
        self.deadline = deadline

    def _require(self):
        if self.con is None:
            self.connect()
        return self.con

    def execute(self, sql: str) -> list[tuple]:
        import duckdb

        from .duckdb_write import limited

        con = self._require()
        try:
            with limited(con, self.deadline):
                return con.execute(sql).fetchall()
        except duckdb.Error as e:
            raise MetricFailedError(f"duckdb failed to run the query: {e}") from None

    def relation_columns(self, relation_sql: str) -> list[str]:
        import duckdb

        from .duckdb_write import limited

        con = self._require()
        try:
            with limited(con, self.deadline):
                cur = con.execute(f"SELECT * FROM ({relation_sql}) AS t LIMIT 0")
        except duckdb.Error as e:
            raise MetricFailedError(str(e).split("\n")[0]) from None
        return [d[0] for d in cur.description]

    def write_results(self, table: str, columns: Any, rows: Any, keys: Any) -> int:
        """Replace the rows of ``keys`` in ``table`` (created if absent) in one transaction."""
        from .duckdb_write import write_results

        if self.read_only:
            raise ProjectError(f"--target {table}: [adapter] read_only = true forbids writing",
                               hint="Remove read_only from csframe.toml to write result tables.")
        return write_results(self._require(), table, columns, rows, keys, self.deadline)

    def load_tables(self, dataset: Any) -> None:
        from .duckdb_io import write_dataset

        write_dataset(self._require(), dataset)

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None


@hookimpl
def csframe_register_adapters(register) -> None:
    register("duckdb", DuckDBAdapter)
