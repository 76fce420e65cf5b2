"""``csframe init``: a starter csframe.toml, and with --demo the sample data, loaded into a
DuckDB file (the default) or into a schema of a PostgreSQL server (``--adapter postgres``).

The PostgreSQL DSN never goes into the project file: it reads ``dsn = "${CSFRAME_PG_DSN}"``, and
``--dsn`` only says where to load the demo data this once."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Any

import click

from ..contract import SOURCES
from ..errors import UsageError
from ..periods import FIRST_DATE, LAST_DATE
from ..project import PROJECT_FILE
from .app import cli, common

PG_DSN_ENV = "CSFRAME_PG_DSN"
PG_DEFAULT_SCHEMA = "csframe_demo"
INIT_ADAPTERS = ("duckdb", "postgres")
_DEMO_MONTHS_AFTER = 2  # the demo's calendar (plugins/demo/calendar.py) ends two months after --end's
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")

_STARTER = """\
# csframe project file — `csframe check` validates it
[adapter]
{adapter}
{sources}
[variants]
# churn_rate = "net_loss"

[parameters]

[plugins]
disable = []
"""

_ADAPTER_DUCKDB = 'name = "duckdb"\ndatabase = "{database}"\n'
_ADAPTER_POSTGRES = (
    'name = "postgres"          # see docs/postgres.md\n'
    f'dsn = "${{{{{PG_DSN_ENV}}}}}"  # set {PG_DSN_ENV} in the environment; never write the dsn here\n'
    'schema = "{schema}"\n'
    "# statement_timeout_ms = 600000\n"
)


def _demo_sources() -> str:
    return "".join(f'[sources.{s.name}]\ntable = "{s.name}"\n\n' for s in SOURCES)


_STARTER_SOURCES = '[sources.subscriptions]\ntable = "subscriptions"\n# columns = { customer_id = "account_id" }\n\n'


@cli.command()
@click.argument("directory", required=False, default=".")
@click.option("--demo", is_flag=True, help="Also load realistic sample data (a DuckDB file, or a PostgreSQL schema).")
@click.option("--adapter", "adapter_name", type=click.Choice(INIT_ADAPTERS), default="duckdb", show_default=True,
              help="The engine the project runs on, and where --demo loads its data.")
@click.option("--dsn", metavar="DSN",
              help=f"postgres: where to load the demo data (default: ${PG_DSN_ENV}); never written to csframe.toml.")
@click.option("--schema", metavar="NAME", default=None,
              help=f"postgres: the schema for the demo tables.  [default: {PG_DEFAULT_SCHEMA}]")
@click.option("--customers", default=2000, show_default=True, help="Demo size: number of customer accounts.")
@click.option("--months", default=36, show_default=True, help="Demo history in months.")
@click.option("--seed", default=42, show_default=True, help="Demo random seed (same seed, same data).")
@click.option("--end", metavar="YYYY-MM-DD", help="Demo data ends before this month (default: the current month).")
@click.option("--force", is_flag=True, help="Overwrite an existing csframe.toml / demo database / demo tables.")
@common
def init(project_dir, directory, demo, adapter_name, dsn, schema, customers, months, seed, end, force):
    """Write a starter csframe.toml; with --demo, also the demo data of every canonical source."""
    target = Path(project_dir or directory)
    if adapter_name != "postgres" and (dsn is not None or schema is not None):
        raise UsageError("--dsn and --schema are for --adapter postgres", hint="Add --adapter postgres.")
    schema = PG_DEFAULT_SCHEMA if schema is None else schema
    if adapter_name == "postgres" and (not _IDENTIFIER.fullmatch(schema) or schema.lower().startswith("pg_")):
        raise UsageError(f"--schema {schema!r} is not a plain schema name",
                         hint="Use letters, digits and underscores, starting with a letter or underscore "
                              "(PostgreSQL reserves names starting with pg_).")
    if dsn is not None and not demo:
        raise UsageError("--dsn is only used to load the demo data", hint="Add --demo, or leave --dsn out.")
    toml = target / PROJECT_FILE
    if toml.exists() and not force:
        raise UsageError(f"{toml} exists", hint="Pass --force to overwrite it.")
    if customers < 1 or months < 1:
        raise UsageError("--customers and --months must be at least 1")
    end_d = None
    if demo:
        try:
            end_d = dt.date.fromisoformat(end) if end else dt.datetime.now(dt.timezone.utc).date().replace(day=1)
        except ValueError:
            raise UsageError(f"--end {end!r} is not a date", hint="Write dates as YYYY-MM-DD.") from None
        _check_demo_span(end_d, months)
    if adapter_name == "postgres" and demo and dsn is None:
        dsn = os.environ.get(PG_DSN_ENV)
        if not dsn:
            raise UsageError(f"--adapter postgres --demo needs a server: environment variable {PG_DSN_ENV} is not set",
                             hint=f"Export {PG_DSN_ENV}=postgresql://USER@HOST:PORT/DB, or pass --dsn once to load the data.")
    target.mkdir(parents=True, exist_ok=True)
    if not demo:
        adapter = (_ADAPTER_DUCKDB.format(database="warehouse.duckdb") if adapter_name == "duckdb"
                   else _ADAPTER_POSTGRES.format(schema=schema))
        toml.write_text(_STARTER.format(adapter=adapter, sources=_STARTER_SOURCES), encoding="utf-8")
        click.echo(f"wrote {toml}")
        return
    demo_args = {"customers": customers, "months": months, "end": end_d, "seed": seed}
    if adapter_name == "duckdb":
        _demo_duckdb(target, toml, demo_args, force)
    else:
        _demo_postgres(target, toml, demo_args, dsn, schema, force)


def _check_demo_span(end: dt.date, months: int) -> None:
    """The demo's calendar, from ``months`` months before ``end``'s month to two months after
    it, lies within the dates every engine represents (a usage error naming the flag)."""
    month = end.year * 12 + end.month - 1  # months since 0001-01
    first_ok, last_ok = FIRST_DATE.year * 12, LAST_DATE.year * 12 + LAST_DATE.month - 1
    if month + _DEMO_MONTHS_AFTER > last_ok:
        latest = last_ok - _DEMO_MONTHS_AFTER
        raise UsageError(f"--end {end}: the demo's calendar runs {_DEMO_MONTHS_AFTER} months past --end's month, "
                         f"after {LAST_DATE}, the last date every engine represents",
                         hint=f"Use --end {latest // 12:04d}-{latest % 12 + 1:02d}-01 or earlier.")
    if month - months < first_ok:
        raise UsageError(f"--months {months}: the demo history would start before {FIRST_DATE}, the first date "
                         "every engine represents",
                         hint=f"Use --months {month - first_ok} or fewer (with this --end).")


def _dataset(plugins: Any, demo_args: dict[str, Any]) -> Any:
    dataset = plugins.pm.hook.csframe_demo_dataset(**demo_args)
    if dataset is None:
        raise UsageError("no plugin provides demo data", hint="Is csframe.plugins.demo disabled?")
    return dataset


def _summary(dataset: Any, demo_args: dict[str, Any]) -> str:
    rows = sum(len(t.rows) for t in dataset.tables)
    return (f"{demo_args['customers']} customers, {demo_args['months']} months, {rows:,} rows in "
            f"{len(dataset.tables)} tables")


def _demo_duckdb(target: Path, toml: Path, demo_args: dict[str, Any], force: bool) -> None:
    from ..plugin_manager import load_plugins
    from ..registry import build_registry

    plugins = load_plugins()
    dataset = _dataset(plugins, demo_args)
    db = target / "demo.duckdb"
    if db.exists():
        if not force:
            raise UsageError(f"{db} exists", hint="Pass --force to overwrite it.")
        db.unlink()
    registry = build_registry(plugins)
    adapter = registry.adapters["duckdb"][1]({"database": "demo.duckdb"}, target)
    tmp = target / "demo.duckdb.tmp"
    adapter.database = str(tmp.resolve())
    if tmp.exists():
        tmp.unlink()
    adapter.connect(write=True)
    try:
        adapter.load_tables(dataset)
    finally:
        adapter.close()
    tmp.replace(db)
    adapter_toml = _ADAPTER_DUCKDB.format(database="demo.duckdb")
    toml.write_text(_STARTER.format(adapter=adapter_toml, sources=_demo_sources()), encoding="utf-8")
    click.echo(f"wrote {toml} and {db} ({_summary(dataset, demo_args)})")
    click.echo(f"next: csframe compute --project {target} --all")


def _demo_postgres(target: Path, toml: Path, demo_args: dict[str, Any], dsn: str, schema: str, force: bool) -> None:
    """Load the demo tables into ``schema`` through the registry's postgres adapter, in one
    transaction; refuse (without --force) to replace tables that are already there."""
    from ..project import Project, SourceBinding
    from ..session import Session

    names = [s.name for s in SOURCES]
    # each source bound to schema.table, so that inspect_sources tells which tables exist
    project = Project(dir=target.resolve(), adapter={"name": "postgres", "dsn": dsn, "schema": schema},
                      sources={n: SourceBinding(n, table=f"{schema}.{n}") for n in names})
    with Session.open(project=project) as session:
        adapter = session.adapter()
        adapter.connect(write=True)  # exit 3, naming the host only, when the server cannot be reached
        dataset = _dataset(session.plugins, demo_args)
        problems, _ = session.inspect_sources([t.name for t in dataset.tables])
        unreadable = {p.source for p in problems if not p.column}
        existing = [t.name for t in dataset.tables if t.name not in unreadable]
        if existing and not force:
            raise UsageError(f"schema {schema} on {adapter.describe()} already has table(s) {', '.join(existing)}",
                             hint="Pass --force to replace them, or choose another --schema.")
        adapter.load_tables(dataset)
        where = adapter.describe()
    adapter_toml = _ADAPTER_POSTGRES.format(schema=schema)
    toml.write_text(_STARTER.format(adapter=adapter_toml, sources=_demo_sources()), encoding="utf-8")
    click.echo(f"wrote {toml} and loaded schema {schema} on {where} ({_summary(dataset, demo_args)})")
    env_note = "" if os.environ.get(PG_DSN_ENV) else f"export {PG_DSN_ENV}=<your dsn>, then "
    click.echo(f"next: {env_note}csframe compute --project {target} --all")
