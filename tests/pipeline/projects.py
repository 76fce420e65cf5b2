"""The demo projects of the pipeline tests: on DuckDB (a file) and on PostgreSQL (a schema),
made by ``csframe init --demo``, and on BigQuery (a dataset of the local-bigquery emulator,
loaded with the same demo data through the adapter: ``init --demo`` loads only DuckDB and
PostgreSQL); :class:`Engine` reads their tables."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import attrs

from tests.pipeline.commands import PG_ENV, cs, ok

DEMO = ("--demo", "--customers", "120", "--months", "24", "--end", "2025-01-01", "--seed", "3")
DEMO_ARGS = {"customers": 120, "months": 24, "end": dt.date(2025, 1, 1), "seed": 3}  # the same, for generate()
RANGE = ("--start", "2024-01-01", "--end", "2024-07-01")


@attrs.frozen
class Engine:
    """A project on one engine: where it is, the env it needs, how to read a table."""

    name: str
    path: Path
    env: dict
    dsn: str | None = None
    schema: str | None = None  # PostgreSQL: the schema; BigQuery: the dataset
    endpoint: str | None = None  # BigQuery: the emulator's address
    project: str | None = None  # BigQuery: the project

    def table(self, name: str = "cs_metrics") -> str:
        return f"{self.schema}.{name}" if self.schema else name

    def bigquery(self):
        """A google-cloud-bigquery client of the emulator, the dataset as default."""
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import bigquery

        return bigquery.Client(project=self.project, credentials=AnonymousCredentials(),
                               client_options=ClientOptions(api_endpoint=self.endpoint))

    def columns(self, name: str = "cs_metrics") -> list[str]:
        """The table's column names, in order."""
        if self.name == "duckdb":
            return [r[0] for r in self.query(f"DESCRIBE {self.table(name)}")]
        if self.name == "bigquery":
            with self.bigquery() as client:
                return [f.name for f in client.get_table(f"{self.project}.{self.table(name)}").schema]
        return [c[0] for c in self.query(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = "
            f"'{self.schema}' AND table_name = '{name}' ORDER BY ordinal_position")]

    def query(self, sql: str) -> list[tuple]:
        if self.name == "bigquery":
            from google.cloud import bigquery

            with self.bigquery() as client:
                config = bigquery.QueryJobConfig(default_dataset=f"{self.project}.{self.schema}")
                return [tuple(r.values()) for r in client.query(sql, job_config=config).result()]
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


def make_bigquery(root: Path, endpoint: str, project: str, dataset: str) -> Engine:
    """The demo's data in ``project.dataset`` of the emulator at ``endpoint`` (loaded by the
    adapter's load jobs), and a project whose csframe.toml is ``init --demo``'s with the
    adapter made bigquery."""
    from csframe.adapters.bigquery import BigQueryAdapter
    from csframe.plugins.demo import generate

    path = root / "bq"
    ok(cs("init", path, *DEMO))
    (path / "demo.duckdb").unlink()
    toml = path / "csframe.toml"
    duck = 'name = "duckdb"\ndatabase = "demo.duckdb"\n'
    assert duck in toml.read_text()
    toml.write_text(toml.read_text().replace(duck, f'name = "bigquery"\nproject = "{project}"\ndataset = "{dataset}"\n'
                                                   f'api_endpoint = "{endpoint}"\n'))
    adapter = BigQueryAdapter({"project": project, "dataset": dataset, "api_endpoint": endpoint}, path)
    try:
        adapter.load_tables(generate(**DEMO_ARGS))
    finally:
        adapter.close()
    return Engine("bigquery", path, {}, schema=dataset, endpoint=endpoint, project=project)


def unreachable_pg(root: Path) -> Path:
    """A project whose PostgreSQL nobody listens for (port 1): every connection is refused."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "csframe.toml").write_text('[adapter]\nname = "postgres"\ndsn = "host=127.0.0.1 port=1 dbname=x user=u"\n'
                                       '[sources.subscriptions]\ntable = "subscriptions"\n')
    return root
