"""``csframe init``: a starter csframe.toml, and with --demo a database of sample data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from ..contract import SOURCES
from ..errors import UsageError
from ..project import PROJECT_FILE
from .app import cli, common

_STARTER = """\
# csframe project file — see docs/project-file.md
[adapter]
name = "duckdb"
database = "{database}"

{sources}
[variants]
# churn_rate = "net_loss"

[parameters]

[plugins]
disable = []
"""


@cli.command()
@click.argument("directory", required=False, default=".")
@click.option("--demo", is_flag=True, help="Also write a DuckDB database of realistic sample data.")
@click.option("--customers", default=2000, show_default=True, help="Demo size: number of customer accounts.")
@click.option("--months", default=36, show_default=True, help="Demo history in months.")
@click.option("--seed", default=42, show_default=True, help="Demo random seed (same seed, same data).")
@click.option("--end", metavar="YYYY-MM-DD", help="Demo data ends before this month (default: the current month).")
@click.option("--force", is_flag=True, help="Overwrite an existing csframe.toml / demo database.")
@common
def init(project_dir, directory, demo, customers, months, seed, end, force):
    """Write a starter csframe.toml; with --demo, also demo.duckdb with every canonical source."""
    target = Path(project_dir or directory)
    target.mkdir(parents=True, exist_ok=True)
    toml = target / PROJECT_FILE
    if toml.exists() and not force:
        raise UsageError(f"{toml} exists", hint="Pass --force to overwrite it.")
    if customers < 1 or months < 1:
        raise UsageError("--customers and --months must be at least 1")
    if demo:
        from ..plugin_manager import load_plugins
        from ..registry import build_registry

        end_d = dt.date.fromisoformat(end) if end else dt.datetime.now(dt.timezone.utc).date().replace(day=1)
        plugins = load_plugins()
        dataset = plugins.pm.hook.csframe_demo_dataset(customers=customers, months=months, end=end_d, seed=seed)
        if dataset is None:
            raise UsageError("no plugin provides demo data", hint="Is csframe.plugins.demo disabled?")
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
        sources = "".join(f'[sources.{s.name}]\ntable = "{s.name}"\n\n' for s in SOURCES)
        toml.write_text(_STARTER.format(database="demo.duckdb", sources=sources), encoding="utf-8")
        rows = sum(len(t.rows) for t in dataset.tables)
        click.echo(f"wrote {toml} and {db} ({customers} customers, {months} months, {rows:,} rows in "
                   f"{len(dataset.tables)} tables)")
        click.echo(f"next: csframe compute --project {target} --all")
    else:
        sources = '[sources.subscriptions]\ntable = "subscriptions"\n# columns = { customer_id = "account_id" }\n\n'
        toml.write_text(_STARTER.format(database="warehouse.duckdb", sources=sources), encoding="utf-8")
        click.echo(f"wrote {toml}")
