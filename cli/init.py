"""``csframe init``: a starter csframe.toml, and with --demo the sample data, loaded where the
chosen adapter puts it (the default adapter's: a DuckDB file; ``--adapter postgres``: a schema).

The adapter writes its own ``[adapter]`` table and loads the data (``init_settings``,
``init_section``, ``load_demo``: :mod:`csframe.core.adapter`); ``--dsn`` and ``--schema`` are
passed to the adapters that take them (``INIT_OPTIONS``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from csframe.core.adapter import can_init
from csframe.core.contract import SOURCES
from csframe.core.errors import UsageError
from csframe.core.periods import FIRST_DATE, LAST_DATE
from csframe.core.project import PROJECT_FILE
from .app import cli, common

_DEMO_MONTHS_AFTER = 2  # the demo's calendar (plugins/demo/calendar.py) ends two months after --end's

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


def _demo_sources() -> str:
    return "".join(f'[sources.{s.name}]\ntable = "{s.name}"\n\n' for s in SOURCES)


_STARTER_SOURCES = '[sources.subscriptions]\ntable = "subscriptions"\n# columns = { customer_id = "account_id" }\n\n'


@cli.command()
@click.argument("directory", required=False, default=".")
@click.option("--demo", is_flag=True, help="Also load realistic sample data where the adapter keeps tables.")
@click.option("--adapter", "adapter_name", metavar="NAME", default=None,
              help="The engine the project runs on, and where --demo loads its data: a registered adapter "
                   "that can write a project (`csframe plugins` lists them).  [default: the default adapter]")
@click.option("--dsn", metavar="DSN",
              help="For an adapter with a server: where to load the demo data (default: the environment "
                   "variable its project file names); never written to csframe.toml.")
@click.option("--schema", metavar="NAME", default=None,
              help="For an adapter with schemas: the schema for the demo tables (default: the adapter's).")
@click.option("--customers", default=2000, show_default=True, help="Demo size: number of customer accounts.")
@click.option("--months", default=36, show_default=True, help="Demo history in months.")
@click.option("--seed", default=42, show_default=True, help="Demo random seed (same seed, same data).")
@click.option("--end", metavar="YYYY-MM-DD", help="Demo data ends before this month (default: the current month).")
@click.option("--force", is_flag=True, help="Overwrite an existing csframe.toml / demo database / demo tables.")
@common
def init(project_dir, directory, demo, adapter_name, dsn, schema, customers, months, seed, end, force):
    """Write a starter csframe.toml; with --demo, also the demo data of every canonical source."""
    from csframe.core.plugin_sets import plugin_set

    target = Path(project_dir or directory)
    loaded = plugin_set()
    plugins, registry = loaded.plugins(), loaded.registry()
    name, factory = _init_adapter(registry, adapter_name)
    options = {k: v for k, v in (("dsn", dsn), ("schema", schema)) if v is not None}
    _check_options(registry, name, factory, options)
    settings = factory.init_settings(options, demo)
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
    target.mkdir(parents=True, exist_ok=True)
    if not demo:
        toml.write_text(_STARTER.format(adapter=factory.init_section(settings), sources=_STARTER_SOURCES),
                        encoding="utf-8")
        click.echo(f"wrote {toml}")
        return
    demo_args = {"customers": customers, "months": months, "end": end_d, "seed": seed}
    dataset = _dataset(plugins, demo_args)
    loaded = factory.load_demo(dataset, target, settings, force)
    toml.write_text(_STARTER.format(adapter=factory.init_section(settings), sources=_demo_sources()),
                    encoding="utf-8")
    click.echo(f"wrote {toml} and {loaded.where} ({_summary(dataset, demo_args)})")
    click.echo(f"next: {loaded.before_next}csframe compute --project {target} --all")


def _init_adapter(registry: Any, name: str | None) -> tuple[str, Any]:
    """The adapter ``--adapter`` names (else the default adapter), if it can write a project."""
    able = [n for n, (_, f) in registry.adapters.items() if can_init(f)]
    if name is None:
        name = registry.default_adapter
        if name is None:
            raise UsageError("no plugin names a default adapter", hint=f"Pass --adapter ({', '.join(able) or 'none'}).")
    if name not in registry.adapters or name not in able:
        what = ("is no registered adapter" if name not in registry.adapters else
                "cannot write a project (its class has no init_settings, init_section and load_demo)")
        raise UsageError(f"--adapter {name!r} {what}",
                         hint=f"Adapters csframe init can use: {', '.join(able) or 'none'}.")
    return name, registry.adapters[name][1]


def _check_options(registry: Any, name: str, factory: Any, options: dict[str, str]) -> None:
    """Refuse the options ``name`` does not take, naming the adapters that take them."""
    foreign = [k for k in options if k not in getattr(factory, "INIT_OPTIONS", ())]
    if not foreign:
        return
    flags = " and ".join(f"--{k}" for k in foreign)
    takers = [n for n, (_, f) in registry.adapters.items()
              if can_init(f) and set(foreign) <= set(getattr(f, "INIT_OPTIONS", ()))]
    raise UsageError(f"{flags} {'is' if len(foreign) == 1 else 'are'} not for --adapter {name}",
                     hint=f"{'It is' if len(foreign) == 1 else 'They are'} for --adapter {' or '.join(takers)}."
                     if takers else f"Leave {flags} out.")


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
