"""Fixtures of the pipeline tests: the demo project on DuckDB, on PostgreSQL and on BigQuery
(the local-bigquery emulator of the session), each made once per test session, and
``engine``, a fresh project per test on each engine. Without PostgreSQL or the emulator their
tests skip, except under CI=true, where they fail (tests/conftest.py, tests/support)."""

from __future__ import annotations

import pytest

from tests.pipeline.projects import Engine, make_bigquery, make_duckdb, make_postgres
from tests.support.bigquery_emulator import PROJECT, bq_emulator  # noqa: F401 - the fixture


@pytest.fixture(scope="session")
def duck_project(tmp_path_factory) -> Engine:
    """The demo on DuckDB, made once: tests that write use ``engine`` or ``.copy()``."""
    return make_duckdb(tmp_path_factory.mktemp("duck"))


@pytest.fixture(scope="session")
def pg_project(tmp_path_factory, pg_dsn) -> Engine:
    """The demo in a fresh PostgreSQL schema, made once; dropped at the end."""
    from tests.support.postgres import fresh_schema

    name, drop = fresh_schema(pg_dsn)
    yield make_postgres(tmp_path_factory.mktemp("pg"), pg_dsn, name)
    drop()


@pytest.fixture(scope="session")
def bq_project(tmp_path_factory, bq_emulator) -> Engine:  # noqa: F811
    """The demo in dataset ``pipeline`` of the session's emulator, loaded once."""
    return make_bigquery(tmp_path_factory.mktemp("bq"), bq_emulator.endpoint, PROJECT, "pipeline")


@pytest.fixture(params=["duckdb", "postgres", "bigquery"])
def engine(request, tmp_path) -> Engine:
    """A fresh project per test on each engine (DuckDB: a copy of the demo's file; PostgreSQL
    and BigQuery: the demo's schema or dataset, with the target table dropped before the test)."""
    if request.param == "duckdb":
        return request.getfixturevalue("duck_project").copy(tmp_path / "duck")
    shared = request.getfixturevalue("pg_project" if request.param == "postgres" else "bq_project")
    shared.query(f"DROP TABLE IF EXISTS {shared.table()}")
    return shared
