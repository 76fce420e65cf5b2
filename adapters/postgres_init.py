"""``csframe init --adapter postgres``: the project file's ``[adapter]`` table (the DSN only as
``${CSFRAME_PG_DSN}``: ``--dsn`` says where to load the demo data this once) and the demo
tables, loaded into ``--schema`` in one transaction; and the test kit's namespace on PostgreSQL:
a schema of the test's own on the kit's server (``csframe_servers``, found by postgres_testing.py), dropped after it."""

from __future__ import annotations

__all__ = ["PG_DSN_ENV", "DEFAULT_SCHEMA", "init_settings", "init_section", "load_demo", "test_namespace", "test_server"]

import os
import re
from pathlib import Path
from collections.abc import Callable
from typing import Any

from csframe.core.adapter import DemoLoaded
from csframe.core.errors import UsageError

from .postgres_testing import test_server as test_server

PG_DSN_ENV = "CSFRAME_PG_DSN"
DEFAULT_SCHEMA = "csframe_demo"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_SECTION = (
    'name = "postgres"          # see docs/postgres.md\n'
    f'dsn = "${{{PG_DSN_ENV}}}"  # set {PG_DSN_ENV} in the environment; never write the dsn here\n'
    'schema = "{schema}"\n'
    "# statement_timeout_ms = 600000\n"
)


def init_settings(options: dict[str, str], demo: bool) -> dict[str, Any]:
    schema = options.get("schema", DEFAULT_SCHEMA)
    if not _IDENTIFIER.fullmatch(schema) or schema.lower().startswith("pg_"):
        raise UsageError(f"--schema {schema!r} is not a plain schema name",
                         hint="Use letters, digits and underscores, starting with a letter or underscore "
                              "(PostgreSQL reserves names starting with pg_).")
    dsn = options.get("dsn")
    if dsn is not None and not demo:
        raise UsageError("--dsn is only used to load the demo data", hint="Add --demo, or leave --dsn out.")
    if demo and dsn is None:
        dsn = os.environ.get(PG_DSN_ENV)
        if not dsn:
            raise UsageError(f"--adapter postgres --demo needs a server: environment variable {PG_DSN_ENV} is not set",
                             hint=f"Export {PG_DSN_ENV}=postgresql://USER@HOST:PORT/DB, or pass --dsn once to load the data.")
    return {"schema": schema, "dsn": dsn}


def init_section(settings: dict[str, Any]) -> str:
    return _SECTION.replace("{schema}", settings["schema"])


def load_demo(adapter_class: Any, dataset: Any, project_dir: Path, settings: dict[str, Any],
              force: bool) -> DemoLoaded:
    """Refuse (without ``force``) to replace tables the schema already has, then load them all."""
    from psycopg import sql

    schema = settings["schema"]
    adapter = adapter_class({"dsn": settings["dsn"], "schema": schema}, project_dir)
    adapter.connect(write=True)  # exit 3, naming the host only, when the server cannot be reached
    try:
        names = [t.name for t in dataset.tables]
        query = sql.SQL("SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
                        "AND table_name = ANY(%s)")
        there = {r[0] for r in adapter.con.execute(query, (schema, names)).fetchall()}
        existing = [n for n in names if n in there]
        if existing and not force:
            raise UsageError(f"schema {schema} on {adapter.describe()} already has table(s) {', '.join(existing)}",
                             hint="Pass --force to replace them, or choose another --schema.")
        adapter.load_tables(dataset)
        where = adapter.describe()
    finally:
        adapter.close()
    before = "" if os.environ.get(PG_DSN_ENV) else f"export {PG_DSN_ENV}=<your dsn>, then "
    return DemoLoaded(f"loaded schema {schema} on {where}", before)


def test_namespace(tag: str, workdir: Path, fixture: Callable[[str], Any]) -> tuple[dict[str, Any], Callable[[], None]]:
    """Schema ``tag`` on the kit's server (``csframe_servers`` skips or fails the test when none answers)."""
    dsn = fixture("csframe_servers").get("postgres")["dsn"]
    return {"name": "postgres", "dsn": dsn, "schema": tag}, lambda: _drop_schema(dsn, tag)


def _drop_schema(dsn: str, schema: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as con:
        con.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
