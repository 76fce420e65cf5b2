"""The engines the kit runs a test on, and the test's own namespace on each: which engines are
selected (option, environment, hook, marker), whether a server can be reached, and a DuckDB file,
a PostgreSQL schema or a BigQuery dataset per test, dropped after it."""

from __future__ import annotations

__all__ = [
    "ENGINES", "ENGINES_ENV", "PG_DSN_ENV", "PG_DEFAULT_DSN", "BQ_ENDPOINT_ENV", "BQ_PROJECT_ENV",
    "BQ_DEFAULT_PROJECT", "_Namespace", "_namespace", "_selected", "_unavailable", "_dsn_where", "_pg_problem",
]

import os
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest

ENGINES = ("duckdb", "postgres", "bigquery")
ENGINES_ENV = "CSFRAME_TEST_ENGINES"
PG_DSN_ENV = "CSFRAME_TEST_PG_DSN"
PG_DEFAULT_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
BQ_ENDPOINT_ENV = "CSFRAME_TEST_BIGQUERY_ENDPOINT"
BQ_PROJECT_ENV = "CSFRAME_TEST_BIGQUERY_PROJECT"
BQ_DEFAULT_PROJECT = "test-project"


def _selected(config: pytest.Config) -> tuple[list[str], bool]:
    """(engines, whether they were named by the user)."""
    text = config.getoption("csframe_engines", default=None) or os.environ.get(ENGINES_ENV)
    if text:
        names = list(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
        unknown = [n for n in names if n not in ENGINES]
        if unknown:
            raise pytest.UsageError(f"csframe engines: unknown {', '.join(unknown)}; "
                                    f"the test kit knows {', '.join(ENGINES)}")
        return names, True
    return ["duckdb", "postgres", *(["bigquery"] if os.environ.get(BQ_ENDPOINT_ENV) else [])], False


def _unavailable(config: pytest.Config, engine: str, message: str) -> None:
    names, explicit = _selected(config)
    if os.environ.get("CI") == "true" or (explicit and engine in names):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _dsn_where(dsn: str) -> str:
    """host:port of a DSN, never its password."""
    host = re.search(r"host=(\S+)", dsn) or re.search(r"@([^:/?]+)", dsn)
    port = re.search(r"port=(\d+)", dsn) or re.search(r"@[^:/?]+:(\d+)", dsn)
    return f"{host.group(1) if host else 'localhost'}:{port.group(1) if port else '5432'}"


def _pg_problem(dsn: str) -> str | None:
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install 'csframe[postgres]')"
    try:
        with psycopg.connect(dsn, connect_timeout=5):
            return None
    except psycopg.Error as e:
        return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def _drop_pg_schema(dsn: str, schema: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as con:
        con.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def _drop_bq_dataset(project: str, dataset: str, endpoint: str) -> None:
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    client = bigquery.Client(project=project, credentials=AnonymousCredentials(),
                             client_options=ClientOptions(api_endpoint=endpoint))
    try:
        client.delete_dataset(f"{project}.{dataset}", delete_contents=True, not_found_ok=True)
    finally:
        client.close()


@attrs.define
class _Namespace:
    """Where one test's tables live on one engine, and how to drop them."""

    engine: str
    settings: dict[str, Any]
    drop: Callable[[], None] = lambda: None
    used: bool = False


def _namespace(request: pytest.FixtureRequest, engine: str, tmp_path: Path) -> _Namespace:
    tag = "csframe_t_" + uuid.uuid4().hex[:12]
    if engine == "duckdb":
        return _Namespace(engine, {"name": "duckdb", "database": str(tmp_path / "csframe_case.duckdb")})
    if engine == "postgres":
        dsn = request.getfixturevalue("csframe_pg_dsn")
        return _Namespace(engine, {"name": "postgres", "dsn": dsn, "schema": tag}, lambda: _drop_pg_schema(dsn, tag))
    endpoint = request.getfixturevalue("csframe_bigquery_endpoint")
    project = os.environ.get(BQ_PROJECT_ENV) or BQ_DEFAULT_PROJECT
    return _Namespace(engine, {"name": "bigquery", "project": project, "dataset": tag, "api_endpoint": endpoint},
                      lambda: _drop_bq_dataset(project, tag, endpoint))
