"""Fixtures of the pipeline tests: the demo project on DuckDB and on PostgreSQL, each made
once per test session, and ``engine``, a fresh project per test on each engine."""

from __future__ import annotations

import pytest

from tests.pipeline.projects import Engine, make_duckdb, make_postgres


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


@pytest.fixture(params=["duckdb", "postgres"])
def engine(request, tmp_path) -> Engine:
    """A fresh project per test on each engine (DuckDB: a copy of the demo's file; PostgreSQL:
    the demo's schema, with the target table dropped before the test)."""
    if request.param == "duckdb":
        return request.getfixturevalue("duck_project").copy(tmp_path / "duck")
    pg = request.getfixturevalue("pg_project")
    pg.query(f"DROP TABLE IF EXISTS {pg.table()}")
    return pg
